"""Benchmarks of the tracker as the ledger grows: synthetic ledgers, import, page and memory benchmarks.

Entry points (see bench/README.md):

    python -m bench.generate --events 100000 --seed 1 --out bench/out/ledger-100000.csv
    python -m bench.import_bench --events 100000 [--database postgres]
    python -m bench.page_bench --sizes 1000 10000 100000 1000000
    python -m bench.memory_bench --events 1000000

Everything these write goes under bench/out/ (gitignored). Synthetic data is clearly marked: deal ids start
with `synthetic-`, titles with "[SYNTHETIC]", every deal carries the tag `synthetic`, and source URLs point
at `synthetic.example` (a reserved domain). It is never imported into the real ledger: the benchmarks
always create their own database files.
"""

from __future__ import annotations

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
PROJECT_ROOT = BENCH_DIR.parent


def ledger_path(events: int, seed: int = 1) -> Path:
    """Where the synthetic ledger CSV of `events` events is kept (seed 1 keeps the short name)."""
    suffix = "" if seed == 1 else f"-seed{seed}"
    return OUT_DIR / f"ledger-{events}{suffix}.csv"


def code_version() -> str:
    """The commit the tracker code was measured at, with "+changes" when tracker/ has uncommitted edits."""
    import subprocess

    try:

        def git(*args: str) -> str:
            return subprocess.run(
                ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()

        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "tracker", "dashboard.py")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+changes" if dirty else "")
