"""Memory benchmark: peak RSS of the dashboard server at a large ledger, and of an import process.

    python -m bench.memory_bench --events 1000000 --import-events 100000

(i) Dashboard: `streamlit run dashboard.py` serves the synthetic ledger of --events events (the SQLite file
    bench.page_bench imports and caches), while headless Chromium (Playwright driving /usr/bin/chromium)
    opens the overview, the overview filtered to a country, the deals page and a deal page, waiting for
    each to finish running (screenshots in bench/out/memory/). The server's peak resident set is read
    from /proc/<pid>/status (VmHWM), and
    its current RSS (VmRSS) is sampled every 0.1 s to show how it rose page by page.
(ii) Import: `python -m tracker import` of the --import-events ledger into a fresh SQLite file, its peak
    RSS from `/usr/bin/time -f %M` (as bench.import_bench reports it).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import OUT_DIR, PROJECT_ROOT
from bench.import_bench import command_for, fresh_sqlite, run_timed
from bench.page_bench import ledger_database, typical_deal

CHROMIUM = "/usr/bin/chromium"


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, amount = line.split(":", 1)
                values[name] = int(amount.split()[0])
    return values


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_served(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("streamlit exited before serving")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("streamlit did not start serving in time")


def dashboard_peak(events: int, *, timeout_ms: int = 900_000) -> dict:
    from playwright.sync_api import sync_playwright

    url = ledger_database(events)
    shots = OUT_DIR / "memory"
    deal_id = typical_deal(url)
    port = _free_port()
    env = {**os.environ, "TRACKER_DATABASE_URL": url}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "dashboard.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    samples: list[tuple[float, int]] = []
    marks: list[tuple[str, float, float, int]] = []  # page, started, seconds, VmHWM kB after it
    stop = threading.Event()
    started = time.monotonic()

    def sample() -> None:
        while not stop.is_set():
            try:
                samples.append((time.monotonic() - started, _status(server.pid)["VmRSS"]))
            except (FileNotFoundError, ProcessLookupError, KeyError):
                return
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    try:
        _wait_until_served(port, server)
        baseline = _status(server.pid)
        sampler.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            pages = [
                ("overview", ""),
                ("overview, country=USA", "?country=USA"),  # the default page is at /
                ("deals", "deals"),
                ("deal", f"deal?deal={deal_id}"),
            ]
            for name, path in pages:
                began = time.monotonic()
                page.goto(f"http://127.0.0.1:{port}/{path}", timeout=timeout_ms)
                # The app has finished a run when the stApp element says so and no exception is shown.
                # Done: the page's last table is on screen and the script is no longer running.
                page.wait_for_selector(
                    '[data-testid="stMainBlockContainer"] [data-testid="stDataFrame"]', timeout=timeout_ms
                )
                page.wait_for_selector(
                    '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms
                )
                shots.mkdir(parents=True, exist_ok=True)
                shot = f"{events}-{name.split(',')[0]}{'-filtered' if ',' in name else ''}.png"
                page.screenshot(path=str(shots / shot))
                if page.query_selector('[data-testid="stException"]'):
                    raise RuntimeError(f"the {name} page shows an exception")
                seconds = time.monotonic() - began
                marks.append((name, began - started, seconds, _status(server.pid)["VmHWM"]))
                print(
                    f"  {name:<24} loaded in {seconds:6.1f} s; server peak so far "
                    f"{marks[-1][3] / 1024:,.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
            browser.close()
        peak = _status(server.pid)
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return {
        "events": events,
        "baseline_rss_mb": baseline["VmRSS"] / 1024,
        "peak_rss_mb": peak["VmHWM"] / 1024,
        "pages": [
            {"page": n, "at_s": round(a, 2), "seconds": round(s, 2), "peak_mb": round(h / 1024, 1)}
            for n, a, s, h in marks
        ],
        "samples": [(round(t, 1), round(kb / 1024, 1)) for t, kb in samples[::5]],
    }


def import_peak(events: int) -> dict:
    from bench.generate import ensure_ledger

    path = ensure_ledger(events)
    url = fresh_sqlite(f"memory-{events}")
    seconds, rss_mb, _ = run_timed(command_for("ours", url, path))
    return {"events": events, "seconds": round(seconds, 2), "peak_rss_mb": round(rss_mb, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="ledger size for the dashboard")
    parser.add_argument("--import-events", type=int, default=100_000, help="ledger size for the import")
    parser.add_argument("--skip-dashboard", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    results: dict = {}
    if not args.skip_import:
        results["import"] = import_peak(args.import_events)
        print(
            f"Import of {args.import_events:,} events: peak RSS {results['import']['peak_rss_mb']:,.0f} MB "
            f"({results['import']['seconds']:.1f} s)",
            flush=True,
        )
    if not args.skip_dashboard:
        results["dashboard"] = dashboard_peak(args.events)
        d = results["dashboard"]
        print(
            f"Dashboard server at {args.events:,} events: peak RSS {d['peak_rss_mb']:,.0f} MB "
            f"(started at {d['baseline_rss_mb']:,.0f} MB; target < 1,024 MB)"
        )
        for mark in d["pages"]:
            print(
                f"  after {mark['page']:<24} {mark['peak_mb']:>7,.0f} MB  (page took {mark['seconds']:.1f} s)"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
