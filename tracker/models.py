"""The ledger schema (SQLAlchemy 2 typed ORM). Alembic migrations in tracker/migrations follow it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names make migrations reproducible on SQLite (batch mode) and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def reference(column: str) -> ForeignKey:
    """A foreign key to `column` ("table.column") that refuses to delete a row while anything refers to it.

    RESTRICT rather than the default NO ACTION: the ledger only deletes in an undo, which deletes the
    referring rows first, so the two refuse the same deletes; but PostgreSQL checks a NO ACTION key twice for
    every deleted row (first for another row with the same key), a RESTRICT key once. Undoing 300k events:
    their delete 31.6 -> 17.5 s (docs/performance.md, "Undo on PostgreSQL").
    """
    return ForeignKey(column, ondelete="RESTRICT")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Import(Base):
    """One file taken into the ledger: what it was, who brought it, what it changed."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(32))
    encoding: Mapped[str] = mapped_column(String(32))
    editor: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    committed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    rows_read: Mapped[int] = mapped_column(Integer)
    deals_created: Mapped[int] = mapped_column(Integer)
    deals_updated: Mapped[int] = mapped_column(Integer)
    events_added: Mapped[int] = mapped_column(Integer)
    sources_added: Mapped[int] = mapped_column(Integer)
    parties_added: Mapped[int] = mapped_column(Integer)
    links_added: Mapped[int] = mapped_column(Integer)
    duplicates_skipped: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    snapshot_on: Mapped[dt.date | None] = mapped_column(Date)
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    undone_by: Mapped[str | None] = mapped_column(String(100))
    # Why an editor made the change (a retraction, correction, regrade or edit; tracker.revisions).
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("status IN ('committed', 'undone')", name="status"),)


class StageRow(Base):
    """The stage vocabulary as a table, so SQL can order and describe stages."""

    __tablename__ = "stages"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True)
    on_path: Mapped[bool]
    description: Mapped[str] = mapped_column(Text)


class Deal(Base):
    """A proposed or ongoing deal. Stage and dates are derived from its events by the importer."""

    __tablename__ = "deals"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(200), index=True)
    quantity: Mapped[int | None] = mapped_column(Integer)
    value_low: Mapped[float | None] = mapped_column(Float)
    value_high: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    sipri_tiv: Mapped[float | None] = mapped_column(Float)
    # Derived from events (recomputed on every import and undo); never written from input.
    current_stage: Mapped[str | None] = mapped_column(reference("stages.name"))
    stage_since: Mapped[dt.date | None] = mapped_column(Date)
    first_event_on: Mapped[dt.date | None] = mapped_column(Date)
    last_event_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    # How precisely those dates were reported (events.date_precision), and where the last event's period
    # ends: a SIPRI "2023" reads 2023, and is judged stale from 31 Dec 2023 (tracker.staleness).
    stage_since_precision: Mapped[str | None] = mapped_column(String(8))
    first_event_precision: Mapped[str | None] = mapped_column(String(8))
    last_event_precision: Mapped[str | None] = mapped_column(String(8))
    last_event_until: Mapped[dt.date | None] = mapped_column(Date)
    buyers: Mapped[str | None] = mapped_column(Text)
    sellers: Mapped[str | None] = mapped_column(Text)
    # The same states as space-separated ISO codes, sorted: the overview counts deals per combination of
    # stage, buyers and sellers in one GROUP BY over deals instead of joining every role row.
    buyer_codes: Mapped[str | None] = mapped_column(Text)
    seller_codes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Covers that GROUP BY and its count of stale deals (an index-only scan in stage order), and the
        # stage filter.
        Index(
            "ix_deals_stage_mix",
            "current_stage",
            "buyer_codes",
            "seller_codes",
            "last_event_until",
            "last_event_precision",
        ),
    )
    import_id: Mapped[int] = mapped_column(reference("imports.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class DealExternalId(Base):
    """An identifier of the deal in another system, e.g. scheme 'sipri'."""

    __tablename__ = "deal_external_ids"

    scheme: Mapped[str] = mapped_column(String(20), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    deal_id: Mapped[str] = mapped_column(reference("deals.id"), index=True)
    import_id: Mapped[int] = mapped_column(reference("imports.id"), index=True)


class DealTag(Base):
    __tablename__ = "deal_tags"

    deal_id: Mapped[str] = mapped_column(reference("deals.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)
    import_id: Mapped[int] = mapped_column(reference("imports.id"), index=True)
    # The deal edit that took the tag off (tracker.revisions); the row stays, so undoing the edit puts the
    # tag back as it was and a re-import does not add it again.
    removed_by: Mapped[int | None] = mapped_column(reference("imports.id"), index=True)


class DealChange(Base):
    """A recorded change of a deal attribute: deals are corrected by new records, not overwrites."""

    __tablename__ = "deal_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    deal_id: Mapped[str] = mapped_column(reference("deals.id"), index=True)
    field: Mapped[str] = mapped_column(String(30))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    # Indexed, like every foreign key a delete checks (undo deletes events): see migration 0004.
    event_id: Mapped[int | None] = mapped_column(reference("events.id"), index=True)
    import_id: Mapped[int] = mapped_column(reference("imports.id"), index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Party(Base):
    """A country, ministry, agency, armed service, company, person or organisation."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # lower-cased "name|country" so one party is never created twice.
    key: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    country_code: Mapped[str | None] = mapped_column(String(3), index=True)
    parent_id: Mapped[int | None] = mapped_column(reference("parties.id"), index=True)
    import_id: Mapped[int] = mapped_column(reference("imports.id"), index=True)


class DealParty(Base):
    """A party's role in a deal, with the event whose sources state it."""

    __tablename__ = "deal_parties"

    deal_id: Mapped[str] = mapped_column(reference("deals.id"), primary_key=True)
    party_id: Mapped[int] = mapped_column(reference("parties.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True, index=True)
    event_id: Mapped[int | None] = mapped_column(reference("events.id"), index=True)
    import_id: Mapped[int] = mapped_column(reference("imports.id"), index=True)


class Event(Base):
    """A dated development of one deal, the ledger's unit. Append-only."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    deal_id: Mapped[str] = mapped_column(reference("deals.id"))
    occurred_on: Mapped[dt.date] = mapped_column(Date, index=True)
    occurred_until: Mapped[dt.date] = mapped_column(Date)
    date_precision: Mapped[str] = mapped_column(String(8))
    date_text: Mapped[str] = mapped_column(String(32))
    # No index on stage: nothing selects events by stage, every index slows bulk imports, and the stages
    # it refers to are never deleted (the one foreign key without an index; see migration 0004).
    stage: Mapped[str | None] = mapped_column(reference("stages.name"))
    summary: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[int | None] = mapped_column(Integer)
    value_low: Mapped[float | None] = mapped_column(Float)
    value_high: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    # Hash of deal, date, stage and summary: the same development is stored once.
    fingerprint: Mapped[str] = mapped_column(String(32), unique=True)
    import_id: Mapped[int] = mapped_column(reference("imports.id"), index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)

    __table_args__ = (
        Index("ix_events_deal_date", "deal_id", "occurred_on"),
        CheckConstraint("date_precision IN ('day', 'week', 'month', 'year')", name="precision"),
    )


class Source(Base):
    """Where a claim comes from, with its NATO Admiralty reliability grade."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # The URL when there is one, else "publisher|title", lower-cased: one row per source.
    key: Mapped[str] = mapped_column(String(2100), unique=True)
    publisher: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(2048))
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    published_precision: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(30))
    reliability: Mapped[str] = mapped_column(String(1), index=True)
    import_id: Mapped[int] = mapped_column(reference("imports.id"), index=True)

    __table_args__ = (
        CheckConstraint("reliability IN ('A', 'B', 'C', 'D', 'E', 'F')", name="reliability"),
        CheckConstraint("url IS NULL OR url LIKE 'http://%' OR url LIKE 'https://%'", name="url_scheme"),
    )


class EventSource(Base):
    """An event supported by a source, with the credibility (1-6) of that claim."""

    __tablename__ = "event_sources"

    event_id: Mapped[int] = mapped_column(reference("events.id"), primary_key=True)
    source_id: Mapped[int] = mapped_column(reference("sources.id"), primary_key=True, index=True)
    credibility: Mapped[int] = mapped_column(Integer)
    # The source's own words for the claim, so it can be checked against the text.
    excerpt: Mapped[str | None] = mapped_column(Text)
    import_id: Mapped[int] = mapped_column(reference("imports.id"), index=True)

    __table_args__ = (CheckConstraint("credibility BETWEEN 1 AND 6", name="credibility"),)


class Signpost(Base):
    """A milestone someone expects next in a deal ("contract expected by March 2026"), as a source states it.

    Overdue when its date has passed and the deal has not reached the stage by then.
    """

    __tablename__ = "signposts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Hash of deal, stage, date and words: the same expectation is stored once, whichever source repeats it.
    fingerprint: Mapped[str] = mapped_column(String(32), unique=True)
    deal_id: Mapped[str] = mapped_column(reference("deals.id"), index=True)
    stage: Mapped[str] = mapped_column(reference("stages.name"), index=True)
    expected_on: Mapped[dt.date] = mapped_column(Date)
    expected_until: Mapped[dt.date] = mapped_column(Date)
    expected_precision: Mapped[str] = mapped_column(String(8))
    expected_text: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    # The event whose source states the expectation, and that source.
    event_id: Mapped[int] = mapped_column(reference("events.id"), index=True)
    source_id: Mapped[int] = mapped_column(reference("sources.id"), index=True)
    import_id: Mapped[int] = mapped_column(reference("imports.id"), index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("expected_precision IN ('day', 'week', 'month', 'year')", name="precision"),
    )


class Retraction(Base):
    """An event taken back by an editor: it leaves the current views, and the as-of views from the time of
    the retraction's import on. A correction is a retraction with its replacement, written together."""

    __tablename__ = "retractions"

    event_id: Mapped[int] = mapped_column(reference("events.id"), primary_key=True)
    replacement_id: Mapped[int | None] = mapped_column(reference("events.id"), index=True)
    import_id: Mapped[int] = mapped_column(reference("imports.id"), index=True)


class GradeChange(Base):
    """A recorded change of a grade: a source's reliability (no event) or the credibility of one event's
    claim from the source. Grades change by new records, as deal attributes do (DealChange)."""

    __tablename__ = "grade_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source_id: Mapped[int] = mapped_column(reference("sources.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(reference("events.id"), index=True)
    grade: Mapped[str] = mapped_column(String(12))
    old_value: Mapped[str] = mapped_column(String(1))
    new_value: Mapped[str] = mapped_column(String(1))
    import_id: Mapped[int] = mapped_column(reference("imports.id"), index=True)

    __table_args__ = (
        CheckConstraint("grade IN ('reliability', 'credibility')", name="grade"),
        CheckConstraint("(grade = 'reliability') = (event_id IS NULL)", name="claim"),
    )


class SavedView(Base):
    """A view an analyst saved: the sidebar's filters as a URL query string (tracker.filters.to_query), under
    a name, kept in the ledger so a team on PostgreSQL shares them; when an editor last opened it, so the
    sidebar can count the changes since (tracker.changes)."""

    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    query: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
