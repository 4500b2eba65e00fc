"""Where our import spends its time: wall-clock per phase of `import_bytes`, in one process.

    python -m bench.profile_import --events 100000 [--cprofile bench/out/import.prof]

Wraps the importer's phases (decode, CSV parse, validation, planning, each bulk insert, deal refresh) with
timers, imports the synthetic ledger into a fresh SQLite file (or PostgreSQL database), and prints each
phase's seconds and share.
Nested phases are indented; shares are of the whole import_bytes call.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import OUT_DIR
from bench.generate import ensure_ledger

_timings: list[tuple[int, str, float]] = []
_depth = 0


def _timed(label: str | Callable[..., str], function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _depth
        name = label(*args, **kwargs) if callable(label) else label
        slot = len(_timings)
        _timings.append((_depth, name, 0.0))
        _depth += 1
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _depth -= 1
            _timings[slot] = (_depth, name, time.perf_counter() - started)

    return wrapper


def _wrap(owner: Any, attribute: str, label: str | Callable[..., str]) -> None:
    """Time `owner.attribute`, where its callers look it up; a name that no longer exists is an error, so
    this list cannot drift from the importer unnoticed (tests/test_bench_generator.py instruments it)."""
    setattr(owner, attribute, _timed(label, getattr(owner, attribute)))


def instrument() -> None:
    """Wrap the import path's steps and their phases."""
    from tracker import formats, importer, ledger_csv
    from tracker.importer import plan, write

    _wrap(formats, "decode", "decode (bytes -> text)")
    _wrap(formats, "read_records", "read_records (csv parse)")
    _wrap(ledger_csv, "batch_from_records", "batch_from_records (validate, normalise)")
    _wrap(ledger_csv, "_clean_text", "_clean_text")
    _wrap(ledger_csv._Checker, "read", lambda self, column, **_: f"read({column.name})")
    _wrap(ledger_csv._Checker, "add", lambda self, mask, column, *_: f"check.add({column})")
    _wrap(ledger_csv, "_check_rows", "_check_rows")
    _wrap(formats, "read_batch", "read_batch")
    _wrap(importer, "plan_import", "plan_import")
    for phase in (
        "plan_deals",
        "plan_attribute_changes",
        "plan_events",
        "plan_sources",
        "plan_links",
        "plan_parties",
        "plan_roles",
        "plan_tags",
        "plan_external_ids",
    ):
        _wrap(plan, phase, phase)
    _wrap(plan._Grouped, "disagreements", lambda self, *_: f"disagreements({self.key})")
    _wrap(plan._Grouped, "first", lambda self, *_: f"first({self.key})")
    _wrap(plan, "select_in", lambda connection, columns, key, values: f"select_in({key})")
    _wrap(importer, "write_plan", "write_plan")
    _wrap(write, "statements", "statements")
    _wrap(write, "_bulk_insert", lambda connection, insert: f"_bulk_insert({insert.table.name})")
    _wrap(write, "bulk_update", lambda connection, update: f"bulk_update({update.table.name})")
    _wrap(write, "refresh_deals", "refresh_deals")
    _wrap(write, "deal_status", "deal_status")
    _wrap(importer, "refresh_planner_statistics", "refresh_planner_statistics")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile_import", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--cprofile", type=Path, help="also write a cProfile of import_bytes to this file")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="postgres: a fresh database on $TRACKER_TEST_POSTGRES_URL",
    )
    parser.add_argument("--min-share", type=float, default=0.5, help="hide phases under this percentage")
    args = parser.parse_args(argv)

    from tracker import importer
    from tracker.db import open_ledger, sqlite_url_for

    path = ensure_ledger(args.events)
    if args.database == "postgres":
        from bench.import_bench import fresh_postgres

        engine = open_ledger(fresh_postgres(f"profile_{args.events}"))
    else:
        database = OUT_DIR / "import" / f"profile-{args.events}.db"
        database.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        engine = open_ledger(sqlite_url_for(database))
    data = path.read_bytes()
    instrument()
    run = _timed("import_bytes", importer.import_bytes)
    profiler = cProfile.Profile() if args.cprofile else None
    if profiler:
        profiler.enable()
    report = run(engine, data, file_name=path.name, editor="bench")
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.cprofile)
    total = _timings[0][2]
    print(report.describe())
    print(f"{'phase':<64} {'seconds':>8} {'share':>6}")
    merged: dict[tuple[int, str], float] = {}
    for depth, name, seconds in _timings:  # repeated calls of one phase at one depth are summed
        merged[(depth, name)] = merged.get((depth, name), 0.0) + seconds
    for (depth, name), seconds in merged.items():
        share = 100 * seconds / total
        if share >= args.min_share or depth == 0:
            print(f"{'  ' * depth + name:<64} {seconds:>8.2f} {share:>5.1f}%")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
