"""Stage derivation from events: the current stage, since when, and the intervals of time in stage."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tracker.stages import EVENT_COLUMNS, TimeInStage, deal_status, stage_intervals

D = dt.date


def events(*rows: tuple) -> pd.DataFrame:
    """Events of a day each (deal_id, event_id, occurred_on, stage), or of any period (... stage, until,
    precision)."""
    full = [row if len(row) == 6 else (*row, row[2], "day") for row in rows]
    frame = pd.DataFrame(
        full, columns=["deal_id", "event_id", "occurred_on", "stage", "occurred_until", "date_precision"]
    )
    return frame[list(EVENT_COLUMNS)]


def test_status_takes_the_latest_stage_and_the_start_of_its_run():
    frame = events(
        ("a", 1, D(2025, 1, 1), "announced"),
        ("a", 2, D(2025, 2, 1), "negotiating"),
        ("a", 3, D(2025, 3, 1), None),
        ("a", 4, D(2025, 4, 1), "negotiating"),
        ("b", 5, D(2024, 1, 1), None),
    )
    assert deal_status(frame).values.tolist() == [
        [
            "a",
            "negotiating",
            D(2025, 2, 1),
            D(2025, 1, 1),
            D(2025, 4, 1),
            4,
            "day",
            "day",
            "day",
            D(2025, 4, 1),
        ],
        ["b", None, None, D(2024, 1, 1), D(2024, 1, 1), 1, None, "day", "day", D(2024, 1, 1)],
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
        ["a", "announced", D(2025, 7, 4), "day", D(2025, 9, 22), 80, False, False],
        ["a", "negotiating", D(2025, 9, 22), "day", D(2025, 11, 1), 40, True, False],
    ]


def test_a_deal_that_ended_has_a_final_stage_and_one_that_stalled_has_not():
    frame = events(
        ("a", 1, D(2024, 3, 1), "contracted"),
        ("a", 2, D(2025, 1, 1), "completed"),
        ("b", 3, D(2024, 3, 1), "negotiating"),
        ("b", 4, D(2025, 1, 1), "stalled"),
        ("c", 5, D(2024, 3, 1), "completed"),  # completed, then taken up again
        ("c", 6, D(2025, 1, 1), "delivering"),
    )
    intervals = stage_intervals(frame, until=D(2025, 11, 1))
    assert intervals[["deal_id", "stage", "ongoing", "final"]].values.tolist() == [
        ["a", "contracted", False, False],
        ["a", "completed", True, True],
        ["b", "negotiating", False, False],
        ["b", "stalled", True, False],
        ["c", "completed", False, False],
        ["c", "delivering", True, False],
    ]


def test_empty_inputs():
    assert (deal_status(events()).empty, stage_intervals(events(), until=D(2025, 1, 1)).empty) == (True, True)


def test_dates_keep_their_precision_and_the_last_period_its_end():
    """SIPRI dates are years: the deal's dates say so, and its last news ends on 31 December. Of events
    starting the same day, the first is the most precise and the last the one that ends last."""
    frame = events(
        ("a", 1, D(2015, 1, 1), "contracted", D(2015, 12, 31), "year"),
        ("a", 2, D(2017, 1, 1), "delivering", D(2017, 12, 31), "year"),
        ("a", 3, D(2018, 1, 1), "delivering", D(2018, 12, 31), "year"),
        ("b", 4, D(2025, 9, 1), None, D(2025, 9, 30), "month"),
        ("b", 5, D(2025, 9, 1), "announced", D(2025, 9, 1), "day"),
        ("b", 6, D(2025, 9, 29), None, D(2025, 10, 2), "day"),
    )
    assert deal_status(frame).values.tolist() == [
        [
            "a",
            "delivering",
            D(2017, 1, 1),
            D(2015, 1, 1),
            D(2018, 1, 1),
            3,
            "year",
            "year",
            "year",
            D(2018, 12, 31),
        ],
        [
            "b",
            "announced",
            D(2025, 9, 1),
            D(2025, 9, 1),
            D(2025, 9, 29),
            3,
            "day",
            "day",
            "day",
            D(2025, 10, 2),
        ],
    ]
    assert stage_intervals(frame, until=D(2026, 6, 1))[
        ["stage", "start", "start_precision"]
    ].values.tolist() == [
        ["contracted", D(2015, 1, 1), "year"],
        ["delivering", D(2017, 1, 1), "year"],
        ["announced", D(2025, 9, 1), "day"],
    ]


@pytest.mark.parametrize(
    ("stage", "since", "precision", "expected"),
    [
        (
            "negotiating",
            D(2025, 9, 22),
            "week",
            TimeInStage(False, "In stage since", "week of 22 Sep 2025", 429),
        ),
        ("stalled", D(2026, 11, 25), "day", TimeInStage(False, "In stage since", "25 Nov 2026", 0)),
        ("completed", D(2019, 1, 1), "year", TimeInStage(True, "Completed in", "2019", None)),
        ("cancelled", D(2024, 3, 1), "month", TimeInStage(True, "Cancelled in", "Mar 2024", None)),
        ("contracted", D(2025, 7, 1), None, TimeInStage(False, "In stage since", "1 Jul 2025", 512)),
        (None, None, None, TimeInStage(False, "In stage since", "–", None)),
    ],
)
def test_time_in_stage_is_a_wait_for_a_live_stage_and_a_date_for_a_final_one(
    stage, since, precision, expected
):
    assert TimeInStage.of(stage, since, precision, today=D(2026, 11, 25)) == expected
