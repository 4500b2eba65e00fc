"""Small builders used across the tests: ledger CSV files, and ledgers at an older schema revision."""

from __future__ import annotations

import csv
import io

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from tracker.columns import TEMPLATE_COLUMNS
from tracker.db import MIGRATIONS_PATH

GOOD_ROW: dict[str, str] = {
    "deal_id": "test-deal",
    "deal_title": "Test deal",
    "date": "2025-07-04",
    "stage": "announced",
    "summary": "A development.",
    "buyer": "United States",
    "seller": "Ukraine",
    "source_title": "Report",
    "source_publisher": "Publisher",
    "source_url": "https://example.org/report",
    "reliability": "B",
    "credibility": "2",
}


def ledger_csv(
    *rows: dict[str, str], columns: tuple[str, ...] = TEMPLATE_COLUMNS, delimiter: str = ","
) -> bytes:
    """A UTF-8 ledger CSV with `columns` as header; missing cells are empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode()


def row(**changes: str) -> dict[str, str]:
    """GOOD_ROW with some cells changed."""
    return {**GOOD_ROW, **changes}


def downgrade(engine: Engine, revision: str) -> None:
    """Take a ledger back to an older schema revision, keeping its rows (as an older tracker left it)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
