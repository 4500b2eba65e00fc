"""Hostile-input benchmark: seconds per MB and peak memory of checking and importing worst-case files.

    python -m bench.hostile_bench                                   # every shape at 0.1, 1, 5 and 20 MB
    python -m bench.hostile_bench --shapes blank_lines sipri_generated_line --sizes 1 20 --timeout 300

Each shape is a file built to be as expensive as its kind can be, at each size:

- well_formed: the synthetic ledger of bench.generate (the reference: every other shape is compared with it)
- long_lines: every row's summary at the 5,000-character limit
- one_huge_cell: one row whose note is the whole file (the parser stops at 131,072 characters)
- disagreeing_duplicates: every event on two rows that claim different values
- many_sources: one event told by a different source on every row
- deep_quoting: summaries made of 2,400 double quotes (4,800 escaped), every row a new event
- blank_lines: two rows with the rest of the file blank lines between them
- wide_header: a header of one column name repeated (a duplicate on every column)
- sipri_generated_line: a SIPRI export whose "Data generated:" preamble line is the whole file

Every (shape, size, mode) runs in a fresh process: `import_bytes` with dry_run=True ("check", what the
upload page's "Check file" does) or False ("import") into a fresh SQLite ledger, after a small warm-up
import so that first-use costs (lazy imports, caches) are not counted. The clock covers import_bytes alone;
peak memory is the process's VmHWM, reset (/proc/self/clear_refs) just before, minus its resident size at
that moment, as a multiple of the file's size. Targets: seconds per MB within 3x of well_formed at the same
size, peak memory within 10x of the file. A run over --timeout seconds is stopped and reported as such;
larger sizes of that shape and mode are then skipped.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import OUT_DIR, PROJECT_ROOT, code_version

SIZES_MB = (0.1, 1.0, 5.0, 20.0)
MODES = ("check", "import")
TIME_TARGET, MEMORY_TARGET = 3.0, 10.0
BYTES_PER_EVENT = 446  # the synthetic ledger: 446.5 MB for 1M events
HEADER = (
    "deal_id", "deal_title", "date", "stage", "summary", "buyer", "seller", "value_low", "value_high",
    "currency", "source_title", "source_publisher", "source_url", "reliability", "credibility", "note",
)  # fmt: skip
SIPRI_HEADER = (
    "Recipient,Supplier,Year of order, ,Number ordered, ,Weapon designation,Weapon description,"
    "Number delivered, ,Year(s) of delivery,status,Comments,SIPRI TIV per unit,SIPRI TIV for total order,"
    "SIPRI TIV of delivered weapons"
)
SIPRI_RECORDS = (  # invented records in SIPRI's classic layout
    "Peru,Chile,2020,,6,,TX-100 Benchtest,trainer aircraft,6,,2021,New,Invented bench record,4.5,27,27",
    "Chile,Peru,2019,?,12,,TX-200 Benchboat,patrol craft,9,?,2020; 2021,New,Invented bench record,2,24,18",
)


def _row(number: int, **cells: str) -> dict[str, str]:
    return {
        "deal_id": f"hostile-bench-{number // 20}",
        "deal_title": f"[SYNTHETIC] Hostile benchmark deal {number // 20}",
        "date": "2025-03-01",
        "stage": "announced",
        "summary": f"Synthetic development number {number}.",
        "buyer": "Poland",
        "seller": "Italy",
        "source_title": "Synthetic wire",
        "source_publisher": "Synthetic Publisher",
        "source_url": "https://synthetic.example/wire",
        "reliability": "B",
        "credibility": "3",
        **cells,
    }


def _csv(rows, size: int) -> bytes:
    """The header, then rows from the iterator `rows` until the file reaches `size` bytes."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, HEADER, lineterminator="\n", restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= size:
            break
    return buffer.getvalue().encode()


def _counting():
    number = 0
    while True:
        yield number
        number += 1


def make_shape(shape: str, size: int) -> bytes:
    """The worst-case file of `shape`, about `size` bytes (see the module's list)."""
    if shape == "well_formed":
        from bench.generate import generate_rows
        from tracker.ledger_csv import ALL_COLUMNS

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(ALL_COLUMNS)
        writer.writerows(generate_rows(max(1, size // BYTES_PER_EVENT), seed=1))
        return buffer.getvalue().encode()
    if shape == "long_lines":
        words = ("contract negotiations continue with the ministry " * 110)[:4_990]
        return _csv((_row(n, summary=f"{n} {words}"[:5_000]) for n in _counting()), size)
    if shape == "one_huge_cell":
        return _csv(iter([_row(0, note="x" * size)]), size)
    if shape == "disagreeing_duplicates":
        # Every event twice, the two rows claiming different values: as many disagreements as events.
        return _csv((_row(n // 2, value_high=str(1_000_000 + n), currency="EUR") for n in _counting()), size)
    if shape == "many_sources":
        return _csv(
            (
                _row(0, source_title=f"Synthetic report {n}", source_url=f"https://synthetic.example/r/{n}")
                for n in _counting()
            ),
            size,
        )
    if shape == "deep_quoting":
        return _csv((_row(n, summary=f"{n} " + '"' * 2_400) for n in _counting()), size)
    if shape == "blank_lines":
        head = _csv(iter([_row(0)]), 0)
        tail = _csv(iter([_row(1)]), 0).split(b"\n", 1)[1]
        return head + b"\n" * max(0, size - len(head) - len(tail)) + tail
    if shape == "wide_header":
        repeats = max(1, size // (len("summary,") + len("z,")))
        names = ",".join(["summary"] * repeats)
        cells = ",".join(["z"] * repeats)
        return f"deal_id,date,source_title,{names}\nx,2025-01-01,y,{cells}\n".encode()
    if shape == "sipri_generated_line":
        padding = " " * max(0, size - 400)
        preamble = f"Synthetic preamble line.\nData generated: 13 Oct 2024 2:20:11 PM{padding};\n"
        return (preamble + SIPRI_HEADER + "\n" + "\n".join(SIPRI_RECORDS) + "\n").encode()
    raise ValueError(f"unknown shape {shape}")


SHAPES = (
    "well_formed", "long_lines", "one_huge_cell", "disagreeing_duplicates", "many_sources", "deep_quoting",
    "blank_lines", "wide_header", "sipri_generated_line",
)  # fmt: skip


# --- one measurement, in its own process ----------------------------------------------------------------


def _status(name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{name} not in /proc/self/status")


def measure(path: Path, mode: str) -> dict:
    """Seconds and peak memory of one import_bytes of the file at `path` (run in a fresh process)."""
    from tracker.db import open_ledger, sqlite_url_for
    from tracker.errors import ImportRejected
    from tracker.importer import UPLOAD_LIMIT_BYTES, import_bytes

    data = path.read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        engine = open_ledger(sqlite_url_for(Path(folder) / "ledger.db"))
        warm_up = make_shape("well_formed", 20_000)
        import_bytes(engine, warm_up, file_name="warm-up.csv", editor="bench", dry_run=True)
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")  # resets VmHWM to the current resident size
        before = _status("VmRSS")
        started = time.perf_counter()
        try:
            report = import_bytes(
                engine,
                data,
                file_name=path.name,
                editor="bench",
                dry_run=mode == "check",
                max_bytes=UPLOAD_LIMIT_BYTES,
            )
            outcome = f"{report.events_added} events"
        except ImportRejected as rejected:
            first = rejected.problems[0] if rejected.problems else None
            outcome = f"rejected, {len(rejected.problems)} problems: {str(first)[:60]}"
        seconds = time.perf_counter() - started
        peak = _status("VmHWM") - before
        engine.dispose()
    return {"seconds": seconds, "peak_bytes": peak, "outcome": outcome}


# --- the table ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Result:
    shape: str
    size_mb: float
    mode: str
    file_bytes: int
    seconds: float | None  # None: stopped at the timeout
    peak_bytes: int | None
    outcome: str

    @property
    def seconds_per_mb(self) -> float | None:
        return None if self.seconds is None else self.seconds / (self.file_bytes / 1e6)

    @property
    def memory_multiple(self) -> float | None:
        return None if self.peak_bytes is None else self.peak_bytes / self.file_bytes


def run(shape: str, size_mb: float, mode: str, *, timeout: float) -> Result:
    folder = OUT_DIR / "hostile"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{shape}-{size_mb:g}MB.csv"
    if not path.exists():
        path.write_bytes(make_shape(shape, int(size_mb * 1e6)))
    command = [sys.executable, "-m", "bench.hostile_bench", "--measure", str(path), mode]
    try:
        done = subprocess.run(
            command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return Result(shape, size_mb, mode, path.stat().st_size, None, None, f"stopped after {timeout:g} s")
    if done.returncode != 0:
        return Result(shape, size_mb, mode, path.stat().st_size, None, None, f"crashed: {done.stderr[-300:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return Result(
        shape,
        size_mb,
        mode,
        path.stat().st_size,
        measured["seconds"],
        measured["peak_bytes"],
        measured["outcome"],
    )


def table(results: list[Result]) -> str:
    reference = {(r.size_mb, r.mode): r.seconds_per_mb for r in results if r.shape == "well_formed"}
    lines = [
        (
            f"Hostile inputs, tracker at {code_version()}: seconds per MB (x the well-formed file's at that "
            f"size) and peak memory (x the file's size); targets <= {TIME_TARGET:g}x, <= {MEMORY_TARGET:g}x"
        ),
        f"  {'shape':<24} {'MB':>5} {'mode':<6} {'s/MB':>8} {'x ref':>6} {'peak MB':>8} {'peak x':>7}  "
        + "verdict  outcome",
    ]
    for r in results:
        ref = reference.get((r.size_mb, r.mode))
        ratio = None if r.seconds_per_mb is None or not ref else r.seconds_per_mb / ref
        slow = r.seconds is None or (ratio is not None and ratio > TIME_TARGET and r.shape != "well_formed")
        big = r.memory_multiple is not None and r.memory_multiple > MEMORY_TARGET
        verdict = ",".join(word for word, bad in (("TIME", slow), ("MEMORY", big)) if bad) or "ok"
        spm = "-" if r.seconds_per_mb is None else f"{r.seconds_per_mb:.3f}"
        times = "-" if ratio is None else f"{ratio:.1f}"
        memory = "-" if r.memory_multiple is None else f"{r.memory_multiple:.1f}"
        peak = "-" if r.peak_bytes is None else f"{r.peak_bytes / 1e6:.1f}"
        where = f"{r.shape:<24} {r.size_mb:>5g} {r.mode:<6}"
        lines.append(f"  {where} {spm:>8} {times:>6} {peak:>8} {memory:>7}  {verdict:<7}  {r.outcome}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="+", choices=SHAPES, default=list(SHAPES))
    parser.add_argument("--sizes", nargs="+", type=float, default=list(SIZES_MB), help="file sizes in MB")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--timeout", type=float, default=600, help="seconds before one run is stopped")
    parser.add_argument("--json", type=Path, help="also append the results as JSON lines to this file")
    parser.add_argument("--measure", nargs=2, metavar=("FILE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(Path(args.measure[0]), args.measure[1])))
        return 0
    shapes = ["well_formed", *(s for s in args.shapes if s != "well_formed")]  # the reference first
    results: list[Result] = []
    for shape in shapes:
        for mode in args.modes:
            for size in sorted(args.sizes):
                if any(r.seconds is None for r in results if (r.shape, r.mode) == (shape, mode)):
                    continue  # a smaller size was already stopped: a larger one would be too
                result = run(shape, size, mode, timeout=args.timeout)
                results.append(result)
                print(table([result]).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(results))
    if args.json:
        with args.json.open("a", encoding="utf-8") as handle:
            for r in results:
                handle.write(json.dumps(asdict(r) | {"code": code_version()}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
