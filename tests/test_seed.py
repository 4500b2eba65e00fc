"""The seed ledger says what the fact sheet says: the drone deal's stage history, parties and sources."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tracker.models import Deal, DealParty, Event, EventSource, Import, Party, Source
from tracker.seed import seed_if_empty, seed_ledger

DEAL = "us-ukraine-drone-deal"


def test_deal_summary_row(seeded: Engine):
    with Session(seeded) as session:
        deal = session.get(Deal, DEAL)
    assert (
        deal.title,
        deal.category,
        deal.current_stage,
        deal.stage_since,
        deal.first_event_on,
        deal.last_event_on,
        deal.event_count,
        deal.buyers,
        deal.sellers,
        deal.value_low,
        deal.value_high,
        deal.currency,
        deal.quantity,
        deal.sipri_tiv,
    ) == (
        "US–Ukraine Drone Deal",
        "UAV",
        "negotiating",
        dt.date(2025, 9, 22),
        dt.date(2025, 7, 1),
        dt.date(2025, 10, 17),
        14,
        "United States",
        "Ukraine",
        10e9,
        30e9,
        "USD",
        None,
        None,
    )


def test_stage_history_follows_the_timeline(seeded: Engine):
    with seeded.connect() as connection:
        events = connection.execute(
            select(Event.date_text, Event.date_precision, Event.stage).order_by(Event.occurred_on, Event.id)
        ).all()
    assert [tuple(e) for e in events] == [
        ("2025-07", "month", "announced"),
        ("2025-07-04", "day", "announced"),
        ("2025-07-16", "day", "announced"),
        ("2025-07-18", "day", "announced"),
        ("2025-07-24", "day", "announced"),
        ("2025-W39", "week", "negotiating"),
        ("2025-09-23", "day", "negotiating"),
        ("2025-09-24", "day", "negotiating"),
        ("2025-09-27", "day", "negotiating"),
        ("2025-09-29/2025-10-02", "day", "negotiating"),
        ("2025-09-30/2025-10-03", "day", "negotiating"),
        ("2025-10-02", "day", "negotiating"),
        ("2025-10-10", "day", "negotiating"),
        ("2025-10-17", "day", "negotiating"),
    ]


def test_every_event_has_a_graded_source(seeded: Engine):
    with seeded.connect() as connection:
        unsourced = connection.execute(
            select(func.count()).select_from(Event).where(~Event.id.in_(select(EventSource.event_id)))
        ).scalar_one()
        grades = connection.execute(select(Source.publisher, Source.reliability, Source.url.is_(None))).all()
    assert unsourced == 0
    assert sorted(tuple(g) for g in grades) == [
        ("Devdiscourse", "C", False),
        ("Interfax-Ukraine", "B", False),
        ("Interfax-Ukraine", "B", False),
        ("LIGA.net", "B", False),
        ("LIGA.net", "B", False),
        ("New York Post", "B", True),
        ("RT (relayed via MENAFN)", "E", False),
        ("The Independent", "B", False),
        ("UNN", "C", False),
        ("Ukrainska Pravda", "B", False),
        ("Ukrinform (via MENAFN)", "C", False),
        ("Ukrinform (via MENAFN)", "C", False),
        ("VnNow", "D", False),
    ]


def test_credibility_follows_who_confirms_the_claim(seeded: Engine):
    with seeded.connect() as connection:
        both_sides = connection.execute(
            select(Event.date_text)
            .join(EventSource, EventSource.event_id == Event.id)
            .where(EventSource.credibility == 2)
            .order_by(Event.occurred_on)
        ).scalars()
        grades = set(connection.execute(select(EventSource.credibility)).scalars())
    assert (list(both_sides), grades) == (["2025-10-17"], {2, 3})


def test_parties_and_roles(seeded: Engine):
    with seeded.connect() as connection:
        roles = connection.execute(
            select(DealParty.role, Party.name).join(Party, Party.id == DealParty.party_id)
        ).all()
    # Sorted in Python: SQLite and PostgreSQL collate text differently.
    assert sorted(tuple(r) for r in roles) == [
        ("buyer", "US Department of Defense"),
        ("buyer", "United States"),
        ("head of state", "Donald Trump"),
        ("head of state", "Volodymyr Zelensky"),
        ("negotiator", "Andriy Yermak"),
        ("negotiator", "Denys Shmyhal"),
        ("negotiator", "Ministry of Defence of Ukraine"),
        ("negotiator", "National Security and Defense Council of Ukraine"),
        ("negotiator", "Oleksandr Kamyshin"),
        ("negotiator", "Rustem Umerov"),
        ("negotiator", "Serhiy Boyev"),
        ("official", "Yulia Svyrydenko"),
        ("participant", "US Congress"),
        ("participant", "US armed services"),
        ("participant", "White House"),
        ("seller", "Ministry of Defence of Ukraine"),
        ("seller", "Ukraine"),
        ("spokesperson", "Heorhiy Tykhyi"),
        ("spokesperson", "Olha Stefanishyna"),
        ("spokesperson", "Rustem Umerov"),
    ]


def test_conflicting_delegation_dates_are_kept_as_separate_sourced_events(seeded: Engine):
    with seeded.connect() as connection:
        claims = connection.execute(
            select(Event.date_text, Source.publisher)
            .join(EventSource, EventSource.event_id == Event.id)
            .join(Source, Source.id == EventSource.source_id)
            .where(Event.topic == "delegation dates")
        ).all()
    assert sorted(tuple(c) for c in claims) == [
        ("2025-09-24", "Ukrainska Pravda"),
        ("2025-09-29/2025-10-02", "LIGA.net"),
        ("2025-09-29/2025-10-02", "New York Post"),
        ("2025-09-30/2025-10-03", "New York Post"),
    ]


def test_seeding_is_idempotent_and_first_run_only(engine: Engine):
    first = seed_if_empty(engine)
    again = seed_ledger(engine)
    later = seed_if_empty(engine)
    with engine.connect() as connection:
        imports = connection.execute(select(func.count()).select_from(Import)).scalar_one()
    assert ([r.events_added for r in first], [r.nothing_new for r in again], later, imports) == (
        [14],
        [True],
        [],
        1,
    )
