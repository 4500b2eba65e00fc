"""The dashboard through Streamlit's AppTest: every page on the seed and on an empty ledger, filters,
the deal page, as-of views, the upload flow (login, check, reject, commit, undo, seed), and adding rows
from an article (draft, edit the grid, check, commit)."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from tests.apptest import open_page, run
from tests.builders import (
    EPSILON_BAD_CSV,
    EPSILON_CSV,
    THREE_DEALS,
    event_row,
    ledger_csv,
    many_deals,
    row,
    titles_in_order,
)
from tracker import queries
from tracker.auth import hash_password
from tracker.display import WORD_JOINER as J
from tracker.display import escape_markdown
from tracker.drafting.text import split_sentences
from tracker.filters import FILTER_BY_KEY, Filters
from tracker.importer import import_bytes, undo_import
from tracker.seed import SEED_DIR
from tracker.views.editors import EDITOR_SESSIONS, SECRET

pytestmark = pytest.mark.usefixtures("fresh_caches")
OVERVIEW, PIPELINE, DEALS, DEAL, SOURCES, UPLOAD, ARTICLE = (
    f"tracker/views/{name}.py"
    for name in ("overview", "pipeline", "deals", "deal", "sources", "upload", "article")
)
PAGES = (OVERVIEW, PIPELINE, DEALS, DEAL, SOURCES, UPLOAD, ARTICLE)
SEED_DEAL = "us-ukraine-drone-deal"
PASSWORD = "correct horse battery staple"
EDITORS = {"alice": hash_password(PASSWORD)}


@pytest.fixture
def emptied(seeded: Engine) -> Engine:
    """A ledger with no deals that has had an import (the seed, undone), so the app does not re-seed it."""
    undo_import(seeded, 1, editor="test")
    return seeded


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest, kind: str) -> list[str]:
    return [element.value for element in getattr(at, kind)]


def table(at: AppTest, *columns: str):  # a pandas DataFrame
    """The first table showing all these columns (tables without selections carry no key in AppTest)."""
    for frame in at.dataframe:
        if set(columns) <= set(frame.value.columns):
            return frame.value
    raise KeyError(columns)


def chart_specs(at: AppTest) -> dict[str, dict]:
    return {chart.key: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}


# --- every page renders -----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_seed(seeded: Engine, page: str) -> None:
    at = open_page(page)
    assert at.title[0].value in {
        "Overview", "Pipeline", "Deals", "Deal page", "Sources", "Upload", "Add from article"
    }  # fmt: skip
    assert not at.error


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_ledger(emptied: Engine, page: str) -> None:
    at = open_page(page)
    shown = " ".join(texts(at, "info") + texts(at, "warning"))
    if page in (OVERVIEW, PIPELINE, DEALS, SOURCES):
        assert "The ledger holds no deals yet" in shown
        assert [link.proto.page for link in at.get("page_link")] == ["upload"]
    elif page == DEAL:
        assert "Choose a deal" in shown


def test_first_run_seeds_a_ledger_that_never_had_an_import(engine: Engine) -> None:
    at = open_page()
    assert metrics(at)["Deals"] == "1"


def test_an_import_from_elsewhere_shows_on_the_next_run(seeded: Engine) -> None:
    at = open_page(DEALS)
    assert len(at.dataframe(key="deals-table").value) == 1
    import_bytes(seeded, ledger_csv(*THREE_DEALS), file_name="three.csv", editor="cli")  # e.g. the CLI
    run(at)
    assert len(at.dataframe(key="deals-table").value) == 4


# --- overview ---------------------------------------------------------------------------------------------


def test_overview_on_the_seed(seeded: Engine) -> None:
    at = open_page()
    today = dt.date.today()  # the page counts from the real today
    stale = int((today - dt.date(2025, 10, 17)).days > 60)
    this_month = 3 if (today.year, today.month) == (2025, 10) else 0
    assert metrics(at) == {
        "Deals": "1",
        "Active deals": "1",
        f"Events in {today:%B %Y}": str(this_month),
        "Stale deals": str(stale),
    }
    assert at.caption[0].value == "All deals"
    # What the tool is and where its data come from, for a first visit.
    assert at.caption[1].value.startswith(
        "A ledger of defence deals still being made: who buys what from whom"
    )
    assert "SIPRI's arms-transfers register." in at.caption[1].value
    specs = chart_specs(at)
    assert set(specs) == {"chart-stages", "chart-map", "chart-stage-country", "chart-flows"}
    assert specs["chart-stages"]["data"][0]["y"] == [0, 1, 0, 0, 0, 0, 0, 0, 0]
    choropleth = specs["chart-map"]["data"][0]
    assert (choropleth["type"], choropleth["locations"], choropleth["z"]) == (
        "choropleth",
        ["UKR", "USA"],
        [1, 1],
    )
    assert specs["chart-stage-country"]["data"][0]["y"] == ["Ukraine", "United States"]
    assert specs["chart-flows"]["data"][0]["node"]["label"] == ["United States (buyer)", "Ukraine (seller)"]
    configs = {chart.key: json.loads(chart.proto.config) for chart in at.get("plotly_chart")}
    assert configs["chart-map"]["topojsonURL"] == "app/static/topojson/"
    events = at.dataframe(key="latest-events").value
    assert len(events) == 14
    assert events["sources"].iloc[0] == "The Independent (B2)"


def test_overview_filters_change_counts(three: Engine, caplog: pytest.LogCaptureFixture) -> None:
    at = open_page()
    assert metrics(at)["Deals"] == "3"
    at.multiselect(key="country").set_value(["UKR"])
    run(at)
    assert metrics(at)["Deals"] == "2"
    assert metrics(at)["Active deals"] == "1"  # gamma is cancelled
    assert at.caption[0].value == "Deals with Ukraine as buyer or seller"
    at.segmented_control(key="country_as").set_value("seller")
    run(at)
    assert "No deals match these filters" in " ".join(texts(at, "info"))
    at.button(key="clear-filters-overview").click()
    run(at)
    assert metrics(at)["Deals"] == "3"
    # Clearing set the scope and role in the session; no widget also gave a default (a server-log warning).
    assert not [r for r in caplog.records if "Session State API" in r.getMessage()]


@pytest.mark.parametrize(
    ("query", "deals", "caption"),
    [
        ({"stage": ["negotiating", "cancelled"]}, "2", "Deals stage negotiating or cancelled"),
        ({"category": "tanks"}, "1", "Deals category tanks"),
        ({"q": "patriot"}, "1", 'Deals mentioning "patriot"'),
        ({"grade": "A"}, "1", "Deals sourced at grade A or better"),
        ({"since": "2025-01-01"}, "2", "Deals since 2025-01-01"),
        ({"country": "USA", "country_as": "seller"}, "1", "Deals with United States as seller"),
        ({"party_role": "manufacturer"}, "1", "Deals with a party as manufacturer"),
    ],
)
def test_filters_from_the_url(three: Engine, query: dict, deals: str, caption: str) -> None:
    at = open_page(query=query)
    assert metrics(at)["Deals"] == deals
    assert at.caption[0].value == escape_markdown(caption)
    for page, table in ((DEALS, "deals-table"), (PIPELINE, None)):
        at.switch_page(page)
        run(at)
        if table:
            assert len(at.dataframe(key=table).value) == int(deals)


# Per filter (tracker.filters.FILTERS): a value in the URL, the Filters value it gives, the deals it keeps.
URL_CASES = {
    "scope": ("making", "making", "3"),
    "country": ("POL", ("POL",), "1"),
    "country_as": ("seller", "seller", "3"),
    "stage": ("negotiating", ("negotiating",), "1"),
    "party": ("Rheinmetall (DEU)", "Rheinmetall", "1"),  # the party's id, looked up below
    "party_role": ("manufacturer", ("manufacturer",), "1"),
    "category": ("tanks", ("tanks",), "1"),
    "since": ("2025-01-01", dt.date(2025, 1, 1), "2"),
    "until": ("2024-01-01", dt.date(2024, 1, 1), "1"),
    "q": ("patriot", "patriot", "1"),
    "grade": ("A", "A", "1"),
}


def test_url_cases_cover_every_filter() -> None:
    assert sorted(URL_CASES) == sorted(FILTER_BY_KEY)


@pytest.mark.parametrize("key", sorted(URL_CASES))
def test_every_filter_round_trips_through_its_url_key(three: Engine, key: str) -> None:
    spec = FILTER_BY_KEY[key]
    raw, expected, deals = URL_CASES[key]
    if key == "party":
        parties = queries.filter_options(three).parties
        expected = tuple(parties.loc[parties["name"] == expected, "party_id"])
    at = open_page(query={key: raw})
    assert spec.from_widget(at.session_state[key]) == expected
    assert metrics(at)["Deals"] == deals
    wanted = Filters(**{spec.field: expected})
    assert at.caption[0].value == escape_markdown(wanted.caption(party_names=lambda _: "Rheinmetall (DEU)"))


def test_stage_filter_on_pipeline_and_sources(three: Engine) -> None:
    at = open_page(PIPELINE, query={"stage": "negotiating"})
    assert [b.key for b in at.button if b.key and b.key.startswith("open-")] == ["open-beta"]
    at.switch_page(SOURCES)
    run(at)
    sources = table(at, "publisher", "reliability_meaning")
    assert sources["publisher"].tolist() == ["Beta News"]


# --- scope: deals in the making and SIPRI-recorded transfers ------------------------------------------------

SIPRI_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sipri" / "classic-2024.csv"
MAKING_NOTE = (
    "Showing deals in the making. The ledger also holds SIPRI-recorded transfers (deals known only from "
    "database sources): choose “All” under Scope in the sidebar to include them."
)
RECORDED_NOTE = (
    "Showing SIPRI-recorded transfers (deals known only from database sources). The ledger also holds "
    "deals in the making: choose “All” under Scope in the sidebar to include them."
)


@pytest.fixture
def sipri_only(engine: Engine) -> Engine:
    """The SIPRI fixture register: 11 transfers, every event told by the register (kind "database")."""
    import_bytes(engine, SIPRI_FIXTURE.read_bytes(), file_name="classic-2024.csv", editor="test")
    return engine


def test_sipri_deals_are_told_apart_dated_as_reported_and_their_tiv_is_no_money(sipri_only: Engine) -> None:
    at = open_page(DEALS)
    deals = at.dataframe(key="deals-table").value.set_index("deal_id")
    shown = ["label", "stage", "first_event", "last_event", "in_stage_since", "sipri_tiv"]
    assert deals.loc["sipri-c-cacf18331c", shown].tolist() == [
        "TX-100 Testbird (trainer aircraft) — France to Côte d'Ivoire, ordered 2017, 6 units",
        "completed",
        "2017",  # not 1 Jan 2017
        "2019",
        "2019",
        27.0,
    ]
    # The number ordered unknown (SIPRI's 0): the order year alone, and no TIV.
    row = deals.loc["sipri-c-1d84fc195a", shown].tolist()
    assert row[:5] == [
        "TX-300 Testmissile (anti-tank missile) — Russia to Algeria, ordered 2020",
        "delivering",
        "2020",
        "2022",
        "2022",
    ]
    assert math.isnan(row[5])
    # Stored titles stay as imported.
    assert (
        deals.loc["sipri-c-cacf18331c", "title"]
        == "TX-100 Testbird (trainer aircraft) — France to Côte d'Ivoire"
    )

    at = open_page(DEAL, query={"deal": "sipri-c-cacf18331c"})
    assert at.title[0].value == escape_markdown(
        "TX-100 Testbird (trainer aircraft) — France to Côte d'Ivoire, ordered 2017, 6 units"
    )
    assert metrics(at) == {
        "Stage": "completed",
        "Completed in": "2019",  # no days in stage for a completed deal
        "Last news": "2019",
        "Events": "3",
        "Value": "not stated",  # the TIV is never a value
    }
    facts = [text for text in texts(at, "markdown") if text.startswith("**Buyers:**")]
    assert facts == [
        (
            "**Buyers:** Côte d\\'Ivoire · **Sellers:** France · **Category:** trainer aircraft · "
            "**Quantity:** 6 · **SIPRI TIV (millions, a volume index, not money):** 27 m TIV"
        )
    ]
    stages = table(at, "stage", "days", "first_entered")
    assert stages[["stage", "first_entered"]].values.tolist() == [
        ["contracted", "2017"],
        ["delivering", "2018"],
        ["completed", "2019"],
    ]
    assert [None if pd.isna(days) else int(days) for days in stages["days"]] == [365, 365, None]
    timeline = chart_specs(at)["chart-deal-timeline"]["data"]
    assert [(trace["customdata"][0][1], trace["hovertemplate"]) for trace in timeline[:3]] == [
        ("2017 – 2018", "%{y}: %{customdata[1]}<br>%{customdata[0]} days (%{customdata[2]})<extra></extra>"),
        ("2018 – 2019", "%{y}: %{customdata[1]}<br>%{customdata[0]} days (%{customdata[2]})<extra></extra>"),
        ("since 2019", "%{y} %{customdata[1]}<extra></extra>"),  # no count of days to today
    ]
    assert [mark[0] for mark in timeline[3]["customdata"]] == ["2017", "2018", "2019"]

    at = open_page(PIPELINE)
    cards = [text for text in texts(at, "markdown") if text.startswith("**TX")]
    label = "TX-950 Testjet (fighter aircraft) — Sweden to Brazil, ordered 2023, 4 units"
    assert cards[0] == f"**{escape_markdown(label)}**"
    # A completed deal's card: its last news as reported, no days in stage.
    assert [text for text in texts(at, "caption") if text.startswith("Buyer: Côte")] == [
        "Buyer: Côte d\\'Ivoire  \nSeller: France  \nLast news: 2019  \nLatest source: A3"
    ]


def test_a_completed_deal_page_does_without_the_stale_thresholds(
    sipri_only: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They are read from every event in the ledger (seconds beside a whole register); a completed deal is
    never stale."""

    calls = []
    read = queries.stale_thresholds

    def stale_thresholds(engine: Engine) -> dict[str, int]:
        calls.append(engine)
        return read(engine)

    monkeypatch.setattr(queries, "stale_thresholds", stale_thresholds)
    at = open_page(OVERVIEW, query={"deal": "sipri-c-cacf18331c"})  # the overview reads them
    assert len(calls) == 1
    st.cache_data.clear()
    at.switch_page(DEAL)
    run(at)
    assert len(calls) == 1  # not again for the deal page, with nothing cached
    (news,) = [metric for metric in at.metric if metric.label == "Last news"]
    assert (news.value, news.proto.help) == (
        "2019",
        "Completed and cancelled deals, and deals with no stage yet, are never stale.",
    )


@pytest.fixture
def mixed(sipri_only: Engine) -> Engine:
    """The SIPRI fixture register and three news deals."""
    import_bytes(sipri_only, ledger_csv(*THREE_DEALS), file_name="three.csv", editor="test")
    return sipri_only


def test_a_ledger_with_both_kinds_opens_on_deals_in_the_making(mixed: Engine) -> None:
    at = open_page()
    assert (metrics(at)["Deals"], at.caption[0].value) == ("3", "Deals in the making")
    assert texts(at, "info") == [MAKING_NOTE]
    assert "scope" not in at.query_params  # the default stays out of the address
    at.switch_page(DEALS)
    run(at)
    assert sorted(at.dataframe(key="deals-table").value["deal_id"]) == ["alpha", "beta", "gamma"]

    at.switch_page(OVERVIEW)
    at.segmented_control(key="scope").set_value("all")
    run(at)
    assert (metrics(at)["Deals"], at.caption[0].value, texts(at, "info")) == ("14", "All deals", [])
    assert at.query_params["scope"] == "all"
    at.segmented_control(key="scope").set_value("recorded")
    run(at)
    assert metrics(at)["Deals"] == "11"
    assert texts(at, "info") == [RECORDED_NOTE]
    assert at.query_params["scope"] == "recorded"
    at.button(key="clear-filters").click()
    run(at)
    assert (metrics(at)["Deals"], at.segmented_control(key="scope").value) == ("3", "making")
    assert "scope" not in at.query_params


@pytest.mark.parametrize(
    ("query", "deals", "caption"),
    [
        ({"scope": "all"}, "14", "All deals"),
        (
            {"scope": "recorded", "country": "UKR"},
            "1",
            "Deals recorded by SIPRI (database sources only), with Ukraine as buyer or seller",
        ),
        ({"scope": "making", "country": "UKR"}, "2", "Deals in the making, with Ukraine as buyer or seller"),
    ],
)
def test_scope_from_the_url(mixed: Engine, query: dict, deals: str, caption: str) -> None:
    at = open_page(query=query)
    assert (metrics(at)["Deals"], at.caption[0].value) == (deals, escape_markdown(caption))


@pytest.mark.parametrize(("ledger", "deals"), [("three", "3"), ("sipri_only", "11")])
def test_a_ledger_of_one_kind_shows_all(request: pytest.FixtureRequest, ledger: str, deals: str) -> None:
    request.getfixturevalue(ledger)
    at = open_page()
    assert (metrics(at)["Deals"], at.caption[0].value, texts(at, "info")) == (deals, "All deals", [])
    assert at.segmented_control(key="scope").value == "all"


# --- the country filter by name -----------------------------------------------------------------------------


@pytest.fixture
def four_countries(engine: Engine) -> Engine:
    import_bytes(
        engine,
        ledger_csv(
            event_row(
                "one",
                "2025-01-01",
                "One.",
                source="Wire",
                grade="B",
                stage="announced",
                deal_title="One",
                buyer="UK",
                seller="Türkiye",
            ),
            event_row(
                "two",
                "2025-02-01",
                "Two.",
                source="Wire",
                grade="B",
                stage="announced",
                deal_title="Two",
                buyer="Ukraine",
                seller="USA",
            ),
        ),
        file_name="four.csv",
        editor="test",
    )
    return engine


def test_countries_are_shown_by_name_with_their_code(four_countries: Engine) -> None:
    at = open_page()
    country = at.multiselect(key="country")
    assert country.options == [
        "Türkiye (TUR)",
        "Ukraine (UKR)",
        "United Kingdom (GBR)",
        "United States (USA)",
    ]
    assert country.label == "Country"
    assert len(country.help) < 120


@pytest.mark.parametrize(
    ("typed", "codes", "caption"),
    [
        (["Türkiye"], ["TUR"], "Deals with Türkiye as buyer or seller"),
        (["Turkey", "UK"], ["TUR", "GBR"], "Deals with Türkiye or United Kingdom as buyer or seller"),
        (["ukraine", "UKR"], ["UKR"], "Deals with Ukraine as buyer or seller"),
    ],
)
def test_countries_are_found_by_name_alias_or_code(
    four_countries: Engine, typed: list[str], codes: list[str], caption: str
) -> None:
    at = open_page()
    at.multiselect(key="country").set_value(typed)
    run(at)
    assert at.session_state["country"] == codes
    assert at.caption[0].value == escape_markdown(caption)
    assert at.query_params["country"] == (codes if len(codes) > 1 else codes[0])  # codes, not names
    assert texts(at, "warning") == []


def test_a_typed_country_that_selects_nothing_is_explained(four_countries: Engine) -> None:
    at = open_page()
    at.multiselect(key="country").set_value(["Chile", "Atlantis", "UKR"])
    run(at)
    assert at.session_state["country"] == ["UKR"]
    assert texts(at, "warning") == [
        escape_markdown("No deal in this ledger involves Chile (CHL)."),
        escape_markdown(
            '“Atlantis”: unknown country "Atlantis". Use a country name or an ISO 3166 code such as UKR.'
        ),
    ]


# --- values in a shared URL that cannot be used -------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "ignored"),
    [
        ({"country": "Ukraine"}, "country=Ukraine (not an option of “Country”; write country=UKR)"),
        (
            {"stage": ["negotiating", "signed"]},
            (
                "stage=signed (not an option of “Current stage”; use one of announced, negotiating, agreed, "
                "approved, contracted, delivering, completed, stalled, cancelled)"
            ),
        ),
        (
            {"since": "2025-13-45"},
            "since=2025-13-45 (is not a date; write it as YYYY-MM-DD, e.g. 2025-07-01)",
        ),
        ({"grade": "Z"}, "grade=Z (not an option of “Minimum source grade”; use one of A, B, C, D, E, F)"),
        ({"q": "\x00"}, "q=\\x00 (contains a control character; remove it from the address)"),
        (
            {"scope": "everything"},
            "scope=everything (not an option of “Scope”; use one of making, recorded, all)",
        ),
        (
            {"as_of_mode": "published"},
            (
                "as_of_mode=published (is not a way to read the ledger as of a date; use reported (as "
                "publicly reported by the date, the default) or recorded (as recorded in this ledger by the "
                "date))"
            ),
        ),
        (
            {"as_of": "2999-01-01"},
            # {today}: filled in when the test runs (the page's today), not when it is collected.
            "as_of=2999-01-01 (is out of range; use a date from 1950-01-01 to {today})",
        ),
    ],
)
def test_bad_url_values_are_reported_and_ignored(three: Engine, query: dict, ignored: str) -> None:
    at = open_page(query=query)
    ignored = ignored.replace("{today}", dt.date.today().isoformat())
    assert texts(at, "warning") == [
        escape_markdown(f"Ignored in the address: {ignored}. The page shows the ledger without them.")
    ]
    (key,) = query
    assert metrics(at)["Deals"] == ("1" if key == "stage" else "3")  # the good stage of the two is kept
    assert at.query_params.get(key) == ("negotiating" if key == "stage" else None)  # the bad value is gone
    run(at)
    assert texts(at, "warning") == []  # said once, when the address held it


def test_several_bad_url_values_make_one_warning(three: Engine) -> None:
    at = open_page(query={"country": "Ukraine", "stage": "signed", "q": "drones\x00"})
    (warning,) = texts(at, "warning")
    assert warning == escape_markdown(
        "Ignored in the address: country=Ukraine (not an option of “Country”; write country=UKR); "
        "stage=signed (not an option of “Current stage”; use one of announced, negotiating, agreed, "
        "approved, contracted, delivering, completed, stalled, cancelled); "
        "q=drones\\x00 (contains a control character; remove it from the address). "
        "The page shows the ledger without them."
    )
    assert (metrics(at)["Deals"], at.caption[0].value) == ("3", "All deals")
    assert at.text_input(key="q").value == ""


def test_a_url_repeating_bad_values_gives_a_short_warning(three: Engine) -> None:
    at = open_page(query={"category": [f"c{i:02d}" for i in range(12)]})
    (warning,) = texts(at, "warning")
    assert warning.count(escape_markdown("category=")) == 10
    assert warning.endswith(escape_markdown("; and 2 more. The page shows the ledger without them."))


def test_a_bad_deal_id_in_the_url_is_reported(seeded: Engine) -> None:
    at = open_page(DEAL, query={"deal": "us-ukraine\x00"})
    assert texts(at, "warning") == [
        escape_markdown(
            "Ignored in the address: deal=us-ukraine\\x00 (contains a control character; remove it from the "
            "address). The page shows the ledger without them."
        )
    ]
    assert "Choose a deal" in texts(at, "info")[0]
    assert "deal" not in at.query_params


# --- pipeline, deals, sources -----------------------------------------------------------------------------


def test_pipeline_shows_a_card_per_deal(three: Engine) -> None:
    at = open_page(PIPELINE)
    # A lane for each stage that holds deals, in the stages' order; every stage's count above the board.
    assert [text for text in texts(at, "markdown") if " · " in text] == [
        "**Negotiating** · 1 deal",
        "**Contracted** · 1 deal",
        "**Cancelled** · 1 deal",
    ]
    assert (
        "Deals by stage: Announced 0 · Negotiating 1 · Agreed 0 · Approved 0 · Contracted 1 · Delivering 0 · "
        "Completed 0 · Stalled 0 · Cancelled 1." in texts(at, "caption")
    )
    assert sorted(b.key for b in at.button if b.key and b.key.startswith("open-")) == [
        "open-alpha",
        "open-beta",
        "open-gamma",
    ]
    at.button(key="open-beta").click()
    run(at)
    assert at.title[0].value == "Beta air defence"


def test_deals_table_row_opens_the_deal_page(seeded: Engine) -> None:
    at = open_page(DEALS)
    table = at.dataframe(key="deals-table").value
    assert table[["title", "stage", "value"]].values.tolist() == [
        ["US–Ukraine Drone Deal", "negotiating", "10–30 bn USD"]
    ]
    assert "1 deal, sorted by last event, descending." in " ".join(texts(at, "caption"))  # not "1 deals"
    assert {b.proto.label for b in at.get("download_button")} >= {"Deals table (CSV)", "Workbook (XLSX)"}
    at.session_state["deals-table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    run(at)
    assert at.title[0].value == "US–Ukraine Drone Deal"
    assert at.query_params["deal"] == SEED_DEAL


MANY = 620


@pytest.fixture
def many(engine: Engine) -> Engine:
    import_bytes(engine, ledger_csv(*many_deals(MANY)), file_name="many.csv", editor="test")
    return engine


def test_deals_table_sorts_and_pages_the_whole_ledger(many: Engine) -> None:
    at = open_page(DEALS)
    deals = at.dataframe(key="deals-table").value
    assert (len(deals), deals["deal_id"].iloc[0]) == (500, f"deal-{MANY - 1:03d}")  # the latest event first
    assert texts(at, "caption")[1].startswith(
        "Deals 1–500 of 620 (page 1 of 2), sorted by last event, descending. Sort and page with the controls"
    )
    order = at.selectbox(key="order")
    assert order.options[:4] == [
        "Last event, descending",
        "Last event, ascending",
        "First event, descending",
        "First event, ascending",
    ]
    order.set_value(("title", "asc"))
    run(at)
    assert at.dataframe(key="deals-table").value["title"].tolist() == titles_in_order(many_deals(MANY))[:500]
    assert dict(at.query_params) == {"sort": "title"}  # ascending is the natural way for names
    at.number_input(key="page").set_value(2)
    run(at)
    assert at.dataframe(key="deals-table").value["title"].tolist() == titles_in_order(many_deals(MANY))[500:]
    assert dict(at.query_params) == {"sort": "title", "page": "2"}
    at.selectbox(key="order").set_value(("title", "desc"))
    run(at)
    assert at.number_input(key="page").value == 1  # a new order starts on page 1
    assert (
        at.dataframe(key="deals-table").value["title"].tolist()
        == titles_in_order(many_deals(MANY), descending=True)[:500]
    )
    assert dict(at.query_params) == {"sort": "title", "dir": "desc"}
    at.multiselect(key="country").set_value(["POL"])
    run(at)
    assert len(at.dataframe(key="deals-table").value) == MANY // 2
    assert not at.number_input  # one page: no page control


def test_deals_table_order_and_page_from_the_url(many: Engine) -> None:
    at = open_page(DEALS, query={"sort": "title", "dir": "desc", "page": "2"})
    assert (
        at.dataframe(key="deals-table").value["title"].tolist()
        == titles_in_order(many_deals(MANY), descending=True)[500:]
    )
    assert texts(at, "warning") == []


def test_deals_table_bad_order_in_the_url_is_reported(many: Engine) -> None:
    at = open_page(DEALS, query={"sort": "colour", "dir": "up", "page": "3"})
    assert texts(at, "warning") == [
        escape_markdown(
            "Ignored in the address: sort=colour (not a column the table sorts by; use one of "
            "last_event, first_event, title, stage, stage_since, buyers, sellers, category, value, events, "
            "sipri_tiv); "
            "dir=up (not a direction; use asc or desc); page=3 (not a page of this table; use a page from 1 "
            "to 2). The page shows the ledger without them."
        )
    ]
    assert at.dataframe(key="deals-table").value["deal_id"].iloc[0] == f"deal-{MANY - 1:03d}"
    assert dict(at.query_params) == {}


def test_sources_page_lists_weakly_sourced_deals(three: Engine) -> None:
    at = open_page(SOURCES)
    assert len(table(at, "publisher", "reliability_meaning")) == 3
    weak = at.dataframe(key="weak-deals-table").value
    assert weak[["title", "sources", "best_grade"]].values.tolist() == [["Gamma shells", 1, "E"]]


# --- deal page ----------------------------------------------------------------------------------------------


def test_deal_page_from_the_url(seeded: Engine) -> None:
    at = open_page(DEAL, query={"deal": SEED_DEAL})
    assert at.title[0].value == "US–Ukraine Drone Deal"
    assert metrics(at)["Stage"] == "negotiating"
    assert metrics(at)["Value"] == "10–30 bn USD"
    assert metrics(at)["Events"] == "14"
    assert metrics(at)["Last news"] == "17 Oct 2025"
    stale = dt.date.today() >= dt.date(2025, 12, 17)  # 61 days after the last news (taken at run time)
    assert (
        f"{'Stale' if stale else 'Not stale'}: a negotiating deal is stale after 60 days without news in "
        "this ledger (from 17 Dec 2025)."
    ) in [caption.value for caption in at.caption]
    (conflict,) = texts(at, "warning")
    assert "delegation dates" in conflict and "29 Sep – 2 Oct 2025" in conflict
    assert "[Ukrainska Pravda \\(B3\\)](<https://www.pravda.com.ua/eng/news/2025/09/24/7532305/>)" in conflict
    events = table(at, "date", "summary", "topic")
    assert len(events) == 14
    links = table(at, "publisher", "grade", "url")
    assert len(links) == 20
    assert links["url"].dropna().str.match(r"^https?://").all()
    timeline = chart_specs(at)["chart-deal-timeline"]
    assert [trace["y"] for trace in timeline["data"][:2]] == [["announced"], ["negotiating"]]
    assert len(timeline["data"][2]["x"]) == 14  # a mark per event
    assert table(at, "stage", "days", "since")["stage"].tolist() == ["announced", "negotiating"]
    assert table(at, "value", "quantity")["value"].tolist() == ["10–30 bn USD"]
    roles = " ".join(texts(at, "markdown"))
    assert (
        "**Buyer:** US Department of Defense \\(ministry\\, USA\\), United States \\(state\\, USA\\)" in roles
    )


def test_a_completed_deal_known_to_the_year(engine: Engine) -> None:
    import_bytes(
        engine,
        ledger_csv(
            event_row(
                "old", "2019", "Ordered.", source="Register", grade="B", stage="contracted", deal_title="Old"
            ),
            event_row(
                "old",
                "2023",
                "Delivered.",
                source="Register",
                grade="B",
                stage="completed",
                party="Army procurement office",
                party_role="buyer",
                party_kind="ministry",
            ),
        ),
        file_name="old.csv",
        editor="test",
    )
    at = open_page(DEAL, query={"deal": "old"})
    assert "**Buyer:** Army procurement office \\(ministry\\)" in " ".join(texts(at, "markdown"))  # no "nan"
    assert {k: v for k, v in metrics(at).items() if k != "Value"} == {
        "Stage": "completed",
        "Completed in": "2023",  # not "1 Jan 2023", nor thousands of days in stage
        "Last news": "2023",
        "Events": "2",
    }
    at = open_page(PIPELINE)
    assert [e.label for e in at.expander] == ["Show 1 deal"]  # completed deals are folded away
    (card,) = [text for text in texts(at, "caption") if text.startswith("Buyer:")]
    assert card == "Buyer: not stated  \nSeller: not stated  \nLast news: 2023  \nLatest source: B2"
    assert "Army procurement office" in [o for o in at.multiselect(key="party").options]


def test_deal_page_for_an_unknown_deal(seeded: Engine) -> None:
    at = open_page(DEAL, query={"deal": "no-such-deal"})
    assert "did not hold a deal" in texts(at, "warning")[0]


@pytest.fixture
def two_imports(engine: Engine) -> Engine:
    import_bytes(
        engine,
        now=dt.datetime(2025, 8, 1, 12, 0),
        data=ledger_csv(
            *[
                event_row(
                    "delta",
                    "2025-07-01",
                    "Delta is announced.",
                    source="Delta Daily",
                    grade="B",
                    stage="announced",
                    deal_title="Delta drones",
                    buyer="Ukraine",
                    category="UAV",
                )
            ]
        ),
        file_name="first.csv",
        editor="test",
    )
    import_bytes(
        engine,
        now=dt.datetime(2025, 10, 1, 12, 0),
        data=ledger_csv(
            *[
                event_row(
                    "delta",
                    "2025-09-01",
                    "Delta talks begin.",
                    source="Delta Weekly",
                    grade="C",
                    stage="negotiating",
                    seller="Poland",
                )
            ]
        ),
        file_name="second.csv",
        editor="test",
    )
    return engine


def test_as_of_hides_later_events(two_imports: Engine) -> None:
    at = open_page(DEAL, query={"deal": "delta"})
    assert (metrics(at)["Stage"], metrics(at)["Events"]) == ("negotiating", "2")
    at.date_input(key="as_of").set_value(dt.date(2025, 8, 15))
    run(at)
    assert (metrics(at)["Stage"], metrics(at)["Events"]) == ("announced", "1")
    assert table(at, "date", "summary", "topic")["summary"].tolist() == ["Delta is announced."]
    # The sources give no publication date: as reported, they count from when they were recorded here.
    assert texts(at, "info")[0].startswith("The ledger as publicly reported by 15 Aug 2025: ")
    at.segmented_control(key="as_of_mode").set_value("recorded")
    run(at)
    assert (metrics(at)["Stage"], metrics(at)["Events"]) == ("announced", "1")
    assert texts(at, "info")[0].startswith(
        "The ledger as recorded in this ledger by the end of 15 Aug 2025 (UTC): events recorded later"
    )
    at.switch_page(OVERVIEW)
    run(at)
    assert at.dataframe(key="latest-events").value["summary"].tolist() == ["Delta is announced."]
    stages = chart_specs(at)["chart-stages"]["data"][0]
    assert stages["y"][:2] == [1, 0]  # announced 1, negotiating 0
    at.date_input(key="as_of").set_value(None)
    run(at)
    assert len(at.dataframe(key="latest-events").value) == 2


def test_markdown_in_ledger_text_is_not_rendered(engine: Engine) -> None:
    import_bytes(
        engine,
        ledger_csv(
            *[
                event_row(
                    "evil",
                    "2025-01-01",
                    "A [link](https://evil.example) and **bold**.",
                    source="Evil",
                    grade="B",
                    stage="announced",
                    deal_title="Evil :red[deal] [x](javascript:alert(1))",
                )
            ]
        ),
        file_name="evil.csv",
        editor="test",
    )
    at = open_page(DEAL, query={"deal": "evil"})
    assert at.title[0].value == f"Evil \\:{J}red\\[deal\\] \\[x\\]\\(javascript\\:{J}alert\\(1\\)\\)"


def test_addresses_in_ledger_text_render_as_text(engine: Engine) -> None:
    """GFM would link a bare address even after escaping; the word joiner (J) in each keeps it text."""
    summary = "Talks at www.evil.example, see https://evil.example/x or write to bob@evil.example :streamlit:"
    import_bytes(
        engine,
        ledger_csv(
            *[
                event_row(
                    "plain",
                    "2025-01-01",
                    "Announced on www.evil.example.",
                    source="Wire",
                    grade="B",
                    stage="announced",
                    deal_title="Plain text deal",
                    deal_summary=summary,
                )
            ]
        ),
        file_name="plain.csv",
        editor="test",
    )
    at = open_page(DEAL, query={"deal": "plain"})
    expected = (
        f"Talks at www{J}\\.evil\\.example\\, see https\\:{J}\\/\\/evil\\.example\\/x or write to "
        f"bob{J}\\@evil\\.example \\:{J}streamlit\\:"
    )
    assert expected in texts(at, "markdown")
    unescaped = [text.replace("\\", "") for text in texts(at, "markdown")]
    assert [text for text in unescaped if "www." in text or "://" in text or "b@" in text] == []


# --- upload -------------------------------------------------------------------------------------------------


def test_upload_without_editors_says_how_to_configure_one(seeded: Engine) -> None:
    at = open_page(UPLOAD)
    (warning,) = texts(at, "warning")
    assert "python -m tracker hash-password NAME" in warning and ".streamlit/secrets.toml" in warning
    assert "[editors]" in warning
    assert not at.get("file_uploader")


def login(at: AppTest, password: str = PASSWORD) -> AppTest:
    at.text_input(key="login-username").input("alice")
    at.text_input(key="login-password").input(password)
    at.button(key="login-submit").click()
    return run(at)


def test_upload_needs_a_login(seeded: Engine) -> None:
    at = open_page(UPLOAD, secrets={"editors": EDITORS})
    assert not at.get("file_uploader")
    login(at, "wrong password")
    assert texts(at, "error") == ["Unknown username or wrong password."]
    assert not at.get("file_uploader")
    login(at)
    assert at.get("file_uploader")
    assert "Logged in as editor alice" in texts(at, "caption")
    assert {b.proto.label for b in at.get("download_button")} == {"Download the CSV template"}


def check_file(at: AppTest, name: str, data: bytes) -> None:
    """Upload `data` as `name` on the Upload page and press "Check file", as an editor would."""
    at.file_uploader(key="upload-file").upload(name, data, "text/csv")
    run(at)
    at.button(key="check-file").click()
    run(at)


@pytest.mark.parametrize(
    ("data", "found", "where"),
    [
        (EPSILON_BAD_CSV, "2 problems found; nothing can be imported until they are",
         [[2, "date"], [2, "reliability"]]),
        (EPSILON_BAD_CSV.replace(b",Q,", b",B,"), "1 problem found; nothing can be imported until it is",
         [[2, "date"]]),
    ],
)  # fmt: skip
def test_upload_rejects_a_bad_file_with_its_problems(
    seeded: Engine, data: bytes, found: str, where: list[list[object]]
) -> None:
    at = login(open_page(UPLOAD, secrets={"editors": EDITORS}))
    check_file(at, "bad.csv", data)
    assert texts(at, "error") == [f"{found} fixed. How to fix the file is in the table below."]
    problems = table(at, "line", "column", "fix")
    assert problems[["line", "column"]].values.tolist() == where
    assert problems["fix"].str.len().min() > 0
    assert not [b for b in at.button if b.key == "commit-import"]


def test_a_check_warns_that_a_sipri_export_of_the_other_layout_would_list_transfers_twice(
    sipri_only: Engine,
) -> None:
    at = login(open_page(UPLOAD, secrets={"editors": EDITORS}))
    newer = SIPRI_FIXTURE.with_name("new-2026.csv").read_bytes()
    check_file(at, "new-2026.csv", newer)
    assert texts(at, "success") == [
        "The file can be imported. "
        + escape_markdown(
            "new-2026.csv: 5 rows read; would add 9 events, 4 new deals, 0 deals updated, 1 source, "
            "3 parties; 0 rows already in the ledger (skipped)."
        )
    ]
    assert texts(at, "warning") == [
        escape_markdown(
            "This file is a SIPRI export in the new layout, and the ledger holds 11 deals from exports in "
            "the classic layout. The two layouts share no deal id, so a transfer listed in both becomes two "
            "deals and is counted twice. Keep to one layout per ledger: import the register in the classic "
            "layout, or first undo the classic-layout imports (“Undo import…” on the Upload page, or "
            "python -m tracker undo)."
        )
    ]
    assert [b.key for b in at.button if b.key == "commit-import"] == ["commit-import"]


def test_a_preview_groups_its_figures_as_its_message_does(seeded: Engine) -> None:
    at = login(open_page(UPLOAD, secrets={"editors": EDITORS}))
    check_file(at, "many.csv", ledger_csv(*many_deals(1_200)))
    assert metrics(at) == {
        "New events": "1,200",
        "New deals": "1,200",
        "Deals updated": "0",
        "New sources": "1",
    }
    assert texts(at, "success")[0] == "The file can be imported. " + escape_markdown(
        "many.csv: 1,200 rows read; would add 1,200 events, 1,200 new deals, 0 deals updated, 1 source, "
        "1 party; 0 rows already in the ledger (skipped)."
    )
    # The preview lists the first 1,000 new events (tracker.importer.report.PREVIEW_EVENTS) and says so.
    new_events = table(at, "line", "deal_id", "date_text")
    assert (len(new_events), new_events["deal_id"].iloc[-1]) == (1_000, "deal-999")
    assert (
        "The first 1,000 of the 1,200 new events, in the file's order (the import adds all of them)."
        in texts(at, "caption")
    )


def test_a_check_shows_the_stages_the_import_would_move(seeded: Engine) -> None:
    at = login(open_page(UPLOAD, secrets={"editors": EDITORS}))
    news = row(deal_id=SEED_DEAL, deal_title="", date="2025-11-03", stage="agreed", summary="Agreed.")
    check_file(at, "agreed.csv", ledger_csv(news))
    moving = "**Stage moves**: deals of the ledger whose current stage the import moves"
    assert moving in texts(at, "markdown")
    moves = table(at, "deal_id", "title", "before", "after")
    assert moves.values.tolist() == [[SEED_DEAL, "US–Ukraine Drone Deal", "negotiating", "agreed"]]


def test_upload_previews_commits_and_undoes(seeded: Engine) -> None:
    at = login(open_page(UPLOAD, secrets={"editors": EDITORS}))
    at.file_uploader(key="upload-file").upload("good.csv", EPSILON_CSV, "text/csv")
    run(at)
    assert not [b for b in at.button if b.key == "commit-import"]  # check first
    at.button(key="check-file").click()
    run(at)
    assert metrics(at) == {"New events": "1", "New deals": "1", "Deals updated": "0", "New sources": "1"}
    assert table(at, "line", "deal_id", "date_text")["summary"].tolist() == ["Epsilon is announced."]
    at.button(key="commit-import").click()
    run(at)
    assert texts(at, "success")[0] == escape_markdown(
        "Import #2: good.csv: 1 row read; added 1 event, 1 new deal, 0 deals updated, 1 source, 2 parties; "
        "0 rows already in the ledger (skipped)."
    )
    assert "imported as import #2" in texts(at, "info")[0]  # the same file is not offered again
    history = table(at, "file_name", "status")
    assert history[["id", "status"]].values.tolist() == [[2, "committed"], [1, "committed"]]
    at.switch_page(DEALS)
    run(at)
    assert len(at.dataframe(key="deals-table").value) == 2  # caches were cleared

    at.switch_page(UPLOAD)
    run(at)
    assert at.selectbox(key="undo-import").value == 2  # the newest committed import is offered first
    assert at.selectbox(key="undo-import").options[0].startswith("#2 good.csv (")
    at.button(key="undo-button").click()
    run(at)
    # Nothing is undone before the confirmation, which says what goes.
    assert table(at, "file_name", "status")["status"].tolist() == ["committed", "committed"]
    committed = queries.import_history(seeded)["committed_at"][0]
    assert texts(at, "markdown")[-1] == escape_markdown(
        f"Undoing import #2 (good.csv, 1 row, committed {committed:%Y-%m-%d %H:%M} UTC by alice) "
        "removes 1 event, 1 deal and 1 source, and restores the attributes of 0 deals."
    )
    at.button(key="undo-confirm").click()
    run(at)
    assert texts(at, "success")[0] == escape_markdown(
        "Undid import #2 (good.csv): removed 1 event and 1 deal; restored the attributes of 0 deals."
    )
    seed_committed = queries.import_history(seeded)["committed_at"][1]
    # An undone import is never offered.
    assert at.selectbox(key="undo-import").options == [
        f"#1 us-ukraine-drone-deal.csv ({seed_committed:%Y-%m-%d %H:%M}, seed)"
    ]
    assert table(at, "file_name", "status")["status"].tolist() == ["undone", "committed"]
    at.switch_page(DEALS)
    run(at)
    assert len(at.dataframe(key="deals-table").value) == 1


def test_undo_refused_is_explained(seeded: Engine) -> None:
    later = ledger_csv(
        *[
            event_row(
                SEED_DEAL, "2025-11-01", "Talks continue.", source="Eps Wire", grade="B", stage="negotiating"
            )
        ]
    )
    import_bytes(seeded, later, file_name="later.csv", editor="test")
    at = login(open_page(UPLOAD, secrets={"editors": EDITORS}))
    at.selectbox(key="undo-import").set_value(1)
    at.button(key="undo-button").click()
    run(at)
    assert texts(at, "error") == [
        "Cannot undo: "
        + escape_markdown(
            "import #1 “us-ukraine-drone-deal.csv” cannot be undone: later import #2 added "
            "events to a deal it touched. Undo the later import first."
        )
    ]
    assert not [b for b in at.button if b.key == "undo-confirm"]


def test_editor_can_seed_an_empty_ledger(emptied: Engine) -> None:
    at = login(open_page(UPLOAD, secrets={"editors": EDITORS}))
    at.button(key="load-seed").click()
    run(at)
    assert texts(at, "success")[0].startswith("Import \\#2\\: us\\-ukraine\\-drone\\-deal\\.csv")
    assert not [b for b in at.button if b.key == "load-seed"]
    at.switch_page(OVERVIEW)
    run(at)
    assert metrics(at)["Deals"] == "1"


# --- add from article ---------------------------------------------------------------------------------------

SEED_ARTICLE = (SEED_DIR / "post-2025-09-29-drone-deal-article.txt").read_text(encoding="utf-8")
SEED_ARTICLE_TITLE = "Ukrainian team headed to Washington to hammer out details of drone deal"
SEED_ARTICLE_NAME = f"Article: {SEED_ARTICLE_TITLE} (New York Post, 2025-09-29)"
GRID = "article-grid-1"  # the grid of the session's first draft


def draft_seed_article(at: AppTest) -> AppTest:
    at.text_area(key="article-text").input(SEED_ARTICLE)
    at.text_input(key="article-title").input(SEED_ARTICLE_TITLE)
    at.text_input(key="article-publisher").input("New York Post")
    at.date_input(key="article-published").set_value(dt.date(2025, 9, 29))
    at.button(key="draft-article").click()
    return run(at)


def edit_grid(
    at: AppTest, *, edited: dict | None = None, added: list | None = None, deleted: list[int] | None = None
) -> AppTest:
    """What the browser sends after cell edits (by row position), added rows and deletions in the grid."""
    at.session_state[GRID] = {
        "edited_rows": edited or {},
        "added_rows": added or [],
        "deleted_rows": deleted or [],
    }
    return run(at)


def check_rows(at: AppTest) -> AppTest:
    at.button(key="check-draft").click()
    return run(at)


def test_drafting_the_seed_article_shows_its_rows_beside_their_sentences(seeded: Engine) -> None:
    at = draft_seed_article(login(open_page(ARTICLE, secrets={"editors": EDITORS})))
    grid = at.data_editor(key=GRID).value
    assert grid[["event", "date", "stage", "party", "party_role"]].to_dict("split")["data"] == [
        ["1", "2025-09-30/2025-10-03", "negotiating", "Ministry of Defence of Ukraine", "negotiator"],
        ["1", "2025-09-30/2025-10-03", "negotiating", "National Security and Defense Council of Ukraine",
         "negotiator"],
        ["2", "2025-09-29/2025-10-02", "negotiating", "Olha Stefanishyna", "spokesperson"],
        ["3", "2025-09-23", "negotiating", "Donald Trump", "head of state"],
        ["3", "2025-09-23", "negotiating", "Volodymyr Zelensky", "head of state"],
        ["3", "2025-09-23", "negotiating", "Andriy Yermak", "negotiator"],
        ["4", "2025-W39", "negotiating", "Volodymyr Zelensky", "head of state"],
        ["5", "2025-07", "announced", "Volodymyr Zelensky", "head of state"],
        ["5", "2025-07", "announced", "Donald Trump", "head of state"],
    ]  # fmt: skip
    assert grid.index.tolist() == list(range(1, 10))
    assert set(grid["deal_id"]) == {SEED_DEAL}
    assert grid.loc[3, "from the article"] == (
        "[3] “Following the results of the negotiations between the presidents of Ukraine and the United "
        "States, a Ukraine delegation will arrive to Washington from Sept. 29 to Oct. 2 for technical "
        "consultations on the drone deal,” said new Ukrainian Ambassador to the US Olga Stefanishyna."
    )
    assert grid.loc[3, "read from"] == (
        "party: “Olga Stefanishyna”; date: “from Sept. 29 to Oct. 2”; stage: “negotiations”, “delegation”, "
        "“consultations”; buyer: “United States”; seller: “Ukraine”"
    )
    assert grid.loc[3, "note"] == (
        "stage negotiating from “negotiations”, “delegation”, “consultations”; “from Sept. 29 to Oct. 2”: "
        "2025-09-29/2025-10-02; “Olga Stefanishyna” is the ledger's Olha Stefanishyna (same surname)"
    )
    assert "source_title" not in grid.columns  # typed once, above the grid
    assert texts(at, "caption")[1] == escape_markdown(
        "9 rows for 5 events; existing deal us-ukraine-drone-deal (“US–Ukraine Drone Deal”): buyer United "
        "States and seller Ukraine; title word “Drone” in the text. Every value is a suggestion: correct any "
        "cell, delete rows with the bin, add rows with +."
    )
    assert at.selectbox(key="article-reliability-1").value == "B"  # the ledger's grade for the publisher
    sentences = table(at, "sentence", "events", "text")
    assert len(sentences) == 15
    assert sentences[sentences["events"] != ""]["sentence"].tolist() == [1, 2, 3, 4, 5, 6, 12, 13]
    assert not [b for b in at.button if b.key == "commit-draft"]  # check first


def test_edits_and_deletions_in_the_grid_change_what_is_checked(seeded: Engine) -> None:
    at = check_rows(draft_seed_article(login(open_page(ARTICLE, secrets={"editors": EDITORS}))))
    assert metrics(at) == {"New events": "5", "New deals": "0", "Deals updated": "1", "New sources": "0"}
    assert not [f for f in at.dataframe if "attribute" in f.value.columns]  # no deal attribute changes
    # Row 3's stage (position 2) raised; rows 8 and 9 (the July event) deleted.
    edit_grid(at, edited={2: {"stage": "agreed"}}, deleted=[7, 8])
    assert "The rows or the source fields changed since the last check: check them again." in texts(
        at, "caption"
    )
    assert not [b for b in at.button if b.key == "commit-draft"]
    check_rows(at)
    assert metrics(at) == {"New events": "4", "New deals": "0", "Deals updated": "1", "New sources": "0"}
    new_events = table(at, "line", "deal_id", "date_text")
    assert new_events[["line", "date_text", "stage"]].values.tolist() == [
        [1, "2025-09-30/2025-10-03", "negotiating"],
        [3, "2025-09-29/2025-10-02", "agreed"],
        [4, "2025-09-23", "negotiating"],
        [7, "2025-W39", "negotiating"],
    ]


def test_a_bad_edit_gets_the_importers_message_naming_the_row(seeded: Engine) -> None:
    at = draft_seed_article(login(open_page(ARTICLE, secrets={"editors": EDITORS})))
    grid = at.data_editor(key=GRID).value
    # A party added to the event of row 3, with a kind the ledger does not know.
    added = {**grid.loc[3, ["deal_id", "date", "stage", "summary"]].to_dict(), "party": "Pentagon"}
    edit_grid(
        at,
        edited={2: {"stage": "agred"}, 4: {"stage": "agreed"}},
        added=[{**added, "party_kind": "robot"}],
        deleted=[0],
    )
    assert texts(at, "warning") == [
        escape_markdown(
            "Rows 4, 5, 6 came from event 3 but now differ in stage: they will be imported as separate "
            "events. To keep one event, give its rows the same stage."
        )
    ]
    at.text_input(key="article-title").input("")  # neither a title nor a URL: the source is missing
    run(at)
    check_rows(at)
    assert texts(at, "error") == [
        (
            "4 problems found; nothing can be imported until they are fixed. Correct the rows named below "
            "(or the source fields above) and check again."
        )
    ]
    problems = table(at, "line", "column", "fix")
    assert problems[["line", "column", "value", "problem"]].astype(object).fillna("–").values.tolist() == [
        ["–", "Title (above)", "", "the row has no source"],
        [3, "stage", "agred", 'unknown stage "agred"'],
        [10, "party_role", "", "a party is given without its role"],
        [10, "party_kind", "robot", 'unknown party kind "robot"'],
    ]
    assert problems["fix"].tolist()[1] == (
        "Did you mean agreed? Use one of: announced, negotiating, agreed, approved, contracted, delivering, "
        "completed, stalled, cancelled (or leave it empty when the stage does not change)."
    )
    assert not [b for b in at.button if b.key == "commit-draft"]


def excerpts_of_import(engine: Engine, import_id: int) -> list[tuple[str, str]]:
    query = text(
        "SELECT events.occurred_on, event_sources.excerpt FROM event_sources "
        "JOIN events ON events.id = event_sources.event_id WHERE event_sources.import_id = :import_id "
        "ORDER BY events.occurred_on DESC, events.occurred_until DESC"
    )
    with engine.connect() as connection:
        return [(str(day), excerpt) for day, excerpt in connection.execute(query, {"import_id": import_id})]


def test_commit_adds_the_events_as_an_import_named_after_the_article(seeded: Engine) -> None:
    at = check_rows(draft_seed_article(login(open_page(ARTICLE, secrets={"editors": EDITORS}))))
    drafted_summaries = set(at.data_editor(key=GRID).value["summary"])
    at.button(key="commit-draft").click()
    run(at)
    assert texts(at, "success")[0] == escape_markdown(
        f"Import #2: {SEED_ARTICLE_NAME}: 9 rows read; added 5 events, 0 new deals, 1 deal updated, "
        "0 sources, 0 parties; 4 rows already in the ledger (skipped)."
    )
    assert (
        texts(at, "info")[0]
        == "These rows were imported as import #2; an import is undone on the Upload page."
    )
    assert at.data_editor(key=GRID).proto.disabled  # nothing more to edit in rows already imported
    assert not [b for b in at.button if b.key in ("check-draft", "commit-draft")]  # not offered again
    assert next((link.proto.page, link.proto.label) for link in at.get("page_link")) == (
        "deal",
        escape_markdown(f"Open the deal page of {SEED_DEAL}"),
    )
    sentences = {s.index: s.text for s in split_sentences(SEED_ARTICLE)}
    for x in excerpts_of_import(seeded, 2):
        print("XX", x[0], x[1][:60])
    assert excerpts_of_import(seeded, 2) == [
        ("2025-09-30", f"{sentences[0]} {sentences[1]}"),
        ("2025-09-29", sentences[2]),
        ("2025-09-23", f"{sentences[3]} {sentences[4]}"),
        ("2025-09-22", sentences[5]),
        ("2025-07-01", f"{sentences[11]} {sentences[12]}"),
    ]

    at.button(key="new-article").click()  # the form empties for the next article
    run(at)
    assert (at.text_area(key="article-text").value, at.text_input(key="article-title").value) == ("", "")
    assert at.date_input(key="article-published").value is None
    assert not at.data_editor

    at.query_params["deal"] = SEED_DEAL
    at.switch_page(DEAL)
    run(at)
    assert metrics(at)["Events"] == "19"
    events = table(at, "date", "summary", "topic")
    drafted = events[events["summary"].isin(drafted_summaries)]
    assert drafted[["date", "stage", "topic"]].fillna("").values.tolist() == [
        ["Jul 2025", "announced", ""],
        ["week of 22 Sep 2025", "negotiating", ""],
        ["23 Sep 2025", "negotiating", ""],
        ["29 Sep – 2 Oct 2025", "negotiating", "delegation dates"],
        ["30 Sep – 3 Oct 2025", "negotiating", "delegation dates"],
    ]

    at.switch_page(UPLOAD)
    run(at)
    history = table(at, "file_name", "status")
    assert history[["id", "file_name", "status"]].values.tolist()[0] == [2, SEED_ARTICLE_NAME, "committed"]
    at.selectbox(key="undo-import").set_value(2)
    at.button(key="undo-button").click()
    run(at)
    at.button(key="undo-confirm").click()
    run(at)
    assert texts(at, "success")[0].startswith(escape_markdown(f"Undid import #2 ({SEED_ARTICLE_NAME})"))
    assert excerpts_of_import(seeded, 2) == []


def test_a_visitor_sees_the_login_form_and_cannot_commit(seeded: Engine) -> None:
    at = open_page(ARTICLE, secrets={"editors": EDITORS})
    assert [t.key for t in at.text_input if t.key != "q"] == ["login-username", "login-password"]
    assert not at.get("text_area")
    assert not [b for b in at.button if b.key in ("draft-article", "check-draft", "commit-draft")]

    check_rows(draft_seed_article(login(at)))
    assert [b.key for b in at.button if b.key == "commit-draft"] == ["commit-draft"]
    EDITOR_SESSIONS.sign_out(at.session_state[SECRET])  # the editor's rights end (signed out elsewhere, idle)
    at.button(key="commit-draft").click()
    run(at)
    assert [t.key for t in at.text_input if t.key != "q"] == ["login-username", "login-password"]
    assert not [b for b in at.button if b.key == "commit-draft"]
    assert excerpts_of_import(seeded, 2) == []
    with seeded.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM imports")).scalar_one() == 1


@pytest.mark.parametrize(
    ("text", "published", "message"),
    [
        ("   ", dt.date(2025, 9, 29),
         "Nothing drafted: the article is empty: paste or give the text of a news report."),
        (SEED_ARTICLE, None,
         "Give the publication date: relative dates (“on Monday”, “last week”) are counted from it."),
    ],
)  # fmt: skip
def test_an_article_that_cannot_be_drafted_says_why(
    seeded: Engine, text: str, published: dt.date | None, message: str
) -> None:
    at = login(open_page(ARTICLE, secrets={"editors": EDITORS}))
    at.text_area(key="article-text").input(text)
    at.date_input(key="article-published").set_value(published)
    at.button(key="draft-article").click()
    run(at)
    assert texts(at, "error") == [escape_markdown(message)]
    assert not at.data_editor


def test_a_grid_without_rows_offers_nothing_to_check(seeded: Engine) -> None:
    at = draft_seed_article(login(open_page(ARTICLE, secrets={"editors": EDITORS})))
    edit_grid(at, deleted=list(range(9)))
    assert at.button(key="check-draft").disabled
    assert "The grid has no rows to check: add rows with +, or draft again." in texts(at, "caption")
