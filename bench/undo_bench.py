"""Undo benchmark: undoing one large import on SQLite and PostgreSQL.

    python -m bench.undo_bench --events 300000                                # SQLite and PostgreSQL
    python -m bench.undo_bench --events 100000 --database postgres --schema 0003   # the figure before 0004

Each database gets a fresh ledger (created and migrated by `tracker.db.open_ledger`) into which
`python -m tracker import` brings the synthetic ledger of --events events as import #1; then
`tracker.importer.undo_import` removes it again, timed in this process (the clock covers the undo alone,
not the interpreter's start). PostgreSQL needs TRACKER_TEST_POSTGRES_URL:
`eval "$(scripts/start-postgres.sh)"`.

`--schema 0003` takes the ledger back to revision 0003 before the undo, i.e. without the foreign-key
indexes of migration 0004: every deleted event is then looked up in deal_parties and deal_changes by a scan,
which is what made undo quadratic on PostgreSQL.
Target: PostgreSQL within 2x of SQLite at 300k events.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import code_version
from bench.generate import ensure_ledger
from bench.import_bench import command_for, count_rows, fresh_postgres, fresh_sqlite, run_timed

DATABASES = ("sqlite", "postgres")


@dataclass(slots=True)
class UndoTiming:
    database: str
    events: int
    rows: int
    schema: str
    import_seconds: float
    undo_seconds: float
    events_removed: int


def _downgrade(url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from tracker.db import MIGRATIONS_PATH, create_ledger_engine

    engine = create_ledger_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    engine.dispose()


def bench(events: int, *, database: str, schema: str | None) -> UndoTiming:
    from tracker.db import create_ledger_engine, head_revision
    from tracker.importer import undo_import

    path = ensure_ledger(events)
    name = f"undo-{database}-{events}"
    url = fresh_postgres(name.replace("-", "_")) if database == "postgres" else fresh_sqlite(name)
    import_seconds, _rss, _output = run_timed(command_for("ours", url, path))
    if schema is not None:
        _downgrade(url, schema)
    # Not open_ledger: it would migrate a downgraded ledger back to the newest schema.
    engine = create_ledger_engine(url)
    started = time.perf_counter()
    report = undo_import(engine, 1, editor="bench")
    undo_seconds = time.perf_counter() - started
    engine.dispose()
    return UndoTiming(
        database,
        events,
        count_rows(path),
        schema or head_revision(),
        import_seconds,
        undo_seconds,
        report.events_removed,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.undo_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300_000, help="size of the import to undo, in events")
    parser.add_argument("--database", choices=DATABASES, nargs="+", default=list(DATABASES))
    parser.add_argument(
        "--schema", help="undo at this older schema revision (e.g. 0003: no foreign-key indexes)"
    )
    parser.add_argument("--json", type=Path, help="also append the results as JSON lines to this file")
    args = parser.parse_args(argv)
    results = [bench(args.events, database=database, schema=args.schema) for database in args.database]
    rows = results[0].rows
    print(f"Undo of one import of {args.events:,} events ({rows:,} CSV rows), tracker at {code_version()}:")
    print(f"  {'database':<10} {'schema':>6} {'import s':>9} {'undo s':>8} {'events removed':>15}")
    for r in results:
        seconds = f"{r.import_seconds:>9.2f} {r.undo_seconds:>8.2f}"
        print(f"  {r.database:<10} {r.schema:>6} {seconds} {r.events_removed:>15,}")
    by = {r.database: r for r in results}
    if set(by) == set(DATABASES):
        ratio = by["postgres"].undo_seconds / by["sqlite"].undo_seconds
        print(f"  undo PostgreSQL/SQLite = {ratio:.2f}  (target <= 2.0)")
    if args.json:
        with args.json.open("a", encoding="utf-8") as handle:
            for r in results:
                handle.write(json.dumps(asdict(r) | {"code": code_version()}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
