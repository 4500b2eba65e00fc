"""tracker.queries, tracker.conflicts and tracker.display: exact values on the seed and on small ledgers.

Small ledgers are written the only way data gets in: CSV text through tracker.importer.import_bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from tests.builders import ledger_csv
from tracker import queries
from tracker.conflicts import find_conflicts, linked_sources, value_claims
from tracker.display import (
    attribute_change_text,
    escape_markdown,
    grade,
    is_web_url,
    markdown_link,
    value_range_text,
)
from tracker.filters import Filters
from tracker.importer import import_bytes, undo_import
from tracker.ledger_csv import ALL_COLUMNS, TEMPLATE_PATH
from tracker.vocab import STAGE_NAMES

SEED_DEAL = "us-ukraine-drone-deal"
SEED_CSV = Path(__file__).resolve().parent.parent / "data" / "seed" / "us-ukraine-drone-deal.csv"
TODAY = dt.date(2026, 11, 25)
ALL = Filters()


def row(deal: str, date: str, summary: str, *, source: str, grade: str, **cells: str) -> dict[str, str]:
    return {
        "deal_id": deal,
        "date": date,
        "summary": summary,
        "source_publisher": source,
        "source_url": f"https://example.org/{source.lower().replace(' ', '-')}",
        "reliability": grade,
        "credibility": "2",
        **cells,
    }


# Three deals that filters tell apart:
# alpha: Poland buys from South Korea, tanks, contracted, sourced A;
# beta: Ukraine buys from the US, air defence, negotiating, sourced C, mentions Patriot;
# gamma: Ukraine buys from Germany, artillery, cancelled, one source graded E, Rheinmetall as manufacturer.
THREE_DEALS = [
    row(
        "alpha",
        "2023-05",
        "Poland announces a tank purchase.",
        source="Alpha Wire",
        grade="A",
        stage="announced",
        deal_title="Alpha tanks",
        buyer="Poland",
        seller="South Korea",
        category="tanks",
        value_low="1bn",
        value_high="2bn",
        currency="USD",
    ),
    row(
        "alpha",
        "2024-06-10",
        "The tank contract is signed.",
        source="Alpha Wire",
        grade="A",
        stage="contracted",
    ),
    row(
        "beta",
        "2025-01-15",
        "Ukraine asks for more Patriot systems.",
        source="Beta News",
        grade="C",
        stage="announced",
        deal_title="Beta air defence",
        buyer="Ukraine",
        seller="United States",
        category="air defence",
    ),
    row(
        "beta",
        "2025-03-01",
        "Talks on the air-defence package begin.",
        source="Beta News",
        grade="C",
        stage="negotiating",
    ),
    row(
        "gamma",
        "2025-02-01",
        "A shell deal is reported.",
        source="Gamma Blog",
        grade="E",
        stage="announced",
        deal_title="Gamma shells",
        buyer="Ukraine",
        seller="Germany",
        category="artillery",
        party="Rheinmetall",
        party_role="manufacturer",
        party_kind="company",
        party_country="DEU",
    ),
    row(
        "gamma",
        "2025-04-01",
        "The shell deal is called off.",
        source="Gamma Blog",
        grade="E",
        stage="cancelled",
    ),
]


@pytest.fixture
def three(engine: Engine) -> Engine:
    import_bytes(engine, ledger_csv(*THREE_DEALS), file_name="three.csv", editor="test")
    return engine


@pytest.fixture
def two_imports(engine: Engine) -> Engine:
    """One deal imported on 1 Aug 2025 (announced), then on 1 Oct 2025 a negotiating event, a value change,
    a seller and a second source."""
    import_bytes(
        engine,
        now=dt.datetime(2025, 8, 1, 12, 0),
        data=ledger_csv(
            *[
                row(
                    "delta",
                    "2025-07-01",
                    "Delta is announced.",
                    source="Delta Daily",
                    grade="B",
                    stage="announced",
                    deal_title="Delta drones",
                    buyer="Ukraine",
                    category="UAV",
                    value_low="5m",
                    currency="EUR",
                ),
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
                row(
                    "delta",
                    "2025-09-01",
                    "Delta talks begin.",
                    source="Delta Weekly",
                    grade="C",
                    stage="negotiating",
                    seller="Poland",
                    value_low="8m",
                    currency="EUR",
                ),
            ]
        ),
        file_name="second.csv",
        editor="test",
    )
    return engine


AUG_15 = dt.datetime.combine(dt.date(2025, 8, 15), dt.time.max)


# --- the seed ---------------------------------------------------------------------------------------------


def test_headline_figures_on_the_seed(seeded: Engine) -> None:
    assert queries.headline_figures(seeded, filters=ALL, today=TODAY) == queries.HeadlineFigures(
        deals=1, active_deals=1, events_this_month=0, stale_deals=1
    )
    # October 2025: events dated 2 Oct, 10 Oct and 17 Oct (the 30 Sep – 3 Oct one starts in September).
    october = queries.headline_figures(seeded, filters=ALL, today=dt.date(2025, 10, 20))
    assert (october.events_this_month, october.stale_deals) == (3, 0)


def test_stale_means_more_than_sixty_days_without_an_event(seeded: Engine) -> None:
    # The last event is dated 17 Oct 2025; 60 days later is 16 Dec 2025.
    assert queries.headline_figures(seeded, filters=ALL, today=dt.date(2025, 12, 16)).stale_deals == 0
    assert queries.headline_figures(seeded, filters=ALL, today=dt.date(2025, 12, 17)).stale_deals == 1


def test_deals_by_stage_lists_every_stage(seeded: Engine) -> None:
    frame = queries.deals_by_stage(seeded)
    assert frame["stage"].tolist() == list(STAGE_NAMES)
    assert dict(zip(frame["stage"], frame["deals"])) == {s: int(s == "negotiating") for s in STAGE_NAMES}
    assert queries.deals_by_stage(seeded, filters=Filters(stages=("announced",)))["deals"].sum() == 0


def test_stage_country_matrix_country_map_and_flows_on_the_seed(seeded: Engine) -> None:
    matrix = queries.stage_country_matrix(seeded, filters=ALL)
    assert matrix.to_dict("records") == [
        {"country_code": "UKR", "country": "Ukraine", "stage": "negotiating", "deals": 1},
        {"country_code": "USA", "country": "United States", "stage": "negotiating", "deals": 1},
    ]
    sellers = queries.stage_country_matrix(seeded, filters=Filters(country_role="seller"))
    assert sellers["country_code"].tolist() == ["UKR"]
    counts = queries.country_deal_counts(seeded, filters=ALL)
    assert counts.to_dict("records") == [
        {"country_code": "UKR", "country": "Ukraine", "as_buyer": 0, "as_seller": 1, "deals": 1},
        {"country_code": "USA", "country": "United States", "as_buyer": 1, "as_seller": 0, "deals": 1},
    ]
    flows = queries.deal_flows(seeded, filters=ALL)
    assert flows.to_dict("records") == [
        {"buyer_code": "USA", "buyer": "United States", "seller_code": "UKR", "seller": "Ukraine", "deals": 1}
    ]


def test_latest_events_carry_sources_and_grades(seeded: Engine) -> None:
    events = queries.latest_events(seeded, filters=ALL, limit=3)
    assert events["date"].tolist() == ["17 Oct 2025", "10 Oct 2025", "2 Oct 2025"]
    assert events["sources"].tolist() == [
        "The Independent (B2)",
        "Interfax-Ukraine (B3)",
        "UNN (C3); Ukrinform (via MENAFN) (C3)",
    ]
    assert events["source_url"].iloc[1] == "https://en.interfax.com.ua/news/general/1111501.html"
    assert len(queries.latest_events(seeded, filters=ALL)) == 14


def test_pipeline_card_on_the_seed(seeded: Engine) -> None:
    cards = queries.pipeline_cards(seeded, filters=ALL, today=TODAY)
    card = cards.iloc[0].to_dict()
    assert len(cards) == 1
    assert {
        k: card[k] for k in ("deal_id", "stage", "buyers", "sellers", "days_in_stage", "latest_grade")
    } == {
        "deal_id": SEED_DEAL,
        "stage": "negotiating",
        "buyers": "United States",
        "sellers": "Ukraine",
        "days_in_stage": (TODAY - dt.date(2025, 9, 22)).days,
        "latest_grade": "B2",
    }
    assert (card["value_low"], card["value_high"], card["currency"]) == (10e9, 30e9, "USD")


def test_deals_table_on_the_seed(seeded: Engine) -> None:
    table = queries.deals_table(seeded, filters=ALL)
    assert table[
        ["deal_id", "stage", "stage_since", "value", "first_event_on", "last_event_on", "event_count"]
    ].iloc[0].tolist() == [
        SEED_DEAL,
        "negotiating",
        dt.date(2025, 9, 22),
        "10–30 bn USD",
        dt.date(2025, 7, 1),
        dt.date(2025, 10, 17),
        14,
    ]


def test_deal_page_queries_on_the_seed(seeded: Engine) -> None:
    header = queries.deal_header(seeded, SEED_DEAL)
    assert (
        header.title,
        header.stage,
        header.stage_since,
        header.buyers,
        header.sellers,
        header.event_count,
    ) == ("US–Ukraine Drone Deal", "negotiating", dt.date(2025, 9, 22), "United States", "Ukraine", 14)
    assert queries.deal_header(seeded, "no-such-deal") is None
    events = queries.deal_events(seeded, SEED_DEAL)
    assert len(events) == 14
    assert events["date"].iloc[:3].tolist() == ["Jul 2025", "4 Jul 2025", "16 Jul 2025"]
    sources = queries.deal_event_sources(seeded, SEED_DEAL)
    assert len(sources) == 20  # event-source links
    assert sorted(set(sources["grade"])) == ["B2", "B3", "C3", "D3", "E3"]
    assert sources["url"].dropna().str.startswith("https://").all()
    intervals = queries.deal_stage_intervals(seeded, SEED_DEAL, today=TODAY)
    assert intervals[["stage", "start", "end", "days", "ongoing"]].to_dict("records") == [
        {
            "stage": "announced",
            "start": dt.date(2025, 7, 1),
            "end": dt.date(2025, 9, 22),
            "days": 83,
            "ongoing": False,
        },
        {"stage": "negotiating", "start": dt.date(2025, 9, 22), "end": TODAY, "days": 429, "ongoing": True},
    ]
    assert queries.time_in_stage(intervals)[["stage", "days"]].to_dict("records") == [
        {"stage": "announced", "days": 83},
        {"stage": "negotiating", "days": 429},
    ]
    roles = queries.deal_roles(seeded, SEED_DEAL)
    assert roles.groupby("role", sort=False).size().to_dict() == {
        "buyer": 2,
        "seller": 2,
        "negotiator": 7,
        "spokesperson": 3,
        "head of state": 2,
        "official": 1,
        "participant": 3,
    }


def test_seed_delegation_dates_are_flagged_as_the_only_conflict(seeded: Engine) -> None:
    events = queries.deal_events(seeded, SEED_DEAL)
    conflicts = find_conflicts(events, queries.deal_event_sources(seeded, SEED_DEAL))
    assert [(c.kind, c.title) for c in conflicts] == [
        ("topic", '3 claims about "delegation dates" give different dates')
    ]
    claims = conflicts[0].claims
    assert claims["date"].tolist() == ["24 Sep 2025", "29 Sep – 2 Oct 2025", "30 Sep – 3 Oct 2025"]
    assert claims["sources"].tolist() == [
        "Ukrainska Pravda (B3)",
        "New York Post (B3); LIGA.net (B3)",
        "New York Post (B3)",
    ]


def test_linked_sources_on_the_seed(seeded: Engine) -> None:
    events = queries.deal_events(seeded, SEED_DEAL)
    links = linked_sources(queries.deal_event_sources(seeded, SEED_DEAL))
    by_summary = dict(zip(events["summary"].str[:20], events["event_id"]))
    assert links[by_summary["A Ukrainian delegati"]] == (
        r"New York Post \(B3\); [LIGA\.net \(B3\)]"
        "(<https://news.liga.net/en/politics/news/ukraines-delegation-goes-to-the-us-for-talks-on-the-drone-deal>)"
    )


def test_value_claims_on_the_seed(seeded: Engine) -> None:
    claims = value_claims(
        queries.deal_events(seeded, SEED_DEAL), queries.deal_event_sources(seeded, SEED_DEAL)
    )
    assert claims[["date", "value", "sources"]].to_dict("records") == [
        {
            "date": "24 Jul 2025",
            "value": "10–30 bn USD",
            "sources": "Interfax-Ukraine (B3); VnNow (D3); RT (relayed via MENAFN) (E3)",
        }
    ]


def test_sources_on_the_seed(seeded: Engine) -> None:
    sources = queries.sources_table(seeded, filters=ALL)
    assert queries.count_sources(seeded, filters=ALL) == len(sources) == 13
    top = sources.iloc[0]
    assert (
        top["publisher"],
        top["reliability"],
        top["reliability_meaning"],
        top["events"],
        top["deals"],
    ) == ("New York Post", "B", "Usually reliable", 5, 1)
    assert len(queries.sources_table(seeded, filters=ALL, limit=4)) == 4
    assert queries.weakly_sourced_deals(seeded, filters=ALL).empty  # the seed has B-graded sources


def test_filter_options_on_the_seed(seeded: Engine) -> None:
    options = queries.filter_options(seeded)
    assert options.countries.to_dict("records") == [
        {"code": "UKR", "name": "Ukraine"},
        {"code": "USA", "name": "United States"},
    ]
    assert options.categories == ("UAV",)
    assert len(options.parties) == 16
    assert "Donald Trump (USA)" in set(options.parties["label"])
    assert options.parties["label"].is_unique


def test_has_deals(engine: Engine) -> None:
    assert queries.has_deals(engine) is False
    import_bytes(engine, ledger_csv(*THREE_DEALS), file_name="three.csv", editor="test")
    assert queries.has_deals(engine) is True


def test_ledger_version_changes_with_imports_and_undo(engine: Engine) -> None:
    empty = queries.ledger_version(engine)
    report = import_bytes(engine, ledger_csv(*THREE_DEALS), file_name="three.csv", editor="test")
    imported = queries.ledger_version(engine)
    undo_import(engine, report.import_id, editor="test")
    undone = queries.ledger_version(engine)
    assert len({empty, imported, undone}) == 3
    assert queries.import_history(engine)["status"].tolist() == ["undone"]


# --- filters change the counts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "deals"),
    [
        (Filters(), 3),
        (Filters(countries=("UKR",)), 2),
        (Filters(countries=("UKR",), country_role="buyer"), 2),
        (Filters(countries=("UKR",), country_role="seller"), 0),
        (Filters(countries=("USA", "DEU"), country_role="seller"), 2),
        (Filters(stages=("negotiating",)), 1),
        (Filters(stages=("contracted", "cancelled")), 2),
        (Filters(categories=("tanks",)), 1),
        (Filters(since=dt.date(2025, 1, 1)), 2),
        (Filters(until=dt.date(2024, 12, 31)), 1),
        (Filters(text="patriot"), 1),
        (Filters(text="shell"), 1),
        (Filters(min_reliability="A"), 1),
        (Filters(min_reliability="C"), 2),
        (Filters(roles=("manufacturer",)), 1),
        (Filters(countries=("UKR",), stages=("cancelled",)), 1),
    ],
)
def test_filters_change_counts(three: Engine, filters: Filters, deals: int) -> None:
    assert queries.count_deals(three, filters=filters) == deals
    assert len(queries.deals_table(three, filters=filters)) == deals
    assert queries.headline_figures(three, filters=filters, today=TODAY).deals == deals
    assert int(queries.deals_by_stage(three, filters=filters)["deals"].sum()) == deals


def test_party_filter(three: Engine) -> None:
    parties = queries.filter_options(three).parties
    rheinmetall = int(parties.loc[parties["name"] == "Rheinmetall", "party_id"].iloc[0])
    assert queries.deals_table(three, filters=Filters(parties=(rheinmetall,)))["deal_id"].tolist() == [
        "gamma"
    ]


def test_headline_and_stages_on_three_deals(three: Engine) -> None:
    # Active: alpha (contracted) and beta (negotiating); gamma is cancelled. Stale on 25 Nov 2026: both.
    assert queries.headline_figures(three, filters=ALL, today=TODAY) == queries.HeadlineFigures(
        deals=3, active_deals=2, events_this_month=0, stale_deals=2
    )
    march = queries.headline_figures(three, filters=ALL, today=dt.date(2025, 3, 20))
    assert (march.events_this_month, march.stale_deals) == (1, 1)  # beta's 1 Mar event; alpha is stale
    stages = queries.deals_by_stage(three, filters=ALL)
    assert {s: d for s, d in zip(stages["stage"], stages["deals"]) if d} == {
        "negotiating": 1,
        "contracted": 1,
        "cancelled": 1,
    }


def test_matrix_map_and_flows_on_three_deals(three: Engine) -> None:
    buyers = queries.stage_country_matrix(three, filters=Filters(country_role="buyer"))
    assert buyers[["country_code", "stage", "deals"]].values.tolist() == [
        ["UKR", "negotiating", 1],
        ["UKR", "cancelled", 1],
        ["POL", "contracted", 1],
    ]
    assert (
        len(queries.stage_country_matrix(three, filters=ALL, max_countries=2)["country_code"].unique()) == 2
    )
    counts = queries.country_deal_counts(three, filters=ALL).set_index("country_code")
    assert counts.loc["UKR", ["as_buyer", "as_seller", "deals"]].tolist() == [2, 0, 2]
    assert counts["deals"].sum() == 6
    flows = queries.deal_flows(three, filters=Filters(countries=("UKR",)))
    assert sorted(zip(flows["buyer_code"], flows["seller_code"], flows["deals"])) == [
        ("UKR", "DEU", 1),
        ("UKR", "USA", 1),
    ]
    assert len(queries.deal_flows(three, filters=ALL, limit=2)) == 2


def test_pipeline_cards_are_capped_per_stage(three: Engine) -> None:
    cards = queries.pipeline_cards(three, filters=ALL, today=TODAY)
    assert cards[["deal_id", "stage", "latest_grade"]].values.tolist() == [
        ["beta", "negotiating", "C2"],
        ["alpha", "contracted", "A2"],
        ["gamma", "cancelled", "E2"],
    ]
    more = [
        row(
            f"deal-{i}",
            "2025-05-0" + str(i),
            f"Deal {i} is announced.",
            source="Wire",
            grade="B",
            stage="announced",
            deal_title=f"Deal {i}",
        )
        for i in range(1, 6)
    ]
    import_bytes(three, ledger_csv(*more), file_name="more.csv", editor="test")
    capped = queries.pipeline_cards(three, filters=Filters(stages=("announced",)), today=TODAY, per_stage=3)
    assert capped["deal_id"].tolist() == ["deal-5", "deal-4", "deal-3"]  # most recently active first


def test_deals_table_is_capped_and_ordered(three: Engine) -> None:
    table = queries.deals_table(three, filters=ALL, limit=2)
    assert table["deal_id"].tolist() == ["gamma", "beta"]  # last events 1 Apr and 1 Mar 2025
    assert queries.deals_table(three, filters=ALL, limit=None)["deal_id"].tolist() == [
        "gamma",
        "beta",
        "alpha",
    ]
    assert table.columns[7] == "value"


def test_weakly_sourced_deals(three: Engine) -> None:
    weak = queries.weakly_sourced_deals(three, filters=ALL)
    assert weak.to_dict("records") == [
        {"deal_id": "gamma", "title": "Gamma shells", "stage": "cancelled", "sources": 1, "best_grade": "E"}
    ]
    assert queries.weakly_sourced_deals(three, filters=Filters(countries=("POL",))).empty


def test_sources_follow_filters(three: Engine) -> None:
    assert queries.count_sources(three, filters=ALL) == 3
    only = queries.sources_table(three, filters=Filters(categories=("tanks",)))
    assert only[["publisher", "events", "deals"]].values.tolist() == [["Alpha Wire", 2, 1]]


# --- as of a date ------------------------------------------------------------------------------------------


def test_as_of_leaves_out_later_events_and_recomputes_the_stage(two_imports: Engine) -> None:
    engine = two_imports
    assert queries.deal_header(engine, "delta").stage == "negotiating"
    before = queries.deal_header(engine, "delta", as_of=AUG_15)
    assert (before.stage, before.stage_since, before.event_count, before.sellers) == (
        "announced",
        dt.date(2025, 7, 1),
        1,
        None,
    )
    assert (before.value_low, before.currency) == (5e6, "EUR")  # the 8m claim came later
    assert queries.deal_header(engine, "delta").value_low == 8e6
    assert queries.deal_events(engine, "delta", as_of=AUG_15)["summary"].tolist() == ["Delta is announced."]
    assert queries.deal_event_sources(engine, "delta", as_of=AUG_15)["publisher"].tolist() == ["Delta Daily"]
    assert queries.deal_roles(engine, "delta", as_of=AUG_15)["role"].tolist() == ["buyer"]
    intervals = queries.deal_stage_intervals(engine, "delta", today=TODAY, as_of=AUG_15)
    assert intervals[["stage", "end", "days"]].values.tolist() == [["announced", dt.date(2025, 8, 15), 45]]
    assert queries.deal_header(engine, "delta", as_of=dt.datetime(2025, 7, 31)) is None  # not yet imported


def test_as_of_on_overview_queries(two_imports: Engine) -> None:
    engine = two_imports
    stages = queries.deals_by_stage(engine, filters=ALL, as_of=AUG_15)
    assert {s: d for s, d in zip(stages["stage"], stages["deals"]) if d} == {"announced": 1}
    assert (
        queries.deals_by_stage(engine, filters=Filters(stages=("negotiating",)), as_of=AUG_15)["deals"].sum()
        == 0
    )
    assert queries.headline_figures(
        engine, filters=ALL, today=dt.date(2025, 8, 15), as_of=AUG_15
    ) == queries.HeadlineFigures(deals=1, active_deals=1, events_this_month=0, stale_deals=0)
    assert len(queries.latest_events(engine, filters=ALL, as_of=AUG_15)) == 1
    assert queries.deal_flows(engine, filters=ALL, as_of=AUG_15).empty  # the seller came later
    assert len(queries.deal_flows(engine, filters=ALL)) == 1
    assert queries.country_deal_counts(engine, filters=ALL, as_of=AUG_15)["country_code"].tolist() == ["UKR"]
    assert queries.stage_country_matrix(engine, filters=ALL, as_of=AUG_15)[
        ["country_code", "stage"]
    ].values.tolist() == [["UKR", "announced"]]
    nothing_yet = dt.datetime(2025, 7, 31)
    assert queries.headline_figures(engine, filters=ALL, today=TODAY, as_of=nothing_yet).deals == 0
    assert queries.latest_events(engine, filters=ALL, as_of=nothing_yet).empty


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(stages=("negotiating", "cancelled")),
        Filters(countries=("UKR",), country_role="buyer"),
        Filters(since=dt.date(2025, 2, 1), min_reliability="E"),
    ],
)
def test_as_of_now_agrees_with_the_stored_stages(three: Engine, filters: Filters) -> None:
    now = dt.datetime(2100, 1, 1)
    for query in (
        queries.deals_by_stage,
        queries.stage_country_matrix,
        queries.country_deal_counts,
        queries.deal_flows,
        queries.latest_events,
    ):
        pd.testing.assert_frame_equal(
            query(three, filters=filters), query(three, filters=filters, as_of=now), check_dtype=False
        )
    assert queries.headline_figures(three, filters=filters, today=TODAY) == queries.headline_figures(
        three, filters=filters, today=TODAY, as_of=now
    )


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(stages=("negotiating", "cancelled")),
        Filters(countries=("UKR",), country_role="buyer"),
        Filters(countries=("FRA",)),
        Filters(since=dt.date(2025, 2, 1), min_reliability="E"),
    ],
)
@pytest.mark.parametrize("as_of", [None, dt.datetime(2100, 1, 1)])
def test_overview_agrees_with_the_single_chart_queries(
    three: Engine, filters: Filters, as_of: dt.datetime | None
) -> None:
    overview = queries.overview(three, filters=filters, today=TODAY, as_of=as_of)
    assert overview.figures == queries.headline_figures(three, filters=filters, today=TODAY, as_of=as_of)
    for frame, query in (
        (overview.by_stage, queries.deals_by_stage),
        (overview.matrix, queries.stage_country_matrix),
        (overview.country_counts, queries.country_deal_counts),
        (overview.flows, queries.deal_flows),
    ):
        pd.testing.assert_frame_equal(frame, query(three, filters=filters, as_of=as_of))


def test_overview_counts_a_deal_with_two_buyers_once_per_country(three: Engine) -> None:
    import_bytes(
        three,
        ledger_csv(
            row(
                "delta",
                "2025-06-01",
                "Two buyers order jointly.",
                source="Delta Wire",
                grade="B",
                stage="agreed",
                deal_title="Delta",
                buyer="Ukraine; Poland",
                seller="Poland",
            )
        ),
        file_name="delta.csv",
        editor="test",
    )
    overview = queries.overview(three, filters=ALL, today=TODAY)
    assert overview.figures == queries.HeadlineFigures(
        deals=4, active_deals=3, events_this_month=0, stale_deals=3
    )
    assert overview.matrix.loc[
        overview.matrix["stage"] == "agreed", ["country_code", "deals"]
    ].values.tolist() == [
        ["UKR", 1],
        ["POL", 1],
    ]  # Ukraine first: 3 deals in all; Poland counts once though on both sides
    counts = overview.country_counts.set_index("country_code")
    assert counts.loc["POL", ["as_buyer", "as_seller", "deals"]].tolist() == [2, 1, 3]
    assert sorted(
        zip(overview.flows["buyer_code"], overview.flows["seller_code"], overview.flows["deals"])
    ) == [("POL", "KOR", 1), ("POL", "POL", 1), ("UKR", "DEU", 1), ("UKR", "POL", 1), ("UKR", "USA", 1)]


# --- conflicts ----------------------------------------------------------------------------------------------


def test_value_and_stage_order_conflicts(engine: Engine) -> None:
    import_bytes(
        engine,
        ledger_csv(
            *[
                row(
                    "omega",
                    "2024-01-10",
                    "Omega contract signed for 2bn.",
                    source="Wire One",
                    grade="B",
                    stage="contracted",
                    deal_title="Omega",
                    value_low="2bn",
                    value_high="2bn",
                    currency="USD",
                ),
                row(
                    "omega",
                    "2024-03-01",
                    "Omega is said to be still under negotiation, worth 3bn.",
                    source="Wire Two",
                    grade="D",
                    stage="negotiating",
                    value_low="3bn",
                    currency="USD",
                ),
                row(
                    "omega", "2024-05-01", "Omega talks stall.", source="Wire Two", grade="D", stage="stalled"
                ),
            ]
        ),
        file_name="omega.csv",
        editor="test",
    )
    events = queries.deal_events(engine, "omega")
    conflicts = find_conflicts(events, queries.deal_event_sources(engine, "omega"))
    assert [(c.kind, c.title) for c in conflicts] == [
        ("value", "2 events claim 2 different values"),
        ("stage order", "the deal goes back from contracted (10 Jan 2024) to negotiating (1 Mar 2024)"),
    ]
    assert conflicts[0].claims[["value", "sources"]].values.tolist() == [
        ["2 bn USD", "Wire One (B2)"],
        ["at least 3 bn USD", "Wire Two (D2)"],
    ]


def test_no_conflicts_for_a_deal_moving_forward(three: Engine) -> None:
    events = queries.deal_events(three, "alpha")
    assert find_conflicts(events, queries.deal_event_sources(three, "alpha")) == []


# --- the CSV template ---------------------------------------------------------------------------------------


def test_template_header_is_the_upload_format() -> None:
    lines = TEMPLATE_PATH.read_text(encoding="utf-8").splitlines()
    assert next(csv.reader([lines[0]])) == list(ALL_COLUMNS)
    assert lines[1] == SEED_CSV.read_text(encoding="utf-8").splitlines()[1]
    assert len(lines) == 2


def test_template_imports_cleanly(engine: Engine) -> None:
    report = import_bytes(
        engine, TEMPLATE_PATH.read_bytes(), file_name="template.csv", editor="test", dry_run=True
    )
    assert (report.events_added, report.deals_created) == (1, [SEED_DEAL])


# --- display helpers ----------------------------------------------------------------------------------------


def test_escape_markdown_leaves_no_markup() -> None:
    assert escape_markdown("[click](javascript:alert(1))") == r"\[click\]\(javascript\:alert\(1\)\)"
    assert escape_markdown("**bold** <b>x</b> :red[x] $x$") == r"\*\*bold\*\* \<b\>x\<\/b\> \:red\[x\] \$x\$"
    assert escape_markdown("# heading\n- item") == r"\# heading \- item"
    assert escape_markdown(None) == ""


def test_links_only_for_web_urls() -> None:
    assert markdown_link("Post", "https://example.org/a b") == "Post"  # whitespace: not a usable URL
    assert markdown_link("Post", "javascript:alert(1)") == "Post"
    assert (
        markdown_link("Post (x)", "https://example.org/a_(b)")
        == r"[Post \(x\)](<https://example.org/a_%28b%29>)"
    )
    assert is_web_url("HTTP://example.org") and not is_web_url("ftp://example.org") and not is_web_url(None)


@pytest.mark.parametrize(
    ("low", "high", "currency", "text"),
    [
        (10e9, 30e9, "USD", "10–30 bn USD"),
        (1.5e9, 1.5e9, "EUR", "1.5 bn EUR"),
        (500e6, 1.2e9, "USD", "0.5–1.2 bn USD"),
        (None, 30e9, "USD", "up to 30 bn USD"),
        (250e6, None, "GBP", "at least 250 m GBP"),
        (None, None, None, ""),
        (float("nan"), float("nan"), None, ""),
        (750, 900, "USD", "750–900 USD"),
    ],
)
def test_value_range_text(low: float | None, high: float | None, currency: str | None, text: str) -> None:
    assert value_range_text(low, high, currency) == text


def test_grade() -> None:
    assert grade("B", 3) == "B3"
    assert grade("F", None) == "F"


def test_attribute_change_text() -> None:
    assert attribute_change_text("value", "300000000.0|400000000.0|EUR") == "300–400 m EUR"
    assert attribute_change_text("value", "|5000000.0|USD") == "up to 5 m USD"
    assert attribute_change_text("title", None) == "not set"
    assert attribute_change_text("category", "radar") == "radar"


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        ("last_event", None, ["gamma", "beta", "alpha"]),
        ("first_event", None, ["gamma", "beta", "alpha"]),
        ("title", None, ["alpha", "beta", "gamma"]),
        ("title", True, ["gamma", "beta", "alpha"]),
        ("stage", None, ["beta", "alpha", "gamma"]),  # negotiating, contracted, cancelled
        ("stage_since", None, ["gamma", "beta", "alpha"]),
        ("buyers", None, ["alpha", "beta", "gamma"]),  # Poland, then Ukraine twice: ties by deal id
        ("sellers", None, ["gamma", "alpha", "beta"]),  # Germany, South Korea, United States
        ("category", None, ["beta", "gamma", "alpha"]),  # air defence, artillery, tanks
        ("value", None, ["alpha", "beta", "gamma"]),  # no value comes last, either way
        ("value", False, ["alpha", "beta", "gamma"]),
        ("events", None, ["alpha", "beta", "gamma"]),  # two each: by deal id
        ("events", False, ["alpha", "beta", "gamma"]),
    ],
)
def test_deals_table_sorts_in_the_database(
    three: Engine, sort: str, descending: bool | None, expected: list[str]
) -> None:
    table = queries.deals_table(three, filters=ALL, sort=sort, descending=descending)
    assert table["deal_id"].tolist() == expected


def test_deals_table_pages_do_not_overlap(three: Engine) -> None:
    pages = [
        queries.deals_table(three, filters=ALL, sort="events", offset=offset, limit=1)["deal_id"].tolist()
        for offset in range(4)
    ]
    assert pages == [["alpha"], ["beta"], ["gamma"], []]
