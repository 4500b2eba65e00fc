"""The seed ledger (the US–Ukraine Drone Deal), imported through the same importer as any upload."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select

from tracker.importer import ImportReport, import_bytes
from tracker.models import Import

SEED_DIR = Path(__file__).resolve().parent.parent / "data" / "seed"
SEED_EDITOR = "seed"


def seed_files() -> list[Path]:
    return sorted(SEED_DIR.glob("*.csv"))


def seed_ledger(engine: Engine, *, editor: str = SEED_EDITOR) -> list[ImportReport]:
    """Import every seed file; already-imported rows are skipped, so this is safe to repeat."""
    return [
        import_bytes(engine, path.read_bytes(), file_name=path.name, editor=editor) for path in seed_files()
    ]


def seed_if_empty(engine: Engine) -> list[ImportReport]:
    """Seed a ledger that has never had an import (first run); leave any other ledger alone."""
    with engine.connect() as connection:
        if connection.execute(select(func.count()).select_from(Import)).scalar_one():
            return []
    return seed_ledger(engine)
