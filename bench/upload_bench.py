"""Upload benchmark: how long another session's page takes while an editor checks a file.

    python -m bench.upload_bench [--events 10000] [--ways page_thread worker] [--repeat 2]

The dashboard serves every session from one process, each session's script in a thread of it, so the
importer's work could stall every other user's page. Here the other user is a thread of the benchmark's
process that runs the Overview page (dashboard.py through Streamlit's AppTest, over the synthetic ledger
of --events events, its data cached as on every click after the first) again and again; the editor is
the main thread, checking a file (a dry run, what "Check file" does) in one of two ways:

- page_thread: `tracker.importer.import_bytes` on the editor's own thread, as the upload page did first;
- worker: `tracker.import_worker.run_import`, a worker process, as the upload page does now.

The files: a well-formed SIPRI export of 80 KB (the size that stalled pages for 41 s in issue 14, before
the SIPRI reader was linear), a well-formed ledger file of 20 MB (the largest the issue's targets cover)
and a well-formed SIPRI export of 49.5 MB (just under the upload limit: 1.4 million events, the densest
file an editor can send), from bench.hostile_bench. Printed per file and way: the page's median time
with no check running, its median and longest time while the check ran, and the check's own time (for
the worker, including its start: a new interpreter that imports the importer).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Self

from bench import OUT_DIR, PROJECT_ROOT, code_version
from bench.hostile_bench import make_shape
from bench.page_bench import ledger_database

DASHBOARD = PROJECT_ROOT / "dashboard.py"
FILES = {
    "SIPRI export, 80 KB": ("sipri_well_formed", 80_000),
    "ledger CSV, 20 MB": ("well_formed", 20_000_000),
    "SIPRI export, 49.5 MB": ("sipri_well_formed", 49_500_000),  # just under the upload limit
}
WAYS = ("page_thread", "worker")


@dataclass(slots=True)
class Stall:
    file: str
    way: str
    check_seconds: float
    page_alone: float  # median seconds of the other session's page with no check running
    page_during: float  # median while the check ran
    page_longest: float  # the longest page run that overlapped the check
    pages_during: int


class OtherSession:
    """Runs the Overview page over and over in a thread, recording each run's start and end."""

    def __init__(self) -> None:
        from streamlit.testing.v1 import AppTest

        self.app = AppTest.from_file(str(DASHBOARD), default_timeout=600)
        self.app.run()
        if self.app.exception:
            raise RuntimeError([e.message for e in self.app.exception])
        self.runs: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            self.app.run()
            self.runs.append((started, time.perf_counter()))

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def wait(self, condition: Callable[[], bool]) -> None:
        while not condition():
            time.sleep(0.05)

    def seconds(self, since: float, until: float) -> list[float]:
        """Durations of the runs that overlapped [since, until]."""
        return [end - start for start, end in self.runs if end >= since and start <= until]


def check(way: str, url: str, data: bytes) -> None:
    from tracker.db import create_ledger_engine
    from tracker.errors import ImportRejected
    from tracker.import_worker import run_import
    from tracker.importer import UPLOAD_LIMIT_BYTES, import_bytes

    options = {"file_name": "bench.csv", "editor": "bench", "dry_run": True, "max_bytes": UPLOAD_LIMIT_BYTES}
    try:
        if way == "worker":
            run_import(url, data, **options)
        else:
            engine = create_ledger_engine(url)
            import_bytes(engine, data, **options)
            engine.dispose()
    except ImportRejected as rejected:
        raise RuntimeError(f"the benchmark's file was rejected: {rejected}") from None


def measure(file: str, way: str, url: str, data: bytes) -> Stall:
    with OtherSession() as other:
        other.wait(lambda: len(other.runs) >= 3)  # the page alone
        started = time.perf_counter()
        check(way, url, data)
        ended = time.perf_counter()
        other.wait(
            lambda: any(end > ended for _start, end in other.runs)
        )  # the run the check's end overlapped
    alone = [end - start for start, end in other.runs if end < started]
    during = other.seconds(started, ended)
    return Stall(
        file,
        way,
        ended - started,
        statistics.median(alone),
        statistics.median(during),
        max(during),
        len(during),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.upload_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="events in the other session's ledger")
    parser.add_argument("--ways", nargs="+", choices=WAYS, default=list(WAYS))
    parser.add_argument("--files", nargs="+", choices=list(FILES), default=list(FILES))
    parser.add_argument("--repeat", type=int, default=1, help="measurements of each; the one whose longest "
                        "page is shortest is kept (two shared CPUs make single runs noisy)")  # fmt: skip
    args = parser.parse_args(argv)
    url = ledger_database(args.events)
    os.environ["TRACKER_DATABASE_URL"] = url
    check("worker", url, make_shape("sipri_well_formed", 5_000))  # the worker's code, read from disk once
    results: list[Stall] = []
    for file in args.files:
        data = make_shape(*FILES[file])
        for way in args.ways:
            runs = [measure(file, way, url, data) for _ in range(args.repeat)]
            result = min(runs, key=lambda stall: stall.page_longest)
            results.append(result)
            print(
                f"  {file:<20} {way:<12} check {result.check_seconds:6.2f} s; other page alone "
                f"{result.page_alone:.2f} s, during the check median {result.page_during:.2f} s, longest "
                f"{result.page_longest:.2f} s ({result.pages_during} runs)",
                file=sys.stderr,
                flush=True,
            )
    print(
        f"Another session's Overview page ({args.events:,} events) while an editor checks a file, "
        f"tracker at {code_version()}"
    )
    print(f"  {'file':<20} {'way':<12} {'check s':>8} {'alone s':>8} {'during s':>9} {'longest s':>10}")
    for r in results:
        print(
            f"  {r.file:<20} {r.way:<12} {r.check_seconds:>8.2f} {r.page_alone:>8.2f} {r.page_during:>9.2f} "
            f"{r.page_longest:>10.2f}"
        )
    out = OUT_DIR / "upload"
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.jsonl").open("a", encoding="utf-8") as handle:
        for r in results:
            handle.write(json.dumps(asdict(r) | {"code": code_version(), "events": args.events}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
