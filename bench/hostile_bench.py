"""Hostile-input benchmark: seconds per MB and peak memory of checking and importing worst-case files.

    python -m bench.hostile_bench                                   # every shape at 0.1, 1, 5 and 20 MB
    python -m bench.hostile_bench --shapes blank_lines sipri_generated_line --sizes 1 20 --timeout 300

Each shape is a file built to be as expensive as its kind can be, at each size:

- well_formed: the synthetic ledger of bench.generate (the reference for every ledger CSV shape)
- long_lines: every row's summary at the 5,000-character limit
- one_huge_cell: one row whose note is the whole file (the parser stops at 131,072 characters)
- disagreeing_duplicates: every event on two rows that claim different values
- many_sources: one event told by a different source on every row
- deep_quoting: summaries made of 2,400 double quotes (4,800 escaped), every row a new event
- blank_lines: two rows with the rest of the file blank lines between them
- wide_header: a header of one column name repeated (a duplicate on every column)
- minimal_rows: every row a new event with only the required cells (about 50 bytes a row, where the
  reference has about 300: the most rows, and so the most work, a megabyte of valid CSV can hold)
- sipri_well_formed: a SIPRI classic export of invented records, one to three delivery years each, as the
  real register has (the reference for the SIPRI shapes: a SIPRI record is much denser in events than a
  ledger row, about 10 events per kilobyte where the ledger file has 2)
- sipri_generated_line: a SIPRI export whose "Data generated:" preamble line is the whole file
- sipri_delivery_years: every record delivered in each of the 75 years 1950-2024 (the most events a
  record can make: 76 from about 400 bytes)
- sipri_blank_lines: two records with the rest of the file blank lines between them
- sipri_broken_record: a record broken after its seventh field, then a one-word line to the end of the file
  (each line could continue the record's last field)
- sipri_wide_header: a SIPRI header padded with empty columns to the size of the file, then two records

Every (shape, size, mode) runs in a fresh process: `import_bytes` with dry_run=True ("check", what the
upload page's "Check file" does) or False ("import") into a fresh SQLite ledger. Before the clock starts
the process checks and imports a small ledger file and checks a small SIPRI export, so that first-use costs
(lazy imports, the country tables, compiled statements) are not counted: the figures are what an import
costs a process that has imported before. The clock covers import_bytes alone.

"The importer's peak memory" is the process's peak resident memory (VmHWM, reset through
/proc/self/clear_refs just before import_bytes) minus its resident memory at that moment: everything the
import allocated and touched, freed or not, including the allocator's fragmentation, but not the file's
bytes (already in memory, as in an upload). It is given as a multiple of the file's size.

Targets: seconds per MB within 3x of the reference at the same size (well_formed, or sipri_well_formed
for SIPRI shapes), peak memory within 10x of the file. With --repeat N each run is made N times and the
fastest and smallest are kept (two shared CPUs make single runs noisy). A run over --timeout seconds is
stopped and reported as such; larger sizes of that shape and mode are then skipped.
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
from tracker.columns import TEMPLATE_COLUMNS

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

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(TEMPLATE_COLUMNS)
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
    if shape == "minimal_rows":
        # The empty cells after source_title follow the template's width (the shape was refused for its
        # field count when the template grew).
        rest = "," * (len(TEMPLATE_COLUMNS) - 1 - TEMPLATE_COLUMNS.index("source_title"))
        first = "b,Minimal rows deal,2025-01-01,,0,,,,,,,,Synthetic wire" + rest
        rows = (f"b,,2025-01-01,,{n},,,,,,,,Synthetic wire" + rest for n in _counting())
        return _lines([",".join(TEMPLATE_COLUMNS), first], rows, size)
    if shape == "sipri_well_formed":
        return _sipri(_sipri_records(lambda n: ("2021", "2021; 2022", "2020; 2021; 2023")[n % 3]), size)
    if shape == "sipri_generated_line":
        padding = " " * max(0, size - 400)
        return _sipri(iter(SIPRI_RECORDS), None, generated=f"13 Oct 2024 2:20:11 PM{padding};")
    if shape == "sipri_delivery_years":
        every_year = "; ".join(str(year) for year in range(1950, 2025))
        return _sipri(_sipri_records(lambda _n: every_year), size)
    if shape == "sipri_blank_lines":
        head = _sipri(iter(SIPRI_RECORDS[:1]), None)
        return head + b"\n" * max(0, size - len(head)) + SIPRI_RECORDS[1].encode() + b"\n"
    if shape == "sipri_broken_record":
        head = _sipri(iter(SIPRI_RECORDS[:1]), None) + b"Peru,Chile,2020,,6,,TX-300 Broken\n"
        return head + b"word\n" * max(0, (size - len(head)) // 5) + SIPRI_RECORDS[1].encode() + b"\n"
    if shape == "sipri_wide_header":
        padding = "," * max(0, size - 600)
        return _sipri(iter(SIPRI_RECORDS), None, header=SIPRI_HEADER + padding)
    raise ValueError(f"unknown shape {shape}")


def _lines(head: list[str], rows, size: int | None) -> bytes:
    """`head`, then lines from the iterator `rows` until the text reaches `size` bytes (None: every row)."""
    lines = list(head)
    length = sum(len(line) + 1 for line in lines)
    for line in rows:
        if size is not None and length >= size:
            break
        lines.append(line)
        length += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def _sipri_records(delivery_years):
    """Invented classic-layout records, each a new deal; `delivery_years(n)` is record n's years cell."""
    pairs = (("Peru", "Chile"), ("Chile", "Peru"), ("Brazil", "France"), ("India", "Russia"))
    for n in _counting():
        recipient, supplier = pairs[n % len(pairs)]
        years = delivery_years(n)
        yield (
            f"{recipient},{supplier},2020,,6,,TX-{n} Benchtest,trainer aircraft,6,,{years},New,"
            "Invented bench record,4.5,27,27"
        )


def _sipri(
    records, size: int | None, *, generated: str = "13 Oct 2024 2:20:11 PM", header: str = SIPRI_HEADER
):
    """A classic SIPRI export: a short preamble, the header, then `records` until `size` bytes."""
    return _lines(
        ["Invented SIPRI-style export for benchmarks.", f"Data generated: {generated}", header], records, size
    )


SHAPES = (
    "well_formed", "long_lines", "one_huge_cell", "disagreeing_duplicates", "many_sources", "deep_quoting",
    "blank_lines", "wide_header", "minimal_rows", "sipri_well_formed", "sipri_generated_line",
    "sipri_delivery_years", "sipri_blank_lines", "sipri_broken_record", "sipri_wide_header",
)  # fmt: skip
REFERENCES = ("well_formed", "sipri_well_formed")


def reference_of(shape: str) -> str:
    """The well-formed file a shape's time is compared with: a SIPRI export's, or a ledger CSV's."""
    return "sipri_well_formed" if shape.startswith("sipri_") else "well_formed"


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
        warm_up = _csv((_row(n, deal_id=f"warm-up-{n // 20}", source_url="https://synthetic.example/warm-up")
                        for n in _counting()), 20_000)  # fmt: skip
        for dry_run in (True, False):
            import_bytes(engine, warm_up, file_name="warm-up.csv", editor="bench", dry_run=dry_run)
        import_bytes(
            engine, _sipri(iter(SIPRI_RECORDS), None), file_name="warm-up.csv", editor="b", dry_run=True
        )
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


def shape_file(shape: str, size_mb: float) -> Path:
    """The shape's file at that size under bench/out/hostile/, written afresh (the builders may change)."""
    folder = OUT_DIR / "hostile"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{shape}-{size_mb:g}MB.csv"
    path.write_bytes(make_shape(shape, int(size_mb * 1e6)))
    return path


def run(shape: str, size_mb: float, mode: str, *, timeout: float, repeat: int = 1) -> Result:
    """The fastest and the smallest of `repeat` runs, each in a fresh process."""
    path = shape_file(shape, size_mb)
    size = path.stat().st_size
    command = [sys.executable, "-m", "bench.hostile_bench", "--measure", str(path), mode]
    measured: list[dict] = []
    for _ in range(repeat):
        try:
            done = subprocess.run(
                command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return Result(shape, size_mb, mode, size, None, None, f"stopped after {timeout:g} s")
        if done.returncode != 0:
            return Result(shape, size_mb, mode, size, None, None, f"crashed: {done.stderr[-300:]!r}")
        measured.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return Result(
        shape,
        size_mb,
        mode,
        size,
        min(m["seconds"] for m in measured),
        min(m["peak_bytes"] for m in measured),
        measured[0]["outcome"],
    )


def table(results: list[Result], *, references: list[Result] | None = None) -> str:
    """The results as a table; `references` (default: the results) supply the well-formed files' s/MB."""
    reference = {
        (r.shape, r.size_mb, r.mode): r.seconds_per_mb for r in references or results if r.shape in REFERENCES
    }
    lines = [
        (
            f"Hostile inputs, tracker at {code_version()}: seconds per MB (x the well-formed file's at that "
            f"size) and peak memory (x the file's size); targets <= {TIME_TARGET:g}x, <= {MEMORY_TARGET:g}x"
        ),
        f"  {'shape':<24} {'MB':>5} {'mode':<6} {'s/MB':>8} {'x ref':>6} {'peak MB':>8} {'peak x':>7}  "
        + "verdict  outcome",
    ]
    for r in results:
        ref = reference.get((reference_of(r.shape), r.size_mb, r.mode))
        ratio = None if r.seconds_per_mb is None or not ref else r.seconds_per_mb / ref
        slow = r.seconds is None or (ratio is not None and ratio > TIME_TARGET)
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
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest and smallest count")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before one run is stopped")
    parser.add_argument("--json", type=Path, help="also append the results as JSON lines to this file")
    parser.add_argument("--measure", nargs=2, metavar=("FILE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(Path(args.measure[0]), args.measure[1])))
        return 0
    # The references first (only those the chosen shapes are compared with), then the shapes.
    references = [r for r in REFERENCES if r in set(map(reference_of, args.shapes))]
    shapes = [*references, *(s for s in args.shapes if s not in references)]
    results: list[Result] = []
    for shape in shapes:
        for mode in args.modes:
            for size in sorted(args.sizes):
                if any(r.seconds is None for r in results if (r.shape, r.mode) == (shape, mode)):
                    continue  # a smaller size was already stopped: a larger one would be too
                result = run(shape, size, mode, timeout=args.timeout, repeat=args.repeat)
                results.append(result)
                print(table([result], references=results).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(results))
    if args.json:
        with args.json.open("a", encoding="utf-8") as handle:
            for r in results:
                handle.write(json.dumps(asdict(r) | {"code": code_version()}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
