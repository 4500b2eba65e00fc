"""tracker.queries, tracker.conflicts and tracker.display: exact values on the seed and on small ledgers.

Small ledgers are written the only way data gets in: CSV text through tracker.importer.import_bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from conftest import TODAY
from sqlalchemy import Engine, text

from tests.builders import THREE_DEALS, event_row, ledger_csv
from tracker import queries
from tracker.columns import TEMPLATE_COLUMNS
from tracker.conflicts import find_conflicts, linked_sources, value_claims
from tracker.display import (
    WORD_JOINER,
    escape_markdown,
    grade,
    is_web_url,
    markdown_link,
    value_range_text,
)
from tracker.filters import Filters
from tracker.importer import import_bytes, undo_import
from tracker.knowledge import AsOf, AsOfMode
from tracker.labels import deal_labels
from tracker.ledger_csv import TEMPLATE_PATH
from tracker.vocab import STAGE_NAMES

SEED_DEAL = "us-ukraine-drone-deal"
SEED_CSV = Path(__file__).resolve().parent.parent / "data" / "seed" / "us-ukraine-drone-deal.csv"
ALL = Filters()
J = WORD_JOINER  # invisible in the rendered text


@pytest.fixture
def two_imports(engine: Engine) -> Engine:
    """One deal imported on 1 Aug 2025 (announced), then on 1 Oct 2025 a negotiating event, a value change,
    a seller and a second source."""
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
                event_row(
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


AUG_15 = AsOf.end_of(dt.date(2025, 8, 15), "recorded")


# --- the seed ---------------------------------------------------------------------------------------------


def test_headline_figures_on_the_seed(seeded: Engine) -> None:
    assert queries.overview(seeded, filters=ALL, today=TODAY).figures == queries.HeadlineFigures(
        deals=1, active_deals=1, events_this_month=0, stale_deals=1
    )
    # October 2025: events dated 2 Oct, 10 Oct and 17 Oct (the 30 Sep – 3 Oct one starts in September).
    october = queries.overview(seeded, filters=ALL, today=dt.date(2025, 10, 20)).figures
    assert (october.events_this_month, october.stale_deals) == (3, 0)


def test_stale_means_more_than_sixty_days_without_an_event(seeded: Engine) -> None:
    # The last event is dated 17 Oct 2025; 60 days later is 16 Dec 2025.
    assert queries.overview(seeded, filters=ALL, today=dt.date(2025, 12, 16)).figures.stale_deals == 0
    assert queries.overview(seeded, filters=ALL, today=dt.date(2025, 12, 17)).figures.stale_deals == 1


def test_deals_by_stage_lists_every_stage(seeded: Engine) -> None:
    frame = queries.deals_by_stage(seeded)
    assert frame["stage"].tolist() == list(STAGE_NAMES)
    assert dict(zip(frame["stage"], frame["deals"])) == {s: int(s == "negotiating") for s in STAGE_NAMES}
    assert queries.deals_by_stage(seeded, filters=Filters(stages=("announced",)))["deals"].sum() == 0


def test_stage_country_matrix_country_map_and_flows_on_the_seed(seeded: Engine) -> None:
    matrix = queries.overview(seeded, filters=ALL, today=TODAY).matrix
    assert matrix.to_dict("records") == [
        {"country_code": "UKR", "country": "Ukraine", "stage": "negotiating", "deals": 1},
        {"country_code": "USA", "country": "United States", "stage": "negotiating", "deals": 1},
    ]
    sellers = queries.overview(seeded, filters=Filters(country_role="seller"), today=TODAY).matrix
    assert sellers["country_code"].tolist() == ["UKR"]
    counts = queries.overview(seeded, filters=ALL, today=TODAY).country_counts
    assert counts.to_dict("records") == [
        {"country_code": "UKR", "country": "Ukraine", "as_buyer": 0, "as_seller": 1, "deals": 1},
        {"country_code": "USA", "country": "United States", "as_buyer": 1, "as_seller": 0, "deals": 1},
    ]
    flows = queries.overview(seeded, filters=ALL, today=TODAY).flows
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


def test_deals_table_dates_as_reported_and_labels_on_the_seed(seeded: Engine) -> None:
    (row,) = queries.deals_table(seeded, filters=ALL).to_dict("records")
    assert {key: row[key] for key in ("label", "first_event", "last_event", "in_stage_since")} == {
        "label": "US–Ukraine Drone Deal",  # told by news: the title as it is
        "first_event": "Jul 2025",
        "last_event": "17 Oct 2025",
        "in_stage_since": "week of 22 Sep 2025",
    }
    assert row["sipri_tiv"] is None  # no SIPRI record
    assert deal_labels(seeded, [SEED_DEAL, "no-such-deal"]) == {SEED_DEAL: "US–Ukraine Drone Deal"}
    assert deal_labels(seeded, []) == {}
    intervals = queries.deal_stage_intervals(seeded, SEED_DEAL, today=TODAY)
    assert queries.time_in_stage(intervals)[["stage", "days", "first_entered"]].values.tolist() == [
        ["announced", 83, "Jul 2025"],
        ["negotiating", 429, "week of 22 Sep 2025"],
    ]


def test_stage_intervals_from_events_already_read(seeded: Engine) -> None:
    events = queries.deal_events(seeded, SEED_DEAL)
    from_events = queries.events_stage_intervals(SEED_DEAL, events, today=TODAY)
    assert from_events.equals(queries.deal_stage_intervals(seeded, SEED_DEAL, today=TODAY))
    assert from_events[["stage", "start", "days"]].values.tolist() == [
        ["announced", dt.date(2025, 7, 1), 83],
        ["negotiating", dt.date(2025, 9, 22), 429],
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
    # A source without a title (all but one of the seed's) shows its address: a publisher's two articles
    # are told apart.
    assert sources[["publisher", "title_or_address"]].values.tolist() == [
        ["New York Post", "Ukrainian team headed to Washington to hammer out details of drone deal"],
        ["Interfax-Ukraine", "en.interfax.com.ua/…/1090715.html"],
        [
            "LIGA.net",
            "news.liga.net/…/zelenskiy-and-trump-reach-political-agreement-on-ukrainian-drones-for-the-us",
        ],
        ["LIGA.net", "news.liga.net/…/ukraines-delegation-goes-to-the-us-for-talks-on-the-drone-deal"],
        ["Interfax-Ukraine", "en.interfax.com.ua/…/1111501.html"],
        [
            "The Independent",
            "www.the-independent.com/…/trump-zelensky-meeting-tomahawk-missile-drone-b2847639.html",
        ],
        ["Ukrainska Pravda", "www.pravda.com.ua/…/7532305"],
        ["Devdiscourse", "www.devdiscourse.com/…/3508297-strategic-sky-the-us-ukrainian-drone-deal"],
        [
            "UNN",
            "unn.ua/…/ukraine-and-the-us-held-talks-on-an-agreement-for-the-purchase-and-production-of-drones",
        ],
        [
            "Ukrinform (via MENAFN)",
            "menafn.com/…/Ukraine-Planning-To-Sign-Drone-Deal-With-US-PM-Svyrydenko-Says",
        ],
        [
            "Ukrinform (via MENAFN)",
            (
                "menafn.com/…/Ukrainian-Delegation-Discussed-Drone-Deal-Initiative-With-Officials-From-Pentagon-"
                "Congress-And-US-Military"
            ),
        ],
        ["VnNow", "vnnow.net/…/ukraine-proposes-multi-billion-dollar-drone-deal-to-the-us-109764.html"],
        ["RT (relayed via MENAFN)", "menafn.com/…/Zelensky-declares-US-ready-to-purchase-Ukrainian-drones"],
    ]
    assert len(queries.sources_table(seeded, filters=ALL, limit=4)) == 4
    assert queries.weakly_sourced_deals(seeded, filters=ALL).empty  # the seed has B-graded sources


def test_a_sources_publication_date_reads_as_precisely_as_it_was_given(engine: Engine) -> None:
    # A source dated to a month showed as "1 Jul 2025" on the Sources page and the deal page.
    rows = [
        event_row("d", "2025-07-04", "Talks.", source="Monthly", grade="B", source_date="2025-07"),
        event_row("d", "2025-07-05", "More talks.", source="Daily", grade="B", source_date="2025-07-05"),
        event_row("d", "2025-07-06", "Yet more.", source="Undated", grade="B"),
    ]
    rows[0] |= {"deal_title": "D", "stage": "negotiating"}
    import_bytes(engine, ledger_csv(*rows), file_name="dated.csv", editor="test")
    listed = queries.sources_table(engine, filters=ALL)
    assert dict(zip(listed["publisher"], listed["published"].fillna("–"), strict=True)) == {
        "Monthly": "Jul 2025",
        "Daily": "5 Jul 2025",
        "Undated": "–",
    }
    by_event = queries.deal_event_sources(engine, "d")
    assert by_event[["publisher", "published"]].fillna("–").values.tolist() == [
        ["Monthly", "Jul 2025"],
        ["Daily", "5 Jul 2025"],
        ["Undated", "–"],
    ]


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
    assert queries.overview(three, filters=filters, today=TODAY).figures.deals == deals
    assert int(queries.deals_by_stage(three, filters=filters)["deals"].sum()) == deals


@pytest.mark.parametrize(
    ("title", "summary", "search"),
    [
        ("ÜBER-Drohnen für Kyjiw", "Vertrag unterzeichnet.", "über"),
        ("Drones über alles", "Signed.", "ÜBER"),
        ("Air defence for Київ", "Signed.", "КИЇВ"),
        ("Air defence", "Delivered to КИЇВ.", "київ"),
        ("ΦΡΕΓΑΤΑ for Greece", "Signed.", "φρεγατα"),
        # The pattern is lower-cased as the SQL side is: casefold() would search "strasse" and miss.
        ("Deal for Straße works", "Signed.", "Straße"),
        # Python lowers a word-final Σ to ς, PostgreSQL to σ: either is found by either.
        ("Frigate ΑΙΓΑΙΟΣ", "Signed.", "αιγαιος"),
        ("Frigate αιγαιος", "Signed.", "ΑΙΓΑΙΟΣ"),
        ("Frigate ΑΙΓΑΙΟΣ", "Signed.", "ΑΙΓΑΙΟΣ"),
    ],
)
def test_search_ignores_case_in_every_script(engine: Engine, title: str, summary: str, search: str) -> None:
    """SQLite's own lower() folds A-Z only; the ledger's connections fold every letter, as PostgreSQL."""
    data = ledger_csv(event_row("unicode", "2025-01-01", summary, source="Wire", grade="B", deal_title=title))
    import_bytes(engine, data, file_name="unicode.csv", editor="test")
    assert queries.count_deals(engine, filters=Filters(text=search)) == 1
    assert queries.count_deals(engine, filters=Filters(text=search + " nowhere")) == 0


def test_sql_lower_folds_every_letter(engine: Engine) -> None:
    with engine.connect() as connection:
        lowered = connection.execute(
            text("SELECT lower(:a), lower(:b), lower(:c), lower(NULL)"),
            {"a": "ÜBER", "b": "КИЇВ Straße", "c": "ABC 123"},
        ).one()
    assert tuple(lowered) == ("über", "київ straße", "abc 123", None)


def test_party_filter(three: Engine) -> None:
    parties = queries.filter_options(three).parties
    rheinmetall = int(parties.loc[parties["name"] == "Rheinmetall", "party_id"].iloc[0])
    assert queries.deals_table(three, filters=Filters(parties=(rheinmetall,)))["deal_id"].tolist() == [
        "gamma"
    ]


def test_headline_and_stages_on_three_deals(three: Engine) -> None:
    # Active: alpha (contracted) and beta (negotiating); gamma is cancelled. Stale on 25 Nov 2026: both.
    assert queries.overview(three, filters=ALL, today=TODAY).figures == queries.HeadlineFigures(
        deals=3, active_deals=2, events_this_month=0, stale_deals=2
    )
    march = queries.overview(three, filters=ALL, today=dt.date(2025, 3, 20)).figures
    assert (march.events_this_month, march.stale_deals) == (1, 1)  # beta's 1 Mar event; alpha is stale
    stages = queries.deals_by_stage(three, filters=ALL)
    assert {s: d for s, d in zip(stages["stage"], stages["deals"]) if d} == {
        "negotiating": 1,
        "contracted": 1,
        "cancelled": 1,
    }


def test_matrix_map_and_flows_on_three_deals(three: Engine) -> None:
    buyers = queries.overview(three, filters=Filters(country_role="buyer"), today=TODAY).matrix
    assert buyers[["country_code", "stage", "deals"]].values.tolist() == [
        ["UKR", "negotiating", 1],
        ["UKR", "cancelled", 1],
        ["POL", "contracted", 1],
    ]
    # Every country, most deals first (ties by name): the heatmap keeps the top ones (tests/test_charts.py).
    assert queries.overview(three, filters=ALL, today=TODAY).matrix["country_code"].unique().tolist() == [
        "UKR",
        "DEU",
        "POL",
        "KOR",
        "USA",
    ]
    counts = queries.overview(three, filters=ALL, today=TODAY).country_counts.set_index("country_code")
    assert counts.loc["UKR", ["as_buyer", "as_seller", "deals"]].tolist() == [2, 0, 2]
    assert counts["deals"].sum() == 6
    flows = queries.overview(three, filters=Filters(countries=("UKR",)), today=TODAY).flows
    assert sorted(zip(flows["buyer_code"], flows["seller_code"], flows["deals"])) == [
        ("UKR", "DEU", 1),
        ("UKR", "USA", 1),
    ]
    every_pair = queries.overview(three, filters=ALL, today=TODAY).flows
    assert list(zip(every_pair["buyer_code"], every_pair["seller_code"], every_pair["deals"])) == [
        ("POL", "KOR", 1),
        ("UKR", "DEU", 1),
        ("UKR", "USA", 1),
    ]


def test_pipeline_cards_are_capped_per_stage(three: Engine) -> None:
    cards = queries.pipeline_cards(three, filters=ALL, today=TODAY)
    assert cards[["deal_id", "stage", "latest_grade"]].values.tolist() == [
        ["beta", "negotiating", "C2"],
        ["alpha", "contracted", "A2"],
        ["gamma", "cancelled", "E2"],
    ]
    more = [
        event_row(
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
        {
            "deal_id": "gamma",
            "title": "Gamma shells",
            "label": "Gamma shells",
            "stage": "cancelled",
            "sources": 1,
            "best_grade": "E",
        }
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
    assert (
        queries.deal_header(engine, "delta", as_of=AsOf(dt.datetime(2025, 7, 31), "recorded")) is None
    )  # not yet imported


def test_as_of_on_overview_queries(two_imports: Engine) -> None:
    engine = two_imports
    stages = queries.deals_by_stage(engine, filters=ALL, as_of=AUG_15)
    assert {s: d for s, d in zip(stages["stage"], stages["deals"]) if d} == {"announced": 1}
    assert (
        queries.deals_by_stage(engine, filters=Filters(stages=("negotiating",)), as_of=AUG_15)["deals"].sum()
        == 0
    )
    assert queries.overview(
        engine, filters=ALL, today=dt.date(2025, 8, 15), as_of=AUG_15
    ).figures == queries.HeadlineFigures(deals=1, active_deals=1, events_this_month=0, stale_deals=0)
    assert len(queries.latest_events(engine, filters=ALL, as_of=AUG_15)) == 1
    assert queries.overview(
        engine, filters=ALL, as_of=AUG_15, today=TODAY
    ).flows.empty  # the seller came later
    assert len(queries.overview(engine, filters=ALL, today=TODAY).flows) == 1
    assert queries.overview(engine, filters=ALL, as_of=AUG_15, today=TODAY).country_counts[
        "country_code"
    ].tolist() == ["UKR"]
    assert queries.overview(engine, filters=ALL, as_of=AUG_15, today=TODAY).matrix[
        ["country_code", "stage"]
    ].values.tolist() == [["UKR", "announced"]]
    nothing_yet = AsOf(dt.datetime(2025, 7, 31), "recorded")
    assert queries.overview(engine, filters=ALL, today=TODAY, as_of=nothing_yet).figures.deals == 0
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
@pytest.mark.parametrize("mode", ["reported", "recorded"])
def test_as_of_now_agrees_with_the_stored_stages(three: Engine, filters: Filters, mode: AsOfMode) -> None:
    now = AsOf(dt.datetime(2100, 1, 1), mode)
    for query in (queries.deals_by_stage, queries.latest_events):
        pd.testing.assert_frame_equal(
            query(three, filters=filters), query(three, filters=filters, as_of=now), check_dtype=False
        )
    stored = queries.overview(three, filters=filters, today=TODAY)
    recomputed = queries.overview(three, filters=filters, today=TODAY, as_of=now)
    assert stored.figures == recomputed.figures
    for part in ("by_stage", "matrix", "country_counts", "flows"):
        pd.testing.assert_frame_equal(getattr(stored, part), getattr(recomputed, part), check_dtype=False)


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
@pytest.mark.parametrize(
    "as_of", [None, AsOf(dt.datetime(2100, 1, 1), "recorded"), AsOf(dt.datetime(2100, 1, 1), "reported")]
)
def test_overview_agrees_with_deals_by_stage(three: Engine, filters: Filters, as_of: AsOf | None) -> None:
    overview = queries.overview(three, filters=filters, today=TODAY, as_of=as_of)
    pd.testing.assert_frame_equal(
        overview.by_stage, queries.deals_by_stage(three, filters=filters, as_of=as_of)
    )


def test_overview_counts_a_deal_with_two_buyers_once_per_country(three: Engine) -> None:
    import_bytes(
        three,
        ledger_csv(
            event_row(
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
                event_row(
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
                event_row(
                    "omega",
                    "2024-03-01",
                    "Omega is said to be still under negotiation, worth 3bn.",
                    source="Wire Two",
                    grade="D",
                    stage="negotiating",
                    value_low="3bn",
                    currency="USD",
                ),
                event_row(
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
    assert next(csv.reader([lines[0]])) == list(TEMPLATE_COLUMNS)
    # The example row is the seed's first row; columns the seed file predates are empty.
    (example,) = csv.DictReader(lines)
    seed = next(csv.DictReader(SEED_CSV.read_text(encoding="utf-8").splitlines()))
    assert example == {column: seed.get(column, "") for column in TEMPLATE_COLUMNS}
    assert len(lines) == 2


def test_template_imports_cleanly(engine: Engine) -> None:
    report = import_bytes(
        engine, TEMPLATE_PATH.read_bytes(), file_name="template.csv", editor="test", dry_run=True
    )
    assert (report.events_added, report.deals_created) == (1, [SEED_DEAL])


# --- display helpers ----------------------------------------------------------------------------------------


def test_escape_markdown_leaves_no_markup() -> None:
    assert escape_markdown("[click](javascript:alert(1))") == rf"\[click\]\(javascript\:{J}alert\(1\)\)"
    assert (
        escape_markdown("**bold** <b>x</b> :red[x] $x$") == rf"\*\*bold\*\* \<b\>x\<\/b\> \:{J}red\[x\] \$x\$"
    )
    assert escape_markdown("# heading\n- item") == r"\# heading \- item"
    assert escape_markdown(None) == ""


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        # GFM autolinks work on the text after escapes are read: a WORD JOINER (J) breaks each pattern.
        ("see www.example.com now", rf"see www{J}\.example\.com now"),
        ("WWW.EXAMPLE.COM", rf"WWW{J}\.EXAMPLE\.COM"),
        ("https://example.com/a?b=1", rf"https\:{J}\/\/example\.com\/a\?b\=1"),
        ("HTTP://example.com", rf"HTTP\:{J}\/\/example\.com"),
        ("write to bob@example.com", rf"write to bob{J}\@example\.com"),
        ("mailto:bob@example.com", rf"mailto\:{J}bob{J}\@example\.com"),
        ("xmpp:bob@example.com", rf"xmpp\:{J}bob{J}\@example\.com"),
        # Streamlit's own rewrite of text: the logo shortcode.
        (":streamlit:", rf"\:{J}streamlit\:"),
        (":streamlit:streamlit:", rf"\:{J}streamlit\:{J}streamlit\:"),
        (":material/home:", rf"\:{J}material\/home\:"),
        # Colons before a space or at the end, and "www" without a dot, are left alone.
        ("Import #2: good.csv: 1 rows read", r"Import \#2\: good\.csv\: 1 rows read"),
        ("at 13:45", rf"at 13\:{J}45"),
        ("wwwhat", "wwwhat"),
    ],
)
def test_escape_markdown_breaks_autolinks_and_icons(text: str, escaped: str) -> None:
    assert escape_markdown(text) == escaped


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


def test_the_sources_words_show_beside_the_source(engine: Engine) -> None:
    said = "Ukraine signed a memorandum on drones, the ministry said."
    rows = (
        event_row(
            "eta",
            "2025-03-01",
            "Memorandum signed.",
            source="Eta Wire",
            grade="B",
            source_excerpt=said,
            deal_title="Eta drones",
        ),
        event_row("eta", "2025-04-01", "Talks went on.", source="Eta Daily", grade="C"),
    )
    import_bytes(engine, ledger_csv(*rows), file_name="eta.csv", editor="test")
    sources = queries.deal_event_sources(engine, "eta")
    assert sources[["publisher", "excerpt"]].fillna("").values.tolist() == [
        ["Eta Wire", said],
        ["Eta Daily", ""],
    ]
