"""The article drafter (tracker.drafting): each rule family with exact expected rows, the seed article's
events, "never invent" over the evaluation set, imports of drafts, and `python -m tracker draft`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bench.draft_bench import draft_case, load_cases
from tests.builders import ledger_csv
from tracker.cli import main
from tracker.countries import country_phrase
from tracker.drafting import (
    DRAFT_COLUMNS,
    ArticleSource,
    Draft,
    LedgerDeal,
    LedgerKnowledge,
    LedgerParty,
    draft_article,
    draft_csv_bytes,
)
from tracker.drafting.amounts import find_quantities, find_values
from tracker.drafting.ledger import MAX_DEALS
from tracker.drafting.mentions import find_countries
from tracker.drafting.text import MAX_ARTICLE_CHARACTERS, split_sentences
from tracker.drafting.vocabulary import NUMBER_WORDS, STAGE_CUES
from tracker.drafting.when import find_dates
from tracker.errors import DraftRefused
from tracker.importer import import_bytes
from tracker.seed import SEED_DIR

PUBLISHED = dt.date(2025, 10, 28)  # a Tuesday
# The seed deal's primary document (data/seed/README.md says where it comes from).
SEED_ARTICLE = SEED_DIR / "post-2025-09-29-drone-deal-article.txt"
SEED_SOURCE = ArticleSource(
    published=dt.date(2025, 9, 29),
    publisher="New York Post",
    title="Ukrainian team headed to Washington to hammer out details of drone deal",
)


def draft(text: str, *, published: dt.date = PUBLISHED, **options: object) -> Draft:
    return draft_article(text, source=ArticleSource(published=published, publisher="Reuters"), **options)


def cells(text: str, *columns: str, **options: object) -> list[tuple[str, ...]]:
    return [tuple(record[c] for c in columns) for record in draft(text, **options).records()]


def sentence(text: str):
    return split_sentences(text)[0]


def seed_article() -> str:
    return SEED_ARTICLE.read_text(encoding="utf-8")


# --- sentences ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Talks ran from Sept. 29 to Oct. 2. They ended.",
            ["Talks ran from Sept. 29 to Oct. 2.", "They ended."],
        ),
        ("U.S. officials met. The deal is near.", ["U.S. officials met.", "The deal is near."]),
        ("It was sold to the U.S. The deal is done.", ["It was sold to the U.S.", "The deal is done."]),
        ("Gen. Smith spoke.\nA new line", ["Gen. Smith spoke.", "A new line"]),
        ("“We need it,” he said. “It is a win-win.”", ["“We need it,” he said.", "“It is a win-win.”"]),
        ("  \n\n", []),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == expected
    assert all(text[s.start : s.end] == s.text for s in sentences)


# --- dates --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Poland signed on Monday.", [("Monday", "2025-10-27", "day")]),
        (
            "Talks will run Tuesday through Friday.",
            [("Tuesday through Friday", "2025-11-04/2025-11-07", "day")],
        ),
        ("He said it last week.", [("last week", "2025-W43", "week")]),
        ("In July, the two signed.", [("In July", "2025-07", "month")]),
        ("In December, the two signed.", [("In December", "2024-12", "month")]),
        ("They agreed in 2025-07.", [("2025-07", "2025-07", "month")]),
        ("They met from Sept. 29 to Oct. 2.", [("from Sept. 29 to Oct. 2", "2025-09-29/2025-10-02", "day")]),
        ("It was approved in August 2023.", [("August 2023", "2023-08", "month")]),
        ("It was approved on 4 July 2025.", [("4 July 2025", "2025-07-04", "day")]),
        ("They agreed in 2022.", [("in 2022", "2022", "year")]),
        (
            "It came yesterday and last month.",
            [("yesterday", "2025-10-27", "day"), ("last month", "2025-09", "month")],
        ),
        ("Talks are planned for next month.", [("next month", "2025-11", "month")]),
        ("“After today’s meeting we must hurry,” he said.", []),  # the speaker's today, not the paper's
        ("WARSAW, Oct 28 (Reuters) - Poland signed on Monday.", [("Monday", "2025-10-27", "day")]),
        ("It may be 30 February 2025.", []),
    ],
)
def test_dates(text: str, expected: list[tuple[str, str, str]]) -> None:
    found = find_dates(sentence(text), published=PUBLISHED)
    assert [(d.span.text, d.date.text, d.date.precision) for d in found] == expected


def test_a_date_after_a_verb_of_saying_dates_the_statement_and_plans_are_not_events() -> None:
    said, planned = find_dates(
        sentence("It was signed, he said on Monday, with talks next week."), published=PUBLISHED
    )
    assert (said.statement_date, said.planned, planned.planned) == (True, False, True)


# --- values and quantities ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Zelensky spoke of $10-20-30 billion.",
            [("10bn", "30bn", "USD", "“$10-20-30 billion” read as the range 10bn–30bn")],
        ),
        (
            "It is worth 8 billion pounds ($10.7 billion).",
            [("8bn", "8bn", "GBP", "also given as “$10.7 billion”")],
        ),
        ("The deal is worth almost $11bn.", [("11bn", "11bn", "USD", "approximate (“almost”)")]),
        ("It is worth about $6.5 billion.", [("6.5bn", "6.5bn", "USD", "approximate (“about”)")]),
        ("Valued at between €2 billion and €3 billion.", [("2bn", "3bn", "EUR", "")]),
        ("It costs 3.4 trillion won.", [("3.4tn", "3.4tn", "KRW", "")]),
        ("It may cost up to $5 billion.", [("", "5bn", "USD", "“up to”: a ceiling, not the value")]),
        ("It costs more than EUR 2bn.", [("2bn", "", "EUR", "“more than”: a floor, not the value")]),
        ("It costs 1,500,000 zlotys.", [("1500000", "1500000", "PLN", "")]),
        ("It employs 2 million people and 40 jets.", []),
    ],
)
def test_values(text: str, expected: list[tuple[str, str, str, str]]) -> None:
    assert [(v.low, v.high, v.currency, v.note) for v in find_values(sentence(text))] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Sweden offered 100 to 150 Gripen E.",
            [
                (
                    "",
                    "Gripen E",
                    "quantity “100 to 150 Gripen E” is a range: give one number if the deal fixes it",
                )
            ],
        ),
        ("Kyiv wants up to 100 drones.", [("100", "drones", "quantity “up to 100 drones”: a ceiling")]),
        ("In July, the two signed a preliminary deal for 40.", [("40", "", "")]),
        ("Poland will buy 96 AH-64E Apache helicopters.", [("96", "AH-64E Apache helicopters", "")]),
        (
            "It ordered two frigates and 54 Leopard 2A8 tanks.",
            [("2", "frigates", ""), ("54", "Leopard 2A8 tanks", "")],
        ),
        ("A three-year conflict cost 40 lives over 12 months.", []),
    ],
)
def test_quantities(text: str, expected: list[tuple[str, str, str]]) -> None:
    found = find_quantities(sentence(text), taken=[])
    assert [(q.quantity, q.system, q.note) for q in found] == expected


# --- states -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Ukrainian officials met the U.K. team.",
            [("Ukrainian", "UKR", "demonym", False), ("U.K.", "GBR", "abbreviation", False)],
        ),
        (
            "Turkiye and the US agreed.",
            [("Turkiye", "TUR", "name", False), ("US", "USA", "abbreviation", False)],
        ),
        (
            "Seoul agreed to sell tanks to Warsaw.",
            [("Seoul", "KOR", "capital", False), ("Warsaw", "POL", "capital", True)],
        ),
        ("South Korea's Hyundai Rotem builds them.", [("South Korea", "KOR", "name", False)]),
        ("WASHINGTON — us and the Korean side.", []),
    ],
)
def test_states_in_text(text: str, expected: list[tuple[str, str, str, bool]]) -> None:
    found = find_countries(sentence(text))
    assert [(m.span.text, m.country.code, m.form, m.place) for m in found] == expected


@pytest.mark.parametrize(
    ("text", "buyer", "seller"),
    [
        ("Poland signed a deal on Monday to buy 96 jets from the United States.", "Poland", "United States"),
        ("Germany agreed on Monday to supply Ukraine with 40 tanks.", "Ukraine", "Germany"),
        (
            "South Korea's Hyundai Rotem signed a contract with Poland on Monday for 180 tanks.",
            "Poland",
            "South Korea",
        ),
        ("Seoul agreed on Monday to supply Warsaw with 180 tanks.", "Poland", "South Korea"),
        (
            "Drones that the United States will purchase directly from Ukraine were discussed on Monday.",
            "United States",
            "Ukraine",
        ),
        ("Talks on Egypt's purchase of 12 jets from South Korea stalled on Monday.", "Egypt", "South Korea"),
        ("The purchase of 40 jets by Egypt from France was approved on Monday.", "Egypt", "France"),
        ("Greece scrapped plans on Monday to buy two French frigates.", "Greece", "France"),
        ("Poland signed a contract with South Korea on Monday to buy 180 tanks.", "Poland", "South Korea"),
        ("Poland and Sweden held talks in Seoul on Monday.", "", ""),
    ],
)
def test_buyer_and_seller_from_the_sentence(text: str, buyer: str, seller: str) -> None:
    assert cells(text, "buyer", "seller") == [(buyer, seller)]


# --- stages -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stage", "note"),
    [
        (
            "Ukraine signed a letter of intent on Monday to buy Gripen jets from Sweden.",
            "agreed",
            "stage agreed from “signed a letter of intent”",
        ),
        (
            (
                "Kenya and Turkiye signed a memorandum of understanding on Monday, which officials "
                "called a political intention only."
            ),
            "announced",
            (
                "“signed a memorandum of understanding” no more than announced: the text calls it "
                "“political intention”"
            ),
        ),
        (
            "Egypt and South Korea concluded talks on Monday, to be signed soon.",
            "agreed",
            "stage agreed from “concluded talks”",
        ),
        (
            "Poland signed a contract worth $2 billion on Monday.",
            "contracted",
            "stage contracted from “signed a contract”",
        ),
        (
            "Poland signed a deal worth $2 billion on Monday.",
            "contracted",
            "stage contracted from “signed a deal”",
        ),
        (
            "The sale was approved by the Polish parliament on Monday.",
            "approved",
            "stage approved from “approved”",
        ),
        ("Canada shelved the purchase on Monday.", "cancelled", "stage cancelled from “shelved”"),
        ("Greece scrapped the frigate plan on Monday.", "cancelled", "stage cancelled from “scrapped”"),
        (
            "Switzerland decided not to buy more jets on Monday.",
            "cancelled",
            "stage cancelled from “decided not to buy”",
        ),
        ("The talks stalled on Monday.", "stalled", "stage stalled from “stalled”"),
        (
            "A Polish delegation arrived on Monday for talks.",
            "negotiating",
            "stage negotiating from “delegation”, “talks”",
        ),
        (
            "Hanwha delivered the first 10 howitzers on Monday.",
            "delivering",
            "stage delivering from “delivered the first”",
        ),
        ("Norway received the last jets on Monday.", "completed", "stage completed from “received the last”"),
        ("Poland hopes to sign a contract on Monday.", "announced", "stage announced from “hopes to sign”"),
        (
            "Poland could sign a contract for jets.",
            "announced",
            "not counted: “sign a contract” is hedged by “could”",
        ),
        (
            "Poland would buy the jets, officials said on Monday.",
            "announced",
            "stage announced from “would buy”",
        ),
        (
            "Poland is considering buying jets, officials said on Monday.",
            "announced",
            "stage announced from “is considering”",
        ),
        (
            "Poland will sign a contract for jets.",
            "announced",
            "not counted: “sign a contract” is hedged by “will”",
        ),
    ],
)
def test_stage_cues_and_hedges(text: str, stage: str, note: str) -> None:
    ((drafted, written),) = cells(text, "stage", "note")
    assert drafted == stage
    assert note in written.split("; ")


def test_a_denied_development_drafts_nothing() -> None:
    assert draft("Poland has not signed a contract for K9 howitzers.").rows == ()


def test_a_hedge_never_raises_a_deal_the_ledger_has_further_along() -> None:
    ledger = LedgerKnowledge(
        deals=(
            LedgerDeal(
                "poland-k9", "Poland K9 howitzers", "artillery", frozenset({"POL"}), frozenset({"KOR"}),
                ((dt.date(2025, 1, 10), "negotiating"),),
            ),
        )
    )  # fmt: skip
    hedged = "Poland could sign a contract to buy 96 K9 howitzers from South Korea."
    assert cells(hedged, "deal_id", "stage", knowledge=ledger) == [("poland-k9", "")]
    assert (
        "stage left empty: the text states only an intention"
        in draft(hedged, knowledge=ledger).rows[0].cells["note"]
    )
    lower = "Poland announced on Monday that it wants to buy 96 K9 howitzers from South Korea."
    ((stage, note),) = cells(lower, "stage", "note", knowledge=ledger)
    assert stage == ""
    assert "the ledger has this deal at negotiating by then (a lower stage would move it back)" in note


# --- parties ------------------------------------------------------------------------------------------


PARTY_COLUMNS = ("party", "party_role", "party_kind", "party_country", "party_parent")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Ukrainian President Volodymyr Zelensky met President Trump on Monday.",
            [
                ("Volodymyr Zelensky", "head of state", "person", "UKR", ""),
                ("Trump", "head of state", "person", "", ""),
            ],
        ),
        (
            (
                "“A delegation will arrive on Monday for talks,” said new Ukrainian Ambassador to the US "
                "Olga Stefanishyna."
            ),
            [("Olga Stefanishyna", "spokesperson", "person", "UKR", "")],
        ),
        (
            (
                "President Volodymyr Zelensky met President Trump on Monday. Zelensky’s top adviser "
                "Andriy Yermak told The Post after the meeting on Monday that talks go on."
            ),
            [
                ("Volodymyr Zelensky", "head of state", "person", "", ""),
                ("Trump", "head of state", "person", "", ""),
                ("Andriy Yermak", "negotiator", "person", "", ""),
            ],
        ),
        (
            (
                "Representatives of the Ukrainian Ministry of Defense and its National Security and "
                "Defense Council held talks on Monday."
            ),
            [
                ("Ukrainian Ministry of Defense", "negotiator", "ministry", "UKR", "Ukraine"),
                ("National Security and Defense Council", "negotiator", "agency", "UKR", "Ukraine"),
            ],
        ),
        (
            "South Korea's Hyundai Rotem delivered the first 10 K2 tanks to Poland on Monday.",
            [("Hyundai Rotem", "manufacturer", "company", "KOR", "")],
        ),
        (
            "A Brazilian delegation led by Marcelo Damasceno, the air force commander, held talks on Monday.",
            [("Marcelo Damasceno", "negotiator", "person", "", "")],
        ),
        (
            "The Trump administration and the Pentagon held talks with Reuters on Monday.",
            [("Pentagon", "negotiator", "ministry", "USA", "United States")],
        ),
    ],
)
def test_parties_and_roles(text: str, expected: list[tuple[str, ...]]) -> None:
    rows = cells(text, *PARTY_COLUMNS)
    assert list(dict.fromkeys(rows)) == expected


def test_parties_are_matched_to_the_ledger_by_name_surname_body_and_alias() -> None:
    ledger = LedgerKnowledge(
        parties=(
            LedgerParty("Olha Stefanishyna", "person", "UKR"),
            LedgerParty("Donald Trump", "person", "USA"),
            LedgerParty("Ministry of Defence of Ukraine", "ministry", "UKR"),
            LedgerParty("US Department of Defense", "ministry", "USA"),
        )
    )
    text = (
        "Representatives of the Ukrainian Ministry of Defense held talks at the Pentagon on Monday, said new "
        "Ukrainian Ambassador to the US Olga Stefanishyna after President Trump spoke."
    )
    ((note,), *_) = cells(text, "note", knowledge=ledger)
    assert cells(text, *PARTY_COLUMNS, knowledge=ledger) == [
        ("Ministry of Defence of Ukraine", "negotiator", "ministry", "UKR", ""),
        ("US Department of Defense", "negotiator", "ministry", "USA", ""),
        ("Olha Stefanishyna", "spokesperson", "person", "UKR", ""),
        ("Donald Trump", "head of state", "person", "USA", ""),
    ]
    assert [part for part in note.split("; ") if " is the ledger's " in part] == [
        "“Ukrainian Ministry of Defense” is the ledger's Ministry of Defence of Ukraine (the same body)",
        "“Pentagon” is the ledger's US Department of Defense (another name for it)",
        "“Olga Stefanishyna” is the ledger's Olha Stefanishyna (same surname)",
        "“Trump” is the ledger's Donald Trump (same surname)",
    ]


# --- the deal, the source's grades --------------------------------------------------------------------


K9 = LedgerDeal("poland-k9", "Poland K9 howitzers", "artillery", frozenset({"POL"}), frozenset({"KOR"}))
K2 = LedgerDeal("poland-k2", "Poland K2 tanks", "armoured vehicles", frozenset({"POL"}), frozenset({"KOR"}))


@pytest.mark.parametrize(
    ("text", "deal", "title", "category", "reason"),
    [
        (
            "Poland signed a contract on Monday to buy 96 K9 howitzers from South Korea.",
            "poland-k9", "", "",
            (
                "existing deal poland-k9 (“Poland K9 howitzers”): buyer Poland and seller South Korea; "
                "title word “K9”, “howitzers” in the text"
            ),
        ),
        (
            "Poland signed a contract on Monday to buy 40 FA-50 jets from South Korea.",
            "poland-south-korea-fa-50-jets", "Poland–South Korea FA-50 jets", "aircraft",
            (
                "new deal: the ledger has 2 deal(s) between these states (poland-k2, poland-k9) but none "
                "shares a system or title word with the text; check whether it is one of them"
            ),
        ),
        (
            "Chile signed a contract on Monday to buy 12 Gripen jets from Sweden.",
            "chile-sweden-gripen-jets", "Chile–Sweden Gripen jets", "aircraft",
            "new deal: no deal in the ledger has these states and a system or title word in the text",
        ),
    ],
)  # fmt: skip
def test_deal_matched_or_proposed(text: str, deal: str, title: str, category: str, reason: str) -> None:
    result = draft(text, knowledge=LedgerKnowledge(deals=(K9, K2)))
    assert [(r["deal_id"], r["deal_title"], r["category"]) for r in result.records()] == [
        (deal, title, category)
    ]
    assert result.deal_reason == reason
    assert reason in result.rows[0].cells["note"]


@pytest.mark.parametrize(
    ("text", "grades", "reliability", "credibility", "note"),
    [
        ("Poland signed a contract on Monday.", {"B": 3, "C": 1}, "B", "3",
         "reliability B: the ledger's grade for this publisher (B 3×, C 1×)"),
        ("Poland signed a contract on Monday.", {"B": 1, "C": 1}, "C", "3",
         "reliability C: the ledger's grade for this publisher (B 1×, C 1×)"),
        ("Poland signed a contract on Monday, citing unnamed government sources.", {}, "", "4",
         "credibility lowered: anonymous attribution (“unnamed”)"),
        ("Poland signed a contract on Monday, according to media reports.", {}, "", "4",
         "credibility lowered: second-hand attribution (“according to media reports”)"),
        ("Poland signed a contract on Monday; both governments confirmed it.", {}, "", "2",
         "credibility raised: “both governments confirmed”"),
    ],
)  # fmt: skip
def test_source_grades_suggested(
    text: str, grades: dict[str, int], reliability: str, credibility: str, note: str
) -> None:
    ((got_reliability, got_credibility, got_note),) = cells(
        text, "reliability", "credibility", "note", knowledge=LedgerKnowledge(publisher_grades=grades)
    )
    assert (got_reliability, got_credibility) == (reliability, credibility)
    assert note in got_note.split("; ")


def test_a_full_row() -> None:
    text = (
        "ANKARA, Oct 28 (Reuters) - Turkiye signed a deal on Monday to buy 20 Eurofighter Typhoon "
        "jets from the "
        "U.K. worth 8 billion pounds ($10.7 billion), British Prime Minister Keir Starmer said."
    )
    (record,) = draft_article(
        text, source=ArticleSource(PUBLISHED, "Reuters", "Turkiye buys Eurofighters", "https://example.org/a")
    ).records()
    assert record == {
        **dict.fromkeys(DRAFT_COLUMNS, ""),
        "deal_id": "turkiye-united-kingdom-eurofighter-typhoon-jets",
        "deal_title": "Türkiye–United Kingdom Eurofighter Typhoon jets",
        "date": "2025-10-27",
        "stage": "contracted",
        "summary": text,
        "buyer": "Türkiye",
        "seller": "United Kingdom",
        "category": "aircraft",
        "quantity": "20",
        "value_low": "8bn",
        "value_high": "8bn",
        "currency": "GBP",
        "source_title": "Turkiye buys Eurofighters",
        "source_publisher": "Reuters",
        "source_url": "https://example.org/a",
        "source_date": "2025-10-28",
        "credibility": "3",
        "note": (
            "stage contracted from “signed a deal”; “Monday” counted from the publication date 2025-10-28: "
            "2025-10-27; value “8 billion pounds”: also given as “$10.7 billion”; new deal: no deal "
            "in the ledger "
            "has these states and a system or title word in the text"
        ),
        "source_kind": "news",
        "party": "Keir Starmer",
        "party_role": "spokesperson",
        "party_kind": "person",
        "party_country": "GBR",
        "source_excerpt": text,
    }


# --- the seed article ---------------------------------------------------------------------------------


SEED_EVENTS = [
    ("2025-09-30/2025-10-03", "negotiating", "delegation dates"),
    ("2025-09-29/2025-10-02", "negotiating", "delegation dates"),
    ("2025-09-23", "negotiating", ""),
    ("2025-W39", "negotiating", ""),
    ("2025-07", "announced", ""),
]


def _events(result: Draft) -> dict[str, list[tuple[str, str, str]]]:
    events: dict[str, list[tuple[str, str, str]]] = {}
    for record in result.records():
        events.setdefault(record["date"], []).append(
            (record["party"], record["party_role"], record["party_country"])
        )
    return events


def test_the_seed_article_drafts_its_events_with_their_parties() -> None:
    result = draft_article(seed_article(), source=SEED_SOURCE)
    assert list(dict.fromkeys((r["date"], r["stage"], r["topic"]) for r in result.records())) == SEED_EVENTS
    events = _events(result)
    assert events["2025-09-23"] == [
        ("Trump", "head of state", ""),
        ("Volodymyr Zelensky", "head of state", "UKR"),
        ("Andriy Yermak", "negotiator", "UKR"),
    ]
    assert events["2025-09-29/2025-10-02"] == [("Olga Stefanishyna", "spokesperson", "UKR")]
    assert events["2025-07"] == [
        ("Volodymyr Zelensky", "head of state", "UKR"),
        ("Trump", "head of state", ""),
    ]
    assert {(r["deal_id"], r["buyer"], r["seller"], r["category"]) for r in result.records()} == {
        ("united-states-ukraine-drone-deal", "United States", "Ukraine", "UAV")
    }


def test_the_seed_article_against_the_seeded_ledger(seeded: Engine) -> None:
    result = draft_article(seed_article(), source=SEED_SOURCE, engine=seeded)
    assert list(dict.fromkeys((r["date"], r["stage"], r["topic"]) for r in result.records())) == SEED_EVENTS
    events = _events(result)
    assert events["2025-09-23"] == [
        ("Donald Trump", "head of state", "USA"),
        ("Volodymyr Zelensky", "head of state", "UKR"),
        ("Andriy Yermak", "negotiator", "UKR"),
    ]
    assert events["2025-09-29/2025-10-02"] == [("Olha Stefanishyna", "spokesperson", "UKR")]
    assert events["2025-09-30/2025-10-03"] == [
        ("Ministry of Defence of Ukraine", "negotiator", "UKR"),
        ("National Security and Defense Council of Ukraine", "negotiator", "UKR"),
    ]
    assert events["2025-07"] == [
        ("Volodymyr Zelensky", "head of state", "UKR"),
        ("Donald Trump", "head of state", "USA"),
    ]
    assert {(r["deal_id"], r["deal_title"], r["reliability"]) for r in result.records()} == {
        ("us-ukraine-drone-deal", "", "B")
    }
    assert result.deal_reason == (
        "existing deal us-ukraine-drone-deal (“US–Ukraine Drone Deal”): buyer United States and "
        "seller Ukraine; "
        "title word “Drone” in the text"
    )
    report = import_bytes(seeded, _importable(result), file_name="draft.csv", editor="test", dry_run=True)
    assert (report.events_added, report.sources_added, report.parties_added, report.deals_created) == (
        5,
        0,
        0,
        [],
    )


def test_the_seed_article_finds_its_deal_among_more_deals_of_its_states_than_are_read(seeded: Engine) -> None:
    # A SIPRI register holds thousands of deals of the United States: read by id, the 500 deals a draft
    # reads held none of the seed's ("a-..." comes before "us-..."), and the draft proposed a new deal.
    older = [
        {
            "deal_id": f"a-{number:03d}",
            "deal_title": f"Xylo{number:03d}",
            "date": "2019-01-01",
            "stage": "contracted",
            "summary": f"Order {number}.",
            "buyer": "United States",
            "seller": "Ukraine",
            "source_title": "Old register",
            "reliability": "B",
            "credibility": "2",
        }
        for number in range(MAX_DEALS + 1)
    ]
    import_bytes(seeded, ledger_csv(*older), file_name="older.csv", editor="test")
    result = draft_article(seed_article(), source=SEED_SOURCE, engine=seeded)
    assert {r["deal_id"] for r in result.records()} == {"us-ukraine-drone-deal"}
    assert result.deal_reason.startswith("existing deal us-ukraine-drone-deal")


def test_the_states_a_deals_title_names_are_not_its_title_words(seeded: Engine) -> None:
    # SIPRI names every deal after its sides: "United" and "States" outnumbered the seed deal's "Drone".
    recorded = {
        "deal_id": "a-uragan",
        "deal_title": "9P117 Uragan (SSM launcher) — Ukraine to United States",
        "date": "2020",
        "stage": "delivering",
        "summary": "Delivered.",
        "buyer": "United States",
        "seller": "Ukraine",
        "source_title": "Register",
        "reliability": "A",
        "credibility": "2",
    }
    import_bytes(seeded, ledger_csv(recorded), file_name="register.csv", editor="test")
    result = draft_article(seed_article(), source=SEED_SOURCE, engine=seeded)
    assert result.deal_reason == (
        "existing deal us-ukraine-drone-deal (“US–Ukraine Drone Deal”): buyer United States and "
        "seller Ukraine; title word “Drone” in the text"
    )


def test_a_new_deal_never_takes_the_id_of_a_deal_the_draft_did_not_read(engine: Engine) -> None:
    # The seed article's new deal would be "united-states-ukraine-drone-deal"; the ledger has a deal of that
    # id between other states, and one numbered -2, neither of them a deal the draft reads.
    taken = [
        {
            "deal_id": deal_id,
            "deal_title": "Tanks",
            "date": "2024-05-01",
            "stage": "announced",
            "summary": f"Tanks {deal_id}.",
            "buyer": "Poland",
            "seller": "Germany",
            "source_title": "Wire",
            "reliability": "B",
            "credibility": "2",
        }
        for deal_id in ("united-states-ukraine-drone-deal", "united-states-ukraine-drone-deal-2")
    ]
    import_bytes(engine, ledger_csv(*taken), file_name="taken.csv", editor="test")
    result = draft_article(seed_article(), source=SEED_SOURCE, engine=engine)
    assert {r["deal_id"] for r in result.records()} == {"united-states-ukraine-drone-deal-3"}
    assert result.deal_reason == (
        "new deal: no deal in the ledger has these states and a system or title word in the text"
    )


# --- never invent -------------------------------------------------------------------------------------


def _evaluation_drafts() -> list[tuple[str, Draft]]:
    cases, ledger = load_cases()
    drafts = [(case.file.read_text(encoding="utf-8"), draft_case(case, ledger)) for case in cases]
    drafts.append((seed_article(), draft_article(seed_article(), source=SEED_SOURCE)))
    return drafts


def _digits(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", text.replace(",", "")))


def test_nothing_drafted_from_the_evaluation_set_is_invented() -> None:
    _, ledger = load_cases()
    known_parties = {p["name"] for p in ledger["parties"]}
    cue_patterns = {cue.stage: [] for cue in STAGE_CUES}
    for cue in STAGE_CUES:
        cue_patterns[cue.stage].append(re.compile(cue.pattern, re.IGNORECASE))
    checked = 0
    for text, result in _evaluation_drafts():
        assert result.rows, "every report in the set drafts at least one event"
        for row in result.rows:
            record, evidence = row.cells, row.evidence
            for spans in evidence.values():
                assert all(text[s.start : s.end] == s.text for s in spans)
            for side in ("buyer", "seller"):
                for name in filter(None, record[side].split(";")):
                    codes = {country_phrase(s.text).country.name for s in evidence[side]}
                    assert name in codes, (side, name)
            if evidence["date"]:
                (span,) = evidence["date"]
                numbers = _digits(record["date"].replace("-W", "-"))
                assert numbers & _digits(span.text) or "counted from the publication date" in record["note"]
            else:
                assert record["date"] == record["source_date"]
                assert "the publication date" in record["note"]
            for column in ("value_low", "value_high"):
                if record[column]:
                    assert _digits(record[column]) <= _digits(evidence["value"][0].text)
            if record["quantity"]:
                span_text = evidence["quantity"][0].text.lower()
                words = {NUMBER_WORDS[w] for w in NUMBER_WORDS if w in span_text}
                assert record["quantity"] in _digits(span_text) | words
            if record["stage"]:
                spans = evidence["stage"]
                assert spans and all(
                    any(p.search(s.text) for p in cue_patterns[record["stage"]]) for s in spans
                )
            if record["party"]:
                spans = evidence["party"]
                assert spans and (record["party"] in text or record["party"] in known_parties)
            checked += 1
    assert checked >= 25


def _importable(result: Draft) -> bytes:
    """The draft as the CLI writes it (the importer takes it as it is, source_excerpt included)."""
    return draft_csv_bytes(result)


def test_every_evaluation_draft_imports(engine: Engine) -> None:
    """Drafted against an empty ledger (the evaluation's deals are not in this one), each draft imports."""
    cases, _ = load_cases()
    for case in cases:
        result = draft_article(case.file.read_text(encoding="utf-8"), source=case.source)
        report = import_bytes(engine, _importable(result), file_name=case.file.name, editor="test")
        assert report.events_added == len({row.event for row in result.rows})


def test_the_csv_neutralises_formulas_and_keeps_the_excerpt_column() -> None:
    result = draft('=HYPERLINK("http://x") Poland signed a contract on Monday to buy 5 jets from Sweden.')
    rows = list(csv.reader(io.StringIO(draft_csv_bytes(result).decode("utf-8-sig"))))
    assert rows[0] == list(DRAFT_COLUMNS)
    assert rows[0][-1] == "source_excerpt"
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["summary"].startswith("'=HYPERLINK")
    assert record["source_excerpt"].startswith("'=HYPERLINK")


# --- refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "source", "message"),
    [
        ("   \n", ArticleSource(PUBLISHED), "the article is empty: paste or give the text of a news report"),
        ("x " * (MAX_ARTICLE_CHARACTERS // 2 + 1), ArticleSource(PUBLISHED),
         ("the text has 200,002 characters, more than the 200,000 of a long article: "
          "give one article at a time")),
        ("Poland signed.", ArticleSource(PUBLISHED, url="javascript:alert(1)"),
         "the source URL must start with http:// or https:// and name a host, not 'javascript:alert(1)'"),
    ],
)  # fmt: skip
def test_refused(text: str, source: ArticleSource, message: str) -> None:
    with pytest.raises(DraftRefused) as refused:
        draft_article(text, source=source)
    assert str(refused.value) == message


def test_a_long_line_without_full_stops_is_cut_and_drafts_nothing() -> None:
    text = "talks " * 30_000  # 180,000 characters in one "sentence"
    result = draft_article(text, source=ArticleSource(PUBLISHED))
    assert max(len(s.text) for s in result.sentences) <= 1_500
    assert {row.cells["stage"] for row in result.rows} <= {"negotiating"}


# --- the command line ---------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


ARTICLE = "Poland signed a contract on Monday to buy 96 K9 howitzers from South Korea, said Jan Nowak."


def test_cli_draft_to_stdout_and_to_a_file(ledger_url: str, tmp_path: Path, capsys) -> None:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    code, out, err = run(capsys, "draft", str(article), "--published", "2025-10-28", "--publisher", "Reuters")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    assert [(r["deal_id"], r["date"], r["stage"], r["party"], r["party_role"]) for r in rows] == [
        ("poland-south-korea-k9-howitzers", "2025-10-27", "contracted", "Jan Nowak", "spokesperson")
    ]
    assert err == (
        "1 draft rows for 1 events; new deal: no deal in the ledger has these states and a system or "
        "title word "
        "in the text. Review before importing. Give --title or --url: the importer needs one of them for the "
        "source.\n"
    )
    output = tmp_path / "draft.csv"
    code, out, err = run(capsys, "draft", str(article), "--published", "2025-10-28", "--output", str(output))
    assert (code, out) == (0, "")
    assert err.startswith(f"{output}: 1 draft rows for 1 events;")
    assert output.read_bytes().decode("utf-8-sig").splitlines()[0] == ",".join(DRAFT_COLUMNS)


@pytest.mark.parametrize(
    ("content", "published", "message"),
    [
        (b"", "2025-10-28", "error: {path} is empty: save the article's text in it"),
        (b"  \n\t", "2025-10-28", "error: {path} is empty: save the article's text in it"),
        (
            b"PK\x03\x04\x00\x00binary",
            "2025-10-28",
            "error: {path} is not a text file: save the article as plain text",
        ),
        (
            ARTICLE.encode(),
            "28/10/2025",
            "error: --published '28/10/2025' is not a date: write it as YYYY-MM-DD",
        ),
    ],
)
def test_cli_draft_refuses_with_one_line(
    ledger_url: str, tmp_path: Path, capsys, content: bytes, published: str, message: str
) -> None:
    article = tmp_path / "article.txt"
    article.write_bytes(content)
    code, out, err = run(capsys, "draft", str(article), "--published", published)
    assert (code, out, err) == (1, "", message.format(path=article) + "\n")


def test_cli_draft_of_a_missing_file(ledger_url: str, tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, "draft", str(tmp_path / "nope.txt"), "--published", "2025-10-28")
    assert (code, out) == (1, "")
    assert err == f"error: cannot read {tmp_path / 'nope.txt'}: No such file or directory\n"


def test_cli_draft_reads_windows_1252(ledger_url: str, tmp_path: Path, capsys) -> None:
    article = tmp_path / "article.txt"
    article.write_bytes(
        "Poland signed a contract on Monday to buy 96 K9 howitzers from South Korea’s Hanwha.".encode(
            "cp1252"
        )
    )
    code, out, _ = run(capsys, "draft", str(article), "--published", "2025-10-28")
    assert code == 0
    assert [r["party"] for r in csv.DictReader(io.StringIO(out.lstrip("\ufeff")))] == ["Hanwha"]
