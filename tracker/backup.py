"""Backups of the ledger: SQLite's online backup API (safe while the dashboard is running)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine

from tracker.errors import LedgerUnavailable
from tracker.files import file_in_place, not_written


def _copy_pages(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    source.backup(target)


def backup_ledger(engine: Engine, destination: Path) -> Path:
    """Copy a SQLite ledger to `destination` page by page, consistent even during writes.

    The copy is made under a temporary name in the destination's folder and renamed when complete: a full
    disk leaves no truncated backup (OutputNotWritten says so).
    """
    if engine.dialect.name != "sqlite":
        raise LedgerUnavailable(
            "backup copies SQLite ledgers only; for PostgreSQL use pg_dump, e.g. "
            "pg_dump --format=custom --file tracker.dump DBNAME (restore with pg_restore)."
        )
    destination = destination.resolve()
    if destination.exists():
        raise LedgerUnavailable(f"{destination} already exists; choose a new file name.")
    if not destination.parent.is_dir():
        raise LedgerUnavailable(f"the folder {destination.parent} does not exist.")
    raw = engine.raw_connection()
    try:
        with file_in_place(destination) as partial:
            target = sqlite3.connect(partial)
            try:
                _copy_pages(raw.driver_connection, target)
            finally:
                target.close()
    except (OSError, sqlite3.Error) as exc:
        raise not_written(destination, exc) from exc
    finally:
        raw.close()
    return destination
