"""Signposts as analysts read them: when a milestone someone expects counts as reached, and when it is
overdue. The one definition that the deal page, the briefs, the overview, the Changes page and the changes
digest (tracker.changes) share.

A signpost is **reached** when a current event (tracker.knowledge) moved its deal to that stage or, for a
stage on the main path, to a later one on the path ("contracted" is reached by "delivering"): **reached**
when the first such event's period began by the end of the expected period, **reached late** after it.

A signpost is **overdue** on a day when
- its date has passed: the whole expected period ended before that day ("by March 2026" is overdue
  from 1 April 2026),
- the deal has not reached the milestone,
- the deal is still live (tracker.vocab.ACTIVE_STAGES, or no stage yet): a cancelled or completed deal
  waits for nothing,
- and the event whose source states it is current (a retracted event takes its signposts with it).

Two ways in, one table (SIGNPOST_COLUMNS, built by `_table`): `signposts_of_deals` reads the signposts of
given deals with the date each milestone was first reached (the deal page, the briefs); the overdue lists
(`overdue_signposts`, the pipeline cards, the changes digest) filter in SQL with `overdue()`, so that their
cost follows the signposts they return, never the ledger's events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, Select, and_, exists, or_, select

from tracker.dates import format_partial_date
from tracker.display import grade, web_url_or_none
from tracker.filters import Filters
from tracker.knowledge import AsOf, event_is_current
from tracker.labels import deal_labels
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
    "signpost_id", "deal_id", "deal_title", "deal_label", "stage", "expected", "expected_until", "note",
    "source", "source_url", "grade", "status", "reached_on", "status_text", "days_overdue",
)  # fmt: skip
OVERDUE_LIMIT = 200
# Each status, and what it means in an analyst's words (the tables' captions).
SIGNPOST_STATUSES: dict[str, str] = {
    "reached": "the deal came to the stage, or a later one on the path, by the end of the expected period",
    "reached late": "the deal came to it after the expected period",
    "overdue": "the expected period has passed and the deal, still live, has not reached the stage",
    "expected": "the expected period has not passed yet",
}


@dataclass(frozen=True, slots=True)
class Reached:
    """The first current event that brought a deal to a stage: its period, at its precision."""

    on: dt.date
    until: dt.date
    precision: str

    def words(self) -> str:
        """When, in words: "on 5 Mar 2025" for a day; "in Mar 2025", "in 2025", "in week of 3 Mar 2025" or
        "in 1–3 Mar 2025" for a period."""
        when = format_partial_date(self.on, self.precision, self.until)
        return f"on {when}" if self.precision == "day" and self.until == self.on else f"in {when}"


def reached() -> ColumnElement[bool]:
    """The signpost (the enclosing query's `signposts` row) names a stage its deal has reached."""
    stage_reached = or_(
        *(and_(Signpost.stage == name, Event.stage.in_(REACHED_BY[name])) for name in STAGE_NAMES)
    )
    return exists(
        select(Event.id).where(Event.deal_id == Signpost.deal_id, stage_reached, event_is_current())
    ).correlate(Signpost)


def stated(as_of: AsOf | None = None) -> ColumnElement[bool]:
    """The signpost's own event is current (not retracted), at `as_of` if given."""
    return exists(select(Event.id).where(Event.id == Signpost.event_id, event_is_current(as_of))).correlate(
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


def _select(*conditions: ColumnElement[bool], as_of: AsOf | None) -> Select[Any]:
    """Signposts stated at `as_of` (now if None) meeting `conditions`, with their deal and source."""
    return (
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
            Source.url.label("source_url"),
            Source.reliability,
            EventSource.credibility,
        )
        .join(Deal, Deal.id == Signpost.deal_id)
        .join(Source, Source.id == Signpost.source_id)
        .outerjoin(
            EventSource,
            (EventSource.event_id == Signpost.event_id) & (EventSource.source_id == Signpost.source_id),
        )
        .where(stated(as_of), *conditions)
    )


def _status(*, reached_at: Reached | None, until: dt.date, stage: str | None, today: dt.date) -> str:
    if reached_at is not None:
        return "reached" if reached_at.on <= until else "reached late"
    if until < today and (stage is None or stage in ACTIVE_STAGES):
        return "overdue"
    return "expected"


def _table(
    engine: Engine, rows: Sequence[Any], *, firsts: Mapping[tuple[str, str], Reached], today: dt.date
) -> pd.DataFrame:
    """SIGNPOST_COLUMNS from `_select` rows and, per (deal, stage), when the deal first came to it;
    `deal_label` is the deal's name as the pages show it (tracker.labels)."""
    names = deal_labels(engine, [row.deal_id for row in rows])
    records = []
    for row in rows:
        reached_at = min(
            (firsts[(row.deal_id, s)] for s in REACHED_BY[row.stage] if (row.deal_id, s) in firsts),
            key=lambda first: (first.on, first.until),
            default=None,
        )
        status = _status(
            reached_at=reached_at, until=row.expected_until, stage=row.current_stage, today=today
        )
        records.append(
            {
                "signpost_id": row.signpost_id,
                "deal_id": row.deal_id,
                "deal_title": row.deal_title,
                "deal_label": names.get(row.deal_id, row.deal_title),  # a deal undone meanwhile: its title
                "stage": row.stage,
                # At the precision the source gave: "Mar 2026", "2026", "4 Jul 2026".
                "expected": format_partial_date(row.expected_on, row.expected_precision, row.expected_until),
                "expected_until": row.expected_until,
                "note": row.note,
                "source": row.publisher or row.source_title or "unnamed source",
                "source_url": web_url_or_none(row.source_url),
                "grade": grade(row.reliability, row.credibility),
                "status": status,
                "reached_on": reached_at.on if reached_at is not None else None,
                "status_text": f"{status} {reached_at.words()}" if reached_at is not None else status,
                "days_overdue": (today - row.expected_until).days if status == "overdue" else None,
            }
        )
    return pd.DataFrame(records, columns=list(SIGNPOST_COLUMNS))


def signposts_of_deals(
    engine: Engine, deal_ids: Sequence[str], *, today: dt.date, as_of: AsOf | None = None
) -> pd.DataFrame:
    """The deals' signposts (SIGNPOST_COLUMNS) as known at `as_of`, soonest expected first, each reached
    (with when: reached_on, status_text "reached late on 5 Mar 2025"), overdue or expected on `today`.
    Signposts of retracted events are left out."""
    statement = _select(Signpost.deal_id.in_(list(deal_ids)), as_of=as_of).order_by(
        Signpost.expected_until, Signpost.stage, Signpost.id
    )
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
        stage_events = connection.execute(
            select(Event.deal_id, Event.stage, Event.occurred_on, Event.occurred_until, Event.date_precision)
            .where(
                Event.deal_id.in_(sorted({row.deal_id for row in rows})),
                Event.stage.is_not(None),
                event_is_current(as_of),
            )
            .order_by(Event.occurred_on, Event.occurred_until, Event.id)
        ).all()
    firsts: dict[tuple[str, str], Reached] = {}
    for event in stage_events:  # earliest first: the first one of each (deal, stage) stays
        firsts.setdefault(
            (event.deal_id, event.stage),
            Reached(event.occurred_on, event.occurred_until, event.date_precision),
        )
    return _table(engine, rows, firsts=firsts, today=today)


def overdue_signposts(
    engine: Engine, *, filters: Filters, today: dt.date, limit: int = OVERDUE_LIMIT
) -> pd.DataFrame:
    """The overdue signposts (SIGNPOST_COLUMNS) of the filtered deals, longest overdue first."""
    statement = (
        _select(*overdue(today=today), filters.deal_clause(), as_of=None)
        .order_by(Signpost.expected_until, Signpost.deal_id, Signpost.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    return _table(engine, rows, firsts={}, today=today)  # overdue: not reached, by the SQL's own conditions
