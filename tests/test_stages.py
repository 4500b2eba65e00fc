"""Stage derivation from events: the current stage, since when, and the intervals of time in stage."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tracker.stages import deal_status, stage_intervals

D = dt.date


def events(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["deal_id", "event_id", "occurred_on", "stage"])


def test_status_takes_the_latest_stage_and_the_start_of_its_run():
    frame = events(
        ("a", 1, D(2025, 1, 1), "announced"),
        ("a", 2, D(2025, 2, 1), "negotiating"),
        ("a", 3, D(2025, 3, 1), None),
        ("a", 4, D(2025, 4, 1), "negotiating"),
        ("b", 5, D(2024, 1, 1), None),
    )
    assert deal_status(frame).values.tolist() == [
        ["a", "negotiating", D(2025, 2, 1), D(2025, 1, 1), D(2025, 4, 1), 4],
        ["b", None, None, D(2024, 1, 1), D(2024, 1, 1), 1],
    ]


def test_same_day_stages_follow_the_stage_order():
    frame = events(("a", 2, D(2018, 1, 1), "delivering"), ("a", 1, D(2018, 1, 1), "contracted"))
    assert deal_status(frame)["current_stage"].tolist() == ["delivering"]


def test_a_return_to_an_earlier_stage_starts_a_new_run():
    frame = events(
        ("a", 1, D(2025, 1, 1), "negotiating"),
        ("a", 2, D(2025, 2, 1), "stalled"),
        ("a", 3, D(2025, 3, 1), "negotiating"),
    )
    assert deal_status(frame)[["current_stage", "stage_since"]].values.tolist() == [
        ["negotiating", D(2025, 3, 1)]
    ]


def test_intervals_and_days_in_stage():
    frame = events(
        ("a", 1, D(2025, 7, 4), "announced"),
        ("a", 2, D(2025, 7, 24), "announced"),
        ("a", 3, D(2025, 9, 22), "negotiating"),
    )
    assert stage_intervals(frame, until=D(2025, 11, 1)).values.tolist() == [
        ["a", "announced", D(2025, 7, 4), D(2025, 9, 22), 80, False],
        ["a", "negotiating", D(2025, 9, 22), D(2025, 11, 1), 40, True],
    ]


def test_empty_inputs():
    assert (deal_status(events()).empty, stage_intervals(events(), until=D(2025, 1, 1)).empty) == (True, True)
