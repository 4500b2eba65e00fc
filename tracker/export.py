"""Exports of what the analyst found: CSV in the upload format, and XLSX workbooks.

Every text cell that a spreadsheet would read as a formula is neutralised with a leading apostrophe.
"""

from __future__ import annotations

import io

import pandas as pd
from sqlalchemy import Engine, select

from tracker.filters import Filters
from tracker.ledger_csv import ALL_COLUMNS
from tracker.models import Deal, DealParty, Event, EventSource, Party, Source

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell a spreadsheet would evaluate becomes plain text; other values pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [neutralise(c) for c in safe.columns]
    return safe


def ledger_rows(engine: Engine, filters: Filters) -> pd.DataFrame:
    """The filtered ledger as upload-format rows: one per event and source, re-importable as is."""
    statement = (
        select(
            Event.deal_id,
            Deal.title.label("deal_title"),
            Event.date_text.label("date"),
            Event.stage,
            Event.summary,
            Deal.buyers,
            Deal.sellers,
            Deal.category,
            Event.quantity,
            Event.value_low,
            Event.value_high,
            Event.currency,
            Source.title.label("source_title"),
            Source.publisher.label("source_publisher"),
            Source.url.label("source_url"),
            Source.published_on.label("source_date"),
            Source.reliability,
            EventSource.credibility,
            Event.note,
            Source.kind.label("source_kind"),
            Event.topic,
        )
        .join(Deal, Deal.id == Event.deal_id)
        .join(EventSource, EventSource.event_id == Event.id)
        .join(Source, Source.id == EventSource.source_id)
        .where(filters.deal_clause(), *filters.event_conditions())
        .order_by(Event.deal_id, Event.occurred_on, Event.id, Source.id)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(
            connection.execute(statement).all(), columns=[c.name for c in statement.selected_columns]
        )
    frame = frame.rename(columns={"buyers": "buyer", "sellers": "seller"})
    for column in ALL_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    frame["quantity"] = frame["quantity"].astype("Int64")
    return frame[list(ALL_COLUMNS)]


def deal_parties(engine: Engine, filters: Filters) -> pd.DataFrame:
    statement = (
        select(
            DealParty.deal_id,
            Party.name.label("party"),
            Party.kind.label("party_kind"),
            Party.country_code.label("party_country"),
            DealParty.role.label("party_role"),
        )
        .join(Party, Party.id == DealParty.party_id)
        .join(Deal, Deal.id == DealParty.deal_id)
        .where(filters.deal_clause())
        .order_by(DealParty.deal_id, DealParty.role, Party.name)
    )
    with engine.connect() as connection:
        return pd.DataFrame(
            connection.execute(statement).all(), columns=[c.name for c in statement.selected_columns]
        )


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, so spreadsheet programs read non-ASCII names correctly."""
    return neutralise_frame(frame).to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            neutralise_frame(frame).to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()
