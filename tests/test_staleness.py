"""Staleness: one definition (tracker.staleness), the same in Python and SQL, per stage and precision."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from tests.builders import ledger_csv, row
from tracker import queries
from tracker.filters import Filters
from tracker.importer import import_bytes
from tracker.models import Deal
from tracker.stages import EVENT_COLUMNS, gaps_by_stage
from tracker.staleness import (
    STALE_AFTER_DAYS,
    can_be_stale,
    is_stale,
    news_is_old,
    stage_thresholds,
    stale_after_days,
    stale_from,
)

D = dt.date

# (deal, stage, the last event's date as reported, its period's end, precision, a day, stale that day)
CASES = [
    ("news-60", "negotiating", "2025-10-17", D(2025, 10, 17), "day", D(2025, 12, 16), False),
    ("news-61", "negotiating", "2025-10-17", D(2025, 10, 17), "day", D(2025, 12, 17), True),
    ("range", "agreed", "2025-09-29/2025-10-02", D(2025, 10, 2), "day", D(2025, 12, 1), False),
    ("range-61", "agreed", "2025-09-29/2025-10-02", D(2025, 10, 2), "day", D(2025, 12, 2), True),
    ("week", "approved", "2025-W39", D(2025, 9, 28), "week", D(2025, 11, 27), False),
    ("month", "contracted", "2025-09", D(2025, 9, 30), "month", D(2025, 11, 29), False),
    ("month-61", "contracted", "2025-09", D(2025, 9, 30), "month", D(2025, 11, 30), True),
    # A year: never stale 60 days after 1 January, nor within a year of 31 December.
    ("year-61", "delivering", "2023", D(2023, 12, 31), "year", D(2024, 3, 1), False),
    ("year-366", "delivering", "2023", D(2023, 12, 31), "year", D(2024, 12, 31), False),
    ("year-367", "delivering", "2023", D(2023, 12, 31), "year", D(2025, 1, 1), True),
    ("stalled", "stalled", "2024-01-01", D(2024, 1, 1), "day", D(2025, 1, 1), True),
    ("completed", "completed", "2015-06-01", D(2015, 6, 1), "day", D(2025, 1, 1), False),
    ("cancelled", "cancelled", "2015", D(2015, 12, 31), "year", D(2025, 1, 1), False),
    ("no-stage", "", "2015-06-01", D(2015, 6, 1), "day", D(2025, 1, 1), False),
]


@pytest.mark.parametrize(
    ("deal", "stage", "date", "until", "precision", "today", "stale"), CASES, ids=[c[0] for c in CASES]
)
def test_is_stale(deal, stage, date, until, precision, today, stale) -> None:
    assert is_stale(stage or None, until, precision, today=today) is stale


def test_thresholds_are_never_shorter_than_the_period() -> None:
    assert {p: stale_after_days(p) for p in ("day", "week", "month", "year")} == {
        "day": 60,
        "week": 60,
        "month": 60,
        "year": 366,
    }
    assert stale_from(D(2023, 12, 31), "year") == D(2025, 1, 1)
    assert (stale_from(None, None), can_be_stale("completed"), can_be_stale("stalled")) == (None, False, True)


@pytest.fixture
def staged(engine: Engine) -> Engine:
    """A deal per case, whose one event is the last news."""
    rows = [
        row(deal_id=deal, deal_title=deal, date=date, stage=stage, summary=f"{deal} news.")
        for deal, stage, date, *_ in CASES
    ]
    import_bytes(engine, ledger_csv(*rows), file_name="stale.csv", editor="test")
    return engine


def test_the_ledger_stores_each_deals_last_news(staged: Engine) -> None:
    with staged.connect() as connection:
        stored = {
            deal_id: (until, precision)
            for deal_id, until, precision in connection.execute(
                select(Deal.id, Deal.last_event_until, Deal.last_event_precision)
            )
        }
    assert stored == {deal: (until, precision) for deal, _, _, until, precision, *_ in CASES}


@pytest.mark.parametrize("today", sorted({case[5] for case in CASES}))
def test_sql_and_python_agree(staged: Engine, today: dt.date) -> None:
    with staged.connect() as connection:
        rows = connection.execute(select(Deal.id, Deal.current_stage, news_is_old(today))).all()
    in_sql = {deal_id for deal_id, stage, old in rows if old and can_be_stale(stage)}
    in_python = {
        deal
        for deal, stage, _, until, precision, *_ in CASES
        if is_stale(stage, until, precision, today=today)
    }
    assert in_sql == in_python
    assert queries.overview(staged, filters=Filters(), today=today).figures.stale_deals == len(in_python)


# --- per stage: what is usual in this ledger (issue 17) ------------------------------------------------


def _events(*rows: tuple[str, int, str, str, str, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "deal_id": deal,
                "event_id": event_id,
                "occurred_on": dt.date.fromisoformat(start),
                "occurred_until": dt.date.fromisoformat(until),
                "date_precision": precision,
                "stage": stage,
            }
            for deal, event_id, start, until, precision, stage in rows
        ],
        columns=list(EVENT_COLUMNS),
    )


def test_waits_are_counted_at_the_stage_the_deal_was_in() -> None:
    events = _events(
        ("a", 1, "2025-01-01", "2025-01-01", "day", None),  # before any stage: not counted
        ("a", 2, "2025-01-11", "2025-01-11", "day", "announced"),
        ("a", 3, "2025-03-12", "2025-03-12", "day", None),  # still announced
        ("a", 4, "2025-04-01", "2025-04-01", "day", "negotiating"),
        ("b", 5, "2023-01-01", "2023-12-31", "year", "contracted"),
        ("b", 6, "2023-06-01", "2023-06-01", "day", None),  # inside the year: a wait of 0, not negative
        ("b", 7, "2025-03-01", "2025-03-31", "month", "delivering"),
    )
    assert gaps_by_stage(events).values.tolist() == [
        ["announced", 60],
        ["announced", 20],
        ["contracted", 0],
        ["contracted", 639],
    ]
    assert gaps_by_stage(_events()).empty


def test_thresholds_are_the_80th_percentile_with_a_floor() -> None:
    gaps = pd.DataFrame(
        {
            "stage": ["negotiating"] * 5 + ["contracted"] * 2 + ["completed"] * 3,
            "days": [10, 100, 200, 300, 400, 5, 10, 900, 900, 900],
        }
    )
    thresholds = stage_thresholds(gaps)
    # negotiating: the 80th percentile of 10..400 is 320; contracted: 9, so the floor of 60; a stage with
    # no waits: the floor; completed is never stale, so it has no threshold.
    assert thresholds == {
        "announced": 60,
        "negotiating": 320,
        "agreed": 60,
        "approved": 60,
        "contracted": 60,
        "delivering": 60,
        "stalled": 60,
    }
    day, year = D(2025, 1, 1), D(2023, 12, 31)
    assert [
        is_stale("negotiating", day, "day", today=D(2025, 11, 17), thresholds=thresholds),
        is_stale("negotiating", day, "day", today=D(2025, 11, 18), thresholds=thresholds),
        is_stale("contracted", day, "day", today=D(2025, 3, 3), thresholds=thresholds),
        is_stale("negotiating", year, "year", today=D(2024, 12, 31), thresholds=thresholds),
        is_stale("negotiating", year, "year", today=D(2025, 1, 1), thresholds=thresholds),
    ] == [False, True, True, False, True]
    assert stale_after_days("year", stage="negotiating", thresholds=thresholds) == 366


@pytest.mark.parametrize("today", [D(2025, 12, 17), D(2025, 3, 1), D(2026, 6, 1)])
def test_sql_and_python_agree_per_stage(staged: Engine, today: dt.date) -> None:
    thresholds = {"negotiating": 90, "agreed": 30, "delivering": 400, "stalled": 200}
    with staged.connect() as connection:
        rows = connection.execute(
            select(Deal.id, Deal.current_stage, news_is_old(today, thresholds=thresholds))
        ).all()
    in_sql = {deal_id for deal_id, stage, old in rows if old and can_be_stale(stage)}
    in_python = {
        deal
        for deal, stage, _, until, precision, *_ in CASES
        if is_stale(stage, until, precision, today=today, thresholds=thresholds)
    }
    assert in_sql == in_python
    overview = queries.overview(staged, filters=Filters(), today=today, thresholds=thresholds)
    assert overview.figures.stale_deals == len(in_python)


def test_the_ledgers_thresholds(staged: Engine) -> None:
    # One event per deal: no waits yet, so every stage has the floor.
    assert set(queries.stale_thresholds(staged).values()) == {STALE_AFTER_DAYS}


def test_the_ledgers_thresholds_from_its_waits(engine: Engine) -> None:
    assert set(queries.stale_thresholds(engine).values()) == {STALE_AFTER_DAYS}  # an empty ledger
    rows = [
        row(deal_id="w", deal_title="W", date="2025-01-01", stage="announced", summary="Announced."),
        row(deal_id="w", date="2025-05-01", summary="Still talked about."),
        row(deal_id="w", date="2025-09-01", stage="negotiating", summary="Talks."),
    ]
    import_bytes(engine, ledger_csv(*rows), file_name="waits.csv", editor="test")
    # Waits at "announced": 120 and 123 days; their 80th percentile is 122.4, rounded up.
    assert queries.stale_thresholds(engine) == {
        "announced": 123,
        "negotiating": 60,
        "agreed": 60,
        "approved": 60,
        "contracted": 60,
        "delivering": 60,
        "stalled": 60,
    }
