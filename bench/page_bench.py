"""Page benchmark: how long the dashboard's pages take to run as the ledger grows.

    python -m bench.page_bench --sizes 1000 10000 100000 1000000 [--runs 5]
    python -m bench.page_bench --database sqlite:///bench/out/pages/sipri-28k.db   # a ledger of your own
    python -m bench.page_bench --database URL --query scope=all sort=title   # pages opened with ?scope=all...

For each size the synthetic ledger is imported (once; cached as bench/out/pages/ledger-N.db) with our
CLI, TRACKER_DATABASE_URL points at it, Streamlit's caches are cleared, and `streamlit.testing.v1.AppTest`
runs dashboard.py:

- overview, deals, deal page (a typical deal: the one whose event count is nearest the mean, 20):
  "cold" is a run with Streamlit's data cache empty (what the first visitor after an import waits for: the
  SQL runs), the median of --runs such runs, the cache cleared before each; "warm" is the median of
  --runs reruns after a warm-up run (what every click costs);
- filter change: on the overview, the country filter (sidebar widget key `country`) is set to a new
  country --runs times (a different country each time, so each run misses the cache and queries).

Times are printed with their ratio to the 1k-event ledger. Each cold run also records how long every
`tracker.queries` function took (wrapped where the views look it up), to show SQL against rendering.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import OUT_DIR, PROJECT_ROOT, code_version
from bench.generate import ensure_ledger

DASHBOARD = PROJECT_ROOT / "dashboard.py"
OVERVIEW = "tracker/views/overview.py"
DEALS = "tracker/views/deals.py"
DEAL = "tracker/views/deal.py"
FILTER_COUNTRIES = ("USA", "RUS", "FRA", "CHN", "DEU", "GBR", "ITA", "ISR", "KOR", "TUR", "ESP", "UKR")
PAGES = ("overview", "deals", "deal", "filter change")


@dataclass(slots=True)
class PageTiming:
    size: int
    page: str
    cold: float | None
    warm: float
    runs: list[float]
    cold_runs: list[float] = field(default_factory=list)
    queries: dict[str, float] = field(default_factory=dict)


_query_seconds: dict[str, float] = defaultdict(float)


def _instrument_queries() -> None:
    """Time every public tracker.queries function (the views call them through tracker.views.common.read)."""
    from tracker import queries

    for name in dir(queries):
        function = getattr(queries, name)
        ours = getattr(function, "__module__", "") == queries.__name__
        if name.startswith("_") or not callable(function) or not ours:
            continue
        if getattr(function, "_bench_wrapped", False) or isinstance(function, type):
            continue

        def wrapper(
            *args: Any, __function: Callable[..., Any] = function, __name: str = name, **kwargs: Any
        ) -> Any:
            started = time.perf_counter()
            try:
                return __function(*args, **kwargs)
            finally:
                _query_seconds[__name] += time.perf_counter() - started

        wrapper.__name__ = name
        wrapper._bench_wrapped = True  # type: ignore[attr-defined]
        setattr(queries, name, wrapper)


def ledger_database(size: int) -> str:
    """A SQLite ledger holding the synthetic ledger of `size` events, imported with our CLI (cached)."""
    from tracker.db import sqlite_url_for

    path = OUT_DIR / "pages" / f"ledger-{size}.db"
    done = path.with_suffix(".imported")
    url = sqlite_url_for(path)
    if not done.exists():
        import subprocess

        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        if _copy_from_import_bench(size, path):
            done.write_text("copied from the import benchmark's ledger\n")
            return url
        csv_path = ensure_ledger(size)
        print(f"importing {csv_path.name} into {path} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tracker",
                "--database",
                url,
                "import",
                str(csv_path),
                "--editor",
                "bench",
            ],
            cwd=PROJECT_ROOT,
            check=True,
        )
        print(f"  imported in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        done.write_text("ok\n")
    return url


def _copy_from_import_bench(size: int, path: Path) -> bool:
    """Reuse the ledger bench.import_bench just made with our importer (same file, same CLI), if any."""
    import sqlite3

    source = OUT_DIR / "import" / f"sqlite-{size}-ours.db"
    if not source.exists():
        return False
    with sqlite3.connect(source) as ledger:
        try:
            imports = ledger.execute(
                "SELECT count(*), sum(events_added) FROM imports WHERE status = 'committed'"
            ).fetchone()
        except sqlite3.Error:
            return False
        if tuple(imports) != (1, size):
            return False
        print(f"copying {source} to {path} (SQLite backup API) ...", file=sys.stderr, flush=True)
        with sqlite3.connect(path) as copy:
            ledger.backup(copy)
    return True


def typical_deal(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        deal = connection.execute(
            text("SELECT id FROM deals ORDER BY abs(event_count - 20), id LIMIT 1")
        ).scalar_one()
    engine.dispose()
    return deal


def _run(at: Any) -> float:
    started = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"the page raised: {[e.message for e in at.exception]}")
    return seconds


def _clear_data_cache() -> None:
    import streamlit as st

    st.cache_data.clear()


def ledger_events(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        events = connection.execute(text("SELECT count(*) FROM events")).scalar_one()
    engine.dispose()
    return int(events)


def bench_size(
    size: int, *, runs: int, url: str | None = None, query: dict[str, str] | None = None
) -> list[PageTiming]:
    """The pages on the synthetic ledger of `size` events, or on the ledger at `url` (of `size` events),
    opened with the URL query parameters `query` (e.g. {"scope": "all"})."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    url = url or ledger_database(size)
    os.environ["TRACKER_DATABASE_URL"] = url
    st.cache_data.clear()
    st.cache_resource.clear()
    deal_id = typical_deal(url)
    results = []
    at = AppTest.from_file(str(DASHBOARD), default_timeout=1800)
    at.query_params.update(query or {})

    def measure(page: str, prepare: Callable[[], None], shows: Callable[[], bool]) -> None:
        prepare()
        colds, cold_queries = [], defaultdict(float)
        for _ in range(runs):
            _clear_data_cache()
            _query_seconds.clear()
            colds.append(_run(at))
            for name, seconds in _query_seconds.items():
                cold_queries[name] += seconds / runs
            if not shows():  # the page must show its content, not an empty state, or the timing means nothing
                raise RuntimeError(f"the {page} page did not show its content at {size:,} events")
        cold = statistics.median(colds)
        _run(at)  # warm-up
        times = [_run(at) for _ in range(runs)]
        results.append(
            PageTiming(
                size, page, cold, statistics.median(times), times, queries=dict(cold_queries), cold_runs=colds
            )
        )
        print(
            f"  {size:>9,} {page:<14} cold {cold:7.3f} s  warm {statistics.median(times):7.3f} s",
            file=sys.stderr,
            flush=True,
        )

    _run(at)  # the first run opens the engine (and migrates: a no-op) outside the timings
    measure(
        "overview",
        lambda: at.switch_page(OVERVIEW),
        lambda: len(at.metric) == 4 and len(at.get("plotly_chart")) >= 4,
    )
    measure(
        "deals",
        lambda: at.switch_page(DEALS),
        lambda: len(at.dataframe) >= 1 and len(at.dataframe[0].value) > 0,
    )

    def open_deal() -> None:
        at.switch_page(DEAL)
        at.query_params["deal"] = deal_id

    measure("deal", open_deal, lambda: len(at.title) == 1 and at.title[0].value != "Deal page")

    # Filter change: a new country on the overview each time, so every run queries.
    at.switch_page(OVERVIEW)
    at.query_params.pop("deal", None)
    _run(at)
    times, query_totals = [], defaultdict(float)
    for code in FILTER_COUNTRIES[:runs]:
        at.multiselect(key="country").set_value([code])
        _query_seconds.clear()
        times.append(_run(at))
        for name, seconds in _query_seconds.items():
            query_totals[name] += seconds / runs
    results.append(
        PageTiming(size, "filter change", None, statistics.median(times), times, queries=dict(query_totals))
    )
    print(
        f"  {size:>9,} {'filter change':<14} median {statistics.median(times):7.3f} s",
        file=sys.stderr,
        flush=True,
    )
    return results


def report(results: list[PageTiming]) -> str:
    sizes = sorted({r.size for r in results})
    base = {(r.page): r for r in results if r.size == sizes[0]}
    lines = [
        (
            f"{'events':>10}  {'page':<14} {'cold s':>8} {'x' + format(sizes[0], ','):>8} "
            f"{'warm s':>8} {'x' + format(sizes[0], ','):>8}"
        )
    ]
    for size in sizes:
        for r in (r for r in results if r.size == size):
            first = base[r.page]
            has_cold = r.cold is not None and first.cold
            cold = f"{r.cold:8.3f} {r.cold / first.cold:8.2f}" if has_cold else f"{'':8} {'':8}"
            lines.append(f"{size:>10,}  {r.page:<14} {cold} {r.warm:8.3f} {r.warm / first.warm:8.2f}")
    lines.append(
        "cold: median of runs with an empty data cache; warm: median of reruns after a warm-up; "
        "filter change: a new country on the overview (each a cache miss)."
    )
    return "\n".join(lines)


def slowest_queries(results: list[PageTiming], top: int = 5) -> str:
    lines = []
    for r in results:
        if r.queries:
            ranked = sorted(r.queries.items(), key=lambda item: -item[1])[:top]
            total = r.cold if r.cold is not None else r.warm
            lines.append(
                f"{r.size:>10,} {r.page:<14} total {total:6.2f} s; queries: "
                + ", ".join(f"{name} {seconds:.2f}" for name, seconds in ranked)
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.page_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=5, help="timed reruns per page (median reported)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON lines to this file")
    parser.add_argument(
        "--database",
        metavar="URL",
        help="time this existing ledger instead of the synthetic sizes (e.g. one holding a SIPRI register)",
    )
    parser.add_argument(
        "--query",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="URL query parameters every page is opened with, e.g. scope=all sort=title",
    )
    args = parser.parse_args(argv)
    os.chdir(PROJECT_ROOT)
    _instrument_queries()
    results: list[PageTiming] = []
    query = dict(item.split("=", 1) for item in args.query)
    ledgers = (
        [(ledger_events(args.database), args.database)] if args.database else [(s, None) for s in args.sizes]
    )
    for size, url in ledgers:
        size_results = bench_size(size, runs=args.runs, url=url, query=query)
        results += size_results
        if args.json:
            with args.json.open("a", encoding="utf-8") as handle:
                for r in size_results:
                    handle.write(json.dumps(asdict(r) | {"code": code_version()}) + "\n")
    print(f"tracker at {code_version()}")
    print(report(results))
    print("\nWhere the cold runs spend their time (seconds in tracker.queries functions):")
    print(slowest_queries(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
