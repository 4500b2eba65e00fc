"""Undoing an import: its rows removed, the deal attributes and grades it changed put back, the events it
retracted and the tags it removed restored, if no later import builds on it. Corrections, retractions,
regrades and deal edits (tracker.revisions) are imports too, undone here the same way."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, Row, delete, exists, func, select, update
from sqlalchemy.orm import aliased

from tracker.attributes import restored
from tracker.db import refresh_planner_statistics, write_transaction
from tracker.errors import UndoRefused
from tracker.importer.report import UndoPreview, UndoReport
from tracker.importer.write import refresh_deals
from tracker.models import (
    Deal,
    DealChange,
    DealExternalId,
    DealParty,
    DealTag,
    Event,
    EventSource,
    GradeChange,
    Import,
    Party,
    Retraction,
    Signpost,
    Source,
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def safe_editor(name: str) -> str:
    """Who imported, as recorded: printable, at most 100 characters (imports.editor; `--editor`
    takes any text)."""
    return ("".join(ch for ch in name if ch.isprintable()).strip() or "unknown")[:100]


def _undoable(connection: Connection, import_id: int) -> Row:
    """The import's record, or UndoRefused saying why it cannot be undone (the one check, shared by the
    preview and the undo)."""
    record = connection.execute(
        select(
            Import.id, Import.file_name, Import.editor, Import.committed_at, Import.rows_read, Import.status
        ).where(Import.id == import_id)
    ).first()
    if record is None:
        raise UndoRefused(f"there is no import #{import_id}; `python -m tracker imports` lists them.")
    if record.status == "undone":
        raise UndoRefused(f"import #{import_id} “{record.file_name}” has already been undone.")
    blockers = _dependents(connection, import_id)
    if blockers:
        raise UndoRefused(
            f"import #{import_id} “{record.file_name}” cannot be undone: {blockers}. "
            "Undo the later import first."
        )
    return record


def _restored_deal_ids(connection: Connection, import_id: int, created: set[str]) -> set[str]:
    """Deals (not created by this import) whose attributes this import changed."""
    changed = connection.execute(
        select(DealChange.deal_id).where(DealChange.import_id == import_id).distinct()
    ).scalars()
    return set(changed) - created


def preview_undo(engine: Engine, import_id: int) -> UndoPreview:
    """What undoing the import would remove and restore, read-only; UndoRefused as `undo_import` would
    raise it."""
    with engine.connect() as connection:
        record = _undoable(connection, import_id)
        created = set(connection.execute(select(Deal.id).where(Deal.import_id == import_id)).scalars())
        events = connection.execute(select(func.count()).where(Event.import_id == import_id)).scalar_one()
        sources = connection.execute(select(func.count()).where(Source.import_id == import_id)).scalar_one()
        return UndoPreview(
            import_id=import_id,
            file_name=record.file_name,
            editor=record.editor,
            committed_at=record.committed_at,
            rows_read=int(record.rows_read),
            events_removed=int(events),
            deals_removed=len(created),
            sources_removed=int(sources),
            deals_restored=len(_restored_deal_ids(connection, import_id, created)),
        )


def undo_import(engine: Engine, import_id: int, *, editor: str) -> UndoReport:
    """Revert an import's events and changes, if no later import depends on them."""
    with write_transaction(engine) as connection:
        record = _undoable(connection, import_id)
        deals_touched: set[str] = set()
        for model in (Event, DealChange, DealParty, DealTag, Signpost):
            deals_touched |= set(
                connection.execute(select(model.deal_id).where(model.import_id == import_id)).scalars()
            )
        deals_touched |= set(
            connection.execute(
                select(Event.deal_id)
                .join(Retraction, Retraction.event_id == Event.id)
                .where(Retraction.import_id == import_id)
            ).scalars()
        )
        created = set(connection.execute(select(Deal.id).where(Deal.import_id == import_id)).scalars())
        restored_deals = _restore_attributes(connection, import_id, created)
        _restore_grades(connection, import_id)
        events_removed = connection.execute(
            select(func.count()).where(Event.import_id == import_id)
        ).scalar_one()
        connection.execute(
            update(DealTag.__table__).where(DealTag.removed_by == import_id).values(removed_by=None)
        )
        for model in (
            Retraction, GradeChange, Signpost, EventSource, DealParty, DealTag, DealExternalId, DealChange
        ):  # fmt: skip
            connection.execute(delete(model.__table__).where(model.__table__.c.import_id == import_id))
        connection.execute(delete(Event.__table__).where(Event.import_id == import_id))
        connection.execute(update(Party.__table__).where(Party.import_id == import_id).values(parent_id=None))
        connection.execute(delete(Party.__table__).where(Party.import_id == import_id))
        connection.execute(delete(Source.__table__).where(Source.import_id == import_id))
        connection.execute(delete(Deal.__table__).where(Deal.import_id == import_id))
        refresh_deals(connection, sorted(deals_touched - created))
        refresh_planner_statistics(connection)
        connection.execute(
            update(Import.__table__)
            .where(Import.id == import_id)
            .values(status="undone", undone_at=_now(), undone_by=safe_editor(editor))
        )
    return UndoReport(
        import_id=import_id,
        file_name=record.file_name,
        events_removed=int(events_removed),
        deals_removed=len(created),
        deals_restored=restored_deals,
    )


def _dependents(connection: Connection, import_id: int) -> str:
    """A description of later imports that build on this one ('' when none)."""
    # Only a later import still in the ledger can build on this one (an undone import's rows are gone).
    # Undoing the newest import, the usual case, then skips the checks below, each of which reads all of
    # this import's rows: 12.6 of 35.8 s for a 20 MB SIPRI export's 557,345 events.
    later_imports = select(Import.id).where(Import.id > import_id, Import.status != "undone")
    if connection.execute(later_imports.limit(1)).first() is None:
        return ""
    mine_deals = select(Deal.id).where(Deal.import_id == import_id)
    later = aliased(GradeChange)
    touched_deals = (
        select(Event.deal_id)
        .where(Event.import_id == import_id)
        .union(
            select(DealChange.deal_id).where(DealChange.import_id == import_id),
            select(DealParty.deal_id).where(DealParty.import_id == import_id),
            mine_deals,
        )
    )
    checks = [
        (
            "added events to a deal it touched",
            select(Event.import_id).where(Event.import_id > import_id, Event.deal_id.in_(touched_deals)),
        ),
        (
            "changed a deal it touched",
            select(DealChange.import_id).where(
                DealChange.import_id > import_id, DealChange.deal_id.in_(touched_deals)
            ),
        ),
        (
            "cites a source it added",
            select(EventSource.import_id).where(
                EventSource.import_id > import_id,
                EventSource.source_id.in_(select(Source.id).where(Source.import_id == import_id)),
            ),
        ),
        (
            "adds a source to an event it added",
            select(EventSource.import_id).where(
                EventSource.import_id > import_id,
                EventSource.event_id.in_(select(Event.id).where(Event.import_id == import_id)),
            ),
        ),
        (
            "gives a role to a party it added",
            select(DealParty.import_id).where(
                DealParty.import_id > import_id,
                DealParty.party_id.in_(select(Party.id).where(Party.import_id == import_id)),
            ),
        ),
        (
            "adds parties to a deal it touched",
            select(DealParty.import_id).where(
                DealParty.import_id > import_id, DealParty.deal_id.in_(touched_deals)
            ),
        ),
        (
            "states a signpost on an event or source it added",
            select(Signpost.import_id).where(
                Signpost.import_id > import_id,
                Signpost.event_id.in_(select(Event.id).where(Event.import_id == import_id))
                | Signpost.source_id.in_(select(Source.id).where(Source.import_id == import_id)),
            ),
        ),
        (
            "retracts an event it added",
            select(Retraction.import_id).where(
                Retraction.import_id > import_id,
                Retraction.event_id.in_(select(Event.id).where(Event.import_id == import_id)),
            ),
        ),
        (
            "regrades a source it added",
            select(GradeChange.import_id).where(
                GradeChange.import_id > import_id,
                GradeChange.grade == "reliability",
                GradeChange.source_id.in_(select(Source.id).where(Source.import_id == import_id)),
            ),
        ),
        (
            "re-rates a claim it added",
            select(GradeChange.import_id).where(
                GradeChange.import_id > import_id,
                exists(
                    select(EventSource.event_id).where(
                        EventSource.import_id == import_id,
                        EventSource.event_id == GradeChange.event_id,
                        EventSource.source_id == GradeChange.source_id,
                    )
                ),
            ),
        ),
        (
            "changes a grade it changed",
            select(later.import_id).where(
                later.import_id > import_id,
                exists(
                    select(GradeChange.id).where(
                        GradeChange.import_id == import_id,
                        GradeChange.source_id == later.source_id,
                        GradeChange.grade == later.grade,
                        func.coalesce(GradeChange.event_id, 0) == func.coalesce(later.event_id, 0),
                    )
                ),
            ),
        ),
        (
            "removes a tag it added",
            select(DealTag.removed_by).where(DealTag.removed_by > import_id, DealTag.import_id == import_id),
        ),
        (
            "names a party it added as a parent",
            select(Party.import_id).where(
                Party.import_id > import_id,
                Party.parent_id.in_(select(Party.id).where(Party.import_id == import_id)),
            ),
        ),
    ]
    for reason, statement in checks:
        found = sorted(set(connection.execute(statement.limit(50)).scalars()))
        if found:
            names = ", ".join(f"#{i}" for i in found[:5])
            return f"later import {names} {reason}"
    return ""


def _restore_attributes(connection: Connection, import_id: int, created: set[str]) -> int:
    """Put back each deal attribute this import changed, from the first change it recorded."""
    rows = connection.execute(
        select(DealChange.deal_id, DealChange.field, DealChange.old_value)
        .where(DealChange.import_id == import_id)
        .order_by(DealChange.id)
    ).all()
    changes: dict[str, list[tuple[str, str | None]]] = {}
    for deal_id, field_name, old in rows:
        if deal_id not in created:
            changes.setdefault(deal_id, []).append((field_name, old))
    for deal_id, pairs in changes.items():
        values = restored(pairs)
        if values:
            connection.execute(update(Deal.__table__).where(Deal.id == deal_id).values(**values))
    return len(changes)


def _restore_grades(connection: Connection, import_id: int) -> None:
    """Put back each grade this import changed (a source's reliability, a claim's credibility), from the
    first change it recorded for it."""
    rows = connection.execute(
        select(GradeChange.source_id, GradeChange.event_id, GradeChange.grade, GradeChange.old_value)
        .where(GradeChange.import_id == import_id)
        .order_by(GradeChange.id.desc())  # the earliest change is applied last, so its old value wins
    ).all()
    for source_id, event_id, grade, old in rows:
        if grade == "reliability":
            connection.execute(update(Source.__table__).where(Source.id == source_id).values(reliability=old))
        else:
            connection.execute(
                update(EventSource.__table__)
                .where(EventSource.event_id == event_id, EventSource.source_id == source_id)
                .values(credibility=int(old))
            )
