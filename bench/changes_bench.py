"""Changes benchmark: the "what changed" digest and the Changes page's queries for a 7-day window, as the
ledger grows.

    python -m bench.changes_bench --sizes 1000 1000000 [--runs 5]

For each size the synthetic ledger (bench.generate) is imported in this process as one import recorded
30 days ago (cached as bench/out/changes/ledger-N.db), then the same week of work is recorded on it:
BATCHES form entries of EVENTS_PER_BATCH events each, spread over the last 7 days, on deals spread over the
ledger, a third of them moving the deal to a stage; RETRACTIONS retractions; REGRADES source regrades.
Timed, the median of --runs runs after one warm-up run:

- digest: `tracker.changes.digest` for the last 7 days, all deals, given the stale thresholds as the
  Changes page and the saved views give them (read once per ledger version: timed apart, as thresholds);
- page: what the Changes page reads, i.e. the digest plus `tracker.signposts.overdue_signposts`;
- filtered: the digest with a country filter (the first buyer state in the ledger);
- thresholds: `tracker.queries.stale_thresholds`, which the command line reads on every run.

Times are printed with their ratio to the smallest size (the target: 1M within 2x of 1k).

    python -m bench.changes_bench --ledger URL [--runs 5]

times the Changes page's reads (digest and overdue signposts, all deals, scope All) for the last 7 days
on a ledger of your own, e.g. the seed plus a SIPRI register imported this week, with the digest's size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import OUT_DIR, code_version
from bench.generate import ensure_ledger

BATCHES = 14  # two a day
EVENTS_PER_BATCH = 15
RETRACTIONS = 5
REGRADES = 3
WINDOW_DAYS = 7


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _week_of_work(engine, now: dt.datetime) -> int:
    """Record the week's form entries, retractions and regrades; the number of events added."""
    from sqlalchemy import func, select

    from tracker import revisions
    from tracker.importer import import_rows
    from tracker.models import Deal, Event, Source

    with engine.connect() as connection:
        deal_count = connection.execute(select(func.count(Deal.id))).scalar_one()
        step = max(1, deal_count // (BATCHES * EVENTS_PER_BATCH))
        deal_ids = connection.execute(select(Deal.id).order_by(Deal.id)).scalars().all()[::step]
        sources = connection.execute(
            select(Source.id, Source.reliability).order_by(Source.id).limit(REGRADES)
        ).all()
    added = 0
    for batch in range(BATCHES):
        at = now - dt.timedelta(days=WINDOW_DAYS) + dt.timedelta(hours=2 + batch * 11.5)
        rows = []
        for k in range(EVENTS_PER_BATCH):
            deal_id = deal_ids[(batch * EVENTS_PER_BATCH + k) % len(deal_ids)]
            rows.append(
                {
                    "deal_id": deal_id,
                    "date": at.date().isoformat(),
                    "stage": "negotiating" if k % 3 == 0 else "",
                    "summary": f"Synthetic development {batch}-{k} of the benchmark week.",
                    "source_publisher": "Synthetic Wire",
                    "source_title": f"Synthetic report {batch}",
                    "source_url": f"https://synthetic.example/bench-week/{batch}",
                    "reliability": "C",
                    "credibility": "3",
                }
            )
        report = import_rows(engine, rows, label=f"bench week {batch}", editor="bench", now=at)
        added += report.events_added
    with engine.connect() as connection:
        week_events = (
            connection.execute(
                select(Event.id).where(Event.summary.like("Synthetic development %")).order_by(Event.id)
            )
            .scalars()
            .all()
        )
    for k in range(RETRACTIONS):
        revisions.retract_event(
            engine,
            week_events[k * 7],
            reason="benchmark",
            editor="bench",
            now=now - dt.timedelta(hours=20 - k),
        )
    for k, (source_id, grade) in enumerate(sources):
        new = "A" if grade != "A" else "B"
        revisions.regrade_source(
            engine, source_id, new, reason="benchmark", editor="bench", now=now - dt.timedelta(hours=9 - k)
        )
    return added


def ledger(size: int, now: dt.datetime) -> str:
    """A SQLite ledger of `size` synthetic events (imported 30 days ago) and the week of work (cached)."""
    from tracker.db import open_ledger, sqlite_url_for
    from tracker.importer import import_bytes

    path = OUT_DIR / "changes" / f"ledger-{size}.db"
    done = path.with_suffix(".ready")
    url = sqlite_url_for(path)
    if done.exists():
        return url
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    csv_path = ensure_ledger(size)
    engine = open_ledger(url)
    started = time.perf_counter()
    import_bytes(
        engine,
        csv_path.read_bytes(),
        file_name=csv_path.name,
        editor="bench",
        now=now - dt.timedelta(days=30),
    )
    print(f"  {size:,} events imported in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    started = time.perf_counter()
    added = _week_of_work(engine, now)
    print(f"  the week's {added} events recorded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    engine.dispose()
    done.write_text(f"{now.isoformat()}\n")
    return url


def _median(function: Callable[[], object], runs: int) -> float:
    function()  # warm-up: SQLite's page cache and the interpreter's imports
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(size: int, runs: int) -> dict[str, float]:
    from sqlalchemy import select

    from tracker.changes import digest
    from tracker.db import open_ledger
    from tracker.filters import Filters
    from tracker.models import Party
    from tracker.queries import stale_thresholds
    from tracker.signposts import overdue_signposts

    url = ledger(size, _now())
    made = dt.datetime.fromisoformat((OUT_DIR / "changes" / f"ledger-{size}.ready").read_text().strip())
    since, until = made - dt.timedelta(days=WINDOW_DAYS), made + dt.timedelta(seconds=1)
    engine = open_ledger(url)
    with engine.connect() as connection:
        country = connection.execute(
            select(Party.country_code).where(Party.kind == "state").order_by(Party.id).limit(1)
        ).scalar_one()
    everything, one_country = Filters(), Filters(countries=(country,))
    thresholds = stale_thresholds(engine)
    window = {"since": since, "until": until, "thresholds": thresholds}
    result = digest(engine, filters=everything, **window)
    changes = len(result.changes)
    print(f"  {size:,} events: changes by kind {result.counts()}", file=sys.stderr, flush=True)

    def page() -> None:
        digest(engine, filters=everything, **window)
        overdue_signposts(engine, filters=everything, today=until.date())

    figures = {
        "changes": float(changes),
        "digest": _median(lambda: digest(engine, filters=everything, **window), runs),
        "page": _median(page, runs),
        "filtered": _median(lambda: digest(engine, filters=one_country, **window), runs),
        "thresholds": _median(lambda: stale_thresholds(engine), runs),
    }
    engine.dispose()
    return figures


def measure_ledger(url: str, runs: int) -> None:
    """The Changes page's reads on the ledger at `url` for the last WINDOW_DAYS days, all deals."""
    from tracker.changes import digest
    from tracker.db import open_ledger
    from tracker.display import counted
    from tracker.filters import Filters
    from tracker.queries import stale_thresholds
    from tracker.signposts import overdue_signposts

    engine = open_ledger(url)
    until = _now() + dt.timedelta(seconds=1)
    since = until - dt.timedelta(days=WINDOW_DAYS)
    thresholds = stale_thresholds(engine)
    result = digest(engine, since=since, until=until, filters=Filters(), thresholds=thresholds)

    def page() -> None:
        digest(engine, since=since, until=until, filters=Filters(), thresholds=thresholds)
        overdue_signposts(engine, filters=Filters(), today=until.date())

    seconds = _median(page, runs)
    engine.dispose()
    print(
        f"{counted(len(result.changes), 'change')} ({len(result.across_deals())} to many deals at once) to "
        f"{counted(len(result.by_deal()), 'deal')}; the page's reads {seconds:.3f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.changes_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 1000000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--ledger", metavar="URL", help="time the Changes page's reads on this ledger instead"
    )
    args = parser.parse_args(argv)
    if args.ledger:
        print(f"code {code_version()}; {WINDOW_DAYS}-day window; median of {args.runs} runs after a warm-up")
        measure_ledger(args.ledger, args.runs)
        return 0
    print(f"code {code_version()}; {WINDOW_DAYS}-day window; median of {args.runs} runs after a warm-up")
    results = {size: measure(size, args.runs) for size in args.sizes}
    base = results[args.sizes[0]]
    print(
        f"{'events':>10} {'changes':>8} {'digest s':>9} {'ratio':>6} {'page s':>8} {'ratio':>6} "
        f"{'filtered s':>10} {'ratio':>6} {'thresholds s':>12} {'ratio':>6}"
    )
    for size, figures in results.items():
        print(
            f"{size:>10,} {int(figures['changes']):>8} "
            + " ".join(
                f"{figures[name]:>{width}.3f} {figures[name] / base[name]:>6.2f}"
                for name, width in (("digest", 9), ("page", 8), ("filtered", 10), ("thresholds", 12))
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
