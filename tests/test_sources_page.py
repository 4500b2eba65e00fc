"""The Sources page leads from a source to the events and deals it supports: tracker.queries.source_support
on the seed, and the page through AppTest."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Dataframe

from tests.apptest import open_page, page_path, run
from tracker import queries
from tracker.display import escape_markdown
from tracker.filters import Filters

pytestmark = pytest.mark.usefixtures("fresh_caches")
SOURCES = page_path("sources")
SEED_DEAL, SEED_TITLE = "us-ukraine-drone-deal", "US–Ukraine Drone Deal"
NEW_YORK_POST = 2  # the seed's most-used source: 5 events of its one deal


def seed_source_id(engine: Engine, publisher: str) -> int:
    sources = queries.sources_table(engine, filters=Filters())
    return int(sources.loc[sources["publisher"] == publisher, "source_id"].iloc[0])


def test_source_support_on_the_seed(seeded: Engine) -> None:
    source_id = seed_source_id(seeded, "New York Post")
    assert source_id == NEW_YORK_POST
    support = queries.source_support(seeded, source_id, filters=Filters())
    assert (support.event_count, support.deal_count) == (5, 1)
    assert list(support.events.columns) == list(queries.SOURCE_EVENT_COLUMNS)
    assert support.events.drop(columns="summary").to_dict("records") == [
        {
            "event_id": event_id,
            "deal_id": SEED_DEAL,
            "deal_title": SEED_TITLE,
            "deal_label": SEED_TITLE,  # told by news: the label is the title
            "date": date,
            "stage": stage,
            "credibility": 3,
            "credibility_meaning": "Possibly true",
        }
        for event_id, date, stage in [
            (11, "30 Sep – 3 Oct 2025", "negotiating"),
            (10, "29 Sep – 2 Oct 2025", "negotiating"),
            (6, "23 Sep 2025", "negotiating"),
            (8, "week of 22 Sep 2025", "negotiating"),
            (2, "Jul 2025", "announced"),
        ]
    ]
    assert support.events["summary"].str[:40].tolist() == [
        "The Post reports the delegation will wor",
        "A Ukrainian delegation of the Ministry o",
        "Trump and Zelensky meet on the sidelines",
        "Zelensky tells reporters in New York tha",
        "In an interview with The Post, Zelensky ",
    ]
    assert support.deals.to_dict("records") == [
        {
            "deal_id": SEED_DEAL,
            "title": SEED_TITLE,
            "label": SEED_TITLE,
            "stage": "negotiating",
            "events": 5,
            "last_event": "17 Oct 2025",  # the deal's last event, told by another source
        }
    ]


def test_source_support_counts_as_the_sources_table_does(seeded: Engine) -> None:
    sources = queries.sources_table(seeded, filters=Filters())
    for source_id, events, deals in zip(sources["source_id"], sources["events"], sources["deals"]):
        support = queries.source_support(seeded, int(source_id), filters=Filters())
        assert (support.event_count, support.deal_count) == (events, deals)
        assert len(support.events) == events


@pytest.mark.parametrize(
    ("filters", "limit", "counts", "dates"),
    [
        # The date filter keeps events that overlap it: the week of 22 Sep 2025 runs to the 28th.
        (
            Filters(since=dt.date(2025, 9, 25)),
            200,
            (3, 1),
            ["30 Sep – 3 Oct 2025", "29 Sep – 2 Oct 2025", "week of 22 Sep 2025"],
        ),
        (Filters(), 2, (5, 1), ["30 Sep – 3 Oct 2025", "29 Sep – 2 Oct 2025"]),  # the latest two, of 5
        (Filters(countries=("POL",)), 200, (0, 0), []),
    ],
)
def test_source_support_follows_filters_and_limit(
    seeded: Engine, filters: Filters, limit: int, counts: tuple[int, int], dates: list[str]
) -> None:
    support = queries.source_support(seeded, NEW_YORK_POST, filters=filters, limit=limit)
    assert (support.event_count, support.deal_count) == counts
    assert support.events["date"].tolist() == dates


def test_source_support_leaves_out_retracted_events(three: Engine) -> None:
    from tracker.revisions import retract_event

    beta_news = seed_source_id(three, "Beta News")
    before = queries.source_support(three, beta_news, filters=Filters())
    assert before.events["summary"].tolist() == [
        "Talks on the air-defence package begin.",
        "Ukraine asks for more Patriot systems.",
    ]
    retract_event(three, int(before.events["event_id"].iloc[0]), editor="test", reason="misread")
    after = queries.source_support(three, beta_news, filters=Filters())
    assert (after.event_count, after.deal_count) == (1, 1)
    assert after.events["summary"].tolist() == ["Ukraine asks for more Patriot systems."]
    assert after.deals[["title", "events"]].values.tolist() == [["Beta air defence", 1]]


def shown(at: AppTest, column: str) -> Dataframe:
    """The table holding `column` (AppTest gives tables without a selection no key)."""
    return next(frame for frame in at.dataframe if column in frame.value.columns)


def select_source(at: AppTest, row: int) -> AppTest:
    at.session_state["sources-table"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return run(at)


def test_selecting_a_source_lists_its_events_and_deals(seeded: Engine) -> None:
    at = open_page(SOURCES)
    assert len(at.dataframe) == 1  # nothing listed before a source is chosen
    select_source(at, 0)
    assert at.subheader[0].value == "What New York Post supports"
    assert {m.label: m.value for m in at.metric} == {"Events": "5", "Deals": "1"}
    events = shown(at, "credibility_meaning").value
    link = "deal?deal=us-ukraine-drone-deal#US%E2%80%93Ukraine%20Drone%20Deal"
    assert events[["date", "page", "stage", "credibility_meaning"]].values.tolist() == [
        ["30 Sep – 3 Oct 2025", link, "negotiating", "Possibly true"],
        ["29 Sep – 2 Oct 2025", link, "negotiating", "Possibly true"],
        ["23 Sep 2025", link, "negotiating", "Possibly true"],
        ["week of 22 Sep 2025", link, "negotiating", "Possibly true"],
        ["Jul 2025", link, "announced", "Possibly true"],
    ]
    deals = shown(at, "last_event").value
    assert deals[["page", "stage", "events", "last_event"]].values.tolist() == [
        [link, "negotiating", 5, "17 Oct 2025"]
    ]
    proto = shown(at, "credibility_meaning").proto
    assert list(proto.column_order) == [
        "date",
        "page",
        "stage",
        "credibility",
        "credibility_meaning",
        "summary",
    ]


def test_a_source_without_a_title_is_told_by_its_address(seeded: Engine) -> None:
    at = open_page(SOURCES)
    table = at.dataframe(key="sources-table")
    assert list(table.proto.column_order)[:2] == ["publisher", "title_or_address"]
    assert table.value[["publisher", "title_or_address"]].values.tolist()[2:4] == [
        [
            "LIGA.net",
            "news.liga.net/…/zelenskiy-and-trump-reach-political-agreement-on-ukrainian-drones-for-the-us",
        ],
        ["LIGA.net", "news.liga.net/…/ukraines-delegation-goes-to-the-us-for-talks-on-the-drone-deal"],
    ]
    select_source(at, 3)
    assert at.subheader[0].value == f"What {escape_markdown('LIGA.net')} supports"
    assert [caption.value for caption in at.caption[:3]] == [
        "All deals",
        "13 sources behind the events of the matching deals. Select a source to see what it supports.",
        escape_markdown(
            "https://news.liga.net/en/politics/news/ukraines-delegation-goes-to-the-us-for-talks-on-the-drone-deal"
        ),
    ]


def test_another_source_and_the_page_under_filters(three: Engine) -> None:
    at = open_page(SOURCES, query={"country": "UKR"})
    sources = at.dataframe(key="sources-table").value
    assert sources["publisher"].tolist() == ["Beta News", "Gamma Blog"]
    select_source(at, 1)
    assert at.subheader[0].value == "What Gamma Blog supports"
    events = shown(at, "credibility_meaning").value
    assert events[["date", "deal_title", "stage", "credibility"]].values.tolist() == [
        ["1 Apr 2025", "Gamma shells", "cancelled", 2],
        ["1 Feb 2025", "Gamma shells", "announced", 2],
    ]
    assert shown(at, "last_event").value["page"].tolist() == ["deal?deal=gamma#Gamma%20shells"]


def test_a_selection_past_the_end_of_the_table_is_ignored(three: Engine) -> None:
    at = open_page(SOURCES, query={"country": "POL"})  # one source: Alpha Wire
    select_source(at, 2)
    assert len(at.dataframe) == 1
    assert [s.value for s in at.subheader] == ["Deals resting on low-grade sources"]
