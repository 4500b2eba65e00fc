"""As-of benchmark: the overview's queries as the ledger is now, as recorded and as publicly reported.

    python -m bench.as_of_bench --events 100000 [--runs 3]

The synthetic ledger (bench.generate: sources dated at day, month and year precision) is imported in this
process once (cached as bench/out/as_of/ledger-N.db). Timed, the median of --runs runs: `queries.overview`
then `queries.latest_events` with no filter (what the Overview page asks for), for the ledger now, as
recorded in it by the end of today, and as publicly reported by the end of today and by the middle of the
ledger's dates (tracker.knowledge.AsOf).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from bench import OUT_DIR, code_version
from bench.generate import ensure_ledger


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy import func, select

    from tracker import queries
    from tracker.db import open_ledger, sqlite_url_for
    from tracker.filters import Filters
    from tracker.importer import import_bytes
    from tracker.knowledge import AsOf
    from tracker.models import Event

    parser = argparse.ArgumentParser(prog="python -m bench.as_of_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    path = OUT_DIR / "as_of" / f"ledger-{args.events}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = open_ledger(sqlite_url_for(path))
    if not queries.has_deals(engine):
        started = time.perf_counter()
        import_bytes(engine, ensure_ledger(args.events).read_bytes(), file_name="bench.csv", editor="bench")
        print(f"imported {args.events:,} events in {time.perf_counter() - started:.1f} s")
    with engine.connect() as connection:
        first, last = connection.execute(
            select(func.min(Event.occurred_on), func.max(Event.occurred_on))
        ).one()
    middle, today = first + (last - first) / 2, dt.date.today()
    print(f"code {code_version()}; {args.events:,} events dated {first} to {last}")
    views = {
        "now": None,
        "as recorded, today": AsOf.end_of(today, "recorded"),
        "as reported, today": AsOf.end_of(today),
        f"as reported, {middle}": AsOf.end_of(middle),
    }
    for label, as_of in views.items():
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            overview = queries.overview(engine, filters=Filters(), today=middle, as_of=as_of)
            queries.latest_events(engine, filters=Filters(), as_of=as_of)
            times.append(time.perf_counter() - started)
        print(f"{label:>26}: {statistics.median(times) * 1000:8,.0f} ms  ({overview.figures.deals:,} deals)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
