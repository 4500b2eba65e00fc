"""Browser benchmark: seconds to a settled page in Chromium, per page, for one or more copies of the app.

    python -m bench.browser_bench --database sqlite:////tmp/sipri.db --runs 5
    python -m bench.browser_bench --runs 5 --query scope=all \\
        --app before=/tmp/tracker-main@sqlite:////tmp/before.db --app after=.@sqlite:////tmp/after.db

Each app is `streamlit run dashboard.py` started from its own folder (a checkout of the project) against
its own ledger, all at the same time; runs alternate between them page by page, so a machine shared with
other work slows every app alike. For each page of the navigation (the deal page opens --deal) and run:

- "first": a new browser session opens the page; the time from the request until the script has run
  (the server's "script finished" message on the websocket, then Streamlit's `data-test-script-state`
  back to notRunning) and every plotly chart on it has drawn;
- "filter": then the sidebar's Country filter gets --country (typed, as an analyst does); the time from
  choosing the option until the rerun has finished and the charts have drawn again.

Medians (and the spread) are printed per app and page; --json keeps every run. Needs Playwright and
/usr/bin/chromium, like the browser tests. The ledger is never written.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench import PROJECT_ROOT
from bench.memory_bench import _free_port, _wait_until_served

CHROMIUM = "/usr/bin/chromium"
PAGES = ("overview", "pipeline", "deals", "deal", "sources", "upload")
TIMEOUT_MS = 300_000
# Once the server has said "script finished" (counted on the websocket, see _finished_runs): the page shows
# the run and every plotly chart on it has drawn.
SETTLED = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app) return false;
  if (app.getAttribute("data-test-script-state") !== "notRunning") return false;
  if (document.querySelector("[data-testid='stStatusWidget']")) return false;
  const charts = document.querySelectorAll("[data-testid='stPlotlyChart']");
  return [...charts].every((chart) => chart.querySelector(".main-svg"));
}"""


@dataclass(slots=True)
class App:
    label: str
    folder: Path
    database: str
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(slots=True)
class Timing:
    app: str
    page: str
    first: list[float] = field(default_factory=list)
    filter: list[float] = field(default_factory=list)


def _app(text: str) -> App:
    label, _, rest = text.partition("=")
    folder, _, database = rest.partition("@")
    if not (label and folder and database):
        raise argparse.ArgumentTypeError("write LABEL=FOLDER@DATABASE_URL")
    return App(label, Path(folder).resolve(), database)


def _start(app: App, log_folder: Path) -> None:
    app.port = _free_port()
    log = (log_folder / f"browser-bench-{app.label}.log").open("w")
    app.process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "dashboard.py",
            "--server.headless=true",
            "--server.address=127.0.0.1",
            f"--server.port={app.port}",
            "--server.fileWatcherType=none",
            "--browser.gatherUsageStats=false",
        ],
        cwd=app.folder,
        env={**os.environ, "TRACKER_DATABASE_URL": app.database, "PYTHONPATH": str(app.folder)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    _wait_until_served(app.port, app.process)


def _path(page: str, query: dict[str, str], deal: str) -> str:
    parameters = dict(query)
    if page == "deal":
        parameters["deal"] = deal
    path = "" if page == "overview" else page
    return f"/{path}" + (f"?{urlencode(parameters)}" if parameters else "")


def _finished_runs(tab) -> list[int]:
    """A counter of the script runs the server reports finished to `tab`, kept up to date by Playwright.

    Counted from the websocket, not from the page: a rerun of under a tenth of a second can go from
    "running" to "notRunning" within one render, so `data-test-script-state` never shows it running
    (the bench waited 300 s for such a filter change three times)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    finished = [0]

    def count(payload: bytes | str) -> None:
        if isinstance(payload, bytes):
            message = ForwardMsg()
            message.ParseFromString(payload)
            finished[0] += message.WhichOneof("type") == "script_finished"

    tab.on("websocket", lambda socket: socket.on("framereceived", count))
    return finished


def _settle(tab, finished: list[int], runs: int) -> None:
    deadline = time.perf_counter() + TIMEOUT_MS / 1000
    while finished[0] < runs:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the server finished {finished[0]} of {runs} runs")
        tab.wait_for_timeout(10)  # lets Playwright deliver the websocket's frames
    tab.wait_for_function(SETTLED, timeout=TIMEOUT_MS)


def _measure(browser, app: App, page: str, *, query: dict[str, str], deal: str, country: str) -> tuple:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    finished = _finished_runs(tab)
    try:
        started = time.perf_counter()
        tab.goto(app.url + _path(page, query, deal))
        _settle(tab, finished, 1)
        first = time.perf_counter() - started
        runs = finished[0]
        box = tab.get_by_test_id("stSidebar").get_by_role("combobox", name="Country")
        box.click()
        box.fill(country.split(" (")[0])
        option = tab.get_by_role("option", name=country, exact=True)
        option.wait_for()
        started = time.perf_counter()
        option.click()
        _settle(tab, finished, runs + 1)
        changed = time.perf_counter() - started
    finally:
        context.close()
    return first, changed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--app", type=_app, action="append", help="LABEL=FOLDER@DATABASE_URL (repeatable)")
    parser.add_argument("--database", help="the ledger for this checkout (instead of --app)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    parser.add_argument("--query", nargs="*", default=[], metavar="KEY=VALUE", help="URL parameters")
    parser.add_argument("--deal", default="us-ukraine-drone-deal", help="the deal page's deal id")
    parser.add_argument("--country", default="United States (USA)", help="the filter change's option")
    parser.add_argument("--json", type=Path, help="write every run here")
    args = parser.parse_args(argv)
    apps = args.app or [App("this", PROJECT_ROOT, args.database or parser.error("--database or --app"))]
    query = dict(item.split("=", 1) for item in args.query)
    from playwright.sync_api import sync_playwright

    timings = {(app.label, page): Timing(app.label, page) for app in apps for page in args.pages}
    log_folder = Path(os.environ.get("TMPDIR", "/tmp"))
    try:
        for app in apps:
            _start(app, log_folder)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            # A first visit of every page warms each server (imports, the cached engine) before timing.
            for app in apps:
                for page in args.pages:
                    _measure(browser, app, page, query=query, deal=args.deal, country=args.country)
            for run in range(args.runs):
                for page in args.pages:
                    for app in apps if run % 2 == 0 else reversed(apps):
                        first, changed = _measure(
                            browser, app, page, query=query, deal=args.deal, country=args.country
                        )
                        timings[(app.label, page)].first.append(first)
                        timings[(app.label, page)].filter.append(changed)
                        print(
                            f"run {run + 1} {app.label:>8} {page:<9} "
                            f"first {first:6.2f} s  filter {changed:6.2f} s",
                            file=sys.stderr,
                            flush=True,
                        )
            browser.close()
    finally:
        for app in apps:
            if app.process is not None:
                app.process.terminate()
                app.process.wait(timeout=20)
    print(f"{'page':<10}" + "".join(f"{app.label + ' first':>16}{app.label + ' filter':>16}" for app in apps))
    for page in args.pages:
        line = f"{page:<10}"
        for app in apps:
            timing = timings[(app.label, page)]
            line += f"{statistics.median(timing.first):>14.2f} s{statistics.median(timing.filter):>14.2f} s"
        print(line)
    if args.json:
        args.json.write_text(json.dumps([asdict(t) for t in timings.values()], indent=1))


if __name__ == "__main__":
    main()
