"""SIPRI trade-register exports: detection, every quirk, the mapping to the ledger, snapshots, undo, CLI.

The fixtures in tests/fixtures/sipri/ are invented records in SIPRI's layouts (see their README).
The real samples in ../shared/samples/sipri/ are used only when present (never committed).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from builders import THREE_DEALS, ledger_csv
from conftest import TODAY
from sqlalchemy import Engine, func, select

from tracker import sipri
from tracker.cli import main
from tracker.errors import ImportRejected, InvalidValue
from tracker.formats import read_batch
from tracker.importer import DealChangeRow, import_bytes, undo_import, write
from tracker.ledger_csv import event_fingerprint
from tracker.models import (
    Deal,
    DealChange,
    DealExternalId,
    DealParty,
    DealTag,
    Event,
    EventSource,
    Party,
    Source,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sipri"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "sipri"
SAMPLE_FILES = (SAMPLES / "classic-2024" / "trade-register.csv", SAMPLES / "new-2026" / "trade_register.csv")
URL = "https://www.sipri.org/databases/armstransfers"
TITLE_2024 = "SIPRI Arms Transfers Database, trade register (data generated 13 Oct 2024)"
TITLE_2025 = "SIPRI Arms Transfers Database, trade register (data generated 10 Mar 2025)"
ORDER, DELIVERY, FINAL = sipri.SUMMARY_ORDER, sipri.SUMMARY_DELIVERY, sipri.SUMMARY_FINAL
# Classic deal keys: sha256 of (recipient, supplier, year of order, designation). Pinned here because a
# key that changes between releases would duplicate every classic deal on the next import.
CIV_DEAL = "sipri-c-cacf18331c"  # Côte d'Ivoire <- France, 2017, TX-100 Testbird
CUW_DEAL = "sipri-c-c872645a04"  # Curaçao <- Netherlands, 2000, TX-200 Testboat
DZA_DEAL = "sipri-c-1d84fc195a"  # Algeria <- Russia, 2020, empty number ordered
THA_DEAL = "sipri-c-1cb4bc8f9e"  # Thailand <- Ukraine, 2008, record broken over two lines
AFG_DEAL = "sipri-c-aa76417ffd"  # Afghanistan <- Soviet Union, 1988
IND_DEAL = "sipri-c-0aad51aa16"  # India <- France, 2019, two identical orders


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def batch(name: str):
    return read_batch(fixture(name), today=TODAY)


def load(engine: Engine, name: str, **options):
    return import_bytes(engine, fixture(name), file_name=name, editor="tester", today=TODAY, **options)


def rows(engine: Engine, statement) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(statement)]


def events_of(engine: Engine, deal_id: str) -> list[tuple]:
    return rows(
        engine,
        select(Event.date_text, Event.stage, Event.summary, Event.quantity, Event.note)
        .where(Event.deal_id == deal_id)
        .order_by(Event.occurred_on, Event.id),
    )


def count(engine: Engine, model) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


# --- detection and the quirks of the files ------------------------------------------------------------


def test_both_layouts_are_detected_from_the_content():
    classic, encoding = batch("classic-2024.csv")
    assert (classic.format, encoding, classic.rows_read, classic.snapshot_on) == (
        "sipri-classic",
        "cp1252",
        11,
        dt.date(2024, 10, 13),
    )
    new, encoding = batch("new-2026.csv")
    assert (new.format, encoding, new.rows_read, new.snapshot_on) == (
        "sipri-new",
        "utf-8",
        5,
        dt.date(2026, 2, 12),
    )
    ledger, _ = read_batch(b"deal_id,date,summary,source_title\nx,2025,Something,Paper\n", today=TODAY)
    assert ledger.format == "ledger-csv"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Recipient,Supplier,Year of order, ,Number ordered\n", ("sipri-classic", 0)),
        ("\ufeffRecipient,Supplier,Year of order, ,Number ordered\n", ("sipri-classic", 0)),
        ("Notes\nData generated: 1 Jan 2024\nRecipient,Supplier,Year of order\n", ("sipri-classic", 2)),
        ("A note;\r\n;\r\nSIPRI AT Database ID,Supplier,Recipient;\r\n", ("sipri-new", 2)),
        ('"SIPRI AT Database ID","Supplier"\n', ("sipri-new", 0)),
        ("deal_id,date,summary\nRecipient,Supplier,Year of order\n", None),  # a ledger CSV's multi-line cell
        ("deal_id,date,summary,source_title\n", None),
    ],
)
def test_detect_layout(text, expected):
    assert sipri.detect_layout(text) == expected


def test_no_preamble_and_no_data_generated_line():
    classic, encoding = batch("classic-no-preamble.csv")
    assert (classic.format, encoding, classic.rows_read, classic.snapshot_on) == (
        "sipri-classic",
        "utf-8",
        2,
        None,
    )
    assert list(classic.rows["line"].drop_duplicates()) == [2, 3]
    # Same record as in the 2024 file, so the same deal key.
    assert classic.rows["deal_id"].iloc[0] == CIV_DEAL
    title = classic.rows["source_title"].iloc[0]
    assert title.startswith("SIPRI Arms Transfers Database, trade register (undated export ")
    assert classic.rows["source_date"].iloc[0] is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Data generated: 13 Oct 2024 2:20:11 PM", dt.date(2024, 10, 13)),
        ("Data generated: 12 Feb 2026 12:26:12 PM;", dt.date(2026, 2, 12)),
        ("data generated 3 September 2025", dt.date(2025, 9, 3)),
        ("Data generated: 2025-09-03", dt.date(2025, 9, 3)),
        # Long lines (160 KB: the pattern this replaced took 151 s on one); read in time linear in the line.
        ("Data generated: 13 Oct 2024 2:20:11 PM" + " ;," * 53_000, dt.date(2024, 10, 13)),
        ("Data generated:" + " " * 160_000 + "2025-09-03;;;", dt.date(2025, 9, 3)),
        ("Data generated: " + "x " * 80_000 + "3 Sep 2025", dt.date(2025, 9, 3)),
    ],
)
def test_snapshot_date(line, expected):
    text = f"Note\n{line}\nRecipient,Supplier,Year of order,Weapon designation\nPeru,Chile,2020,TX-1\n"
    assert read_batch(text.encode(), today=TODAY)[0].snapshot_on == expected


def test_unreadable_snapshot_date_is_a_problem():
    text = (
        "Note\nData generated: sometime\n"
        "Recipient,Supplier,Year of order,Weapon designation\nPeru,Chile,2020,TX-1\n"
    )
    with pytest.raises(ImportRejected) as caught:
        read_batch(text.encode(), today=TODAY)
    assert [(p.line, p.column, p.value) for p in caught.value.problems] == [(2, "Data generated", "sometime")]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("1" + " " * 160_000 + "x", "1" + " " * 78 + "…"),
        ("1 " * 80_000, "1 " * 39 + "1…"),
        ("; ," * 53_000 + "?", "; ," * 26 + ";…"),
    ],
)
def test_a_long_unreadable_snapshot_line_is_one_problem(value, shown):
    text = (
        f"Note\nData generated: {value}\n"
        "Recipient,Supplier,Year of order,Weapon designation\nPeru,Chile,2020,TX-1\n"
    )
    with pytest.raises(ImportRejected) as caught:
        read_batch(text.encode(), today=TODAY)
    assert [(p.line, p.column, p.value, p.message) for p in caught.value.problems] == [
        (2, "Data generated", shown, "the snapshot date cannot be read")
    ]


def test_latin1_names_resolve():
    rows_ = batch("classic-2024.csv")[0].rows
    first = rows_[rows_["deal_title"] != ""]
    assert list(first["buyers"].head(2)) == ["CIV", "CUW"]
    assert list(first["deal_title"].head(2)) == [
        "TX-100 Testbird (trainer aircraft) — France to Côte d'Ivoire",
        "TX-200 Testboat (patrol craft) — Netherlands to Curaçao",
    ]


def test_question_mark_columns_become_notes_and_credibility():
    rows_ = batch("classic-2024.csv")[0].rows
    afg = rows_[rows_["deal_id"] == AFG_DEAL]
    assert list(zip(afg["date_text"], afg["stage"], afg["note"], afg["credibility"])) == [
        ("1988", "contracted", "order year uncertain (SIPRI '?'); number ordered uncertain (SIPRI '?')", 3),
        ("1988", "delivering", "number delivered uncertain (SIPRI '?')", 3),
        ("1989", "delivering", "number delivered uncertain (SIPRI '?')", 3),
        ("1990", "completed", "number delivered uncertain (SIPRI '?')", 3),
    ]
    cuw = rows_[rows_["deal_id"] == CUW_DEAL]  # '?' only beside the number ordered
    assert list(zip(cuw["stage"], cuw["note"], cuw["credibility"])) == [
        ("contracted", "number ordered uncertain (SIPRI '?')", 3),
        ("delivering", "", 2),
        ("delivering", "", 2),
        ("delivering", "", 2),
    ]


def test_delivery_year_lists():
    rows_ = batch("classic-2024.csv")[0].rows
    years = {
        deal: list(rows_.loc[(rows_["deal_id"] == deal) & (rows_["stage"] != "contracted"), "date_text"])
        for deal in (CIV_DEAL, CUW_DEAL, THA_DEAL)
    }
    assert years == {
        CIV_DEAL: ["2018", "2019"],
        CUW_DEAL: ["2000", "2001", "2002"],
        THA_DEAL: ["2010", "2012"],
    }
    assert sipri._year_list("2000;2001; 2002") == ["2000", "2001", "2002"]
    assert sipri._year_list("2018; 2019") == ["2018", "2019"]


def test_empty_number_ordered():
    rows_ = batch("classic-2024.csv")[0].rows
    dza = rows_[rows_["deal_id"] == DZA_DEAL]
    assert list(zip(dza["stage"], dza["event_quantity"])) == [("contracted", None), ("delivering", 200)]
    # Unknown quantity, and SIPRI's 0 "TIV for total order" beside it is no TIV at all.
    assert (dza["deal_quantity"].iloc[0], dza["deal_sipri_tiv"].iloc[0]) == (None, None)


def test_record_broken_over_two_lines_is_joined():
    rows_ = batch("classic-2024.csv")[0].rows
    tha = rows_[rows_["deal_id"] == THA_DEAL].iloc[0]
    assert (tha["line"], tha["deal_summary"], tha["deal_quantity"], tha["deal_sipri_tiv"]) == (
        16,
        "Invented comment broken by an unquoted line break",
        14,
        3.5,
    )
    # The record after it keeps its own line number.
    assert rows_.loc[rows_["deal_id"] == AFG_DEAL, "line"].iloc[0] == 18


def test_crlf_and_trailing_semicolons():
    rows_ = batch("new-2026.csv")[0].rows
    assert list(rows_["line"].drop_duplicates()) == [13, 14, 15, 16, 17]
    first = rows_[rows_["deal_title"] != ""].drop_duplicates("deal_id")
    # "...,Yes;;;" is Yes (local production); the last record has no ';' at all.
    assert list(first["tags"]) == [
        "sipri;aircraft",
        "sipri;sensors;local production",
        "sipri;second hand;aircraft",
        "sipri;second hand;artillery",
    ]
    assert not rows_["summary"].str.contains(";").any()


def test_a_record_broken_over_thousands_of_lines_is_joined_exactly():
    # More pieces than sipri._PIECES_HELD, so that they are joined in steps: the blank first piece
    # (the comment starts on the next line) left out, each piece's surrounding spaces dropped, one space
    # between pieces.
    pieces = ["", *(f" {n % 10} " if n % 7 else f"{n % 10}" for n in range(2_500))]
    text = (
        "Recipient,Supplier,Year of order,Weapon designation,Comments,SIPRI TIV for total order\n"
        f"Peru,Chile,2020,TX-1,{chr(10).join(pieces)},5\n"
        "Peru,Chile,2021,TX-2,Fine,6\n"
    )
    assert len(pieces) > 2 * sipri._PIECES_HELD
    rows_ = read_batch(text.encode(), today=TODAY)[0].rows
    first = rows_.drop_duplicates("deal_id")
    assert list(first["line"]) == [2, 2503]
    assert list(first["deal_summary"]) == [" ".join(str(n % 10) for n in range(2_500)), "Fine"]
    assert list(first["deal_sipri_tiv"]) == [5.0, 6.0]


@pytest.mark.parametrize(
    ("records", "problem"),
    [
        (
            "Peru,Chile,2020,TX-1\nPeru,Chile,2021,TX-2,Fine\n",
            "this record has 4 fields but the header has 5",
        ),
        ("Peru\n", "this record has 1 field but the header has 5"),
    ],
)
def test_a_short_record_that_cannot_be_joined_is_rejected(records, problem):
    text = "Recipient,Supplier,Year of order,Weapon designation,Comments\n" + records
    with pytest.raises(ImportRejected) as caught:
        read_batch(text.encode(), today=TODAY)
    assert [(p.line, p.message) for p in caught.value.problems] == [(2, problem)]


def test_malformed_file_is_rejected_with_line_numbers(engine: Engine):
    with pytest.raises(ImportRejected) as caught:
        load(engine, "classic-bad.csv")
    assert [(p.line, p.column, p.value, p.message) for p in caught.value.problems] == [
        (14, "Year of order", "20l7", '"20l7" is not a year'),
        (15, "SIPRI TIV for total order", "lots", '"lots" is not a SIPRI TIV'),
    ]
    assert count(engine, Deal) == 0


def test_unknown_name_is_refused_not_guessed():
    text = (
        "Recipient,Supplier,Year of order,Weapon designation\n"
        "Peru,Chile,2020,TX-1\n"
        "Atlantis,Chile,2020,TX-2\n"
    )
    with pytest.raises(ImportRejected) as caught:
        read_batch(text.encode(), today=TODAY)
    [problem] = caught.value.problems
    assert (problem.line, problem.column, problem.value) == (3, "Recipient", "Atlantis")
    assert "add it to tracker/sipri.py" in problem.fix


def test_missing_required_column_is_rejected():
    text = "Recipient,Supplier,Year of order\nPeru,Chile,2020\n"
    with pytest.raises(ImportRejected) as caught:
        read_batch(text.encode(), today=TODAY)
    assert [(p.line, p.column) for p in caught.value.problems] == [(1, "weapon designation")]


# --- parties ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("France", ("France", "state", "FRA", True)),
        ("Viet Nam", ("Vietnam", "state", "VNM", True)),
        ("Cote d'Ivoire", ("Côte d'Ivoire", "state", "CIV", True)),
        ("Turkiye", ("Türkiye", "state", "TUR", True)),
        ("Congo", ("Congo", "state", "COG", True)),  # SIPRI writes the other one "DR Congo"
        ("Bosnia-Herzegovina", ("Bosnia and Herzegovina", "state", "BIH", True)),
        ("Libya GNC", ("Libya", "state", "LBY", True)),
        ("Soviet Union", ("Soviet Union", "state", "SUN", False)),
        ("East Germany (GDR)", ("East Germany", "state", "DDR", False)),
        ("Yemen Arab Republic (North Yemen)", ("North Yemen", "state", "XNY", False)),
        ("Hezbollah (Lebanon)*", ("Hezbollah", "non-state group", "LBN", False)),
        ("PKK (Turkiye)*", ("PKK", "non-state group", "TUR", False)),
        ("MPLA (Portugal)*", ("MPLA", "non-state group", "AGO", False)),
        ("Libya HoR*", ("HoR", "non-state group", "LBY", False)),
        ("HoR (Libya)*", ("HoR", "non-state group", "LBY", False)),
        ("unknown rebel group*", ("unknown rebel group", "non-state group", None, False)),
        ("unknown recipient(s)", ("unknown recipient(s)", "non-state group", None, False)),
        ("Some new militia (Narnia)*", ("Some new militia (Narnia)", "non-state group", None, False)),
        ("African Union**", ("African Union", "international organisation", None, False)),
        ("NATO**", ("NATO", "international organisation", None, False)),
        ("United Nations**", ("United Nations", "international organisation", None, False)),
    ],
)
def test_resolve_party(name, expected):
    side = sipri.resolve_party(name)
    assert (side.label, side.kind, side.code, side.current_state) == expected


def test_resolve_party_refuses_an_unknown_state():
    with pytest.raises(InvalidValue, match="not a state the tracker knows"):
        sipri.resolve_party("Atlantis")


def test_non_state_and_former_states_enter_the_ledger_deliberately(engine: Engine):
    load(engine, "classic-2024.csv")
    roles = rows(
        engine,
        select(DealParty.deal_id, DealParty.role, Party.name, Party.kind, Party.country_code)
        .join(Party, Party.id == DealParty.party_id)
        .where(Party.kind != "state")
        .order_by(DealParty.deal_id, DealParty.role),
    )
    assert sorted(roles) == sorted(
        [
            ("sipri-c-1c66c1c863", "buyer", "United Nations", "international organisation", None),
            ("sipri-c-5636159201", "buyer", "unknown rebel group", "non-state group", None),
            ("sipri-c-5636159201", "seller", "unknown supplier(s)", "non-state group", None),
            ("sipri-c-ec01edc6e2", "buyer", "Hezbollah", "non-state group", "LBN"),
        ]
    )
    # The Soviet Union is a (former) state, so it shows among the deal's sellers like any state.
    assert rows(
        engine,
        select(Party.key, Party.name, Party.kind, Party.country_code).where(Party.country_code == "SUN"),
    ) == [("state:SUN", "Soviet Union", "state", "SUN")]
    assert rows(engine, select(Deal.buyers, Deal.sellers).where(Deal.id == AFG_DEAL)) == [
        ("Afghanistan", "Soviet Union")
    ]
    hezbollah_deal = select(Deal.buyers, Deal.sellers).where(Deal.id == "sipri-c-ec01edc6e2")
    assert rows(engine, hezbollah_deal) == [(None, "Iran")]


# --- the mapping, exactly -------------------------------------------------------------------------------


def test_one_classic_record_maps_to_exact_ledger_rows(engine: Engine):
    report = load(engine, "classic-2024.csv")
    assert (report.format, report.encoding, report.rows_read, report.snapshot_on) == (
        "sipri-classic",
        "cp1252",
        11,
        dt.date(2024, 10, 13),
    )
    assert (
        len(report.deals_created),
        report.events_added,
        report.sources_added,
        report.duplicates_skipped,
    ) == (11, 27, 1, 0)
    assert rows(
        engine,
        select(
            Deal.title,
            Deal.summary,
            Deal.category,
            Deal.quantity,
            Deal.value_low,
            Deal.value_high,
            Deal.currency,
            Deal.sipri_tiv,
            Deal.current_stage,
            Deal.stage_since,
            Deal.first_event_on,
            Deal.last_event_on,
            Deal.event_count,
            Deal.buyers,
            Deal.sellers,
        ).where(Deal.id == CIV_DEAL),
    ) == [
        (
            "TX-100 Testbird (trainer aircraft) — France to Côte d'Ivoire",
            "Invented fixture record; two delivery years",
            "trainer aircraft",
            6,
            None,
            None,
            None,
            27.0,
            "completed",
            dt.date(2019, 1, 1),
            dt.date(2017, 1, 1),
            dt.date(2019, 1, 1),
            3,
            "Côte d'Ivoire",
            "France",
        )
    ]
    assert rows(
        engine,
        select(
            Event.occurred_on,
            Event.occurred_until,
            Event.date_precision,
            Event.date_text,
            Event.stage,
            Event.summary,
            Event.note,
            Event.quantity,
            Event.value_low,
            Event.currency,
            Event.fingerprint,
        )
        .where(Event.deal_id == CIV_DEAL)
        .order_by(Event.occurred_on),
    ) == [
        (
            dt.date(2017, 1, 1),
            dt.date(2017, 12, 31),
            "year",
            "2017",
            "contracted",
            ORDER,
            "order year uncertain (SIPRI '?')",
            6,
            None,
            None,
            event_fingerprint(CIV_DEAL, "2017", "contracted", ORDER),
        ),
        (
            dt.date(2018, 1, 1),
            dt.date(2018, 12, 31),
            "year",
            "2018",
            "delivering",
            DELIVERY,
            "number delivered uncertain (SIPRI '?')",
            None,
            None,
            None,
            event_fingerprint(CIV_DEAL, "2018", "delivering", DELIVERY),
        ),
        (
            dt.date(2019, 1, 1),
            dt.date(2019, 12, 31),
            "year",
            "2019",
            "completed",
            FINAL,
            "number delivered uncertain (SIPRI '?')",
            None,
            None,
            None,
            event_fingerprint(CIV_DEAL, "2019", "completed", FINAL),
        ),
    ]
    assert rows(
        engine,
        select(
            Source.key,
            Source.publisher,
            Source.title,
            Source.url,
            Source.published_on,
            Source.published_precision,
            Source.kind,
            Source.reliability,
        ),
    ) == [
        (
            f"{URL}|data generated 2024-10-13",
            "SIPRI Arms Transfers Database",
            TITLE_2024,
            URL,
            dt.date(2024, 10, 13),
            "day",
            "database",
            "A",
        )
    ]
    assert rows(
        engine,
        select(EventSource.credibility)
        .join(Event, Event.id == EventSource.event_id)
        .where(Event.deal_id == CIV_DEAL),
    ) == [(3,), (3,), (3,)]
    assert rows(
        engine,
        select(DealParty.role, Party.key, Party.name)
        .join(Party, Party.id == DealParty.party_id)
        .where(DealParty.deal_id == CIV_DEAL)
        .order_by(DealParty.role),
    ) == [("buyer", "state:CIV", "Côte d'Ivoire"), ("seller", "state:FRA", "France")]
    assert rows(engine, select(DealTag.tag).where(DealTag.deal_id == CUW_DEAL).order_by(DealTag.tag)) == [
        ("second hand",),
        ("sipri",),
    ]
    # Two identical orders: the second gets an ordinal suffix, in file order.
    identical = select(Deal.id, Deal.summary).where(Deal.id.like(f"{IND_DEAL}%")).order_by(Deal.id)
    assert rows(engine, identical) == [
        (IND_DEAL, "Invented first of two identical orders"),
        (f"{IND_DEAL}-2", "Invented second of two identical orders"),
    ]
    # An order with no deliveries yet stays contracted; partly delivered deals are delivering.
    assert dict(
        rows(
            engine,
            select(Deal.id, Deal.current_stage).where(
                Deal.id.in_(["sipri-c-b54f17480a", CUW_DEAL, THA_DEAL])
            ),
        )
    ) == {"sipri-c-b54f17480a": "contracted", CUW_DEAL: "delivering", THA_DEAL: "delivering"}
    # The TIV is never money.
    assert rows(engine, select(func.count()).select_from(Deal).where(Deal.value_low.is_not(None))) == [(0,)]


def test_new_layout_maps_to_exact_ledger_rows(engine: Engine):
    report = load(engine, "new-2026.csv")
    assert (report.format, report.rows_read, len(report.deals_created), report.events_added) == (
        "sipri-new",
        5,
        4,
        9,
    )
    assert rows(
        engine,
        select(
            Deal.id,
            Deal.title,
            Deal.category,
            Deal.quantity,
            Deal.sipri_tiv,
            Deal.current_stage,
            Deal.buyers,
            Deal.sellers,
        ).where(Deal.id == "sipri-90001"),
    ) == [
        (
            "sipri-90001",
            "TX-100 Testbird (trainer aircraft) — France to Côte d'Ivoire",
            "trainer aircraft",
            None,
            27.0,
            "delivering",
            "Côte d'Ivoire",
            "France",
        )
    ]
    assert rows(
        engine,
        select(DealExternalId.scheme, DealExternalId.external_id, DealExternalId.deal_id).order_by(
            DealExternalId.external_id
        ),
    ) == [
        ("sipri", "90001", "sipri-90001"),
        ("sipri", "90002", "sipri-90002"),
        ("sipri", "90003", "sipri-90003"),
        ("sipri", "90004", "sipri-90004"),
    ]
    assert events_of(engine, "sipri-90001") == [
        ("2017", "contracted", ORDER, None, None),
        ("2018", "delivering", DELIVERY, 4, None),
        (
            "2019",
            "delivering",
            DELIVERY,
            2,
            "delivery year is a SIPRI estimate; number delivered is a SIPRI estimate",
        ),
    ]
    assert rows(
        engine,
        select(Event.date_text, EventSource.credibility)
        .join(EventSource, EventSource.event_id == Event.id)
        .where(Event.deal_id == "sipri-90001")
        .order_by(Event.occurred_on),
    ) == [("2017", 2), ("2018", 2), ("2019", 3)]
    assert rows(engine, select(Source.title, Source.published_on)) == [
        ("SIPRI Arms Transfers Database, trade register (data generated 12 Feb 2026)", dt.date(2026, 2, 12))
    ]
    roles = rows(
        engine,
        select(DealParty.role, Party.name, Party.kind, Party.country_code)
        .join(Party, Party.id == DealParty.party_id)
        .where(DealParty.deal_id == "sipri-90004")
        .order_by(DealParty.role),
    )
    assert roles == [
        ("buyer", "Ukraine rebels", "non-state group", "UKR"),
        ("seller", "unknown supplier(s)", "non-state group", None),
    ]


# --- re-import, newer snapshots, undo -----------------------------------------------------------------


def test_reimporting_the_same_file_adds_nothing(engine: Engine):
    load(engine, "classic-2024.csv")
    tables = (Deal, Event, EventSource, Source, Party, DealChange)
    before = {model.__name__: count(engine, model) for model in tables}
    again = load(engine, "classic-2024.csv")
    assert again.nothing_new
    assert (again.events_added, again.links_added, again.changes, again.duplicates_skipped) == (0, 0, [], 11)
    assert again.describe() == "classic-2024.csv: nothing new; all 11 rows are already in the ledger."
    assert {model.__name__: count(engine, model) for model in tables} == before
    new = load(engine, "new-2026.csv")
    assert not new.nothing_new
    assert load(engine, "new-2026.csv").nothing_new


def test_newer_snapshot_updates_deals_without_duplicating_them(engine: Engine):
    load(engine, "classic-2024.csv")
    deals, events = count(engine, Deal), count(engine, Event)
    report = load(engine, "classic-2025.csv")
    assert report.snapshot_on == dt.date(2025, 3, 10)
    assert report.changes == [
        DealChangeRow(CUW_DEAL, "quantity", "12", "14"),
        DealChangeRow(CUW_DEAL, "sipri_tiv", "24.0", "28.0"),
    ]
    assert (report.deals_created, report.events_added, report.sources_added) == ([], 1, 1)
    assert len(report.deals_updated) == 11  # every deal is restated by the new source
    assert (count(engine, Deal), count(engine, Event)) == (deals, events + 1)
    assert rows(engine, select(Deal.quantity, Deal.sipri_tiv).where(Deal.id == CUW_DEAL)) == [(14, 28.0)]
    assert events_of(engine, CUW_DEAL) == [
        ("2000", "contracted", ORDER, 12, "number ordered uncertain (SIPRI '?')"),
        ("2000", "delivering", DELIVERY, None, None),
        ("2001", "delivering", DELIVERY, None, None),
        ("2002", "delivering", DELIVERY, None, None),
        ("2003", "delivering", DELIVERY, None, None),
    ]
    # A restated event gains the newer snapshot as a second source.
    assert rows(
        engine,
        select(Source.title)
        .join(EventSource, EventSource.source_id == Source.id)
        .join(Event, Event.id == EventSource.event_id)
        .where(Event.deal_id == CIV_DEAL, Event.stage == "contracted")
        .order_by(Source.id),
    ) == [(TITLE_2024,), (TITLE_2025,)]
    assert rows(
        engine,
        select(DealChange.field, DealChange.old_value, DealChange.new_value)
        .where(DealChange.import_id == report.import_id)
        .order_by(DealChange.id),
    ) == [("quantity", "12", "14"), ("sipri_tiv", "24.0", "28.0")]

    undone = undo_import(engine, report.import_id, editor="tester")
    assert (undone.events_removed, undone.deals_removed, undone.deals_restored) == (1, 0, 1)
    restored = select(Deal.quantity, Deal.sipri_tiv, Deal.current_stage).where(Deal.id == CUW_DEAL)
    assert rows(engine, restored) == [(12, 24.0, "delivering")]
    assert (count(engine, Deal), count(engine, Event), count(engine, Source)) == (deals, events, 1)


def test_deals_refreshed_in_parts_are_as_refreshed_at_once(engine: Engine, another_ledger, monkeypatch):
    """The import recomputes its deals' stages, dates, counts and states DEALS_PER_REFRESH at a time."""
    derived = select(
        Deal.id, Deal.current_stage, Deal.stage_since, Deal.first_event_on, Deal.last_event_on,
        Deal.last_event_until, Deal.event_count, Deal.buyers, Deal.sellers, Deal.buyer_codes,
        Deal.seller_codes,
    ).order_by(Deal.id)  # fmt: skip
    for name in ("classic-2024.csv", "new-2026.csv", "classic-2025.csv"):
        load(engine, name)
    at_once = rows(engine, derived)
    monkeypatch.setattr(write, "DEALS_PER_REFRESH", 2)
    in_parts = another_ledger()
    for name in ("classic-2024.csv", "new-2026.csv", "classic-2025.csv"):
        load(in_parts, name)
    assert rows(in_parts, derived) == at_once
    assert len(at_once) == 15
    since, first, last, until = (
        dt.date(2000, 1, 1),
        dt.date(2000, 1, 1),
        dt.date(2003, 1, 1),
        dt.date(2003, 12, 31),
    )
    assert [row for row in at_once if row[0] == CUW_DEAL] == [
        (CUW_DEAL, "delivering", since, first, last, until, 5, "Curaçao", "Netherlands", "CUW", "NLD")
    ]


def test_dry_run_previews_without_writing(engine: Engine):
    """The upload page's preview: the same import path with dry_run."""
    report = load(engine, "new-2026.csv", dry_run=True)
    assert (report.dry_run, report.format, len(report.deals_created), report.events_added) == (
        True,
        "sipri-new",
        4,
        9,
    )
    assert list(report.new_events["deal_id"].head(3)) == ["sipri-90001"] * 3
    assert count(engine, Deal) == 0


NEW_AFTER_CLASSIC = (
    "This file is a SIPRI export in the new layout, and the ledger holds 11 deals from exports in the "
    "classic layout. The two layouts share no deal id, so a transfer listed in both becomes two deals and is "
    "counted twice. Keep to one layout per ledger: import the register in the classic layout, or first undo "
    "the classic-layout imports (“Undo import…” on the Upload page, or python -m tracker undo)."
)


def test_classic_and_new_layout_deals_are_separate_and_mixing_them_is_warned_of(engine: Engine):
    assert load(engine, "classic-2024.csv").warnings == []
    assert load(engine, "classic-2025.csv").warnings == []  # a newer snapshot of the same layout
    checked = load(engine, "new-2026.csv", dry_run=True)
    assert checked.warnings == [NEW_AFTER_CLASSIC]
    report = load(engine, "new-2026.csv")
    assert report.warnings == checked.warnings
    assert len(report.deals_created) == 4
    assert count(engine, Deal) == 15
    assert load(engine, "classic-no-preamble.csv", dry_run=True).warnings == [
        (
            "This file is a SIPRI export in the classic layout, and the ledger holds 4 deals from exports "
            "in the new layout. The two layouts share no deal id, so a transfer listed in both becomes two "
            "deals and is counted twice. Keep to one layout per ledger: import the register in the new "
            "layout, or first undo the new-layout imports (“Undo import…” on the Upload page, or python -m "
            "tracker undo)."
        )
    ]
    # A ledger CSV is no SIPRI layout, whatever the ledger holds.
    added = import_bytes(
        engine, ledger_csv(*THREE_DEALS), file_name="three.csv", editor="tester", today=TODAY
    )
    assert (added.events_added, added.warnings) == (6, [])
    undo_import(engine, report.import_id, editor="tester")
    assert load(engine, "classic-no-preamble.csv", dry_run=True).warnings == []


# --- CLI ----------------------------------------------------------------------------------------------


def test_cli_imports_a_sipri_export(ledger_url: str, capsys):
    path = FIXTURES / "classic-2024.csv"
    assert main(["--database", ledger_url, "import", str(path), "--editor", "tester"]) == 0
    out = capsys.readouterr().out
    assert out == (
        "Import #1: classic-2024.csv: 11 rows read; added 27 events, 11 new deals, "
        "0 deals updated, 1 source, 19 parties; 0 rows already in the ledger (skipped).\n"
    )
    newer = FIXTURES / "classic-2025.csv"
    assert main(["--database", ledger_url, "import", str(newer), "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "Deal attributes would change (2):",
        f"  {CUW_DEAL}: quantity '12' -> '14'",
        f"  {CUW_DEAL}: sipri_tiv '24.0' -> '28.0'",
    ]
    assert main(["--database", ledger_url, "import", str(FIXTURES / "new-2026.csv"), "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [f"Warning: {NEW_AFTER_CLASSIC}"]
    assert main(["--database", ledger_url, "import", str(FIXTURES / "classic-bad.csv")]) == 1
    err = capsys.readouterr().err
    assert "line 14, column Year of order" in err and "line 15, column SIPRI TIV for total order" in err


# --- the real samples (reference inputs beside the repository; not committed) ----------------------------


@pytest.mark.skipif(not all(p.is_file() for p in SAMPLE_FILES), reason="SIPRI samples not present")
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=["classic-2024", "new-2026"])
def test_every_name_in_the_samples_maps_and_the_samples_read(path: Path):
    text = path.read_bytes().decode("cp1252" if "classic" in path.parent.name else "utf-8")
    layout, header_index = sipri.detect_layout(text)
    header, records = sipri._records(text, header_index, sipri._Problems())
    columns = sipri._columns(header, layout, header_index + 1, sipri._Problems())
    names = {record[columns[c]] for _, record in records for c in ("recipient", "supplier")}
    unmapped = []
    for name in sorted(names):
        try:
            side = sipri.resolve_party(name)
        except InvalidValue:
            unmapped.append(name)
            continue
        assert side.kind in ("state", "non-state group", "international organisation")
        if name.endswith("*"):
            assert not side.current_state
    assert unmapped == []
    result, _ = read_batch(path.read_bytes(), today=TODAY)
    assert result.rows_read == {"classic-2024": 27_951, "new-2026": 25_024}[path.parent.name]
