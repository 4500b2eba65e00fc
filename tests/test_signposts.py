"""Signposts: when a milestone counts as reached, and the one definition of overdue (tracker.signposts)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from tests.builders import event_row, ledger_csv
from tracker import queries
from tracker.filters import Filters
from tracker.importer import import_bytes
from tracker.signposts import REACHED_BY, deal_signposts, overdue_signposts

T = dt.datetime


def test_a_stage_on_the_path_is_reached_by_it_or_a_later_one_on_the_path():
    assert REACHED_BY == {
        "announced": (
            "announced",
            "negotiating",
            "agreed",
            "approved",
            "contracted",
            "delivering",
            "completed",
        ),
        "negotiating": ("negotiating", "agreed", "approved", "contracted", "delivering", "completed"),
        "agreed": ("agreed", "approved", "contracted", "delivering", "completed"),
        "approved": ("approved", "contracted", "delivering", "completed"),
        "contracted": ("contracted", "delivering", "completed"),
        "delivering": ("delivering", "completed"),
        "completed": ("completed",),
        "stalled": ("stalled",),
        "cancelled": ("cancelled",),
    }


def _deal(deal: str, *later: dict[str, str]) -> list[dict[str, str]]:
    return [
        event_row(
            deal,
            "2026-01-10",
            f"{deal} is announced.",
            source=f"{deal} Wire",
            grade="B",
            stage="announced",
            deal_title=f"Deal {deal}",
            buyer="Poland",
            seller="Germany",
            signpost_stage="contracted",
            signpost_by="2026-03",
            signpost_note="contract expected by March",
        ),
        *later,
    ]


@pytest.fixture
def signposted(engine: Engine) -> Engine:
    # waiting: nothing since (overdue from 1 April 2026); delivered: delivering reaches contracted;
    # dropped: cancelled, so it waits for nothing; later: expected by 2027 (not due yet).
    rows = [
        *_deal("waiting"),
        *_deal(
            "delivered",
            event_row(
                "delivered",
                "2026-05-01",
                "First deliveries.",
                source="delivered Wire",
                grade="B",
                stage="delivering",
            ),
        ),
        *_deal(
            "dropped",
            event_row(
                "dropped", "2026-02-01", "Called off.", source="dropped Wire", grade="B", stage="cancelled"
            ),
        ),
        event_row(
            "later",
            "2026-01-10",
            "later is announced.",
            source="later Wire",
            grade="B",
            stage="announced",
            deal_title="Deal later",
            buyer="Ukraine",
            seller="Germany",
            signpost_stage="agreed",
            signpost_by="2027",
            signpost_note="an agreement in 2027",
        ),
    ]
    import_bytes(engine, ledger_csv(*rows), file_name="signposts.csv", editor="ana", now=T(2026, 1, 11))
    return engine


def test_signposts_of_a_deal_at_the_precision_given(signposted: Engine):
    table = deal_signposts(signposted, "waiting", today=dt.date(2026, 4, 3))
    assert table[["stage", "expected", "note", "source", "status", "days_overdue"]].values.tolist() == [
        ["contracted", "Mar 2026", "contract expected by March", "waiting Wire", "overdue", 3]
    ]
    assert deal_signposts(signposted, "waiting", today=dt.date(2026, 3, 31))["status"].tolist() == [
        "expected"
    ]
    assert deal_signposts(signposted, "delivered", today=dt.date(2026, 4, 3))["status"].tolist() == [
        "reached"
    ]
    assert deal_signposts(signposted, "later", today=dt.date(2026, 4, 3))["expected"].tolist() == ["2027"]


@pytest.mark.parametrize(
    ("today", "filters", "deals"),
    [
        (dt.date(2026, 3, 31), Filters(), []),
        (dt.date(2026, 4, 1), Filters(), ["waiting"]),
        (dt.date(2028, 1, 1), Filters(), ["waiting", "later"]),
        (dt.date(2028, 1, 1), Filters(countries=("UKR",)), ["later"]),
    ],
)
def test_overdue_signposts(signposted: Engine, today: dt.date, filters: Filters, deals: list[str]):
    assert overdue_signposts(signposted, filters=filters, today=today)["deal_id"].tolist() == deals


@pytest.mark.parametrize(
    ("today", "overdue"),
    [
        (dt.date(2026, 3, 31), {"waiting": 0, "delivered": 0, "dropped": 0, "later": 0}),
        (dt.date(2026, 4, 1), {"waiting": 1, "delivered": 0, "dropped": 0, "later": 0}),
        (dt.date(2028, 1, 1), {"waiting": 1, "delivered": 0, "dropped": 0, "later": 1}),
    ],
)
def test_pipeline_cards_count_overdue_signposts(signposted: Engine, today: dt.date, overdue: dict[str, int]):
    cards = queries.pipeline_cards(signposted, filters=Filters(), today=today)
    assert dict(zip(cards["deal_id"], cards["overdue_signposts"])) == overdue
