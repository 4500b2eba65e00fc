"""Backups of the ledger: SQLite's online backup API (safe while the dashboard is running)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine

from tracker.errors import LedgerUnavailable


def backup_ledger(engine: Engine, destination: Path) -> Path:
    """Copy a SQLite ledger to `destination` page by page, consistent even during writes."""
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
        target = sqlite3.connect(destination)
        try:
            raw.driver_connection.backup(target)
        finally:
            target.close()
    finally:
        raw.close()
    return destination
