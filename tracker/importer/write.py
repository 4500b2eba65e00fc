"""Writing a plan: the rows to insert and update are built as statements first, then executed in bulk;
after the writes, each touched deal's derived columns (stage, dates, counts, buyers, sellers) are
recomputed from the ledger (`refresh_deals`, which undo uses too).

The performance of an import lives here, each trick with its reason:
- rows go to the driver directly (one executemany of plain tuples on SQLite, COPY on PostgreSQL),
  with values passed through each column's own SQLAlchemy bind processor once per distinct value, so
  they are stored exactly as the ORM stores them without the per-row cost of Core inserts (the bulk of
  an import);
- integer columns with gaps reach the database as integers, not 39.0 (COPY refuses "39.0").
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Integer, Table, bindparam, select

from tracker.attributes import DEAL_ATTRIBUTES
from tracker.columns import stored_columns
from tracker.importer.plan import CHUNK, Plan, select_in
from tracker.importer.report import ImportReport, StageMove
from tracker.knowledge import event_is_current
from tracker.models import (
    Deal,
    DealChange,
    DealExternalId,
    DealParty,
    DealTag,
    Event,
    EventSource,
    Import,
    Party,
    Signpost,
    Source,
)
from tracker.stages import STATUS_COLUMNS, deal_status

# Rows per executemany call, each call's tuples built just before it: all of a table's rows as tuples at
# once were 14 MB for the 87,108 events of the real 3.6 MB SIPRI export, the peak of its writing.
EXECUTEMANY_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class Insert:
    """Rows to insert into `table`: column name -> values (Python values, as the ORM would take them)."""

    table: Table
    columns: dict[str, list[Any]]


@dataclass(frozen=True, slots=True)
class Update:
    """Rows of `table` to update, found by their `key` column: column name -> values (the key's included)."""

    table: Table
    key: str
    columns: dict[str, list[Any]]


def _insert(table: Table, frame: pd.DataFrame, mapping: dict[str, str], **constants: Any) -> Insert:
    """`frame`'s columns renamed by `mapping` (frame column -> table column), plus constant columns."""
    columns = {
        target: _values(frame[source], integer=isinstance(table.c[target].type, Integer))
        for source, target in mapping.items()
    }
    columns.update({target: [value] * len(frame) for target, value in constants.items()})
    return Insert(table, columns)


def _values(column: pd.Series, *, integer: bool = False) -> list[Any]:
    """The column as Python values, missing ones (NaN, NaT, None) as None.

    `integer`: for an integer column, which pandas turns into floats (39.0) when it has gaps; COPY into
    PostgreSQL refuses "39.0" for an integer.
    """
    if integer and column.dtype.kind == "f":
        return [None if math.isnan(value) else int(value) for value in column.tolist()]
    if not column.hasnans:
        return column.tolist()
    return column.astype(object).where(column.notna(), None).tolist()


def _deal_columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """The `deals` columns of each deal's attribute texts (see tracker.attributes)."""
    columns: dict[str, list[Any]] = {}
    for attribute in DEAL_ATTRIBUTES:
        decoded = [attribute.decode(text) for text in frame[attribute.name].tolist()]
        for column in attribute.deal_columns:
            columns[column] = [values[column] for values in decoded]
    return columns


def statements(
    plan: Plan,
    report: ImportReport,
    *,
    editor: str,
    started: dt.datetime,
    now: dt.datetime,
    reason: str | None = None,
) -> Iterator[Insert | Update]:
    """Every insert and update of the import, in an order that satisfies the foreign keys.

    Built one at a time as they are executed: a statement's parameter lists (a Python object per cell)
    are freed before the next one's are built, instead of all of them being held at once.
    """
    import_id = report.import_id
    record = {
        "id": import_id, "file_name": report.file_name, "sha256": report.sha256, "format": report.format,
        "encoding": report.encoding, "editor": editor, "started_at": started, "committed_at": now,
        "rows_read": report.rows_read, "deals_created": len(report.deals_created),
        "deals_updated": len(report.deals_updated), "events_added": report.events_added,
        "sources_added": report.sources_added, "parties_added": report.parties_added,
        "links_added": report.links_added, "duplicates_skipped": report.duplicates_skipped,
        "status": "committed", "snapshot_on": report.snapshot_on, "reason": reason,
    }  # fmt: skip
    new_deals = plan.new_deals
    yield Insert(Import.__table__, {name: [value] for name, value in record.items()})
    yield Insert(
        Deal.__table__,
        {
            "id": new_deals["deal_id"].tolist(),
            **_deal_columns(new_deals),
            "import_id": [import_id] * len(new_deals),
            "created_at": [now] * len(new_deals),
            "event_count": [0] * len(new_deals),
        },
    )
    if not plan.deal_updates.empty:
        yield Update(
            Deal.__table__,
            "id",
            {"id": plan.deal_updates["deal_id"].tolist(), **_deal_columns(plan.deal_updates)},
        )
    stamped = {"import_id": import_id, "recorded_at": now}
    inserts: tuple[tuple[Table, pd.DataFrame, dict[str, str], dict[str, Any]], ...] = (
        (
            DealExternalId.__table__,
            plan.new_external_ids,
            {"deal_id": "deal_id", "scheme": "scheme", "external_id": "external_id"},
            {"import_id": import_id},
        ),
        (DealTag.__table__, plan.new_tags, {"deal_id": "deal_id", "tag": "tag"}, {"import_id": import_id}),
        (
            Party.__table__,
            plan.new_parties,
            {
                "party_id": "id",
                "key": "key",
                "name": "name",
                "kind": "kind",
                "country": "country_code",
                "parent_id": "parent_id",
            },
            {"import_id": import_id},
        ),
        (
            Event.__table__,
            plan.new_events,
            {
                "event_id": "id",
                "deal_id": "deal_id",
                "fingerprint": "fingerprint",
                **stored_columns("events"),
            },
            stamped,
        ),
        (
            Source.__table__,
            plan.new_sources,
            {"source_id": "id", "source_key": "key", **stored_columns("sources")},
            {"import_id": import_id},
        ),
        (
            EventSource.__table__,
            plan.new_links,
            {"event_id": "event_id", "source_id": "source_id", **stored_columns("event_sources")},
            {"import_id": import_id},
        ),
        (
            DealParty.__table__,
            plan.new_roles,
            {"deal_id": "deal_id", "party_id": "party_id", "role": "role", "event_id": "event_id"},
            {"import_id": import_id},
        ),
        (
            Signpost.__table__,
            plan.new_signposts,
            {
                "signpost_id": "id",
                "fingerprint": "fingerprint",
                "deal_id": "deal_id",
                "event_id": "event_id",
                "source_id": "source_id",
                **stored_columns("signposts"),
            },
            stamped,
        ),
        (
            DealChange.__table__,
            plan.changes,
            {
                "change_id": "id",
                "deal_id": "deal_id",
                "field": "field",
                "old_value": "old_value",
                "new_value": "new_value",
                "event_id": "event_id",
            },
            stamped,
        ),
    )
    for table, frame, mapping, constants in inserts:
        yield _insert(table, frame, mapping, **constants)


def execute(connection: Connection, found: Iterable[Insert | Update]) -> None:
    for statement in found:
        if isinstance(statement, Update):
            bulk_update(connection, statement)
        elif statement.columns and len(next(iter(statement.columns.values()))):
            _bulk_insert(connection, statement)


def write_plan(
    connection: Connection,
    plan: Plan,
    report: ImportReport,
    *,
    editor: str,
    started: dt.datetime,
    now: dt.datetime,
    reason: str | None = None,
) -> None:
    """Write the planned rows, then recompute the derived columns of every deal the import touched.

    The plan's rows are released once written (Plan.release_rows): read what you need of them before.
    """
    created = set(report.deals_created)
    fresh = plan.new_events[plan.new_events["deal_id"].isin(created)]
    created_events = (
        fresh[["deal_id", "event_id", "date_start", "date_end", "date_precision", "stage"]]
        .rename(columns={"date_start": "occurred_on", "date_end": "occurred_until"})
        .reset_index(drop=True)
    )
    del fresh
    execute(connection, statements(plan, report, editor=editor, started=started, now=now, reason=reason))
    plan.release_rows()
    refresh_deals(connection, plan.touched_deals, created_events=created_events)


# --- execution ----------------------------------------------------------------------------------------


def _bulk_insert(connection: Connection, insert: Insert) -> None:
    """One parameterised executemany, or on PostgreSQL one COPY."""
    table = insert.table
    preparer = connection.dialect.identifier_preparer
    names = f"{preparer.format_table(table)} ({', '.join(map(preparer.quote, insert.columns))})"
    values = [_stored(connection, table.c[name], column) for name, column in insert.columns.items()]
    if connection.dialect.name == "postgresql":
        # COPY sends the rows as data, apart from the statement, as executemany does; an executemany
        # still makes a round trip per row (2.7 of the 9 s of a 100k-event import went on one table).
        with (
            connection.connection.driver_connection.cursor() as cursor,
            cursor.copy(f"COPY {names} FROM STDIN") as copy,
        ):
            for row in zip(*values):
                copy.write_row(row)
        return
    markers = ", ".join([_marker(connection)] * len(insert.columns))
    _execute_many(connection, f"INSERT INTO {names} VALUES ({markers})", values)


def bulk_update(connection: Connection, update: Update) -> None:
    """One executemany of `UPDATE ... SET ... WHERE key = ?` (as _bulk_insert)."""
    table = update.table
    preparer = connection.dialect.identifier_preparer
    marker = _marker(connection)
    names = [name for name in update.columns if name != update.key]
    statement = (
        f"UPDATE {preparer.format_table(table)} "
        f"SET {', '.join(f'{preparer.quote(n)} = {marker}' for n in names)} "
        f"WHERE {preparer.quote(update.key)} = {marker}"
    )
    _execute_many(
        connection,
        statement,
        [_stored(connection, table.c[name], update.columns[name]) for name in [*names, update.key]],
    )


def _marker(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def _stored(connection: Connection, column: Any, values: list[Any]) -> list[Any]:
    """`values` as the driver takes them for `column` (SQLite stores dates as ISO text, for one)."""
    dialect = connection.dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    if processor is None:
        return values
    # Once per distinct value: a column of 100,000 dates holds a few thousand different days.
    stored = {value: processor(value) for value in set(values)}
    return [stored[value] for value in values]


def _execute_many(connection: Connection, statement: str, columns: list[list[Any]]) -> None:
    rows = zip(*columns)
    while chunk := list(islice(rows, EXECUTEMANY_ROWS)):
        connection.exec_driver_sql(statement, chunk)


# --- derived columns ----------------------------------------------------------------------------------


# Deals refreshed at a time: their events, statuses and states are held for one part only. Refreshing the
# real 3.6 MB SIPRI export's 28,000 new deals at once rose 25 MB above the write before it, in parts of
# 5,000 10 MB (docs/performance.md, "Import peak memory, fourth round").
DEALS_PER_REFRESH = 5_000


def refresh_deals(
    connection: Connection, deal_ids: Sequence[str], *, created_events: pd.DataFrame | None = None
) -> None:
    """Recompute the derived columns of these deals (stage, dates, counts, buyers, sellers) from the ledger's
    current events (retracted ones do not count).

    `created_events` are all the events of deals created in this transaction, which then need not be
    read back (tracker.stages.EVENT_COLUMNS).
    """
    if not deal_ids:
        return
    deal_ids = list(deal_ids)
    parts = range(0, len(deal_ids), DEALS_PER_REFRESH)
    created_parts = (
        _split_into_parts(created_events, deal_ids, len(parts))
        if created_events is not None and not created_events.empty
        else [None] * len(parts)
    )
    for start in parts:
        # Popped: each part's events go once refreshed.
        _refresh_part(connection, deal_ids[start : start + DEALS_PER_REFRESH], created_parts.pop(0))


def _split_into_parts(events: pd.DataFrame, deal_ids: list[str], count: int) -> list[pd.DataFrame | None]:
    """The events of each part of `deal_ids`, by one stable sort on the part number (a filter per part read
    every event once per part)."""
    part_of = {deal_id: index // DEALS_PER_REFRESH for index, deal_id in enumerate(deal_ids)}
    numbers = events["deal_id"].map(part_of).to_numpy(dtype=np.int64)
    order = np.argsort(numbers, kind="stable")
    bounds = np.searchsorted(numbers[order], np.arange(count + 1))
    return [events.iloc[order[start:end]].reset_index(drop=True) for start, end in itertools.pairwise(bounds)]


def _current_events(connection: Connection, deal_ids: Sequence[str]) -> pd.DataFrame:
    """The ledger's current events of these deals (retracted ones do not count), as
    tracker.stages.EVENT_COLUMNS."""
    return select_in(
        connection,
        [
            Event.deal_id,
            Event.id.label("event_id"),
            Event.occurred_on,
            Event.occurred_until,
            Event.date_precision,
            Event.stage,
        ],
        Event.deal_id,
        list(deal_ids),
        where=[event_is_current()],
    )


def stage_moves(connection: Connection, plan: Plan) -> list[StageMove]:
    """The ledger's deals whose current stage writing `plan` would move, in file order: the deals' refresh,
    computed without writing, for a dry run. Only a deal given a new event with a stage can move, so only
    those deals' events are read: a check of 5,000 such deals (105,000 events) spent 0.8 to 1.1 s here, a
    check of a few deals' news a few milliseconds."""
    updated = set(plan.deals_updated)
    staged = plan.new_events.loc[plan.new_events["stage"].notna(), "deal_id"].tolist()
    deal_ids = list(dict.fromkeys(deal_id for deal_id in staged if deal_id in updated))
    if not deal_ids:
        return []
    new_events = plan.new_events.loc[
        plan.new_events["deal_id"].isin(deal_ids),
        ["deal_id", "event_id", "date_start", "date_end", "date_precision", "stage"],
    ].rename(columns={"date_start": "occurred_on", "date_end": "occurred_until"})
    known = _current_events(connection, deal_ids)
    events = pd.concat([known, new_events], ignore_index=True) if not known.empty else new_events
    status = deal_status(events)
    after = dict(zip(status["deal_id"].tolist(), status["current_stage"].tolist()))
    before = select_in(connection, [Deal.id, Deal.title, Deal.current_stage], Deal.id, deal_ids)
    now = {row.id: (row.title, row.current_stage) for row in before.itertuples(index=False)}
    return [
        StageMove(deal_id, now[deal_id][0], now[deal_id][1], after.get(deal_id))
        for deal_id in deal_ids
        if now[deal_id][1] != after.get(deal_id)
    ]


def _refresh_part(connection: Connection, deal_ids: list[str], created_events: pd.DataFrame | None) -> None:
    created = set() if created_events is None else set(created_events["deal_id"].tolist())
    events = _current_events(connection, [d for d in deal_ids if d not in created])
    if created:
        events = (
            pd.concat([events, created_events], ignore_index=True) if not events.empty else created_events
        )
    status = deal_status(events).set_index("deal_id").reindex(deal_ids).astype(object)
    del events
    status = status.where(status.notna(), None)
    states = _deal_states(connection, deal_ids)
    derived = {
        "id": deal_ids,
        **{
            column: status[column].tolist()
            for column in STATUS_COLUMNS
            if column not in ("deal_id", "event_count")
        },
        "event_count": [int(count or 0) for count in status["event_count"].tolist()],
        **states,
    }
    bulk_update(connection, Update(Deal.__table__, "id", derived))


def _deal_states(connection: Connection, deal_ids: Sequence[str]) -> dict[str, list[str | None]]:
    """The states buying and selling in each deal, as the `deals` columns store them: names for display
    and text search ("buyers", "sellers"), ISO codes for the overview's counts ("buyer_codes", ...).

    Joined into text chunk by chunk: a set per deal and role for every deal at once (28,000 deals of a
    SIPRI export) held 48 MB, the peak of the import's refresh (bench/hostile_bench.py).
    """
    statement = (
        select(DealParty.deal_id, DealParty.role, Party.name, Party.country_code)
        .join(Party, Party.id == DealParty.party_id)
        .where(
            DealParty.role.in_(("buyer", "seller")),
            Party.kind == "state",
            DealParty.deal_id.in_(bindparam("ids", expanding=True)),
        )
    )
    columns: dict[str, list[str | None]] = {
        "buyers": [],
        "sellers": [],
        "buyer_codes": [],
        "seller_codes": [],
    }
    nobody: frozenset[str] = frozenset()
    for start in range(0, len(deal_ids), CHUNK):
        chunk = deal_ids[start : start + CHUNK]
        names: dict[tuple[str, str], set[str]] = defaultdict(set)
        codes: dict[tuple[str, str], set[str]] = defaultdict(set)
        for deal_id, role, name, code in connection.execute(statement, {"ids": list(chunk)}):
            names[(deal_id, role)].add(name)
            if code:
                codes[(deal_id, role)].add(code)
        for deal_id in chunk:
            for role in ("buyer", "seller"):
                columns[f"{role}s"].append("; ".join(sorted(names.get((deal_id, role), nobody))) or None)
                columns[f"{role}_codes"].append(" ".join(sorted(codes.get((deal_id, role), nobody))) or None)
    return columns
