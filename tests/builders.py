"""Small builders used across the tests: ledger CSV files, and ledgers at an older schema revision."""

from __future__ import annotations

import csv
import datetime
import io

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from tracker.db import MIGRATIONS_PATH
from tracker.ledger_csv import ALL_COLUMNS

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


def ledger_csv(*rows: dict[str, str], columns: tuple[str, ...] = ALL_COLUMNS, delimiter: str = ",") -> bytes:
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


def many_deals(count: int) -> list[dict[str, str]]:
    """`count` one-event news deals ("deal-000"...) with titles in no particular order and of mixed case
    ("Bravo 743"), dated a day apart from 2020-01-01; buyers alternate Ukraine, Poland. The first title
    from A (deal-007, "Alpha 001") is one of the oldest deals: past the first 500 of the newest first."""
    words = ["delta", "Alpha", "charlie", "Bravo", "echo", "Foxtrot"]
    return [
        row(
            deal_id=f"deal-{i:03d}",
            deal_title=f"{words[(i * 7) % len(words)]} {(i * 43 + 700) % 1000:03d}",
            date=(datetime.date(2020, 1, 1) + datetime.timedelta(days=i)).isoformat(),
            summary=f"Deal {i} is announced.",
            buyer="Poland" if i % 2 else "Ukraine",
        )
        for i in range(count)
    ]


def titles_in_order(deals: list[dict[str, str]], *, descending: bool = False) -> list[str]:
    """The deals' titles as the Deals table sorts them: case-insensitively, ties by deal id."""
    by_id = sorted(deals, key=lambda deal: deal["deal_id"])
    return [
        deal["deal_title"]
        for deal in sorted(by_id, key=lambda deal: deal["deal_title"].lower(), reverse=descending)
    ]


def downgrade(engine: Engine, revision: str) -> None:
    """Take a ledger back to an older schema revision, keeping its rows (as an older tracker left it)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
