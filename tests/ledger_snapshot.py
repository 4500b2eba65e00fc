"""Snapshots of a ledger's whole logical content, to prove that a refused or killed import changed nothing.

Why not compare the database file's bytes? A SQLite ledger runs in WAL mode: reading it can checkpoint
the write-ahead log into the main file, and opening or closing connections rewrites the -shm index, so
the bytes on disk change while the content does not. PostgreSQL has no single file at all. What the
guarantee is about is the content, so we compare that: every table (the schema version included), every
row ordered by primary key, every column, with values in a canonical text form.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from sqlalchemy import Engine, MetaData, select


def _canonical(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)  # exact: 0.1 stays 0.1, 1e+300 stays 1e+300
    if isinstance(value, bytes):
        return "b:" + value.hex()
    return f"{type(value).__name__}:{value}"


_REFLECTED: dict[str, MetaData] = {}


def _tables(engine: Engine) -> MetaData:
    """The database's own tables (reflected, so nothing the models forget is missed), once per database."""
    key = engine.url.render_as_string(hide_password=False)
    if key not in _REFLECTED:
        metadata = MetaData()
        metadata.reflect(engine)
        _REFLECTED[key] = metadata
    return _REFLECTED[key]


def dump(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every table's rows (column names first), ordered by primary key, as canonical text."""
    metadata = _tables(engine)
    out: dict[str, list[tuple[str, ...]]] = {}
    with engine.connect() as connection:
        for name in sorted(metadata.tables):
            table = metadata.tables[name]
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(select(table).order_by(*order)).all()
            out[name] = [tuple(c.name for c in table.columns)] + [
                tuple(_canonical(v) for v in row) for row in rows
            ]
    return out


def digest(engine: Engine) -> str:
    """SHA-256 of `dump`: equal digests mean byte-for-byte equal logical content."""
    hasher = hashlib.sha256()
    for name, rows in dump(engine).items():
        hasher.update(f"\x1d{name}\x1e".encode())
        for row in rows:
            hasher.update(("\x1f".join(row) + "\x1e").encode())
    return hasher.hexdigest()


def sqlite_dump(engine: Engine) -> list[str]:
    """SQLite's own `.dump` (schema and INSERTs) of the whole database; [] for other databases."""
    if engine.dialect.name != "sqlite":
        return []
    raw = engine.raw_connection()
    try:
        connection: sqlite3.Connection = raw.driver_connection
        return list(connection.iterdump())
    finally:
        raw.close()


def table_counts(engine: Engine) -> dict[str, int]:
    return {name: len(rows) - 1 for name, rows in dump(engine).items()}


def content(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """What the ledger says, without its ids, import numbers and recorded times: what a lossless export and
    import must keep. Rows refer to each other by their natural keys (event fingerprints, source and party
    keys), sorted, with values in `_canonical` form."""
    queries = {
        "deals": "SELECT id, title, summary, category, quantity, value_low, value_high, currency, sipri_tiv, "
        "current_stage, stage_since, first_event_on, last_event_on, event_count, buyers, sellers, "
        "buyer_codes, seller_codes FROM deals",
        "deal_tags": "SELECT deal_id, tag FROM deal_tags",
        "deal_external_ids": "SELECT scheme, external_id, deal_id FROM deal_external_ids",
        "events": "SELECT fingerprint, deal_id, occurred_on, occurred_until, date_precision, date_text, "
        "stage, summary, note, topic, quantity, value_low, value_high, currency FROM events",
        "sources": "SELECT key, publisher, title, url, published_on, published_precision, kind, reliability "
        "FROM sources",
        "event_sources": "SELECT e.fingerprint, s.key, l.credibility, l.excerpt FROM event_sources l "
        "JOIN events e ON e.id = l.event_id JOIN sources s ON s.id = l.source_id",
        "parties": "SELECT p.key, p.name, p.kind, p.country_code, parent.key FROM parties p "
        "LEFT JOIN parties parent ON parent.id = p.parent_id",
        "deal_parties": "SELECT r.deal_id, p.key, r.role, e.fingerprint FROM deal_parties r "
        "JOIN parties p ON p.id = r.party_id LEFT JOIN events e ON e.id = r.event_id",
        "signposts": "SELECT g.fingerprint, g.deal_id, g.stage, g.expected_on, g.expected_until, "
        "g.expected_precision, g.expected_text, g.note, e.fingerprint, s.key FROM signposts g "
        "JOIN events e ON e.id = g.event_id JOIN sources s ON s.id = g.source_id",
    }
    with engine.connect() as connection:
        return {
            name: sorted(tuple(_canonical(v) for v in row) for row in connection.exec_driver_sql(sql))
            for name, sql in queries.items()
        }
