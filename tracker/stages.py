"""Stage history derived from events: the current stage, how long it has held, and stage intervals.

One derivation serves the importer (which stores each deal's current stage) and the as-of views
(which recompute it from the events known on a date), so the two can never disagree.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tracker.vocab import STAGE_ORDER

STATUS_COLUMNS = ("deal_id", "current_stage", "stage_since", "first_event_on", "last_event_on", "event_count")
INTERVAL_COLUMNS = ("deal_id", "stage", "start", "end", "days", "ongoing")


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
    """Per deal: current stage, since when, first and last event dates, number of events.

    `events` has columns deal_id, event_id, occurred_on, stage (None for no stage change).
    """
    if events.empty:
        return pd.DataFrame(columns=list(STATUS_COLUMNS))
    # Datetime64 rather than date objects: groupby min/max then run in C, not once per deal in Python.
    events = events.assign(occurred_on=pd.to_datetime(events["occurred_on"]))
    summary = events.groupby("deal_id", sort=False).agg(
        first_event_on=("occurred_on", "min"),
        last_event_on=("occurred_on", "max"),
        event_count=("event_id", "size"),
    )
    runs = _stage_runs(events)
    if runs.empty:
        summary["current_stage"] = None
        summary["stage_since"] = None
    else:
        last_run = runs.groupby("deal_id", sort=False)["run"].transform("max") == runs["run"]
        current = (
            runs[last_run]
            .groupby("deal_id", sort=False)
            .agg(current_stage=("stage", "first"), stage_since=("occurred_on", "min"))
        )
        summary = summary.join(current)
        summary = summary.astype({"current_stage": object, "stage_since": object})
        summary = summary.where(summary.notna(), None)
    for column in ("first_event_on", "last_event_on", "stage_since"):
        summary[column] = [None if pd.isna(v) else v.date() for v in summary[column].tolist()]
    return summary.reset_index()[list(STATUS_COLUMNS)]


def stage_intervals(events: pd.DataFrame, *, until: dt.date) -> pd.DataFrame:
    """Each deal's stages as intervals: a stage holds from the first event that moved the deal into it
    until the next event that moved it elsewhere (the last one runs to `until`)."""
    if events.empty or events["stage"].notna().sum() == 0:
        return pd.DataFrame(columns=list(INTERVAL_COLUMNS))
    runs = _stage_runs(events)
    intervals = runs.groupby("run", sort=True).agg(
        deal_id=("deal_id", "first"), stage=("stage", "first"), start=("occurred_on", "min")
    )
    next_start = intervals.groupby("deal_id", sort=False)["start"].shift(-1)
    intervals["ongoing"] = next_start.isna()
    intervals["end"] = next_start.where(next_start.notna(), until)
    intervals["end"] = [max(end, start) for start, end in zip(intervals["start"], intervals["end"])]
    intervals["days"] = [(end - start).days for start, end in zip(intervals["start"], intervals["end"])]
    return intervals.reset_index(drop=True)[list(INTERVAL_COLUMNS)]
