"""The as-of views in their two modes (tracker.knowledge.AsOf): as publicly reported by a day, from the
sources' publication dates, and as recorded in this ledger by a moment. Exact deals, stages, events and
sources on a ledger whose sources were published on known dates and which was imported today, the empty
state's words, the mode in the URL, and the sidebar's picker in AppTest.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from tests.apptest import open_page, page_path, run
from tests.builders import event_row, ledger_csv
from tracker import queries, revisions
from tracker.display import escape_markdown
from tracker.filters import Filters, to_query, view_from_query
from tracker.importer import import_bytes
from tracker.knowledge import (
    AsOf,
    FirstKnown,
    first_published,
    latest_period_start,
    nothing_known,
)
from tracker.models import Event

ALL = Filters()
D = dt.date


def _now() -> dt.datetime:
    """Now, taken when a test runs (never at import: a run may cross midnight)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


# Five deals, each event told by sources published on known dates, at every precision:
# kilo: announced (a source of 5 Mar 2025), negotiating (told in July, then in "Sep 2025"), contracted
#       (2 Oct 2025, which also names Germany as the seller);
# lima: announced, its only source dated "2025" (counts from 31 Dec 2025);
# november: announced, its source dated the week 2025-W36 (1-7 Sep 2025, counts from 7 Sep);
# mike: announced, its source undated (counts from when it was recorded: today).
PUBLISHED = [
    event_row("kilo", "2025-03-05", "Kilo is announced.", source="Kilo Daily", grade="B",
              source_date="2025-03-05", stage="announced", deal_title="Kilo radars", buyer="Poland"),
    event_row("kilo", "2025-06-10", "Kilo talks begin.", source="Kilo Weekly", grade="B",
              source_date="2025-09", stage="negotiating"),
    event_row("kilo", "2025-06-10", "Kilo talks begin.", source="Kilo Post", grade="C",
              source_date="2025-07-01", stage="negotiating"),
    event_row("kilo", "2025-10-02", "Kilo contract signed.", source="Kilo Gazette", grade="B",
              source_date="2025-10-02", stage="contracted", seller="Germany"),
    event_row("lima", "2025-04-01", "Lima is announced.", source="Lima Annual", grade="A",
              source_date="2025", stage="announced", deal_title="Lima trucks", buyer="Estonia"),
    event_row("november", "2025-08-20", "November is announced.", source="November Bulletin", grade="B",
              source_date="2025-W36", stage="announced", deal_title="November boats", buyer="Latvia"),
    event_row("mike", "2025-05-01", "Mike is announced.", source="Mike Wire", grade="C",
              stage="announced", deal_title="Mike drones", buyer="Ukraine"),
]  # fmt: skip
K1, K2, K3 = "Kilo is announced.", "Kilo talks begin.", "Kilo contract signed."
L1, N1, M1 = "Lima is announced.", "November is announced.", "Mike is announced."


@pytest.fixture
def imported_today(engine: Engine) -> tuple[Engine, dt.datetime]:
    """The ledger above, imported now (a new ledger on its first day); and when."""
    now = _now()
    import_bytes(engine, ledger_csv(*PUBLISHED), file_name="published.csv", editor="test", now=now)
    return engine, now


def _view(engine: Engine, as_of: AsOf | None) -> tuple[dict[str, str], list[str]]:
    """The deals with their stage, and the events' summaries latest first, in the view."""
    rows = queries.view_rows(engine, filters=ALL, as_of=as_of, deal_limit=50, event_limit=50)
    return dict(zip(rows.deals["deal_id"], rows.deals["stage"])), rows.events["summary"].tolist()


ANNOUNCED, NEGOTIATING, CONTRACTED = "announced", "negotiating", "contracted"


@pytest.mark.parametrize(
    ("day", "deals", "events"),
    [
        (D(2025, 3, 4), {}, []),
        (D(2025, 3, 5), {"kilo": ANNOUNCED}, [K1]),
        # The negotiating event happened on 10 Jun, but no source had told of it before 1 Jul.
        (D(2025, 6, 30), {"kilo": ANNOUNCED}, [K1]),
        (D(2025, 7, 1), {"kilo": NEGOTIATING}, [K2, K1]),
        # A week-precision source counts from the week's Sunday.
        (D(2025, 9, 6), {"kilo": NEGOTIATING}, [K2, K1]),
        (D(2025, 9, 7), {"kilo": NEGOTIATING, "november": ANNOUNCED}, [N1, K2, K1]),
        (D(2025, 10, 2), {"kilo": CONTRACTED, "november": ANNOUNCED}, [K3, N1, K2, K1]),
        # A year-precision source counts from 31 December.
        (D(2025, 12, 30), {"kilo": CONTRACTED, "november": ANNOUNCED}, [K3, N1, K2, K1]),
        (
            D(2025, 12, 31),
            {"kilo": CONTRACTED, "november": ANNOUNCED, "lima": ANNOUNCED},
            [K3, N1, K2, L1, K1],
        ),
    ],
)
def test_as_publicly_reported_by_a_past_day(
    imported_today: tuple[Engine, dt.datetime], day: dt.date, deals: dict[str, str], events: list[str]
):
    engine, _ = imported_today
    as_of = AsOf.end_of(day)
    assert _view(engine, as_of) == (deals, events)
    stages = queries.deals_by_stage(engine, filters=ALL, as_of=as_of)
    expected = {stage: list(deals.values()).count(stage) for stage in set(deals.values())}
    assert {s: n for s, n in zip(stages["stage"], stages["deals"]) if n} == expected
    figures = queries.overview(engine, filters=ALL, today=day, as_of=as_of).figures
    assert (figures.deals, figures.active_deals) == (len(deals), len(deals))
    # As recorded in this ledger, the same day shows nothing: it was all imported today.
    assert _view(engine, AsOf.end_of(day, "recorded")) == ({}, [])


def test_undated_sources_count_from_when_they_were_recorded(imported_today: tuple[Engine, dt.datetime]):
    engine, now = imported_today
    everything = {"kilo": CONTRACTED, "november": ANNOUNCED, "lima": ANNOUNCED}
    yesterday, today = now.date() - dt.timedelta(days=1), now.date()
    assert _view(engine, AsOf.end_of(yesterday)) == (everything, [K3, N1, K2, L1, K1])
    assert _view(engine, AsOf.end_of(today)) == ({**everything, "mike": ANNOUNCED}, [K3, N1, K2, M1, L1, K1])
    assert _view(engine, AsOf.end_of(today, "recorded")) == _view(engine, AsOf.end_of(today))
    assert _view(engine, AsOf.end_of(yesterday, "recorded")) == ({}, [])


def test_a_deal_page_as_publicly_reported(imported_today: tuple[Engine, dt.datetime]):
    engine, _ = imported_today

    def publishers(day: dt.date) -> list[tuple[str, str]]:
        sources = queries.deal_event_sources(engine, "kilo", as_of=AsOf.end_of(day))
        return sorted(zip(sources["publisher"], sources["grade"]))

    # Only the sources published by then are listed: the "Sep 2025" one from 30 Sep.
    assert publishers(D(2025, 7, 1)) == [("Kilo Daily", "B2"), ("Kilo Post", "C2")]
    assert publishers(D(2025, 9, 29)) == [("Kilo Daily", "B2"), ("Kilo Post", "C2")]
    assert publishers(D(2025, 9, 30)) == [("Kilo Daily", "B2"), ("Kilo Post", "C2"), ("Kilo Weekly", "B2")]
    header = queries.deal_header(engine, "kilo", as_of=AsOf.end_of(D(2025, 7, 1)))
    assert (header.stage, header.stage_since, header.event_count) == (NEGOTIATING, D(2025, 6, 10), 2)
    # Roles are the ledger's as it holds them now: the seller named in October is there in July.
    assert (header.buyers, header.sellers) == ("Poland", "Germany")
    assert queries.deal_header(engine, "lima", as_of=AsOf.end_of(D(2025, 12, 30))) is None
    assert queries.deal_header(engine, "lima", as_of=AsOf.end_of(D(2025, 12, 31))).stage == ANNOUNCED
    intervals = queries.deal_stage_intervals(
        engine, "kilo", today=D(2025, 7, 1), as_of=AsOf.end_of(D(2025, 7, 1))
    )
    assert intervals[["stage", "end"]].values.tolist() == [
        [ANNOUNCED, D(2025, 6, 10)],
        [NEGOTIATING, D(2025, 7, 1)],
    ]


def test_retractions_and_regrades_as_the_ledger_holds_them_now(imported_today: tuple[Engine, dt.datetime]):
    engine, _ = imported_today
    with engine.connect() as connection:
        contract = connection.execute(select(Event.id).where(Event.summary == K3)).scalar_one()
    revisions.retract_event(engine, contract, reason="Wrong deal.", editor="alice")
    revisions.regrade_source(engine, 1, "A", reason="Confirmed.", editor="alice")  # Kilo Daily
    as_of = AsOf.end_of(D(2025, 10, 2))
    assert _view(engine, as_of) == ({"kilo": NEGOTIATING, "november": ANNOUNCED}, [N1, K2, K1])
    sources = queries.deal_event_sources(engine, "kilo", as_of=as_of)
    assert min(zip(sources["publisher"], sources["grade"])) == ("Kilo Daily", "A2")


@pytest.mark.parametrize(
    ("day", "precision", "start"),
    [
        # 15 Sep 2025 is a Monday; 14 Sep a Sunday.
        (D(2025, 9, 15), "day", D(2025, 9, 15)),
        (D(2025, 9, 15), "week", D(2025, 9, 8)),
        (D(2025, 9, 14), "week", D(2025, 9, 8)),
        (D(2025, 9, 13), "week", D(2025, 9, 1)),
        (D(2025, 9, 15), "month", D(2025, 8, 1)),
        (D(2025, 9, 30), "month", D(2025, 9, 1)),
        (D(2025, 9, 15), "year", D(2024, 1, 1)),
        (D(2025, 12, 31), "year", D(2025, 1, 1)),
    ],
)
def test_a_partial_date_counts_from_the_end_of_its_period(day: dt.date, precision: str, start: dt.date):
    assert latest_period_start(precision, day) == start


@pytest.mark.parametrize(
    ("start", "precision", "moment", "what"),
    [
        (D(2025, 3, 5), "day", dt.datetime(2025, 3, 5), "published on 2025-03-05"),
        (D(2025, 9, 1), "week", dt.datetime(2025, 9, 7),
         "published in the week of 1 Sep 2025, which counts from its end, 2025-09-07"),
        (D(2025, 9, 1), "month", dt.datetime(2025, 9, 30),
         "published in Sep 2025, which counts from its end, 2025-09-30"),
        (D(2025, 1, 1), "year", dt.datetime(2025, 12, 31),
         "published in 2025, which counts from its end, 2025-12-31"),
    ],
)  # fmt: skip
def test_when_a_source_is_first_shown(start: dt.date, precision: str, moment: dt.datetime, what: str):
    assert first_published(start, precision) == FirstKnown(
        moment, f"the earliest source in this ledger was {what}"
    )


def test_the_empty_state_says_what_the_date_is_doing(
    imported_today: tuple[Engine, dt.datetime], another_ledger
):
    engine, now = imported_today
    reported = queries.first_known(engine, mode="reported")
    before = AsOf.end_of(D(2025, 3, 4))
    assert (reported.shows_nothing(before), reported.shows_nothing(AsOf.end_of(D(2025, 3, 5)))) == (
        True,
        False,
    )
    assert nothing_known(before, reported) == (
        "Nothing was reported by 2025-03-04: the earliest source in this ledger was published on 2025-03-05."
    )
    recorded = queries.first_known(engine, mode="recorded")
    yesterday = AsOf.end_of(now.date() - dt.timedelta(days=1), "recorded")
    assert recorded.shows_nothing(yesterday) and not recorded.shows_nothing(AsOf(now, "recorded"))
    assert nothing_known(yesterday, recorded) == (
        f"Nothing was recorded in this ledger by the end of {yesterday.day.isoformat()} (UTC): the first "
        f"import into this ledger was on {now:%Y-%m-%d} at {now:%H:%M} (UTC)."
    )
    assert nothing_known(AsOf(dt.datetime(2025, 1, 1, 9, 30, 59), "recorded"), recorded).startswith(
        "Nothing was recorded in this ledger by 09:30 on 2025-01-01 (UTC): "
    )
    # Only undated sources: the first is when one was recorded here.
    undated = another_ledger()
    import_bytes(undated, ledger_csv(PUBLISHED[-1]), file_name="undated.csv", editor="test", now=now)
    assert nothing_known(before, queries.first_known(undated, mode="reported")) == (
        "Nothing was reported by 2025-03-04: the earliest source in this ledger has no publication date "
        f"and was recorded here on {now:%Y-%m-%d}."
    )
    assert queries.first_known(another_ledger(), mode="reported") is None


@pytest.mark.parametrize(
    ("as_of", "query"),
    [
        (None, "stage=agreed"),
        (AsOf.end_of(D(2025, 10, 1)), "stage=agreed&as_of=2025-10-01"),
        (AsOf.end_of(D(2025, 10, 1), "recorded"), "stage=agreed&as_of=2025-10-01&as_of_mode=recorded"),
        # As recorded, a chosen minute travels too, as the sidebar writes it (?as_of_time=14:05).
        (
            AsOf.end_of(D(2025, 10, 1), "recorded", dt.time(14, 5)),
            "stage=agreed&as_of=2025-10-01&as_of_mode=recorded&as_of_time=14%3A05",
        ),
        (
            AsOf.end_of(D(2025, 10, 1), "recorded", dt.time(0, 0)),
            "stage=agreed&as_of=2025-10-01&as_of_mode=recorded&as_of_time=00%3A00",
        ),
        # As publicly reported a minute narrows nothing (AsOf.end_of ignores it): none is written.
        (AsOf.end_of(D(2025, 10, 1), "reported", dt.time(14, 5)), "stage=agreed&as_of=2025-10-01"),
    ],
)
def test_the_mode_travels_in_the_url(three: Engine, as_of: AsOf | None, query: str):
    options = queries.filter_options(three)
    filters = Filters(stages=("agreed",))
    assert to_query(filters, options, as_of=as_of) == query
    view = view_from_query(query, options, today=D(2026, 1, 1))
    assert (view.filters, view.as_of, view.ignored) == (filters, as_of, ())


RECORDED_BY = "as_of=2025-10-01&as_of_mode=recorded"
END_OF_DAY = dt.datetime(2025, 10, 1, 23, 59, 59, 999_999)


@pytest.mark.parametrize(
    ("query", "moment", "mode", "ignored"),
    [
        (f"{RECORDED_BY}&as_of_time=14:05", dt.datetime(2025, 10, 1, 14, 5, 59, 999_999), "recorded", []),
        (f"{RECORDED_BY}&as_of_time=14%3A05", dt.datetime(2025, 10, 1, 14, 5, 59, 999_999), "recorded", []),
        # Seconds, as the time picker also reads them, are dropped: the view is the end of the minute.
        (f"{RECORDED_BY}&as_of_time=14:05:30", dt.datetime(2025, 10, 1, 14, 5, 59, 999_999), "recorded", []),
        (f"{RECORDED_BY}&as_of_time=9:05", dt.datetime(2025, 10, 1, 9, 5, 59, 999_999), "recorded", []),
        # The last of repeated values counts, as for every parameter.
        (
            f"{RECORDED_BY}&as_of_time=14:05&as_of_time=09:30",
            dt.datetime(2025, 10, 1, 9, 30, 59, 999_999),
            "recorded",
            [],
        ),
        # Addresses written before the minute travelled: the end of the day.
        (RECORDED_BY, END_OF_DAY, "recorded", []),
        ("as_of=2025-10-01", END_OF_DAY, "reported", []),
        # Publication dates have no time of day: as publicly reported the minute narrows nothing.
        ("as_of=2025-10-01&as_of_time=14:05", END_OF_DAY, "reported", []),
        # Bad minutes are named and left out: the end of the day.
        (f"{RECORDED_BY}&as_of_time=25:00", END_OF_DAY, "recorded", [("as_of_time", "25:00")]),
        (f"{RECORDED_BY}&as_of_time=2pm", END_OF_DAY, "recorded", [("as_of_time", "2pm")]),
        (f"{RECORDED_BY}&as_of_time=14:05:30.5", END_OF_DAY, "recorded", [("as_of_time", "14:05:30.5")]),
        (f"{RECORDED_BY}&as_of_time=1405", END_OF_DAY, "recorded", [("as_of_time", "1405")]),
        # The date and the minute are two parameters, as the sidebar writes them.
        (
            "as_of=2025-10-01T14:05&as_of_mode=recorded",
            None,
            None,
            [("as_of", "2025-10-01T14:05")],
        ),
        # Without a date the ledger now, whatever the minute.
        ("as_of_mode=recorded&as_of_time=14:05", None, None, []),
    ],
)
def test_the_as_of_minute_in_an_address(
    three: Engine,
    query: str,
    moment: dt.datetime | None,
    mode: str | None,
    ignored: list[tuple[str, str]],
):
    view = view_from_query(query, queries.filter_options(three), today=D(2026, 1, 1))
    shown = (view.as_of.moment, view.as_of.mode) if view.as_of is not None else (None, None)
    assert shown == (moment, mode)
    assert [(key, raw) for key, raw, _ in view.ignored] == ignored
    if ignored and ignored[0][0] == "as_of_time":
        (problem,) = (problem for _, _, problem in view.ignored)
        assert (problem.message, problem.fix) == (
            "is not a time of day",
            "write it as HH:MM in UTC, e.g. 14:05",
        )


def test_a_bad_mode_in_an_address_is_reported_and_the_default_used(three: Engine):
    view = view_from_query(
        "as_of=2025-10-01&as_of_mode=RECORDED", queries.filter_options(three), today=D(2026, 1, 1)
    )
    assert view.as_of == AsOf.end_of(D(2025, 10, 1), "reported")
    assert [(key, raw, problem.message) for key, raw, problem in view.ignored] == [
        ("as_of_mode", "RECORDED", "is not a way to read the ledger as of a date")
    ]


# --- the sidebar picker and the empty state in AppTest ------------------------------------------------------


@pytest.mark.usefixtures("fresh_caches")
def test_the_picker_reads_the_date_both_ways_and_the_empty_state_clears_the_date(
    imported_today: tuple[Engine, dt.datetime],
):
    _, now = imported_today
    at = open_page(query={"as_of": "2025-03-04", "country": "POL"})
    assert at.segmented_control(key="as_of_mode").value == "reported"
    assert at.info[-1].value == escape_markdown(
        "Nothing was reported by 2025-03-04: the earliest source in this ledger was published on 2025-03-05."
    )
    assert at.info[0].value.startswith("The ledger as publicly reported by 4 Mar 2025: ")
    assert at.time_input(key="as_of_time").disabled  # publication dates have no time of day
    at.date_input(key="as_of").set_value(D(2025, 7, 1))
    run(at)
    assert {m.label: m.value for m in at.metric}["Deals"] == "1"  # kilo, Poland's deal
    at.segmented_control(key="as_of_mode").set_value("recorded")
    run(at)
    assert not at.time_input(key="as_of_time").disabled
    assert at.info[0].value.startswith(
        "The ledger as recorded in this ledger by the end of 1 Jul 2025 (UTC): "
    )
    assert at.info[-1].value == escape_markdown(
        "Nothing was recorded in this ledger by the end of 2025-07-01 (UTC): the first import into this "
        f"ledger was on {now:%Y-%m-%d} at {now:%H:%M} (UTC)."
    )
    at.button(key="clear-filters-overview-clear-date").click()
    run(at)
    # The date is cleared, the filters kept: Poland's one deal, as the ledger is now.
    assert at.date_input(key="as_of").value is None
    assert at.multiselect(key="country").value == ["POL"]
    assert {m.label: m.value for m in at.metric}["Deals"] == "1"
    assert not any(info.value.startswith("The ledger as") for info in at.info)


@pytest.mark.usefixtures("fresh_caches")
def test_the_picker_reads_the_minute_from_the_address_and_names_a_bad_one(
    imported_today: tuple[Engine, dt.datetime],
):
    _, now = imported_today
    recorded = {"as_of": f"{now:%Y-%m-%d}", "as_of_mode": "recorded"}
    at = open_page(query={**recorded, "as_of_time": f"{now:%H:%M}"})
    assert at.time_input(key="as_of_time").value == dt.time(now.hour, now.minute)
    assert at.info[0].value.startswith(
        f"The ledger as recorded in this ledger by {now:%H:%M} on {now.day} {now:%b %Y} (UTC): "
    )
    assert not at.warning

    at = open_page(query={**recorded, "as_of_time": "25:00"})
    assert [warning.value for warning in at.warning] == [
        escape_markdown(
            "Ignored in the address: as_of_time=25:00 (is not a time of day; write it as HH:MM in UTC, e.g. "
            "14:05). The page shows the ledger without them."
        )
    ]
    assert at.time_input(key="as_of_time").value is None
    assert at.info[0].value.startswith(
        f"The ledger as recorded in this ledger by the end of {now.day} {now:%b %Y} (UTC): "
    )


@pytest.mark.usefixtures("fresh_caches")
def test_filters_that_match_nothing_on_a_known_day_offer_both_clears(
    imported_today: tuple[Engine, dt.datetime],
):
    at = open_page(query={"as_of": "2025-07-01", "country": "EST"})  # Lima, reported on 31 Dec
    assert at.info[-1].value == escape_markdown(
        "No deals match these filters as publicly reported by 1 Jul 2025. Clear or loosen the filters in "
        "the sidebar, or clear the date."
    )
    assert [b.label for b in at.button if b.key and b.key.startswith("clear-filters-overview")] == [
        "Clear filters",
        "Clear the date",
    ]
    at.button(key="clear-filters-overview").click()
    run(at)
    assert at.multiselect(key="country").value == []
    assert at.date_input(key="as_of").value == D(2025, 7, 1)
    assert {m.label: m.value for m in at.metric}["Deals"] == "1"


@pytest.mark.usefixtures("fresh_caches")
def test_a_deal_not_yet_reported_offers_to_clear_the_date(imported_today: tuple[Engine, dt.datetime]):
    at = open_page(page_path("deal"), query={"deal": "lima", "as_of": "2025-12-30"})
    assert at.warning[-1].value == (
        "The ledger did not hold a deal with id “lima” as publicly reported by 30 Dec 2025. Check the link, "
        "or find the deal on the Deals page."
    )
    at.button(key="deal-clear-date").click()
    run(at)
    assert at.date_input(key="as_of").value is None
    assert {m.label: m.value for m in at.metric}["Stage"] == "announced"


@pytest.mark.parametrize(
    ("mode", "minute", "moment"),
    [
        ("reported", None, dt.datetime(2025, 10, 1, 23, 59, 59, 999_999)),
        ("reported", dt.time(9, 30), dt.datetime(2025, 10, 1, 23, 59, 59, 999_999)),  # no time of day
        ("recorded", None, dt.datetime(2025, 10, 1, 23, 59, 59, 999_999)),
        ("recorded", dt.time(9, 30), dt.datetime(2025, 10, 1, 9, 30, 59, 999_999)),
    ],
)
def test_a_minute_narrows_only_the_view_as_recorded(mode: str, minute: dt.time | None, moment: dt.datetime):
    assert AsOf.end_of(D(2025, 10, 1), mode, minute) == AsOf(moment, mode)
