"""Import benchmark: our full import path against pandas and raw executemany, on the same rows, in one run.

    python -m bench.import_bench --events 100000                       # SQLite
    python -m bench.import_bench --events 100000 --database postgres   # needs TRACKER_TEST_POSTGRES_URL

Each contestant is timed as a whole process (wall clock from spawn to exit, interpreter start and
imports included), writing into its own fresh ledger created and migrated by `tracker.db.open_ledger`
before the clock starts, so all three write into identical empty tables:

- ours: `python -m tracker --database URL import FILE` (parse, validate, normalise, plan, write, record);
- (a)   `python -m bench.baselines pandas URL FILE`: pandas.read_csv + DataFrame.to_sql;
- (b)   `python -m bench.baselines raw URL FILE`: csv + sqlite3 (or psycopg) executemany.

(a) and (b) do no validation; bench/baselines.py documents exactly what they write. The peak RSS of each
process (from /usr/bin/time) is printed too. Rows/s counts CSV data rows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import OUT_DIR, PROJECT_ROOT, code_version
from bench.generate import ensure_ledger

CONTESTANTS: tuple[tuple[str, str], ...] = (
    ("ours", "tracker import (validated)"),
    ("a", "pandas read_csv + to_sql"),
    ("b", "csv + executemany"),
)
TIME = "/usr/bin/time"
TABLES = (
    "deals",
    "events",
    "sources",
    "event_sources",
    "parties",
    "deal_parties",
    "deal_tags",
    "deal_changes",
)


@dataclass(slots=True)
class Timing:
    contestant: str
    database: str
    events: int
    rows: int
    seconds: float
    peak_rss_mb: float
    counts: dict[str, int]

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


def command_for(contestant: str, url: str, path: Path) -> list[str]:
    if contestant == "ours":
        return [sys.executable, "-m", "tracker", "--database", url, "import", str(path), "--editor", "bench"]
    return [sys.executable, "-m", "bench.baselines", "pandas" if contestant == "a" else "raw", url, str(path)]


def run_timed(command: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall-clock seconds, peak RSS (MB) and output of a whole process.

    The peak RSS comes from `/usr/bin/time -f %M`, a small process that forks the command: measuring it
    from this (large) process would count the pages a fork inherits before exec.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        wrapped = [TIME, "-f", "%M", "-o", rss_file.name, *command] if Path(TIME).exists() else command
        started = time.perf_counter()
        done = subprocess.run(
            wrapped, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, check=False
        )
        seconds = time.perf_counter() - started
        output = done.stdout.decode(errors="replace")
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{output}")
        text = rss_file.read().strip().splitlines()
    rss_kb = float(text[-1]) if text and text[-1].isdigit() else float("nan")
    return seconds, rss_kb / 1024, output


def count_rows(path: Path) -> int:
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


# --- databases ------------------------------------------------------------------------------------------


def fresh_sqlite(name: str) -> str:
    from tracker.db import open_ledger, sqlite_url_for

    path = OUT_DIR / "import" / f"{name}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = sqlite_url_for(path)
    open_ledger(url).dispose()
    return url


def fresh_postgres(name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tracker.db import open_ledger

    server = os.environ.get("TRACKER_TEST_POSTGRES_URL")
    if not server:
        raise SystemExit(
            '--database postgres needs TRACKER_TEST_POSTGRES_URL: eval "$(scripts/start-postgres.sh)"'
        )
    database = f"bench_{name}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    url = make_url(server).set(database=database).render_as_string(hide_password=False)
    open_ledger(url).dispose()
    return url


def table_counts(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        counts = {t: int(connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES}
    engine.dispose()
    return counts


# --- the run --------------------------------------------------------------------------------------------


def bench(events: int, *, database: str, repeat: int, seed: int = 1) -> list[Timing]:
    path = ensure_ledger(events, seed=seed)
    rows = count_rows(path)
    path.read_bytes()  # into the page cache, so the first contestant does not pay for the disk
    runs: dict[str, list[tuple[float, float]]] = {c: [] for c, _ in CONTESTANTS}
    urls: dict[str, str] = {}
    # Rounds interleave the contestants, so that load from other processes falls on all three alike.
    for attempt in range(repeat):
        for contestant, _label in CONTESTANTS:
            name = f"{database}-{events}-{contestant}"
            url = fresh_postgres(name.replace("-", "_")) if database == "postgres" else fresh_sqlite(name)
            seconds, rss, output = run_timed(command_for(contestant, url, path))
            runs[contestant].append((seconds, rss))
            urls[contestant] = url
            said = f"  [{output.strip().splitlines()[-1][:120]}]" if output.strip() else ""
            print(
                f"  {contestant} run {attempt + 1}: {seconds:.2f} s, peak RSS {rss:.0f} MB{said}",
                file=sys.stderr,
            )
    return [
        Timing(
            contestant,
            database,
            events,
            rows,
            statistics.median(s for s, _ in runs[contestant]),
            max(r for _, r in runs[contestant]),
            table_counts(urls[contestant]),
        )
        for contestant, _label in CONTESTANTS
    ]


def report(results: list[Timing]) -> str:
    by = {r.contestant: r for r in results}
    first = results[0]
    lines = [
        (
            f"Import of {first.events:,} events ({first.rows:,} CSV rows) into {first.database} "
            f"(tracker at {code_version()}):"
        ),
        f"  {'contestant':<34} {'seconds':>8} {'rows/s':>9} {'peak MB':>8}  events  sources  links",
    ]
    for contestant, label in CONTESTANTS:
        r = by[contestant]
        lines.append(
            f"  {contestant + ' ' + label:<34} {r.seconds:>8.2f} {r.rows_per_second:>9,.0f} "
            f"{r.peak_rss_mb:>8.0f}  {r.counts['events']:>6}  {r.counts['sources']:>7}  "
            f"{r.counts['event_sources']:>5}"
        )
    ours = by["ours"].seconds
    lines.append(f"  time ours/(a) = {ours / by['a'].seconds:.2f}  (target <= 1.0: as fast as pandas)")
    lines.append(f"  time ours/(b) = {ours / by['b'].seconds:.2f}  (target <= 2.0: within 2x of executemany)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[100_000], help="ledger size(s), in events")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contestant (the median is reported)")
    parser.add_argument("--json", type=Path, help="also append the results as JSON lines to this file")
    args = parser.parse_args(argv)
    for events in args.events:
        results = bench(events, database=args.database, repeat=args.repeat)
        print(report(results), flush=True)
        if args.json:
            with args.json.open("a", encoding="utf-8") as handle:
                for r in results:
                    handle.write(
                        json.dumps(asdict(r) | {"rows_per_second": r.rows_per_second, "code": code_version()})
                        + "\n"
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
