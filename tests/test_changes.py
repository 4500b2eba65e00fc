"""What changed: the digest of tracker.changes on a ledger built through imports, form entries, an undo, a
retraction and a regrade over several days; its text, CSV and Atom forms; `python -m tracker changes`."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from sqlalchemy import Engine

from tests.builders import (
    build_bulk_history,
    build_conflict_history,
    build_history,
    build_stale_history,
    event_row,
    ledger_csv,
)
from tracker.changes import (
    ACROSS_DEALS,
    BULK_IMPORT_DEALS,
    Change,
    Digest,
    digest,
    to_atom,
    to_frame,
    to_text,
)
from tracker.cli import main
from tracker.db import open_ledger, sqlite_url_for
from tracker.export import to_csv_bytes
from tracker.filters import Filters
from tracker.importer import import_bytes

T = dt.datetime
ATOM = "{http://www.w3.org/2005/Atom}"


def graded(publisher: str, grade: str) -> str:
    """A new source's line: its publisher, grade and address (tests.builders gives each source one)."""
    return f"{publisher}, graded {grade} (https://example.org/{publisher.lower().replace(' ', '-')})"


@pytest.fixture(scope="module")
def history_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One ledger with that history for the whole module: the tests here only read it."""
    url = sqlite_url_for(tmp_path_factory.mktemp("history") / "ledger.db")
    ledger = open_ledger(url)
    build_history(ledger)
    ledger.dispose()
    yield url


@pytest.fixture
def history(history_url: str) -> Iterator[Engine]:
    ledger = open_ledger(history_url)
    yield ledger
    ledger.dispose()


def rows(result: Digest) -> list[tuple[object, ...]]:
    return [
        (c.deal_id, c.kind, f"{c.at:%m-%d %H:%M}", c.what, c.change_id, c.editor, c.reason)
        for c in result.changes
    ]


TALKS = "5 Nov 2026 · negotiating · Talks on the air-defence package begin."
TANK_TALKS = "12 Nov 2026 · negotiating · Talks on the tanks begin."
AGREED = "6 Nov 2026 · agreed · The package is agreed. · at least 2 bn USD · 12 units"
# A source's regrade is one line, not one per deal it backs.
REGRADE = (
    None,
    "regrade",
    "11-14 10:00",
    "Kyiv Post B → D; backs events of 1 deal",
    6,
    "ben",
    "withdrew a report",
)
RETRACTION = ("beta", "retraction", "11-13 10:00", AGREED, 5, "ben", "the report was withdrawn")
# Alpha had no news from 2 Mar 2026 until the tank talks: longer than announced deals' threshold here
# (239 days: the 80th percentile of this ledger's waits at that stage, alpha's 255 and beta's 174).
ALPHA_BACK = (
    "alpha",
    "back",
    "11-12 15:00",
    "new event on 12 Nov 2026 after 255 days without news",
    4,
    "ben",
    None,
)
ALPHA_BACK_LINE = (
    "  2026-11-12 15:00  Back from stale: new event on 12 Nov 2026 after 255 days without news [by ben]"
)


def test_a_week_with_an_undo_a_retraction_and_a_regrade(history: Engine):
    # The undone import (gamma) has left nothing; the agreed event, added and retracted in the week, shows
    # once, as its retraction; beta's stage moved from announced to negotiating over the week.
    result = digest(history, since=T(2026, 11, 9), until=T(2026, 11, 16), filters=Filters())
    assert rows(result) == [
        REGRADE,
        RETRACTION,
        (
            "beta",
            "stage move",
            "11-10 09:00",
            f"announced → negotiating: {TALKS} (best source C2)",
            2,
            "ana",
            None,
        ),
        ("beta", "new event", "11-10 09:00", f"{TALKS} (best source C2)", 2, "ana", None),
        ("beta", "new source", "11-10 09:00", graded("Kyiv Post", "D"), 2, "ana", None),
        ("beta", "claim", "11-10 09:00", "quantity was not set, now 12", 2, "ana", None),
        (
            "beta",
            "claim",
            "11-10 09:00",
            "value was at least 1 bn USD, now at least 2 bn USD",
            2,
            "ana",
            None,
        ),
        (
            "alpha",
            "stage move",
            "11-12 15:00",
            f"announced → negotiating: {TANK_TALKS} (best source A2)",
            4,
            "ben",
            None,
        ),
        ("alpha", "new event", "11-12 15:00", f"{TANK_TALKS} (best source A2)", 4, "ben", None),
        ALPHA_BACK,
    ]
    assert result.counts() == {
        "stage move": 2,
        "new event": 2,
        "retraction": 1,
        "new source": 1,
        "regrade": 1,
        "claim": 2,
        "back": 1,
    }


def test_a_retraction_that_takes_a_stage_back_is_a_stage_move_of_the_retraction(history: Engine):
    result = digest(history, since=T(2026, 11, 12), until=T(2026, 11, 16), filters=Filters())
    assert rows(result) == [
        REGRADE,
        (
            "beta",
            "stage move",
            "11-13 10:00",
            f"agreed → negotiating: {TALKS} (best source C2)",
            5,
            "ben",
            "the report was withdrawn",
        ),
        RETRACTION,
        (
            "alpha",
            "stage move",
            "11-12 15:00",
            f"announced → negotiating: {TANK_TALKS} (best source A2)",
            4,
            "ben",
            None,
        ),
        ("alpha", "new event", "11-12 15:00", f"{TANK_TALKS} (best source A2)", 4, "ben", None),
        ALPHA_BACK,
    ]


OVERDUE = "contracted expected by 2026-10 (contract expected by October 2026), not reached"


def test_new_deals_and_a_signpost_that_became_overdue(history: Engine):
    result = digest(history, since=T(2026, 11, 1), until=T(2026, 11, 3), filters=Filters())
    first = "2 Mar 2026 · announced · Poland announces a tank purchase."
    patriots = "15 May 2026 · announced · Ukraine asks for more Patriot systems. · at least 1 bn USD"
    assert rows(result) == [
        ("alpha", "new deal", "11-02 09:00", "Alpha tanks", 1, "ana", None),
        (
            "alpha",
            "stage move",
            "11-02 09:00",
            f"no stage → announced: {first} (best source A2)",
            1,
            "ana",
            None,
        ),
        ("alpha", "new event", "11-02 09:00", f"{first} (best source A2)", 1, "ana", None),
        ("alpha", "new source", "11-02 09:00", graded("Alpha Wire", "A"), 1, "ana", None),
        ("alpha", "overdue", "11-01 00:00", OVERDUE, None, None, None),
        ("beta", "new deal", "11-02 09:00", "Beta air defence", 1, "ana", None),
        (
            "beta",
            "stage move",
            "11-02 09:00",
            f"no stage → announced: {patriots} (best source C2)",
            1,
            "ana",
            None,
        ),
        ("beta", "new event", "11-02 09:00", f"{patriots} (best source C2)", 1, "ana", None),
        ("beta", "new source", "11-02 09:00", graded("Beta News", "C"), 1, "ana", None),
    ]


@pytest.mark.parametrize(
    ("filters", "deals"),
    [
        (Filters(), ["beta", "alpha"]),
        (Filters(countries=("POL",)), ["alpha"]),
        (Filters(countries=("UKR",), country_role="buyer"), ["beta"]),
        (Filters(stages=("negotiating",)), ["beta", "alpha"]),
        (Filters(stages=("agreed",)), []),
        (Filters(text="patriot"), ["beta"]),
        (Filters(categories=("tanks",)), ["alpha"]),
    ],
)
def test_the_filters_choose_the_deals(history: Engine, filters: Filters, deals: list[str]):
    result = digest(history, since=T(2026, 11, 9), until=T(2026, 11, 16), filters=filters)
    assert [group.deal_id for group in result.by_deal()] == deals


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (T(2026, 11, 20), T(2026, 11, 27)),
        (T(2026, 11, 16), T(2026, 11, 9)),
        (T(2026, 10, 1), T(2026, 10, 31)),
    ],
)
def test_empty_and_reversed_windows_have_no_changes(history: Engine, since: dt.datetime, until: dt.datetime):
    assert digest(history, since=since, until=until, filters=Filters()).changes == ()


def test_entry_ids_are_unique_and_the_same_on_every_run(history: Engine):
    def ids() -> list[str]:
        return [
            c.entry_id
            for c in digest(history, since=T(2026, 11, 1), until=T(2026, 11, 16), filters=Filters()).changes
        ]

    first = ids()
    assert len(first) == len(set(first)) == 17
    assert ids() == first
    assert first[0] == "tag:defense-deal-tracker,2026:change/regrade/grade%201/6"


def test_text_digest(history: Engine):
    result = digest(
        history, since=T(2026, 11, 12), until=T(2026, 11, 16), filters=Filters(countries=("POL",))
    )
    assert to_text(result, caption="Deals with Poland as buyer or seller") == (
        "Changes from 2026-11-12 00:00 to 2026-11-16 00:00 UTC. Deals with Poland as buyer or seller.\n"
        "\n"
        "Alpha tanks (alpha)\n"
        f"  2026-11-12 15:00  Stage move: announced → negotiating: {TANK_TALKS} (best source A2) [by ben]\n"
        f"  2026-11-12 15:00  New event: {TANK_TALKS} (best source A2) [by ben]\n"
        f"{ALPHA_BACK_LINE}\n"
    )
    empty = digest(history, since=T(2026, 12, 1), until=T(2026, 12, 2), filters=Filters())
    assert to_text(empty, caption="All deals").splitlines()[1:] == ["No changes."]


def test_atom_keeps_out_characters_xml_cannot_hold():
    change = Change("new deal", "x", "Bad\x01title\x1b", T(2026, 11, 1), "deal x", "Bad\x01title", 1, "ana")
    feed = to_atom(
        Digest(T(2026, 11, 1), T(2026, 11, 2), Filters(), (change,)), caption="All", feed_id="tag:x,2026:f"
    )
    root = ElementTree.fromstring(feed)
    assert root.find(f"{ATOM}entry/{ATOM}title").text == "Badtitle: New deal: Badtitle"


# --- changes to many deals at once: a bulk import, a source's regrade ---------------------------------------

BULK = BULK_IMPORT_DEALS + 1  # register.csv's new deals (small.csv has BULK_IMPORT_DEALS)
REGISTER = f"#2 register.csv (ledger CSV): {BULK} new deals, {BULK} events, 1 new source"
REGISTER_EXAMPLES = (
    ("reg-01", "Register deal 01"),
    ("reg-02", "Register deal 02"),
    ("reg-03", "Register deal 03"),
)
OLD_TALKS = "15 Nov 2026 · negotiating · Talks on old deal 1 begin. (best source B2)"
AGREED_07 = "21 Nov 2026 · agreed · Register deal 7 is agreed. (best source C2)"
OLD_1 = [
    ("old-1", "stage move", "11-20 09:00", f"announced → negotiating: {OLD_TALKS}", 2, "alice", None),
    ("old-1", "new event", "11-20 09:00", OLD_TALKS, 2, "alice", None),
    ("old-1", "new source", "11-20 09:00", graded("Register", "B"), 2, "alice", None),
    # Old deal 1 had no news from 1 Sep 2026: stale from 12 Nov (announced deals here: after 71 days).
    ("old-1", "back", "11-20 09:00", "new event on 15 Nov 2026 after 75 days without news", 2, "alice", None),
]


@pytest.fixture
def bulk(engine: Engine) -> Engine:
    build_bulk_history(engine, bulk=BULK_IMPORT_DEALS)
    return engine


def test_an_import_of_more_new_deals_than_the_threshold_is_one_line(bulk: Engine):
    # Its new deals are one line; the deal that existed before it (old-1) keeps its lines, and so does a
    # later change to a deal it created (reg-07), the stage move counted from the stage the import gave.
    result = digest(bulk, since=T(2026, 11, 19), until=T(2026, 11, 23), filters=Filters())
    assert rows(result) == [
        (None, "import", "11-20 09:00", REGISTER, 2, "alice", None),
        ("reg-07", "stage move", "11-21 10:00", f"announced → agreed: {AGREED_07}", 3, "ben", None),
        ("reg-07", "new event", "11-21 10:00", AGREED_07, 3, "ben", None),
        *OLD_1,
    ]
    assert [c.examples for c in result.across_deals()] == [REGISTER_EXAMPLES]
    assert result.counts() == {"import": 1, "stage move": 2, "new event": 2, "new source": 1, "back": 1}
    assert [group.deal_id for group in result.by_deal()] == ["reg-07", "old-1"]


def test_an_import_is_bulk_by_the_filtered_deals_it_created(bulk: Engine):
    # One of register.csv's new deals is bought by Poland: for that view the import is small.
    result = digest(bulk, since=T(2026, 11, 19), until=T(2026, 11, 23), filters=Filters(countries=("POL",)))
    announced = "1 Oct 2026 · announced · Register entry 1. (best source B2)"
    assert rows(result) == [
        *OLD_1,
        ("reg-01", "new deal", "11-20 09:00", "Register deal 01", 2, "alice", None),
        ("reg-01", "stage move", "11-20 09:00", f"no stage → announced: {announced}", 2, "alice", None),
        ("reg-01", "new event", "11-20 09:00", announced, 2, "alice", None),
        ("reg-01", "new source", "11-20 09:00", graded("Register", "B"), 2, "alice", None),
    ]


def test_an_import_of_the_threshold_of_new_deals_and_a_regrade_of_a_source_backing_three(bulk: Engine):
    # small.csv's new deals are listed deal by deal; Old Wire's regrade is one line for its three deals.
    result = digest(bulk, since=T(2026, 11, 24), until=T(2026, 11, 27), filters=Filters())
    regrade = (
        None,
        "regrade",
        "11-26 10:00",
        "Old Wire A → C; backs events of 3 deals",
        5,
        "ben",
        "sold its archive",
    )
    announced = "24 Nov 2026 · announced · Small deal 1 is announced. (best source C2)"
    assert rows(result)[:5] == [
        regrade,
        ("small-01", "new deal", "11-25 09:00", "Small deal 01", 4, "ana", None),
        ("small-01", "stage move", "11-25 09:00", f"no stage → announced: {announced}", 4, "ana", None),
        ("small-01", "new event", "11-25 09:00", announced, 4, "ana", None),
        ("small-01", "new source", "11-25 09:00", graded("Small Wire", "C"), 4, "ana", None),
    ]
    assert result.counts() == {
        "new deal": BULK_IMPORT_DEALS,
        "stage move": BULK_IMPORT_DEALS,
        "new event": BULK_IMPORT_DEALS,
        "new source": BULK_IMPORT_DEALS,
        "regrade": 1,
    }
    assert [c.examples for c in result.across_deals()] == [
        (("old-1", "Old deal 1"), ("old-2", "Old deal 2"), ("reg-07", "Register deal 07"))
    ]
    # The count is of the filtered deals, and a regrade of a source backing none of them does not show.
    poland = digest(bulk, since=T(2026, 11, 24), until=T(2026, 11, 27), filters=Filters(countries=("POL",)))
    assert rows(poland) == [(*regrade[:3], "Old Wire A → C; backs events of 2 deals", *regrade[4:])]
    tanks = digest(bulk, since=T(2026, 11, 24), until=T(2026, 11, 27), filters=Filters(text="tank"))
    assert tanks.changes == ()


def test_bulk_import_and_regrade_lines_in_text_csv_and_atom(bulk: Engine):
    result = digest(bulk, since=T(2026, 11, 19), until=T(2026, 11, 23), filters=Filters())
    assert to_text(result, caption="All deals").splitlines()[1:6] == [
        "",
        ACROSS_DEALS,
        f"  2026-11-20 09:00  Import: {REGISTER} [by alice]",
        "    e.g. Register deal 01 (reg-01), Register deal 02 (reg-02), Register deal 03 (reg-03)",
        "",
    ]
    regraded = digest(bulk, since=T(2026, 11, 24), until=T(2026, 11, 27), filters=Filters(countries=("POL",)))
    assert to_text(regraded, caption="Deals with Poland as buyer or seller") == (
        "Changes from 2026-11-24 00:00 to 2026-11-27 00:00 UTC. Deals with Poland as buyer or seller.\n"
        "\n"
        f"{ACROSS_DEALS}\n"
        "  2026-11-26 10:00  Regraded: Old Wire A → C; backs events of 2 deals [by ben: sold its archive]\n"
        "    e.g. Old deal 1 (old-1), Old deal 2 (old-2)\n"
    )
    table = list(csv.DictReader(io.StringIO(to_csv_bytes(to_frame(result)).decode("utf-8-sig"))))
    assert table[0] == {
        "recorded_at": "2026-11-20 09:00:00",
        "deal_id": "",
        "deal_title": "",
        "kind": "import",
        "what": REGISTER,
        "change_id": "2",
        "editor": "alice",
        "reason": "",
        "entry_id": "tag:defense-deal-tracker,2026:change/import/import%202/2",
    }
    assert [row["deal_id"] for row in table] == ["", "reg-07", "reg-07", "old-1", "old-1", "old-1", "old-1"]
    feed = ElementTree.fromstring(to_atom(result, caption="All deals", feed_id="tag:x,2026:f"))
    entry = feed.find(f"{ATOM}entry")
    assert [entry.find(f"{ATOM}{name}").text for name in ("id", "title", "content")] == [
        "tag:defense-deal-tracker,2026:change/import/import%202/2",
        f"Import: {REGISTER}",
        f"Import: {REGISTER}; e.g. {', '.join(f'{title} ({deal})' for deal, title in REGISTER_EXAMPLES)}.",
    ]
    # The same id on every run, and for every view that shows the import as one line.
    again = digest(bulk, since=T(2026, 11, 20), until=T(2026, 11, 21), filters=Filters(countries=("UKR",)))
    assert [c.entry_id for c in again.across_deals()] == []  # 50 Ukrainian deals: not over the threshold
    wider = digest(bulk, since=T(2026, 11, 1), until=T(2026, 11, 30), filters=Filters())
    assert wider.across_deals()[1].entry_id == "tag:defense-deal-tracker,2026:change/import/import%202/2"


# --- newly conflicting claims; deals that went stale or came back ------------------------------------------


@pytest.fixture(scope="module")
def claims_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = sqlite_url_for(tmp_path_factory.mktemp("claims") / "ledger.db")
    ledger = open_ledger(url)
    build_conflict_history(ledger)
    ledger.dispose()
    yield url


@pytest.fixture
def claims(claims_url: str) -> Iterator[Engine]:
    ledger = open_ledger(claims_url)
    yield ledger
    ledger.dispose()


@pytest.fixture(scope="module")
def stale_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = sqlite_url_for(tmp_path_factory.mktemp("stale") / "ledger.db")
    ledger = open_ledger(url)
    build_stale_history(ledger)
    ledger.dispose()
    yield url


@pytest.fixture
def stale(stale_url: str) -> Iterator[Engine]:
    ledger = open_ledger(stale_url)
    yield ledger
    ledger.dispose()


DELTA_CONFLICT = (
    "2 events claim 2 different values: 1 Oct 2026 · at least 1.2 bn USD (Reuters (B2)) against "
    "5 Nov 2026 · at least 900 m USD (Kyiv Post (C2))"
)
GOLF_CONFLICT = (
    "2 events claim 2 different values: 3 Oct 2026 · at least 800 m USD (Reuters (B2)) against "
    "8 Nov 2026 · at least 700 m USD (Kyiv Post (C2))"
)
GOLF_700 = "8 Nov 2026 · Golf drones at 700 m. · at least 700 m USD"
DELTA_900 = "5 Nov 2026 · Delta frigates are cheaper. · at least 900 m USD (best source C2)"
ECHO_600 = "6 Nov 2026 · Echo radars at 600 m. · at least 600 m USD (best source C2)"
ECHO_CONFLICT = (
    "3 events claim 2 different values: 2 Oct 2026 · at least 500 m USD (Reuters (B2)) against "
    "9 Oct 2026 · at least 600 m USD (Reuters (B2)) against 6 Nov 2026 · at least 600 m USD (Kyiv Post (C2))"
)


def test_a_conflict_an_import_made_shows_once_and_no_other(claims: Engine):
    # delta: the 900 m claim against 1.2 bn is new. echo: 600 m again, a conflict (500 m against 600 m) that
    # was there before the week. The undone import's 3 bn for delta leaves nothing; golf's 700 m, entered
    # and retracted in the week, ends no week in conflict: its retraction is no new conflict.
    result = digest(claims, since=T(2026, 11, 9), until=T(2026, 11, 16), filters=Filters())
    assert rows(result) == [
        ("golf", "retraction", "11-13 10:00", GOLF_700, 5, "ben", "misread the figure"),
        ("golf", "claim", "11-12 15:00", "value was at least 800 m USD, now at least 700 m USD", 4, "ben",
         None),
        ("golf", "new source", "11-10 09:00", graded("Kyiv Post", "C"), 2, "bob", None),
        ("delta", "new event", "11-10 09:00", DELTA_900, 2, "bob", None),
        ("delta", "new source", "11-10 09:00", graded("Kyiv Post", "C"), 2, "bob", None),
        ("delta", "claim", "11-10 09:00", "value was at least 1.2 bn USD, now at least 900 m USD", 2, "bob",
         None),
        ("delta", "conflict", "11-10 09:00", DELTA_CONFLICT, 2, "bob", None),
        ("echo", "new event", "11-10 09:00", ECHO_600, 2, "bob", None),
        ("echo", "new source", "11-10 09:00", graded("Kyiv Post", "C"), 2, "bob", None),
    ]  # fmt: skip
    assert result.counts()["conflict"] == 1


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        # While golf's 700 m stood, the form entry had made a conflict.
        (T(2026, 11, 12), T(2026, 11, 13), [("golf", "11-12 15:00", GOLF_CONFLICT, 4)]),
        # Retracted in the window: nothing; the retraction alone does not make one either.
        (T(2026, 11, 12), T(2026, 11, 14), []),
        (T(2026, 11, 13), T(2026, 11, 16), []),
        # The undone import's day.
        (T(2026, 11, 11), T(2026, 11, 12), []),
        # From the start: echo's conflict, made by its first import (the later 600 m only repeats a claim).
        (
            T(2026, 11, 1),
            T(2026, 11, 16),
            [
                ("delta", "11-10 09:00", DELTA_CONFLICT, 2),
                ("echo", "11-01 09:00", ECHO_CONFLICT, 1),
            ],
        ),
    ],
)
def test_conflicts_by_window(claims: Engine, since: dt.datetime, until: dt.datetime, expected: list[tuple]):
    result = digest(claims, since=since, until=until, filters=Filters())
    assert [
        (c.deal_id, f"{c.at:%m-%d %H:%M}", c.what, c.change_id)
        for c in result.changes
        if c.kind == "conflict"
    ] == expected


JULIET_BACK = "new event on 18 Sep 2026 after 201 days without news"
HOTEL_STALE = "no news since 1 Aug 2026 (negotiating: stale after 60 days)"


def test_a_deal_comes_back_from_stale(stale: Engine):
    result = digest(stale, since=T(2026, 9, 15), until=T(2026, 9, 22), filters=Filters())
    talks = "18 Sep 2026 · negotiating · Juliet talks begin. (best source C2)"
    assert rows(result) == [
        ("juliet", "stage move", "09-20 09:00", f"announced → negotiating: {talks}", 2, "ben", None),
        ("juliet", "new event", "09-20 09:00", talks, 2, "ben", None),
        ("juliet", "new source", "09-20 09:00", graded("Kyiv Post", "C"), 2, "ben", None),
        ("juliet", "back", "09-20 09:00", JULIET_BACK, 2, "ben", None),
    ]


def test_a_deal_goes_stale_and_one_that_had_news_in_time_does_not(stale: Engine):
    # hotel: nothing since 1 Aug, stale from 1 Oct. lima: the same, but news of 29 Sep came on 30 Sep.
    # india: completed on 1 Aug, never stale.
    result = digest(stale, since=T(2026, 9, 28), until=T(2026, 10, 5), filters=Filters())
    lima = "29 Sep 2026 · Lima talks go on. (best source C2)"
    assert rows(result) == [
        ("hotel", "stale", "10-01 00:00", HOTEL_STALE, None, None, None),
        ("lima", "new event", "09-30 09:00", lima, 3, "ben", None),
        ("lima", "new source", "09-30 09:00", graded("Defense News", "C"), 3, "ben", None),
    ]
    assert (
        result.changes[0].entry_id
        == "tag:defense-deal-tracker,2026:change/stale/hotel/stale%20from%202026-10-01"
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            Filters(),
            [
                (
                    "lima",
                    "stale",
                    "11-29 00:00",
                    "no news since 29 Sep 2026 (negotiating: stale after 60 days)",
                ),
                (
                    "juliet",
                    "stale",
                    "11-18 00:00",
                    "no news since 18 Sep 2026 (negotiating: stale after 60 days)",
                ),
                ("juliet", "back", "09-20 09:00", JULIET_BACK),
                ("hotel", "stale", "10-01 00:00", HOTEL_STALE),
            ],
        ),
        (Filters(text="hotel"), [("hotel", "stale", "10-01 00:00", HOTEL_STALE)]),
        (Filters(stages=("completed",)), []),
        (Filters(countries=("UKR",)), []),
    ],
)
def test_stale_and_back_over_months_respect_the_filters(stale: Engine, filters: Filters, expected: list):
    # Juliet, back on 20 Sep, goes stale again 60 days after its news; completed deals (india, kilo) never.
    result = digest(stale, since=T(2026, 9, 1), until=T(2026, 12, 1), filters=filters)
    assert [
        (c.deal_id, c.kind, f"{c.at:%m-%d %H:%M}", c.what)
        for c in result.changes
        if c.kind in ("stale", "back")
    ] == expected


def test_new_kinds_in_the_cli_as_text_csv_and_atom(claims: Engine, stale: Engine, tmp_path: Path, capsys):
    code, out, _ = run(capsys, "changes", "--since", "2026-09-28", "--until", "2026-10-04", ledger=stale)
    assert code == 0
    assert out.splitlines()[2:4] == [
        "Hotel deal (hotel)",
        f"  2026-10-01 00:00  Went stale: {HOTEL_STALE}",
    ]
    code, out, _ = run(
        capsys, "changes", "--since", "2026-09-15", "--until", "2026-09-21", "--format", "csv", ledger=stale
    )
    table = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    assert [(r["deal_id"], r["kind"], r["what"], r["change_id"], r["entry_id"]) for r in table][-1] == (
        "juliet", "back", JULIET_BACK, "2", "tag:defense-deal-tracker,2026:change/back/juliet/event%2011/2"
    )  # fmt: skip
    args = [
        "changes",
        "--since",
        "2026-11-09",
        "--until",
        "2026-11-15",
        "--format",
        "atom",
        "--search",
        "frigates",
    ]
    code, out, _ = run(capsys, *args, ledger=claims)
    assert code == 0
    entries = ElementTree.fromstring(out.encode()).findall(f"{ATOM}entry")
    conflict = [e for e in entries if e.find(f"{ATOM}category").get("term") == "conflict"]
    assert [
        (e.find(f"{ATOM}id").text, e.find(f"{ATOM}title").text, e.find(f"{ATOM}category").get("label"))
        for e in conflict
    ] == [
        (
            "tag:defense-deal-tracker,2026:change/conflict/delta/value%20events%201%2C5/2",
            f"Delta frigates: Conflicting claims: {DELTA_CONFLICT}",
            "Conflicting claims",
        )
    ]
    assert run(capsys, *args, ledger=claims)[1] == out
    code, out, _ = run(capsys, "changes", "--since", "2026-11-09", "--until", "2026-11-15", ledger=claims)
    assert f"  2026-11-10 09:00  Conflicting claims: {DELTA_CONFLICT} [by bob]" in out.splitlines()
    code, out, _ = run(capsys, *args[:-2], "--format", "csv", ledger=claims)
    table = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    assert [(r["deal_id"], r["what"], r["editor"]) for r in table if r["kind"] == "conflict"] == [
        ("delta", DELTA_CONFLICT, "bob")
    ]
    args = ["changes", "--since", "2026-09-15", "--until", "2026-10-04", "--format", "atom"]
    code, out, _ = run(capsys, *args, ledger=stale)
    entries = ElementTree.fromstring(out.encode()).findall(f"{ATOM}entry")
    assert [
        (e.find(f"{ATOM}id").text, e.find(f"{ATOM}title").text, e.find(f"{ATOM}updated").text)
        for e in entries
        if e.find(f"{ATOM}category").get("term") in ("stale", "back")
    ] == [
        (
            "tag:defense-deal-tracker,2026:change/stale/hotel/stale%20from%202026-10-01",
            f"Hotel deal: Went stale: {HOTEL_STALE}",
            "2026-10-01T00:00:00Z",
        ),
        (
            "tag:defense-deal-tracker,2026:change/back/juliet/event%2011/2",
            f"Juliet deal: Back from stale: {JULIET_BACK}",
            "2026-09-20T09:00:00Z",
        ),
    ]
    assert run(capsys, *args, ledger=stale)[1] == out


# --- the command line -------------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *args: str, ledger: Engine) -> tuple[int, str, str]:
    code = main(["--database", ledger.url.render_as_string(hide_password=False), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_text(history: Engine, capsys):
    code, out, _ = run(
        capsys,
        "changes",
        "--since",
        "2026-11-12",
        "--until",
        "2026-11-15",
        "--country",
        "Poland",
        ledger=history,
    )
    assert code == 0
    assert out.splitlines()[0] == (
        "Changes from 2026-11-12 00:00 to 2026-11-16 00:00 UTC. Deals with Poland as buyer or seller."
    )
    assert out.splitlines()[2:] == [
        "Alpha tanks (alpha)",
        f"  2026-11-12 15:00  Stage move: announced → negotiating: {TANK_TALKS} (best source A2) [by ben]",
        f"  2026-11-12 15:00  New event: {TANK_TALKS} (best source A2) [by ben]",
        ALPHA_BACK_LINE,
    ]


def test_cli_csv_to_a_file(history: Engine, tmp_path: Path, capsys):
    output = tmp_path / "changes.csv"
    code, out, err = run(
        capsys,
        "changes",
        "--since",
        "2026-11",
        "--until",
        "2026-11-13",
        "--format",
        "csv",
        "--output",
        str(output),
        "--search",
        "air-defence",
        ledger=history,
    )
    assert (code, out, err) == (
        0,
        "",
        'Deals mentioning "air-defence" (or "air-defense"): 9 changes written to ' + f"{output}.\n",
    )
    table = list(csv.DictReader(io.StringIO(output.read_bytes().decode("utf-8-sig"))))
    assert [(r["recorded_at"], r["kind"], r["change_id"], r["reason"]) for r in table] == [
        ("2026-11-13 10:00:00", "retraction", "5", "the report was withdrawn"),
        ("2026-11-10 09:00:00", "stage move", "2", ""),
        ("2026-11-10 09:00:00", "new event", "2", ""),
        ("2026-11-10 09:00:00", "new source", "2", ""),
        ("2026-11-10 09:00:00", "claim", "2", ""),
        ("2026-11-10 09:00:00", "claim", "2", ""),
        ("2026-11-02 09:00:00", "new deal", "1", ""),
        ("2026-11-02 09:00:00", "new event", "1", ""),
        ("2026-11-02 09:00:00", "new source", "1", ""),
    ]


def test_an_imports_events_and_sources_read_in_the_files_order_past_nine(engine: Engine):
    # Ordered by their subjects as text, "event 10" came before "event 2" (seen on the seed's 14 events).
    rows = [
        event_row("talks", f"2026-11-{day:02d}", f"Round {day}.", source=f"Wire {day}", grade="B")
        for day in range(1, 13)
    ]
    rows[0] |= {"deal_title": "Talks", "stage": "negotiating", "buyer": "Poland", "seller": "Germany"}
    import_bytes(engine, ledger_csv(*rows), file_name="talks.csv", editor="ana", now=T(2026, 11, 20, 9))
    changes = digest(engine, since=T(2026, 11, 20), until=T(2026, 11, 21), filters=Filters()).changes
    assert [c.subject for c in changes if c.kind == "new event"] == [f"event {n}" for n in range(1, 13)]
    assert [c.what for c in changes if c.kind == "new source"] == [
        graded(f"Wire {day}", "B") for day in range(1, 13)
    ]


def test_cli_csv_neutralises_formulas(engine: Engine, capsys):
    bad = event_row(
        "evil",
        "2026-11-01",
        '=HYPERLINK("https://evil.example")',
        source="Evil",
        grade="F",
        stage="announced",
        deal_title="=cmd|' /C calc'!A0",
        buyer="Poland",
        seller="Germany",
    )
    import_bytes(engine, ledger_csv(bad), file_name="evil.csv", editor="ana", now=T(2026, 11, 2, 9))
    code, out, _ = run(
        capsys, "changes", "--since", "2026-11-01", "--until", "2026-11-03", "--format", "csv", ledger=engine
    )
    table = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    assert code == 0
    assert {r["deal_title"] for r in table} == {"'=cmd|' /C calc'!A0"}
    assert table[0]["what"] == "'=cmd|' /C calc'!A0"


def test_cli_atom_is_valid_and_stable(history: Engine, tmp_path: Path, capsys):
    args = [
        "changes",
        "--since",
        "2026-11-12",
        "--until",
        "2026-11-15",
        "--format",
        "atom",
        "--stage",
        "negotiating",
    ]
    code, out, _ = run(capsys, *args, ledger=history)
    assert code == 0
    root = ElementTree.fromstring(out.encode())
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}id").text == "tag:defense-deal-tracker,2026:changes?stage=negotiating"
    assert root.find(f"{ATOM}updated").text == "2026-11-14T10:00:00Z"
    entries = root.findall(f"{ATOM}entry")
    assert [(e.find(f"{ATOM}category").get("term"), e.find(f"{ATOM}updated").text) for e in entries] == [
        ("regrade", "2026-11-14T10:00:00Z"),
        ("stage move", "2026-11-13T10:00:00Z"),
        ("retraction", "2026-11-13T10:00:00Z"),
        ("stage move", "2026-11-12T15:00:00Z"),
        ("new event", "2026-11-12T15:00:00Z"),
        ("back", "2026-11-12T15:00:00Z"),
    ]
    assert entries[2].find(f"{ATOM}content").text == (
        f"Beta air defence (beta). Retracted: {AGREED}. Reason: the report was withdrawn"
    )
    assert entries[2].find(f"{ATOM}author/{ATOM}name").text == "ben"
    # Every entry has the elements RFC 4287 requires, and the same ids on a second run.
    for entry in entries:
        assert [entry.find(f"{ATOM}{name}") is not None for name in ("id", "title", "updated")] == [True] * 3
    assert run(capsys, *args, ledger=history)[1] == out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "error: --since: "),
        (["--since", "2026-11-12", "--until", "2026-11-01"], "error: --until (2026-11-01) is before --since"),
        (["--since", "2026-11-12", "--min-grade", "Z"], "error: "),
    ],
)
def test_cli_bad_dates_are_one_line_errors(history: Engine, capsys, args: list[str], message: str):
    code, out, err = run(capsys, "changes", *args, ledger=history)
    assert (code, out) == (1, "")
    assert err.startswith(message) and err.count("\n") == 1


def test_cli_shows_a_bulk_import_as_one_line(bulk: Engine, capsys):
    code, out, err = run(capsys, "changes", "--since", "2026-11-19", "--until", "2026-11-22", ledger=bulk)
    assert (code, err) == (0, "")
    assert out.splitlines()[1:9] == [
        "",
        ACROSS_DEALS,
        f"  2026-11-20 09:00  Import: {REGISTER} [by alice]",
        "    e.g. Register deal 01 (reg-01), Register deal 02 (reg-02), Register deal 03 (reg-03)",
        "",
        "Register deal 07 (reg-07)",
        f"  2026-11-21 10:00  Stage move: announced → agreed: {AGREED_07} [by ben]",
        f"  2026-11-21 10:00  New event: {AGREED_07} [by ben]",
    ]
