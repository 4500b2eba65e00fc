"""Stage history derived from events: the current stage, how long it has held, and stage intervals.

One derivation serves the importer (which stores each deal's current stage) and the as-of views
(which recompute it from the events known on a date), so the two can never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from tracker.dates import format_partial_date
from tracker.vocab import ACTIVE_STAGES, STAGE_ORDER

STATUS_COLUMNS = (
    "deal_id",
    "current_stage",
    "stage_since",
    "first_event_on",
    "last_event_on",
    "event_count",
    # How precisely those dates were reported ("day" ... "year", tracker.dates), and where the last
    # event's period ends: "2023" is shown as 2023, not 1 Jan 2023, and judged stale from 31 Dec 2023.
    "stage_since_precision",
    "first_event_precision",
    "last_event_precision",
    "last_event_until",
)
INTERVAL_COLUMNS = ("deal_id", "stage", "start", "start_precision", "end", "days", "ongoing", "final")
GAP_COLUMNS = ("stage", "days")
# Events are given as deal_id, event_id, occurred_on, occurred_until, date_precision, stage.
EVENT_COLUMNS = ("deal_id", "event_id", "occurred_on", "occurred_until", "date_precision", "stage")
# Of events starting on the same day, the finest says the most about when something began.
_FINENESS = {"day": 0, "week": 1, "month": 2, "year": 3}


def _stage_runs(events: pd.DataFrame) -> pd.DataFrame:
    """Stage events in order, each labelled with the run of equal consecutive stages it belongs to.

    Order: date, then the stage's position (an order and a first delivery in the same year read as
    contracted then delivering), then the order the events entered the ledger.
    """
    staged = events[events["stage"].notna()].copy()
    staged["position"] = staged["stage"].map(STAGE_ORDER)
    staged = staged.sort_values(["deal_id", "occurred_on", "position", "event_id"], kind="stable")
    changed = (staged["stage"] != staged.groupby("deal_id", sort=False)["stage"].shift()) | (
        staged["deal_id"] != staged["deal_id"].shift()
    )
    staged["run"] = changed.cumsum()
    return staged


def deal_status(events: pd.DataFrame) -> pd.DataFrame:
    """Per deal (STATUS_COLUMNS): current stage, since when, first and last event dates, number of events,
    and how precisely each date is known.

    `events` has EVENT_COLUMNS (stage None for no stage change). The first event is the earliest (the
    finest of those starting that day); the last is the latest, and of those starting the same day the
    one whose period ends last ("2023" after "1 Jan 2023").
    """
    if events.empty:
        return pd.DataFrame(columns=list(STATUS_COLUMNS))
    # Datetime64 rather than date objects: sorting and groupby first/last then run in C, not once per
    # deal in Python.
    events = events.assign(
        occurred_on=pd.to_datetime(events["occurred_on"]),
        occurred_until=pd.to_datetime(events["occurred_until"]),
        fineness=events["date_precision"].map(_FINENESS),
    )
    by_start = events.sort_values(["deal_id", "occurred_on", "fineness", "event_id"], kind="stable")
    by_end = events.sort_values(["deal_id", "occurred_on", "occurred_until", "event_id"], kind="stable")
    first = by_start.groupby("deal_id", sort=False).first()
    last = by_end.groupby("deal_id", sort=False).last()
    summary = pd.DataFrame(
        {
            "first_event_on": first["occurred_on"],
            "first_event_precision": first["date_precision"],
            "last_event_on": last["occurred_on"],
            "last_event_precision": last["date_precision"],
            "last_event_until": last["occurred_until"],
            "event_count": events.groupby("deal_id", sort=False)["event_id"].size(),
        }
    )
    runs = _stage_runs(events)
    if runs.empty:
        summary["current_stage"] = None
        summary["stage_since"] = None
        summary["stage_since_precision"] = None
    else:
        last_run = runs.groupby("deal_id", sort=False)["run"].transform("max") == runs["run"]
        current = (
            runs[last_run]
            .sort_values(["deal_id", "occurred_on", "fineness", "event_id"], kind="stable")
            .groupby("deal_id", sort=False)
            .agg(
                current_stage=("stage", "first"),
                stage_since=("occurred_on", "first"),
                stage_since_precision=("date_precision", "first"),
            )
        )
        summary = summary.join(current)
    summary = summary.astype(
        {"current_stage": object, "stage_since": object, "stage_since_precision": object}
    )
    summary = summary.where(summary.notna(), None)
    for column in ("first_event_on", "last_event_on", "stage_since", "last_event_until"):
        summary[column] = [None if pd.isna(v) else v.date() for v in summary[column].tolist()]
    return summary.reset_index()[list(STATUS_COLUMNS)]


def stage_intervals(events: pd.DataFrame, *, until: dt.date) -> pd.DataFrame:
    """Each deal's stages as intervals (INTERVAL_COLUMNS): a stage holds from the first event that moved
    the deal into it until the next event that moved it elsewhere (the last one runs to `until`);
    `start_precision` says how precisely its start was reported. `final`: the deal's last stage when it
    has ended there (completed, cancelled), a date rather than a wait: no days, no end but its own period
    (the chart, the time in each stage, the brief). `events` as for `deal_status`."""
    if events.empty or events["stage"].notna().sum() == 0:
        return pd.DataFrame(columns=list(INTERVAL_COLUMNS))
    runs = _stage_runs(events.assign(fineness=events["date_precision"].map(_FINENESS)))
    intervals = (
        runs.sort_values(["run", "occurred_on", "fineness", "event_id"], kind="stable")
        .groupby("run", sort=True)
        .agg(
            deal_id=("deal_id", "first"),
            stage=("stage", "first"),
            start=("occurred_on", "first"),
            start_precision=("date_precision", "first"),
        )
    )
    next_start = intervals.groupby("deal_id", sort=False)["start"].shift(-1)
    intervals["ongoing"] = next_start.isna()
    intervals["final"] = intervals["ongoing"] & ~intervals["stage"].isin(ACTIVE_STAGES)
    intervals["end"] = next_start.where(next_start.notna(), until)
    intervals["end"] = [max(end, start) for start, end in zip(intervals["start"], intervals["end"])]
    intervals["days"] = [(end - start).days for start, end in zip(intervals["start"], intervals["end"])]
    return intervals.reset_index(drop=True)[list(INTERVAL_COLUMNS)]


@dataclass(frozen=True, slots=True)
class TimeInStage:
    """A deal's current stage as its page and its brief state it: a live stage's start and the days since;
    a completed or cancelled deal's date it ended there, a date rather than a wait (as `stage_intervals`'
    `final`)."""

    final: bool
    label: str  # "Completed in", "Cancelled in"; for a live stage "In stage since"
    since: str  # the stage's start as precisely as reported ("week of 22 Sep 2025", "2019"), or "–"
    days: int | None  # days in a live stage; None when final or when no stage is stated

    @classmethod
    def of(
        cls, stage: str | None, since: dt.date | None, precision: str | None, *, today: dt.date
    ) -> TimeInStage:
        if stage is None or since is None:
            return cls(final=False, label="In stage since", since="–", days=None)
        text = format_partial_date(since, precision or "day")
        if stage not in ACTIVE_STAGES:
            return cls(final=True, label=f"{stage.capitalize()} in", since=text, days=None)
        return cls(final=False, label="In stage since", since=text, days=(today - since).days)


def gaps_by_stage(events: pd.DataFrame) -> pd.DataFrame:
    """Every wait for news (GAP_COLUMNS): for each event but a deal's last, the days from the end of its
    period to the start of the deal's next event, with the stage the deal was in meanwhile (events
    before the first stage are left out). `events` as for `deal_status`."""
    if events.empty:
        return pd.DataFrame(columns=list(GAP_COLUMNS))
    ordered = events.assign(
        occurred_on=pd.to_datetime(events["occurred_on"]),
        occurred_until=pd.to_datetime(events["occurred_until"]),
        position=events["stage"].map(STAGE_ORDER),
    ).sort_values(["deal_id", "occurred_on", "position", "event_id"], kind="stable")
    by_deal = ordered.groupby("deal_id", sort=False)
    ordered["held"] = by_deal["stage"].ffill()
    ordered["next_on"] = by_deal["occurred_on"].shift(-1)
    waits = ordered[ordered["next_on"].notna() & ordered["held"].notna()]
    days = (waits["next_on"] - waits["occurred_until"]).dt.days.clip(lower=0)
    return pd.DataFrame({"stage": waits["held"].to_numpy(), "days": days.to_numpy(dtype="int64")})
