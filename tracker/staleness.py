"""When a deal is stale: still live, and nothing heard of it for longer than its last news can explain.

One definition, used by the overview's count, the pipeline's cards and the deal page's header:

- only a deal in an active stage (tracker.vocab.ACTIVE_STAGES: not completed or cancelled) can be stale;
- it is judged from the end of its last event's period (`deals.last_event_until`: 17 Oct 2025 for a
  day, 30 Sep 2025 for "Sep 2025", 31 Dec 2023 for "2023"), because the news may have come on any day
  of that period;
- and it is stale once more than `stale_after_days` have passed since then: what is usual for its stage
  in this ledger (`stage_thresholds`: the 80th percentile of the waits between a deal's events while it
  was in that stage, tracker.stages.gaps_by_stage) with a floor of STALE_AFTER_DAYS, and never less than
  the period itself, so a delivery SIPRI dates only to "2023" is not stale because 60 days passed since
  31 Dec 2023; it is, once a whole year has passed with nothing newer.

`news_is_old` (SQL) and `is_stale` (Python) are both built from `stale_after_days`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import pandas as pd
from sqlalchemy import ColumnElement, and_, case, false, or_

from tracker.models import Deal
from tracker.vocab import ACTIVE_STAGES

STALE_AFTER_DAYS = 60  # the floor: no stage's threshold is shorter
USUAL_WAIT_PERCENTILE = 80  # a wait longer than 80 % of this stage's waits in the ledger is unusual
# The longest period each date precision stands for (tracker.dates.Precision).
PERIOD_DAYS = {"day": 1, "week": 7, "month": 31, "year": 366}
# Days without news before a deal in each active stage is stale (`stage_thresholds`); a stage missing
# from the mapping (or no mapping) uses the floor.
StageThresholds = Mapping[str, int]


def stage_thresholds(gaps: pd.DataFrame) -> dict[str, int]:
    """Each active stage's threshold from the ledger's waits for news (tracker.stages.gaps_by_stage):
    the USUAL_WAIT_PERCENTILE-th percentile of the waits at that stage, never below STALE_AFTER_DAYS."""
    thresholds = {}
    for stage in ACTIVE_STAGES:
        waits = gaps.loc[gaps["stage"] == stage, "days"]
        usual = math.ceil(waits.quantile(USUAL_WAIT_PERCENTILE / 100)) if len(waits) else 0
        thresholds[stage] = max(STALE_AFTER_DAYS, usual)
    return thresholds


def stale_after_days(
    precision: str, *, stage: str | None = None, thresholds: StageThresholds | None = None
) -> int:
    """Days without news, after the end of the last event's period, before a live deal is stale."""
    usual = (thresholds or {}).get(stage or "", STALE_AFTER_DAYS)
    return max(usual, PERIOD_DAYS[precision])


def can_be_stale(stage: str | None) -> bool:
    """Completed and cancelled deals (and deals with no stage yet) are never stale."""
    return stage in ACTIVE_STAGES


def stale_from(
    last_event_until: dt.date | None,
    precision: str | None,
    *,
    stage: str | None = None,
    thresholds: StageThresholds | None = None,
) -> dt.date | None:
    """The first day on which a live deal whose last news ends on `last_event_until` counts as stale."""
    if last_event_until is None or precision is None:
        return None
    days = stale_after_days(precision, stage=stage, thresholds=thresholds)
    return last_event_until + dt.timedelta(days=days + 1)


def is_stale(
    stage: str | None,
    last_event_until: dt.date | None,
    precision: str | None,
    *,
    today: dt.date,
    thresholds: StageThresholds | None = None,
) -> bool:
    """Whether the deal is stale on `today` (see the module)."""
    since = stale_from(last_event_until, precision, stage=stage, thresholds=thresholds)
    return can_be_stale(stage) and since is not None and today >= since


def news_is_old(today: dt.date, *, thresholds: StageThresholds | None = None) -> ColumnElement[bool]:
    """SQL on `deals`: its last news is too old on `today` for its stage (stages that cannot be stale are
    left to `can_be_stale`: the overview tests that once per group of deals rather than per deal)."""

    def cutoff(precision: str, stage: str | None = None) -> dt.date:
        return today - dt.timedelta(days=stale_after_days(precision, stage=stage, thresholds=thresholds))

    # One CASE on the stage per precision rather than a condition per stage and precision: half the time
    # of the overview's stale count at 28k deals.
    conditions = [
        and_(
            Deal.last_event_precision == precision,
            Deal.last_event_until
            < (
                case(
                    {stage: cutoff(precision, stage) for stage in thresholds},
                    value=Deal.current_stage,
                    else_=cutoff(precision),
                )
                if thresholds
                else cutoff(precision)
            ),
        )
        for precision in PERIOD_DAYS
    ]
    return or_(false(), *conditions)
