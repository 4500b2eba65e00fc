"""Two imports at once, with readers refreshing meanwhile: both land, queued; no reader sees half of one.

Processes, not threads (the "spawn" start method: fresh interpreters, as separate dashboard sessions or
CLI runs would be), against the `ledger_url` ledger: a SQLite file here, a fresh PostgreSQL database
when TRACKER_TEST_DATABASE=postgres. Writers wait for one start signal so their imports overlap.

Readers run one statement per refresh (one snapshot on both databases) that counts events and imports
and sums the deals' derived event counts. A reader may only ever see the ledger before both imports,
after one of them, or after both; the import count must match the events seen; and the deals' derived
counts must agree with the events (the importer updates them in the same transaction).

The longest wait is measured in the writer from the moment its import asks for the write lock (the
"Checking the rows against the ledger" progress report, just before the write transaction begins) to
the moment it starts writing ("Writing to the ledger"); that span also holds its own planning, so it
is an upper bound on the time spent queued.
"""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY
from sqlalchemy import Engine, text

from tests.builders import THREE_DEALS, ledger_csv
from tests.hostile import make_corpus
from tracker import import_worker, queries
from tracker.db import open_ledger
from tracker.importer import import_bytes

CORPUS_DIR = Path(__file__).resolve().parent / "hostile"

WRITERS = {"alpha": 15_000, "bravo": 10_000, "charlie": 5_000}  # prefix -> rows (= events) of its file
READERS = 3
COUNTS = text(
    "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM imports), "
    "(SELECT coalesce(sum(event_count), 0) FROM deals)"
)


def writer(url: str, path: str, start: EventType, results: Any) -> None:
    engine = open_ledger(url)
    data = Path(path).read_bytes()
    marks: dict[str, float] = {}

    def progress(_fraction: float, step: str) -> None:
        marks[step] = time.monotonic()

    start.wait()
    began = time.monotonic()
    try:
        report = import_bytes(
            engine, data, file_name=Path(path).name, editor="writer", today=TODAY, progress=progress
        )
        outcome: Any = report.events_added
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on anything but a number
        outcome = f"{type(exc).__name__}: {exc}"
    finished = time.monotonic()
    wait = marks.get("Writing to the ledger", finished) - marks.get(
        "Checking the rows against the ledger", began
    )
    results.put(("writer", Path(path).stem, outcome, wait, finished - began))
    engine.dispose()


def reader(url: str, start: EventType, stop: EventType, results: Any) -> None:
    engine = open_ledger(url)
    seen: set[tuple[int, int, int]] = set()
    reads = 0
    errors: list[str] = []
    start.wait()
    while not stop.is_set():
        try:
            with engine.connect() as connection:
                seen.add(tuple(int(v) for v in connection.execute(COUNTS).one()))
            reads += 1
        except Exception as exc:  # noqa: BLE001 - "database is locked" would land here
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.005)
    results.put(("reader", sorted(seen), reads, errors))
    engine.dispose()


def _counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(int(v) for v in connection.execute(COUNTS).one())  # type: ignore[return-value]


@pytest.mark.slow
def test_concurrent_imports_queue_and_readers_never_see_half(seeded: Engine, ledger_url: str, tmp_path: Path):
    files = {}
    for prefix, rows in WRITERS.items():
        files[prefix] = tmp_path / f"{prefix}.csv"
        files[prefix].write_bytes(make_corpus.bulk_ledger_csv(rows, prefix=prefix))
    events, imports, derived = _counts(seeded)
    assert events == derived
    seeded.dispose()

    context = multiprocessing.get_context("spawn")
    start, stop, results = context.Event(), context.Event(), context.Queue()
    writers = [
        context.Process(target=writer, args=(ledger_url, str(files[p]), start, results)) for p in WRITERS
    ]
    readers = [
        context.Process(target=reader, args=(ledger_url, start, stop, results)) for _ in range(READERS)
    ]
    for process in writers + readers:
        process.start()
    time.sleep(1.0)  # let every process import the tracker and open the ledger before the start signal
    start.set()
    for process in writers:
        process.join(timeout=600)
    time.sleep(0.5)  # the readers also see the final state
    stop.set()
    for process in readers:
        process.join(timeout=60)
    gathered = [results.get(timeout=30) for _ in range(len(writers) + len(readers))]
    assert all(p.exitcode == 0 for p in writers + readers)

    written = {
        name: (outcome, wait, total)
        for kind, name, outcome, wait, total in (g for g in gathered if g[0] == "writer")
    }
    assert {name: outcome for name, (outcome, _w, _t) in written.items()} == WRITERS  # every import landed

    # Every state a reader may see: the ledger after any subset of the imports, all or nothing of each.
    allowed = {}
    for mask in range(1 << len(WRITERS)):
        chosen = [rows for i, rows in enumerate(WRITERS.values()) if mask >> i & 1]
        total = events + sum(chosen)
        allowed[(total, imports + len(chosen), total)] = chosen
    reads, states = 0, set()
    for _kind, seen, count, errors in (g for g in gathered if g[0] == "reader"):
        assert errors == []  # never "database is locked"
        assert count > 0
        reads += count
        states.update(seen)
        for state in seen:
            assert state in allowed, f"a reader saw a half import: {state}"
    assert len(states) >= 2  # the readers were reading while imports landed, not only before or after

    engine = open_ledger(ledger_url)
    assert _counts(engine) == (
        events + sum(WRITERS.values()),
        imports + len(WRITERS),
        events + sum(WRITERS.values()),
    )
    engine.dispose()
    longest = max(wait for _o, wait, _t in written.values())
    print(
        f"{engine.dialect.name}: {len(WRITERS)} writers and {READERS} readers ({reads} reads, "
        f"{len(states)} of {len(allowed)} possible states seen); "
        f"longest wait for the write lock {longest * 1000:.0f} ms; "
        f"import times {', '.join(f'{n} {t:.1f} s' for n, (_o, _w, t) in written.items())}"
    )


def test_another_process_s_imports_are_seen_after_this_one_opened_the_ledger_again(
    seeded: Engine, ledger_url: str
):
    """The dashboard opens the ledger more than once (the page's engine beside the one that seeded it; the
    CLI's commands). Opening it must not drop the locks this process holds on the file: on SQLite, another
    process (here an import worker's check) closing the ledger would then delete the write-ahead log under
    this process's connections, which would not see the next import and could lose their own writes."""
    again = open_ledger(ledger_url)
    try:
        assert [queries.ledger_version(engine) for engine in (seeded, again)] == ["1:1:0:None"] * 2
        checked = import_worker.run_import(
            ledger_url, ledger_csv(*THREE_DEALS), file_name="three.csv", editor="a", dry_run=True
        )
        imported = import_worker.run_import(
            ledger_url, ledger_csv(*THREE_DEALS), file_name="three.csv", editor="a"
        )
        assert (checked.events_added, imported.import_id) == (6, 2)
        assert [queries.ledger_version(engine) for engine in (seeded, again)] == ["2:2:0:None"] * 2
    finally:
        again.dispose()
