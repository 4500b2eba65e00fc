"""Exports neutralise spreadsheet formulas and round-trip through the importer."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from conftest import TODAY
from openpyxl import load_workbook
from sqlalchemy import Engine

from tests.builders import event_row, ledger_csv, row
from tests.ledger_snapshot import content
from tracker import queries
from tracker.export import ledger_rows, ledger_workbook, neutralise, to_csv_bytes, to_xlsx_bytes
from tracker.filters import Filters
from tracker.importer import import_bytes
from tracker.seed import seed_ledger


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (5, 5),
        (-5.0, -5.0),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_csv_and_xlsx_exports_neutralise_ledger_text(engine: Engine):
    import_bytes(
        engine,
        ledger_csv(row(summary="=cmd|' /C calc'!A0", note="@SUM(1+1)", category="-2+3")),
        file_name="f.csv",
        editor="t",
    )
    frame = ledger_rows(engine, Filters())
    text = to_csv_bytes(frame).decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(to_xlsx_bytes({"events": frame})))["events"]
    cells = {sheet.cell(1, c).value: sheet.cell(2, c).value for c in range(1, sheet.max_column + 1)}
    assert "'=cmd|' /C calc'!A0" in text and "'@SUM(1+1)" in text and ",'-2+3," in text
    assert (cells["summary"], cells["note"], cells["category"], sheet.cell(2, 1).data_type) == (
        "'=cmd|' /C calc'!A0",
        "'@SUM(1+1)",
        "'-2+3",
        "s",
    )


def test_export_reimports_as_nothing_new(seeded: Engine):
    data = to_csv_bytes(ledger_rows(seeded, Filters()))
    report = import_bytes(seeded, data, file_name="export.csv", editor="t")
    # 20 event–source links, and 5 more rows for parties named by events with fewer sources than parties.
    assert (report.rows_read, report.nothing_new) == (25, True)


# --- a lossless round trip -----------------------------------------------------------------------------
# Exporting the whole ledger in the upload format and importing that file into an empty ledger gives the
# same ledger (tests/ledger_snapshot.content: everything but ids and recorded times); importing it into
# the ledger it came from adds nothing.

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sipri"


def _radars_and_trainers(engine: Engine) -> None:
    """A ledger of two deals over four imports: named parties with parents (a country, another party),
    a state in a role of its own, conflicting value claims, an attribute changed by a later import whose
    event is earlier, dates of every precision, sources without URL or with a month, formula-like text."""
    first = ledger_csv(
        row(
            deal_id="alpha-radars",
            deal_title="Alpha radars",
            date="2025-03-01",
            stage="announced",
            summary="Poland announces radars from Korea.",
            buyer="Poland",
            seller="South Korea",
            category="radar",
            quantity="12",
            value_low="300m",
            value_high="400m",
            currency="EUR",
            source_title="Radars for Poland",
            source_publisher="Alpha Wire",
            source_url="https://example.org/alpha/1",
            source_date="2025-03-02",
            reliability="B",
            credibility="2",
            deal_summary="Poland buys air-defence radars.\nA second line.",
            tags="radars; Air Defence",
            party="Hanwha Aerospace",
            party_role="manufacturer",
            party_kind="company",
            party_country="KOR",
            party_parent="South Korea",
        ),
        row(
            deal_id="alpha-radars",
            date="2025-03-01",
            stage="announced",
            summary="Poland announces radars from Korea.",
            source_title="Radars for Poland",
            source_publisher="Alpha Wire",
            source_url="https://example.org/alpha/1",
            reliability="B",
            credibility="2",
            party="Ministry of National Defence",
            party_role="negotiator",
            party_kind="ministry",
            party_country="Poland",
            party_parent="POL",
        ),
        row(
            deal_id="alpha-radars",
            date="2025-W14",
            stage="negotiating",
            summary="- Talks on the radar contract open in Warsaw.",
            topic="contract value",
            value_low="350m",
            value_high="350m",
            currency="EUR",
            note="=SUM(1) said a spokesman.\nSecond line.",
            source_title="Talks open",
            source_publisher="Beta Daily",
            source_url="",
            source_date="2025-04",
            reliability="C",
            credibility="3",
            party="Jan Kowalski",
            party_role="spokesperson",
            party_kind="person",
            party_country="POL",
            party_parent="Ministry of National Defence",
        ),
        row(
            deal_id="alpha-radars",
            date="2025-W14",
            stage="negotiating",
            summary="- Talks on the radar contract open in Warsaw.",
            topic="contract value",
            value_low="350m",
            value_high="350m",
            currency="EUR",
            note="=SUM(1) said a spokesman.\nSecond line.",
            source_title="",
            source_publisher="",
            source_url="https://example.org/alpha/2",
            source_date="2025",
            reliability="A",
            credibility="1",
        ),
    )
    early = ledger_csv(
        row(
            deal_id="alpha-radars",
            date="2025-02-15",
            stage="",
            summary="Early reports put the radars at 200m EUR.",
            value_low="200m",
            currency="EUR",
            source_title="Early report",
            source_publisher="Gamma News",
            source_url="",
            source_date="2025-02-15",
            reliability="D",
            credibility="5",
            party="United States",
            party_role="financier",
            party_kind="state",
        ),
    )
    second = ledger_csv(
        row(
            deal_id="alpha-radars",
            date="2025-05-01/2025-05-03",
            stage="agreed",
            topic="contract value",
            summary="The sides agree terms.",
            value_low="380m",
            value_high="390m",
            currency="EUR",
            source_title="Terms agreed",
            source_publisher="Alpha Wire",
            source_url="https://example.org/alpha/3",
            reliability="B",
            credibility="2",
            signpost_stage="contracted",
            signpost_by="2026-03",
            signpost_note="The contract is expected by March 2026.",
        ),
        row(
            deal_id="alpha-radars",
            date="2025-05-01/2025-05-03",
            stage="agreed",
            topic="contract value",
            summary="The sides agree terms.",
            value_low="380m",
            value_high="390m",
            currency="EUR",
            source_title="Terms agreed",
            source_publisher="Alpha Wire",
            source_url="https://example.org/alpha/3",
            reliability="B",
            credibility="2",
            signpost_stage="delivering",
            signpost_by="2028",
        ),
    )
    third = ledger_csv(
        row(
            deal_id="beta-trainers",
            deal_title="Beta trainers",
            date="2024",
            stage="",
            summary="Italy and Spain consider British trainers.",
            buyer="Italy; Spain",
            seller="United Kingdom",
            category="-2+3",
            quantity="24",
            source_title="Trainer rumours",
            source_publisher="Delta Post",
            source_url="https://example.org/beta/1",
            reliability="E",
            credibility="",
        ),
    )
    for number, data in enumerate((first, second, third, early), start=1):
        import_bytes(engine, data, file_name=f"part-{number}.csv", editor="t", today=TODAY)


def _sipri_snapshots(engine: Engine) -> None:
    """Three SIPRI fixture exports: two snapshots of the classic layout (two sources sharing one URL,
    attribute changes between them, a former state) and the new layout (external ids, TIV)."""
    for name in ("classic-2024.csv", "classic-2025.csv", "new-2026.csv"):
        import_bytes(engine, (FIXTURES / name).read_bytes(), file_name=name, editor="t", today=TODAY)


LEDGERS = {
    "seed": seed_ledger,
    "named parties and conflicting claims": _radars_and_trainers,
    "SIPRI snapshots": _sipri_snapshots,
}


@pytest.mark.parametrize("build", LEDGERS.values(), ids=list(LEDGERS))
@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_an_export_imports_into_an_empty_ledger_as_the_same_ledger(
    engine: Engine, another_ledger, build, form
):
    build(engine)
    data = (
        to_csv_bytes(ledger_rows(engine, Filters()))
        if form == "csv"
        else ledger_workbook(
            engine, Filters(), deals=queries.deals_table(engine, filters=Filters(), limit=None)
        )
    )
    copy = another_ledger()
    report = import_bytes(copy, data, file_name=f"export.{form}", editor="t", today=TODAY)
    assert report.format == f"ledger-{form}"
    assert content(copy) == content(engine)
    again = import_bytes(engine, data, file_name=f"export.{form}", editor="t", today=TODAY)
    assert (again.nothing_new, again.duplicates_skipped) == (True, again.rows_read)


def test_the_round_trip_ledgers_hold_what_they_are_meant_to(engine: Engine):
    _radars_and_trainers(engine)
    held = content(engine)
    assert [row[1:4] for row in held["parties"] if "state" not in row[2]] == [
        ("str:Hanwha Aerospace", "str:company", "str:KOR"),
        ("str:Jan Kowalski", "str:person", "str:POL"),
        ("str:Ministry of National Defence", "str:ministry", "str:POL"),
    ]
    parents = {row[1]: row[4] for row in held["parties"]}
    assert (parents["str:Hanwha Aerospace"], parents["str:Jan Kowalski"]) == (
        "str:state:KOR",
        "str:ministry of national defence|POL",
    )
    deal = next(row for row in held["deals"] if row[0] == "str:alpha-radars")
    # The later import's claim (dated earlier) set the value, not the latest-dated event's claim.
    assert deal[5:8] == ("200000000.0", "NoneType:None", "str:EUR")
    assert ("str:alpha-radars", "str:state:USA", "str:financier") in [row[:3] for row in held["deal_parties"]]


# --- the workbook as a reader opens it ---------------------------------------------------------------------

MADE_AT = dt.datetime(2026, 11, 30, 4, 5, tzinfo=dt.UTC)


def three_workbook(engine: Engine, filters: Filters):
    data = ledger_workbook(
        engine,
        filters,
        deals=queries.deals_table(engine, filters=filters, limit=None),
        caption=filters.caption(),
        made_at=MADE_AT,
    )
    return load_workbook(io.BytesIO(data))


def test_the_deals_sheet_has_readable_headers_widths_a_frozen_header_and_filters(three: Engine):
    book = three_workbook(three, Filters(countries=("UKR",)))
    assert book.sheetnames == ["deals", "ledger rows", "parties", "about"]
    deals = book["deals"]
    assert [cell.value for cell in deals[1]] == [
        "Deal id", "Deal", "Stage", "In stage since", "Buyers", "Sellers", "Category", "Value", "Value from",
        "Value to", "Currency", "First event", "Last event", "Events",
    ]  # fmt: skip
    day = dt.datetime  # openpyxl reads dates back as midnight datetimes
    assert [tuple(row) for row in deals.iter_rows(min_row=2, values_only=True)] == [
        ("gamma", "Gamma shells", "cancelled", day(2025, 4, 1), "Ukraine", "Germany", "artillery",
         None, None, None, None, day(2025, 2, 1), day(2025, 4, 1), 2),
        ("beta", "Beta air defence", "negotiating", day(2025, 3, 1), "Ukraine", "United States",
         "air defence", None, None, None, None, day(2025, 1, 15), day(2025, 3, 1), 2),
    ]  # fmt: skip
    assert deals["L2"].number_format == "YYYY-MM-DD"
    # Each column as wide as its longest header or value (+2), 8 to 60 characters.
    assert {letter: dimension.width for letter, dimension in deals.column_dimensions.items()} == {
        "A": 9, "B": 18, "C": 13, "D": 16, "E": 9, "F": 15, "G": 13, "H": 8, "I": 12, "J": 10, "K": 10,
        "L": 13, "M": 12, "N": 8,
    }  # fmt: skip
    assert [(sheet.title, sheet.freeze_panes, sheet.auto_filter.ref) for sheet in book.worksheets] == [
        ("deals", "A2", "A1:N3"),
        ("ledger rows", "A2", "A1:AM5"),
        ("parties", "A2", "A1:E6"),
        ("about", None, None),
    ]


def test_the_deals_sheet_shows_each_date_as_precisely_as_it_was_reported(engine: Engine):
    # A SIPRI transfer delivered in "2023" read 2023-01-01 in the workbook; the Deals page says "2023".
    rows = [
        event_row(
            "year", "2023", "Delivered.", source="Register", grade="A", deal_title="Year", stage="delivering"
        ),
        event_row(
            "month",
            "2024-03",
            "Talks begin.",
            source="Wire",
            grade="B",
            deal_title="Month",
            stage="announced",
        ),
        event_row(
            "week",
            "2024-W20",
            "Talks go on.",
            source="Wire",
            grade="B",
            deal_title="Week",
            stage="negotiating",
        ),
        event_row("week", "2024-06-03", "More talks.", source="Wire", grade="B"),
    ]
    import_bytes(engine, ledger_csv(*rows), file_name="dates.csv", editor="test")
    deals = three_workbook(engine, Filters())["deals"]
    header = [cell.value for cell in deals[1]]
    shown = [
        tuple(
            (row[header.index(name)].value.date(), row[header.index(name)].number_format)
            for name in ("In stage since", "First event", "Last event")
        )
        for row in deals.iter_rows(min_row=2)
    ]
    assert shown == [
        (
            (dt.date(2024, 5, 13), '"week of "YYYY-MM-DD'),
            (dt.date(2024, 5, 13), '"week of "YYYY-MM-DD'),
            (dt.date(2024, 6, 3), "YYYY-MM-DD"),
        ),
        ((dt.date(2024, 3, 1), "YYYY-MM"),) * 3,
        ((dt.date(2023, 1, 1), "YYYY"),) * 3,
    ]


@pytest.mark.parametrize(
    ("filters", "caption", "scope"),
    [
        (
            Filters(countries=("UKR",)),
            "Deals with Ukraine as buyer or seller",
            "All: every deal in the ledger.",
        ),
        (
            Filters(scope="making", stages=("negotiating",)),
            "Deals in the making, stage negotiating",
            (
                "In the making. In the making: deals with at least one news, official or document source. "
                "SIPRI-recorded: deals whose events come only from sources of kind “database”, such as a "
                "SIPRI trade-register import."
            ),
        ),
    ],
)
def test_the_about_sheet_names_filters_scope_moment_and_export_time(
    three: Engine, filters: Filters, caption: str, scope: str
):
    about = three_workbook(three, filters)["about"]
    assert [tuple(row) for row in about.iter_rows(max_row=8, values_only=True)] == [
        ("Workbook", "Defense-deal tracker export"),
        ("Filters", caption),
        ("Scope", scope),
        ("Ledger as of", "now: the ledger as it was when the workbook was made (retracted events left out)"),
        ("Exported", "2026-11-30 04:05 UTC"),
        (
            "Sheets",
            (
                "deals: the deals table as shown on the Deals page; ledger rows: the ledger in the upload "
                "format (import this workbook, or this sheet saved as CSV, to get the same ledger); parties: "
                "every party's role in each deal; about: this sheet."
            ),
        ),
        ("Formulas", "Cells that a spreadsheet would read as a formula start with an apostrophe."),
        (
            "Dates",
            (
                "deals: real dates, shown as precisely as they were reported: 2023 (a year), 2025-07 "
                "(a month), week of 2025-09-22, 2025-10-17 (a day); a year or a month is stored as its first "
                "day."
            ),
        ),
    ]
    assert about["A9"].value == "column deal_id"
    assert (about.column_dimensions["A"].width, about.column_dimensions["B"].width) == (24, 100)
