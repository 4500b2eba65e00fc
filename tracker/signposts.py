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

A brief (`signposts_of_deals`) also says when a milestone was reached: "reached" when it came by the
expected date's end, "reached late" after it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, and_, exists, func, or_, select

from tracker.dates import format_partial_date
from tracker.display import grade, web_url_or_none
from tracker.filters import Filters
from tracker.knowledge import AsOf, event_is_current
from tracker.models import Deal, Event, EventSource, Signpost, Source
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
SIGNPOST_STATUSES = ("reached", "reached late", "overdue", "expected")


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


def _status(*, reached_on: dt.date | None, until: dt.date, stage: str | None, today: dt.date) -> str:
    if reached_on is not None:
        return "reached" if reached_on <= until else "reached late"
    if until < today and (stage is None or stage in ACTIVE_STAGES):
        return "overdue"
    return "expected"


def signposts_of_deals(
    engine: Engine, deal_ids: list[str], *, today: dt.date, as_of: AsOf | None = None
) -> pd.DataFrame:
    """The deals' signposts in expected-date order, as known at `as_of`, each with the source that states
    it (publisher, source_title, grade, http(s) url or None), when the milestone was first reached
    (reached_on) and its status (SIGNPOST_STATUSES). Signposts of retracted events are left out."""
    stated_then = exists(
        select(Event.id).where(Event.id == Signpost.event_id, event_is_current(as_of))
    ).correlate(Signpost)
    statement = (
        select(
            Signpost.id.label("signpost_id"),
            Signpost.deal_id,
            Deal.title.label("deal_title"),
            Deal.current_stage,
            Signpost.stage,
            Signpost.expected_on,
            Signpost.expected_until,
            Signpost.expected_precision,
            Signpost.note,
            Source.publisher,
            Source.title.label("source_title"),
            Source.url,
            Source.reliability,
            EventSource.credibility,
        )
        .join(Deal, Deal.id == Signpost.deal_id)
        .join(Source, Source.id == Signpost.source_id)
        .outerjoin(
            EventSource,
            (EventSource.event_id == Signpost.event_id) & (EventSource.source_id == Signpost.source_id),
        )
        .where(Signpost.deal_id.in_(deal_ids), stated_then)
        .order_by(Signpost.expected_on, Signpost.id)
    )
    with engine.connect() as connection:
        posts = pd.DataFrame(
            connection.execute(statement).mappings().all(), columns=statement.selected_columns.keys()
        )
        firsts: dict[tuple[str, str], dt.date] = {
            (row.deal_id, row.stage): row.first_on
            for row in connection.execute(
                select(Event.deal_id, Event.stage, func.min(Event.occurred_on).label("first_on"))
                .where(
                    Event.deal_id.in_(sorted(set(posts["deal_id"]))),
                    Event.stage.is_not(None),
                    event_is_current(as_of),
                )
                .group_by(Event.deal_id, Event.stage)
            )
        }
    posts["grade"] = [grade(r, c) for r, c in zip(posts["reliability"], posts["credibility"])]
    posts["url"] = posts["url"].map(web_url_or_none)
    reached_on = [
        min((firsts[(deal, s)] for s in REACHED_BY[stage] if (deal, s) in firsts), default=None)
        for deal, stage in zip(posts["deal_id"], posts["stage"])
    ]
    posts["reached_on"] = reached_on
    posts["status"] = [
        _status(reached_on=first, until=until, stage=current, today=today)
        for first, until, current in zip(reached_on, posts["expected_until"], posts["current_stage"])
    ]
    return posts
