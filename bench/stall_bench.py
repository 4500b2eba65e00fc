"""Stall benchmark: how long checking and importing a file keep every other session of the dashboard waiting.

    python -m bench.stall_bench                                    # every hostile shape at 1, 5 and 20 MB
    python -m bench.stall_bench --shapes well_formed wide_header --sizes 20 --where

Streamlit runs each session's script in a thread of one process, so while one editor's "Check file" or
"Commit import" runs, every other user's page needs the interpreter lock between the importer's steps.
A step that stays in C for long (a regular expression, a pandas operation or an executemany over the whole
file) holds the lock throughout: no other page moves. Here, in one process:

- the editor is the main thread: `tracker.importer.import_bytes` as the upload page calls it, first with
  dry_run=True ("Check file"), then for real ("Commit import"), each into a fresh SQLite ledger holding
  the seed, over a worst-case file of bench.hostile_bench at each size; then `undo_import` of that file's
  import (made before the clock starts), which the Upload page runs on its own thread (checks and imports
  run in a worker process there, see bench.upload_bench);
- a ticker thread sleeps 10 ms at a time and records the longest gap between two of its wake-ups (what
  another page waits, at most, before it can run one more line of Python);
  (the process's CPU seconds in that gap are printed beside it: on a loaded machine a gap also
  includes time the threads waited for a CPU, while the CPU seconds are the work that held the lock);
- a reader thread, standing in for another user's page, reads the ledger's counts
  (`tracker.queries.ledger_counts`, the figures an overview shows) every 100 ms and records how long
  each read took.

Printed per shape, size and mode: the importer's seconds, the longest stall, and the reader's median and
longest seconds (the same read with nothing else running is printed first). The target (issue 14) is a
longest stall under a second. `--where` also prints where the editor's thread was when the longest
stall ended (the step that held the lock is the one just before).

Before the clock starts the process checks and imports a small ledger file and a small SIPRI export, so
first-use costs (lazy imports, the country tables) are not counted, as in bench.hostile_bench.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Self

from bench import code_version
from bench.hostile_bench import SHAPES, SIPRI_RECORDS, _counting, _csv, _row, _sipri, make_shape

SIZES_MB = (1.0, 5.0, 20.0)
MODES = ("check", "import", "undo")
TICK = 0.01
READ_EVERY = 0.1
TARGET = 1.0


class Ticker:
    """A thread that wakes every 10 ms; the longest gap between wake-ups is the longest stall."""

    def __init__(self, *, where: bool = False) -> None:
        self.longest = 0.0
        self.longest_cpu = 0.0
        self.where = ""
        self._watch = threading.main_thread().ident if where else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        last, last_cpu = time.perf_counter(), time.process_time()
        while not self._stop.is_set():
            time.sleep(TICK)
            now, cpu = time.perf_counter(), time.process_time()
            if now - last > self.longest:
                self.longest, self.longest_cpu = now - last, cpu - last_cpu
                if self._watch is not None:
                    frame = sys._current_frames().get(self._watch)
                    stack = traceback.extract_stack(frame)[-4:] if frame else []
                    self.where = " < ".join(
                        f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in stack[::-1]
                    )
            last, last_cpu = now, cpu

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Reader:
    """A thread that reads the ledger's counts every 100 ms, as another user's page would."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.seconds: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def read(self) -> float:
        from tracker.queries import ledger_counts

        started = time.perf_counter()
        ledger_counts(self.engine)
        return time.perf_counter() - started

    def _loop(self) -> None:
        while not self._stop.wait(READ_EVERY):
            self.seconds.append(self.read())

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass(slots=True)
class Stall:
    shape: str
    size_mb: float
    mode: str
    file_bytes: int
    seconds: float
    longest_stall: float
    stall_cpu: float  # the process's CPU seconds during the longest stall
    read_median: float
    read_longest: float
    outcome: str
    where: str = field(default="")


def fresh_ledger(folder: Path, name: str):
    """A new SQLite ledger holding the seed, warmed up by a check and an import of small files."""
    from tracker.db import open_ledger, sqlite_url_for
    from tracker.importer import import_bytes
    from tracker.seed import seed_ledger

    engine = open_ledger(sqlite_url_for(folder / f"{name}.db"))
    seed_ledger(engine, editor="bench")
    warm_up = _csv(
        (
            _row(n, deal_id=f"warm-up-{n // 20}", source_url="https://synthetic.example/w")
            for n in _counting()
        ),
        20_000,
    )
    for dry_run in (True, False):
        import_bytes(engine, warm_up, file_name="warm-up.csv", editor="bench", dry_run=dry_run)
    import_bytes(engine, _sipri(iter(SIPRI_RECORDS), None), file_name="warm-up.csv", editor="b", dry_run=True)
    return engine


def measure(engine, data: bytes, *, shape: str, size_mb: float, mode: str, where: bool) -> Stall:
    from tracker.errors import ImportRejected
    from tracker.importer import UPLOAD_LIMIT_BYTES, import_bytes, undo_import

    def run_import(dry_run: bool) -> str:
        report = import_bytes(
            engine,
            data,
            file_name=f"{shape}.csv",
            editor="bench",
            dry_run=dry_run,
            max_bytes=UPLOAD_LIMIT_BYTES,
        )
        return f"{report.events_added} events" if dry_run or mode != "undo" else str(report.import_id)

    undone = None
    if mode == "undo":  # the import to undo is made before the clock starts
        try:
            undone = int(run_import(False))
        except ImportRejected:
            pass
    with Ticker(where=where) as ticker, Reader(engine) as reader:
        time.sleep(0.05)  # both threads running before the clock starts
        started = time.perf_counter()
        try:
            if mode == "undo" and undone is not None:
                outcome = f"{undo_import(engine, undone, editor='bench').events_removed} events undone"
            elif mode == "undo":
                outcome = "rejected: nothing to undo"
            else:
                outcome = run_import(mode == "check")
        except ImportRejected as rejected:
            outcome = f"rejected, {len(rejected.problems)} problems: {str(rejected.problems[0])[:50]}"
        seconds = time.perf_counter() - started
        time.sleep(2 * READ_EVERY)  # a read that waited for the import's end is counted
    reads = reader.seconds or [0.0]
    return Stall(
        shape,
        size_mb,
        mode,
        len(data),
        seconds,
        ticker.longest,
        ticker.longest_cpu,
        statistics.median(reads),
        max(reads),
        outcome,
        ticker.where,
    )


def line(r: Stall) -> str:
    verdict = "ok" if r.longest_stall <= TARGET else "STALL"
    return (
        f"  {r.shape:<24} {r.size_mb:>4g} {r.mode:<6} {r.seconds:>8.2f} {r.longest_stall:>8.3f} "
        f"{r.stall_cpu:>7.3f} {r.read_median:>8.3f} {r.read_longest:>8.3f}  {verdict:<5}  {r.outcome}"
        + (f"\n      longest stall ended at {r.where}" if r.where else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stall_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="+", choices=SHAPES, default=list(SHAPES))
    parser.add_argument("--sizes", nargs="+", type=float, default=list(SIZES_MB), help="file sizes in MB")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--where", action="store_true", help="where the editor's thread was after the stall")
    parser.add_argument("--json", type=Path, help="also append the results as JSON lines to this file")
    args = parser.parse_args(argv)
    results: list[Stall] = []
    with tempfile.TemporaryDirectory() as folder:
        engine = fresh_ledger(Path(folder), "idle")
        alone = [Reader(engine).read() for _ in range(20)]
        engine.dispose()
        print(
            f"Stalls, tracker at {code_version()}: seconds of the importer, the longest gap of a 10 ms "
            f"ticker (target <= {TARGET:g} s) and the other thread's ledger read (alone: median "
            f"{statistics.median(alone):.3f} s, longest {max(alone):.3f} s)",
            flush=True,
        )
        print(
            f"  {'shape':<24} {'MB':>4} {'mode':<6} {'seconds':>8} {'stall s':>8} {'cpu s':>7} "
            f"{'read med':>8} {'read max':>8}  verdict outcome",
            flush=True,
        )
        for shape in args.shapes:
            for size in sorted(args.sizes):
                data = make_shape(shape, int(size * 1e6))
                for mode in args.modes:
                    engine = fresh_ledger(Path(folder), f"{shape}-{size:g}-{mode}")
                    result = measure(engine, data, shape=shape, size_mb=size, mode=mode, where=args.where)
                    engine.dispose()
                    results.append(result)
                    print(line(result), flush=True)
                del data
    worst = max(results, key=lambda r: r.longest_stall)
    print(f"longest stall: {worst.longest_stall:.3f} s ({worst.shape}, {worst.size_mb:g} MB, {worst.mode})")
    if args.json:
        with args.json.open("a", encoding="utf-8") as handle:
            for r in results:
                handle.write(json.dumps(asdict(r) | {"code": code_version()}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
