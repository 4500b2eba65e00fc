"""Signposts: when a milestone counts as reached, and the one definition of overdue (tracker.signposts)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from tests.builders import event_row, ledger_csv
from tracker import queries
from tracker.filters import Filters
from tracker.importer import import_bytes
from tracker.signposts import REACHED_BY, Reached, overdue_signposts, signposts_of_deals

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
    table = signposts_of_deals(signposted, ["waiting"], today=dt.date(2026, 4, 3))
    assert table[
        ["stage", "expected", "note", "source", "grade", "status", "days_overdue"]
    ].values.tolist() == [
        ["contracted", "Mar 2026", "contract expected by March", "waiting Wire", "B2", "overdue", 3]
    ]
    assert signposts_of_deals(signposted, ["waiting"], today=dt.date(2026, 3, 31))["status"].tolist() == [
        "expected"
    ]
    # Delivering (1 May 2026) reaches "contracted", a month after the end of March.
    delivered = signposts_of_deals(signposted, ["delivered"], today=dt.date(2026, 4, 3))
    assert delivered[["status", "reached_on", "status_text", "days_overdue"]].values.tolist() == [
        ["reached late", dt.date(2026, 5, 1), "reached late on 1 May 2026", None]
    ]
    assert signposts_of_deals(signposted, ["later"], today=dt.date(2026, 4, 3))["expected"].tolist() == [
        "2027"
    ]


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


@pytest.mark.parametrize(
    ("on", "until", "precision", "words"),
    [
        (dt.date(2025, 3, 5), dt.date(2025, 3, 5), "day", "on 5 Mar 2025"),
        (dt.date(2025, 3, 1), dt.date(2025, 3, 3), "day", "in 1–3 Mar 2025"),
        (dt.date(2025, 3, 3), dt.date(2025, 3, 9), "week", "in week of 3 Mar 2025"),
        (dt.date(2025, 3, 1), dt.date(2025, 3, 31), "month", "in Mar 2025"),
        (dt.date(2025, 1, 1), dt.date(2025, 12, 31), "year", "in 2025"),
    ],
)
def test_when_a_milestone_was_reached_at_its_events_precision(
    on: dt.date, until: dt.date, precision: str, words: str
):
    assert Reached(on, until, precision).words() == words


@pytest.mark.parametrize(
    ("reached", "status_text"),
    [
        ("2024-03", "reached in Mar 2024"),  # begun by the end of March: in time
        ("2024-03-31", "reached on 31 Mar 2024"),
        ("2024-04-01", "reached late on 1 Apr 2024"),
        ("2024", "reached in 2024"),  # may have come in time: not called late
        ("2025", "reached late in 2025"),
    ],
)
def test_reached_or_reached_late_by_the_first_event_at_the_stage(
    engine: Engine, reached: str, status_text: str
):
    rows = [
        event_row("tanks", "2024-01-10", "Tanks are announced.", source="Tank Wire", grade="B",
                  stage="announced", deal_title="Tanks", buyer="Poland", seller="Germany",
                  signpost_stage="contracted", signpost_by="2024-03", signpost_note="a contract by March"),
        event_row("tanks", reached, "Contract signed.", source="Tank Wire", grade="B", stage="contracted"),
        event_row("tanks", "2025-06-02", "Deliveries.", source="Tank Wire", grade="B", stage="delivering"),
    ]  # fmt: skip
    import_bytes(engine, ledger_csv(*rows), file_name="reached.csv", editor="ana", now=T(2025, 7, 1))
    table = signposts_of_deals(engine, ["tanks"], today=dt.date(2026, 1, 1))
    assert table["status_text"].tolist() == [status_text]
