"""What the ledger holds as true now, and what it held at an earlier moment, as SQL conditions and columns.

Every read of events, roles, sources and grades goes through these (tracker.queries, tracker.filters,
tracker.export, and the importer's recomputation of deals), so that retractions and regrades
(tracker.revisions) count the same way everywhere:

- an event is current when no retraction takes it back; as of a moment, when it was recorded by then
  and no retraction had been committed by then;
- a grade as of a moment is the old value of the first change committed after it, else today's value
  (as `tracker.attributes.restored` reads deal attributes back).

`as_of` is naive UTC like every recorded time; None means now.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, cast, exists, func, select

from tracker.models import Event, EventSource, GradeChange, Import, Retraction, Source


def imports_known_by(as_of: dt.datetime) -> Select[Any]:
    """The ids of imports committed by `as_of` (undone imports have left no rows to find)."""
    return select(Import.id).where(Import.committed_at <= as_of)


def event_is_current(as_of: dt.datetime | None = None) -> ColumnElement[bool]:
    """The event (the `events` row of the enclosing query) was in the ledger and not retracted."""
    if as_of is None:
        # A primary-key probe per event: the common case, with no join.
        return ~exists(select(Retraction.event_id).where(Retraction.event_id == Event.id))
    retracted = exists(
        select(Retraction.event_id)
        .join(Import, Import.id == Retraction.import_id)
        .where(Retraction.event_id == Event.id, Import.committed_at <= as_of)
    )
    return (Event.recorded_at <= as_of) & ~retracted


def _old_value_after(as_of: dt.datetime, *conditions: ColumnElement[bool]) -> Any:
    return (
        select(GradeChange.old_value)
        .join(Import, Import.id == GradeChange.import_id)
        .where(*conditions, Import.committed_at > as_of)
        .order_by(GradeChange.id)
        .limit(1)
        .scalar_subquery()
    )


def reliability(as_of: dt.datetime | None = None) -> ColumnElement[Any]:
    """The source's reliability grade (of the enclosing query's `sources` row) as it was at `as_of`."""
    if as_of is None:
        return Source.reliability
    later = _old_value_after(
        as_of,
        GradeChange.source_id == Source.id,
        GradeChange.grade == "reliability",
    )
    return func.coalesce(later, Source.reliability)


def credibility(as_of: dt.datetime | None = None) -> ColumnElement[Any]:
    """The credibility of the claim (the enclosing query's `event_sources` row) as it was at `as_of`."""
    if as_of is None:
        return EventSource.credibility
    later = _old_value_after(
        as_of,
        GradeChange.source_id == EventSource.source_id,
        GradeChange.event_id == EventSource.event_id,
        GradeChange.grade == "credibility",
    )
    return func.coalesce(cast(later, Integer), EventSource.credibility)
