"""When a deal is stale: still live, and nothing heard of it for longer than its last news can explain.

One definition, used by the overview's count, the pipeline's cards and the deal page's header:

- only a deal in an active stage (tracker.vocab.ACTIVE_STAGES: not completed or cancelled) can be stale;
- it is judged from the end of its last event's period (`deals.last_event_until`: 17 Oct 2025 for a
  day, 30 Sep 2025 for "Sep 2025", 31 Dec 2023 for "2023"), because the news may have come on any day
  of that period;
- and it is stale once more than `stale_after_days` have passed since then: STALE_AFTER_DAYS, but never
  less than the period itself, so a delivery SIPRI dates only to "2023" is not stale because 60 days
  passed since 31 Dec 2023; it is, once a whole year has passed with nothing newer.

`news_is_old` (SQL) and `is_stale` (Python) are both built from `stale_after_days`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, false, or_

from tracker.models import Deal
from tracker.vocab import ACTIVE_STAGES

STALE_AFTER_DAYS = 60
# The longest period each date precision stands for (tracker.dates.Precision).
PERIOD_DAYS = {"day": 1, "week": 7, "month": 31, "year": 366}


def stale_after_days(precision: str) -> int:
    """Days without news, after the end of the last event's period, before a live deal is stale."""
    return max(STALE_AFTER_DAYS, PERIOD_DAYS[precision])


def can_be_stale(stage: str | None) -> bool:
    """Completed and cancelled deals (and deals with no stage yet) are never stale."""
    return stage in ACTIVE_STAGES


def stale_from(last_event_until: dt.date | None, precision: str | None) -> dt.date | None:
    """The first day on which a live deal whose last news ends on `last_event_until` counts as stale."""
    if last_event_until is None or precision is None:
        return None
    return last_event_until + dt.timedelta(days=stale_after_days(precision) + 1)


def is_stale(
    stage: str | None, last_event_until: dt.date | None, precision: str | None, *, today: dt.date
) -> bool:
    """Whether the deal is stale on `today` (see the module)."""
    since = stale_from(last_event_until, precision)
    return can_be_stale(stage) and since is not None and today >= since


def news_is_old(today: dt.date) -> ColumnElement[bool]:
    """SQL on `deals`: its last news is too old on `today` (the stage is left to `can_be_stale`: the
    overview tests it once per group of deals rather than per deal)."""
    conditions = [
        and_(
            Deal.last_event_precision == precision,
            Deal.last_event_until < today - dt.timedelta(days=stale_after_days(precision)),
        )
        for precision in PERIOD_DAYS
    ]
    return or_(false(), *conditions)
