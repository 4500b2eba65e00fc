"""What the ledger holds as true now, and what was known at an earlier moment, as SQL conditions and columns.

Every read of events, roles, sources and grades goes through these (tracker.queries, tracker.filters,
tracker.signposts, tracker.briefs), so that retractions and regrades (tracker.revisions) and the as-of
views count the same way everywhere. An as-of view (`AsOf`) answers one of two questions:

- *as publicly reported by* a day ("reported", the default): an event counts when one of its sources
  had been published by the end of that day, so the view on the first day of a new ledger already shows
  the past. A source's date counts from the end of its period (a "Sep 2025" source from 30 Sep 2025, a
  "2023" one from 31 Dec 2023), so nothing is shown before it could be known. A source without a
  publication date counts from when it was linked to the event here: the commit time of the import that
  wrote its `event_sources` row (the link's own record; the source row may be older than the link).
  Retractions, regrades, roles and deal attributes are the ledger's as it holds them now: only events
  (and which of their sources had appeared) depend on the day.
- *as recorded in this ledger by* a moment ("recorded"): events recorded by then and not retracted by
  then, roles and source links from imports committed by then, grades as they were then.

An event is current when no retraction takes it back. `None` everywhere means the ledger as it is now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Integer, Select, TableClause, and_, cast, exists, func, or_, select

from tracker.dates import Precision, format_partial_date, partial_date
from tracker.errors import InvalidValue
from tracker.models import DealParty, Event, EventSource, GradeChange, Import, Retraction, Source

AsOfMode = Literal["reported", "recorded"]
# The modes as the sidebar offers them, default first (the URL leaves the default out).
AS_OF_MODES: dict[AsOfMode, str] = {"reported": "As publicly reported", "recorded": "As recorded here"}
DEFAULT_AS_OF_MODE: AsOfMode = "reported"


@dataclass(frozen=True, slots=True)
class AsOf:
    """An as-of view: the moment (naive UTC, like every recorded time) and which question it answers."""

    moment: dt.datetime
    mode: AsOfMode = DEFAULT_AS_OF_MODE

    @classmethod
    def end_of(cls, day: dt.date, mode: AsOfMode = DEFAULT_AS_OF_MODE, minute: dt.time | None = None) -> AsOf:
        """The view at the end of `day` (UTC) or, when the mode takes one (`takes_minute`), of `minute`
        of it."""
        if minute is None or not takes_minute(mode):
            return cls(dt.datetime.combine(day, dt.time.max), mode)
        return cls(dt.datetime.combine(day, minute.replace(second=59, microsecond=999_999)), mode)

    @property
    def day(self) -> dt.date:
        return self.moment.date()

    @property
    def reported(self) -> bool:
        return self.mode == "reported"

    def words(self) -> str:
        """What the view shows, for a page header or a brief: "as publicly reported by 1 Oct 2025",
        "as recorded in this ledger by the end of 1 Oct 2025 (UTC)"."""
        day = format_partial_date(self.day, "day")
        if self.reported:
            return f"as publicly reported by {day}"
        if self.moment.time() == dt.time.max:
            return f"as recorded in this ledger by the end of {day} (UTC)"
        return f"as recorded in this ledger by {self.moment:%H:%M} on {day} (UTC)"

    def explained(self) -> str:
        """The view in a sentence, for a page header or a brief."""
        if self.reported:
            return (
                f"The ledger {self.words()}: an event shows once one of its sources had been published "
                "(a source dated only to a month or a year from the end of it, an undated one from when it "
                "was recorded here), and stages are recomputed from those events; retractions, grades and "
                "roles are as the ledger holds them now."
            )
        return (
            f"The ledger {self.words()}: events recorded later are left out, stages are recomputed from "
            "the events recorded by then, and grades and roles are those of then."
        )


@dataclass(frozen=True, slots=True)
class FirstKnown:
    """The first moment an as-of view of the ledger shows anything, and what happened then
    (tracker.queries.first_known)."""

    moment: dt.datetime
    what: str  # "the earliest source in this ledger was published on 2025-03-05"

    def shows_nothing(self, as_of: AsOf) -> bool:
        return as_of.moment < self.moment


def nothing_known(as_of: AsOf, first: FirstKnown) -> str:
    """Why an as-of view before anything was known is empty: "Nothing was reported by 2025-01-01: the
    earliest source in this ledger was published on 2025-03-05."."""
    if as_of.reported:
        return f"Nothing was reported by {as_of.day.isoformat()}: {first.what}."
    by = (
        f"the end of {as_of.day.isoformat()}"
        if as_of.moment.time() == dt.time.max
        else f"{as_of.moment:%H:%M} on {as_of.day.isoformat()}"
    )
    return f"Nothing was recorded in this ledger by {by} (UTC): {first.what}."


def first_published(start: dt.date, precision: Precision) -> FirstKnown:
    """The first view showing a source published on `start` (at `precision`): the end of its period."""
    end = partial_date(start, precision).end
    moment = dt.datetime.combine(end, dt.time.min)
    if precision == "day":
        return FirstKnown(moment, f"the earliest source in this ledger was published on {end.isoformat()}")
    period = ("the " if precision == "week" else "") + format_partial_date(start, precision)
    return FirstKnown(
        moment,
        f"the earliest source in this ledger was published in {period}, which counts from its end, "
        f"{end.isoformat()}",
    )


def first_undated(recorded_at: dt.datetime) -> FirstKnown:
    """The first view showing a source without a publication date, recorded here at `recorded_at`."""
    return FirstKnown(
        recorded_at,
        "the earliest source in this ledger has no publication date and was recorded here on "
        f"{recorded_at:%Y-%m-%d}",
    )


def first_recorded(recorded_at: dt.datetime) -> FirstKnown:
    """The first view as recorded, the first event being recorded at `recorded_at`."""
    return FirstKnown(
        recorded_at,
        f"the first import into this ledger was on {recorded_at:%Y-%m-%d} at {recorded_at:%H:%M} (UTC)",
    )


def takes_minute(mode: AsOfMode) -> bool:
    """Whether a time of day narrows the view: as recorded it does; publication dates have no time."""
    return mode == "recorded"


def as_of_mode(text: str) -> AsOfMode:
    """The mode named in a URL or on the command line ("reported", "recorded"); InvalidValue otherwise."""
    if text in get_args(AsOfMode):
        return text  # type: ignore[return-value]
    raise InvalidValue(
        "is not a way to read the ledger as of a date",
        fix="use reported (as publicly reported by the date, the default) or recorded (as recorded in "
        "this ledger by the date)",
    )


def imports_known_by(as_of: dt.datetime) -> Select[Any]:
    """The ids of imports committed by `as_of` (undone imports have left no rows to find)."""
    return select(Import.id).where(Import.committed_at <= as_of)


def latest_period_start(precision: Precision, day: dt.date) -> dt.date:
    """The start of the latest period of `precision` that has ended by the end of `day`: a date stored as
    its period's start (as `sources.published_on` is) counts by `day` when it is on or before this.
    For 15 Sep 2025: the day itself, Monday 8 Sep (the week of 8-14 Sep), 1 Aug 2025, 1 Jan 2024."""
    following = partial_date(day + dt.timedelta(days=1), precision).start
    return partial_date(following - dt.timedelta(days=1), precision).start


def _published_by(day: dt.date, sources: Any) -> ColumnElement[bool]:
    # A date stored without its precision (none is written so) reads as a day.
    precision = func.coalesce(sources.c.published_precision, "day")
    return or_(
        *(
            and_(precision == name, sources.c.published_on <= latest_period_start(name, day))
            for name in get_args(Precision)
        )
    )


def links_known(as_of: AsOf | None, links: Any = EventSource.__table__) -> list[ColumnElement[bool]]:
    """Conditions on an `event_sources` row (of `links`, the table or an alias of it): the source had
    reported the claim (reported mode) or the link had been recorded (recorded mode) by then."""
    if as_of is None:
        return []
    if not as_of.reported:
        return [links.c.import_id.in_(imports_known_by(as_of.moment))]
    # Aliases, so these subqueries never correlate with a query that joins sources itself.
    published, undated = (
        Source.__table__.alias("published_sources"),
        Source.__table__.alias("undated_sources"),
    )
    return [
        or_(
            links.c.source_id.in_(select(published.c.id).where(_published_by(as_of.day, published))),
            and_(
                links.c.source_id.in_(select(undated.c.id).where(undated.c.published_on.is_(None))),
                links.c.import_id.in_(imports_known_by(as_of.moment)),
            ),
        )
    ]


def event_is_current(as_of: AsOf | None = None) -> ColumnElement[bool]:
    """The event (the `events` row of the enclosing query) was in the ledger and not retracted: now; as
    recorded by a moment; or, as reported by a day, reported by one of its sources (and not retracted)."""
    if as_of is None or as_of.reported:
        # A primary-key probe per event: the common case, with no join.
        not_retracted = ~exists(select(Retraction.event_id).where(Retraction.event_id == Event.id))
        if as_of is None:
            return not_retracted
        links = EventSource.__table__.alias("reporting_links")
        reported = exists(
            select(links.c.event_id).where(links.c.event_id == Event.id, *links_known(as_of, links))
        )
        return not_retracted & reported
    retracted = exists(
        select(Retraction.event_id)
        .join(Import, Import.id == Retraction.import_id)
        .where(Retraction.event_id == Event.id, Import.committed_at <= as_of.moment)
    )
    return (Event.recorded_at <= as_of.moment) & ~retracted


def event_and_link_known(as_of: AsOf | None, *, events: TableClause, links: Any) -> list[ColumnElement[bool]]:
    """Conditions on an event (of `events`, an alias of the events table) and one of its source links (of
    `links`): both known then. Retractions are not looked at (the scope of a deal does not)."""
    if as_of is None:
        return []
    recorded = [events.c.recorded_at <= as_of.moment] if not as_of.reported else []
    return [*recorded, *links_known(as_of, links)]


def roles_known(as_of: AsOf | None) -> list[ColumnElement[bool]]:
    """Conditions on the enclosing query's `deal_parties` row: recorded by then (recorded mode only; as
    reported, roles are the ledger's as it holds them now)."""
    if as_of is None or as_of.reported:
        return []
    return [DealParty.import_id.in_(imports_known_by(as_of.moment))]


def graded_at(as_of: AsOf | None) -> dt.datetime | None:
    """The moment whose grades a view shows: recorded mode reads grades back, the others use today's."""
    return as_of.moment if as_of is not None and not as_of.reported else None


def _old_value_after(as_of: dt.datetime, *conditions: ColumnElement[bool]) -> Any:
    return (
        select(GradeChange.old_value)
        .join(Import, Import.id == GradeChange.import_id)
        .where(*conditions, Import.committed_at > as_of)
        .order_by(GradeChange.id)
        .limit(1)
        .scalar_subquery()
    )


def reliability(as_of: AsOf | None = None) -> ColumnElement[Any]:
    """The source's reliability grade (of the enclosing query's `sources` row) in the view."""
    moment = graded_at(as_of)
    if moment is None:
        return Source.reliability
    later = _old_value_after(
        moment,
        GradeChange.source_id == Source.id,
        GradeChange.grade == "reliability",
    )
    return func.coalesce(later, Source.reliability)


def credibility(as_of: AsOf | None = None) -> ColumnElement[Any]:
    """The credibility of the claim (the enclosing query's `event_sources` row) in the view."""
    moment = graded_at(as_of)
    if moment is None:
        return EventSource.credibility
    later = _old_value_after(
        moment,
        GradeChange.source_id == EventSource.source_id,
        GradeChange.event_id == EventSource.event_id,
        GradeChange.grade == "credibility",
    )
    return func.coalesce(cast(later, Integer), EventSource.credibility)
