"""Signposts as analysts read them: when a milestone someone expects counts as reached, and when it is
overdue. The one definition of "overdue" that the deal page, the overview, the Changes page and the
changes digest (tracker.changes) share.

A signpost is **overdue** on a day when
- its date has passed: the whole expected period ended before that day ("by March 2026" is overdue
  from 1 April 2026),
- the deal has not reached the milestone: no current event (tracker.knowledge) moved it to that stage or,
  for a stage on the main path, to a later one on the path ("contracted" is reached by "delivering"),
- the deal is still live (tracker.vocab.ACTIVE_STAGES, or no stage yet): a cancelled or completed deal
  waits for nothing,
- and the event whose source states it is current (a retracted event takes its signposts with it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, and_, exists, func, or_, select

from tracker.dates import format_partial_date
from tracker.display import web_url_or_none
from tracker.filters import Filters
from tracker.knowledge import event_is_current
from tracker.models import Deal, Event, Signpost, Source
from tracker.vocab import ACTIVE_STAGES, STAGE_NAMES, STAGES

# Per stage, the stages whose event means the milestone was reached.
REACHED_BY: dict[str, tuple[str, ...]] = {
    stage.name: tuple(s.name for s in STAGES if s.on_path and s.order >= stage.order)
    if stage.on_path
    else (stage.name,)
    for stage in STAGES
}
SIGNPOST_COLUMNS = (
    "signpost_id", "deal_id", "deal_title", "stage", "expected", "expected_until", "note", "source",
    "source_url", "status", "days_overdue",
)  # fmt: skip
OVERDUE_LIMIT = 200


def reached() -> ColumnElement[bool]:
    """The signpost (the enclosing query's `signposts` row) names a stage its deal has reached."""
    stage_reached = or_(
        *(and_(Signpost.stage == name, Event.stage.in_(REACHED_BY[name])) for name in STAGE_NAMES)
    )
    return exists(
        select(Event.id).where(Event.deal_id == Signpost.deal_id, stage_reached, event_is_current())
    ).correlate(Signpost)


def stated() -> ColumnElement[bool]:
    """The signpost's own event is current (not retracted)."""
    return exists(select(Event.id).where(Event.id == Signpost.event_id, event_is_current())).correlate(
        Signpost
    )


def overdue(*, today: dt.date) -> list[ColumnElement[bool]]:
    """Conditions on `signposts` joined with `deals`: overdue on `today` (see the module)."""
    return [
        Signpost.expected_until < today,
        or_(Deal.current_stage.is_(None), Deal.current_stage.in_(ACTIVE_STAGES)),
        stated(),
        ~reached(),
    ]


def _select(*conditions: ColumnElement[bool], today: dt.date) -> Any:
    return (
        select(
            Signpost.id.label("signpost_id"),
            Signpost.deal_id,
            Deal.title.label("deal_title"),
            Signpost.stage,
            Signpost.expected_on,
            Signpost.expected_until,
            Signpost.expected_precision,
            Signpost.note,
            func.coalesce(Source.publisher, Source.title, Source.url).label("source"),
            Source.url.label("source_url"),
            Deal.current_stage,
            reached().label("reached"),
        )
        .join(Deal, Deal.id == Signpost.deal_id)
        .join(Source, Source.id == Signpost.source_id)
        .where(stated(), *conditions)
    )


def _frame(engine: Engine, statement: Any, *, today: dt.date) -> pd.DataFrame:
    with engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
    records = []
    for row in rows:
        late = (
            not row["reached"]
            and row["expected_until"] < today
            and (row["current_stage"] is None or row["current_stage"] in ACTIVE_STAGES)
        )
        status = "reached" if row["reached"] else "overdue" if late else "expected"
        records.append(
            {
                "signpost_id": row["signpost_id"],
                "deal_id": row["deal_id"],
                "deal_title": row["deal_title"],
                "stage": row["stage"],
                # At the precision the source gave: "Mar 2026", "2026", "4 Jul 2026".
                "expected": format_partial_date(
                    row["expected_on"], row["expected_precision"], row["expected_until"]
                ),
                "expected_until": row["expected_until"],
                "note": row["note"],
                "source": row["source"],
                "source_url": web_url_or_none(row["source_url"]),
                "status": status,
                "days_overdue": (today - row["expected_until"]).days if late else None,
            }
        )
    return pd.DataFrame(records, columns=list(SIGNPOST_COLUMNS))


def deal_signposts(engine: Engine, deal_id: str, *, today: dt.date) -> pd.DataFrame:
    """The deal's signposts (SIGNPOST_COLUMNS), soonest expected first, each reached, overdue or
    expected."""
    statement = _select(Signpost.deal_id == deal_id, today=today).order_by(
        Signpost.expected_until, Signpost.stage, Signpost.id
    )
    return _frame(engine, statement, today=today)


def overdue_signposts(
    engine: Engine, *, filters: Filters, today: dt.date, limit: int = OVERDUE_LIMIT
) -> pd.DataFrame:
    """The overdue signposts (SIGNPOST_COLUMNS) of the filtered deals, longest overdue first."""
    statement = (
        _select(*overdue(today=today), filters.deal_clause(), today=today)
        .order_by(Signpost.expected_until, Signpost.deal_id, Signpost.id)
        .limit(limit)
    )
    return _frame(engine, statement, today=today)
