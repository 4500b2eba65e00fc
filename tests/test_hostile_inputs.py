"""Hostile and broken files: each one imports cleanly or is refused naming line, column and fix.

The corpus lives in tests/hostile/ and is made by tests/hostile/make_corpus.py (deterministic; its
three biggest inputs are built at test time instead of committed). Every file is paired below with its
exact outcome, and goes through the upload path (`import_bytes` with the 50 MB limit) on a seeded
ledger; a representative subset also goes through the CLI. After every refusal the ledger's whole
logical content is compared with a snapshot taken before (tests/ledger_snapshot.py explains why the
content and not the file bytes), and nothing may raise anything but ImportRejected.

Problems that concern a whole file (empty, binary, over the limit) carry no line; problems where the
file cannot be split into cells (bad bytes, broken quoting, wrong field count) name the line only; every
problem with a cell at fault names its line and column. The tables assert which is which, exactly.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import TODAY
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from tests.hostile import make_corpus
from tests.ledger_snapshot import digest, sqlite_dump
from tracker.cli import main
from tracker.errors import ImportRejected
from tracker.export import FORMULA_STARTS, deal_parties, ledger_rows, to_csv_bytes, to_xlsx_bytes
from tracker.filters import Filters
from tracker.formats import read_batch
from tracker.importer import ImportReport, import_bytes
from tracker.ledger_csv import PARTY_KEY_LENGTH, SOURCE_KEY_LENGTH
from tracker.models import Deal, DealParty, Event, Import, Party, Source

UPLOAD_LIMIT = 50_000_000
CORPUS_DIR = Path(__file__).resolve().parent / "hostile"


@dataclass(frozen=True)
class Clean:
    """Imports cleanly, adding `events` events; `duplicates` rows were already in the ledger."""

    events: int
    duplicates: int = 0
    encoding: str = "utf-8"


@dataclass(frozen=True)
class Rejected:
    """Refused with exactly these (line, column) pairs, in order; `says` is in the first problem's text."""

    where: tuple[tuple[int | None, str | None], ...]
    says: str


def _line_only(*lines: int) -> tuple[tuple[int, None], ...]:
    return tuple((line, None) for line in lines)


FILE_LEVEL = ((None, None),)
FIELDS = "fields but the header has"
NOT_UTF8 = "is not valid UTF-8 (and the file is not consistently Windows-1252 either)"
NOT_CSV = "not a CSV text file"
NUL = "the file contains NUL bytes"
CONTROL = "the cell contains a control character"
NOT_HTTP = "only http and https links are allowed"
SAVE_AS_CSV = (
    'Open it in a spreadsheet program and save it as "CSV UTF-8 (comma delimited)", then upload that file.'
)

EXPECTED: dict[str, Clean | Rejected] = {
    # File level
    "empty.csv": Rejected(FILE_LEVEL, "the file is empty"),
    "whitespace_only.csv": Rejected(FILE_LEVEL, "the file is empty"),
    "header_only.csv": Rejected(FILE_LEVEL, "the file has a header but no rows"),
    "header_only_blank_lines.csv": Rejected(FILE_LEVEL, "the file has a header but no rows"),
    "preamble_line.csv": Rejected(_line_only(2, 3, 4, 5), "this record has 19 fields but the header has 1"),
    "excel_sep_line.csv": Rejected(_line_only(2, 3, 4, 5), "this record has 19 fields but the header has 2"),
    # Header
    "missing_deal_id.csv": Rejected(((1, "deal_id"),), "required column deal_id is missing"),
    "missing_required_columns.csv": Rejected(
        ((1, "deal_id"), (1, "date"), (1, "summary"), (1, "source_title")), "Add a column named deal_id"
    ),
    "missing_source_columns.csv": Rejected(((1, "source_title"),), "there is no source column"),
    "unknown_column.csv": Rejected(((1, "colour"),), 'unknown column "colour"'),
    "misspelled_column.csv": Rejected(((1, "sumary"), (1, "summary")), "Did you mean summary?"),
    "blank_header_cell.csv": Rejected(((1, "(blank)"),), 'unknown column ""'),
    "duplicate_header.csv": Rejected(((1, "summary"),), "column summary appears twice (columns 5 and 20)"),
    "duplicate_header_case.csv": Rejected(
        ((1, "summary"),), "column summary appears twice (columns 5 and 20)"
    ),
    "header_spaces_and_case.csv": Clean(3),
    "header_zero_width.csv": Clean(3),
    # Delimiters and line endings
    "semicolon_delimiter.csv": Clean(3),
    "tab_delimiter.csv": Clean(3),
    "pipe_delimiter.csv": Rejected(
        (
            (1, "|".join(make_corpus.COLUMNS)),
            (1, "deal_id"),
            (1, "date"),
            (1, "summary"),
            (1, "source_title"),
        ),
        'unknown column "deal_id|deal_title|date',
    ),
    "mixed_delimiters.csv": Rejected(_line_only(2, 3, 4), "this record has 1 field but the header has 19"),
    "crlf_line_endings.csv": Clean(3),
    "cr_line_endings.csv": Clean(3),
    "no_final_newline.csv": Clean(3),
    "blank_lines_between.csv": Clean(3),
    "excel_empty_rows.csv": Clean(3),
    "all_quoted.csv": Clean(3),
    # Encodings
    "utf8_bom.csv": Clean(3),
    "utf8_bom_semicolon.csv": Clean(3),
    "utf16_le_bom.csv": Clean(3, encoding="utf-16"),
    "utf16_be_bom.csv": Clean(3, encoding="utf-16"),
    "utf16_no_bom.csv": Rejected(_line_only(1), NUL),
    "utf16_odd_length.csv": Rejected(FILE_LEVEL, "the UTF-16 text is corrupt near byte"),
    "utf16_nul_char.csv": Rejected(((3, "summary"),), CONTROL),
    "latin1.csv": Clean(3, encoding="cp1252"),
    "cp1252.csv": Clean(3, encoding="cp1252"),
    "mixed_utf8_cp1252.csv": Rejected(_line_only(3), "byte 0x93 " + NOT_UTF8),
    "invalid_byte.csv": Rejected(_line_only(3), "byte 0x81 " + NOT_UTF8),
    "truncated_utf8.csv": Rejected(_line_only(3), "byte 0xc5 " + NOT_UTF8),
    "overlong_utf8.csv": Clean(3, encoding="cp1252"),
    "surrogate_utf8.csv": Rejected(_line_only(3), "byte 0xed " + NOT_UTF8),
    "nul_bytes.csv": Rejected(_line_only(3), NUL),
    # Binary files renamed .csv
    "random_binary.csv": Rejected(_line_only(3), NUL),
    "random_high_bytes.csv": Rejected(_line_only(1), "byte 0xb4 " + NOT_UTF8),
    # A workbook is imported from its upload-format sheet (tracker.workbook); this one is damaged.
    "xlsx_renamed.csv": Rejected(FILE_LEVEL, "this XLSX workbook cannot be read (OSError)"),
    "zip_renamed.csv": Rejected(FILE_LEVEL, "this is a ZIP file, " + NOT_CSV + " or an XLSX workbook"),
    "xls_renamed.csv": Rejected(FILE_LEVEL, "this is an old Excel (XLS) or Word file, " + NOT_CSV),
    "pdf_renamed.csv": Rejected(FILE_LEVEL, "this is a PDF file, " + NOT_CSV),
    "png_renamed.csv": Rejected(FILE_LEVEL, "this is a PNG image, " + NOT_CSV),
    "gzip_renamed.csv": Rejected(FILE_LEVEL, "this is a gzip archive, " + NOT_CSV),
    "sqlite_renamed.csv": Rejected(FILE_LEVEL, "this is a SQLite database, " + NOT_CSV),
    # Quoting and record structure
    "unterminated_quote.csv": Rejected(_line_only(3), "a quoted field that starts here is never closed"),
    "quote_inside_field.csv": Rejected(_line_only(3), "the CSV cannot be read here"),
    "record_broken_across_lines.csv": Rejected(
        _line_only(3, 4), "this record has 5 fields but the header has 19"
    ),
    "quoted_line_break_summary.csv": Clean(3),
    "quoted_line_break_title.csv": Rejected(
        ((2, "deal_title"),), "Line breaks are allowed only in summaries and notes"
    ),
    "too_many_fields.csv": Rejected(_line_only(3), "this record has 20 fields but the header has 19"),
    "too_few_fields.csv": Rejected(_line_only(4), "this record has 5 fields but the header has 19"),
    "trailing_delimiters.csv": Rejected(_line_only(2, 3, 4), "this record has 20 " + FIELDS),
    # Duplicates and conflicts
    "duplicate_rows.csv": Clean(3, duplicates=1),
    "same_event_two_sources.csv": Clean(3),
    "same_event_conflicting_values.csv": Rejected(
        ((5, "value_high"),), "the same event as line 2, which gives value_high 400000000"
    ),
    "same_source_two_grades.csv": Rejected(
        ((3, "reliability"),), "the same source as line 2, which gives reliability B"
    ),
    "seed_grade_conflict.csv": Rejected(((4, "reliability"),), "this source is graded B in the ledger"),
    "seed_file_again.csv": Clean(0, duplicates=29),
    # Vocabulary and reference values
    "unknown_stage.csv": Rejected(((3, "stage"),), 'unknown stage "rumoured"'),
    "misspelled_stage.csv": Rejected(((3, "stage"),), "Did you mean negotiating?"),
    "unknown_country.csv": Rejected(((2, "buyer"),), 'unknown country "Atlantis"'),
    "ambiguous_country.csv": Rejected(((2, "seller"),), "Write COG or COD."),
    "ambiguous_country_korea.csv": Rejected(((2, "buyer"),), "Write KOR or PRK."),
    "country_aliases.csv": Clean(3),
    "bad_reliability.csv": Rejected(((3, "reliability"),), '"G" is not a source reliability grade'),
    "bad_credibility.csv": Rejected(
        ((3, "credibility"), (4, "credibility")), '"9" is not a claim credibility grade'
    ),
    "unknown_party_role.csv": Rejected(((2, "party_role"),), 'unknown role "mastermind"'),
    "party_without_role.csv": Rejected(((2, "party_role"),), "a party is given without its role"),
    "party_unknown_parent.csv": Rejected(
        ((2, "party_parent"),), 'parent party "Nowhere Ministry" is not in the ledger'
    ),
    # Dates
    "impossible_date.csv": Rejected(((3, "date"),), '"2025-02-30" is not a real date'),
    "ambiguous_date.csv": Rejected(((3, "date"),), "Write it as 2025-04-03 or 2025-03-04."),
    "far_future_date.csv": Rejected(((4, "date"),), '"2999-01-01" is in the future'),
    "ancient_date.csv": Rejected(((4, "date"),), '"1850-06-01" is outside the years the ledger covers'),
    "unreadable_date.csv": Rejected(((3, "date"),), '"last Tuesday" is not a date we can read'),
    "empty_date.csv": Rejected(((3, "date"),), "date is empty"),
    "future_source_date.csv": Rejected(((2, "source_date"),), '"2999-12-31" is in the future'),
    "reversed_date_range.csv": Rejected(((3, "date"),), "Put the earlier date first: 2025-05-01/2025-05-10."),
    # Numbers and money
    "negative_value.csv": Rejected(((2, "value_low"),), 'value "-300m" is negative'),
    "non_numeric_value.csv": Rejected(((2, "value_high"),), 'value "a lot" is not a number'),
    "value_with_commas.csv": Rejected(((2, "value_low"),), "Write it without separators (300000000)"),
    "value_low_above_high.csv": Rejected(((2, "value_high"),), "value_high 400m is below value_low"),
    "value_overflow.csv": Rejected(((2, "value_low"),), "is too large to be an amount of money"),
    "negative_quantity.csv": Rejected(((2, "quantity"),), 'quantity "-12" is negative'),
    "non_numeric_quantity.csv": Rejected(
        ((2, "quantity"), (3, "quantity")), 'quantity "twelve" is not a whole number'
    ),
    "quantity_overflow.csv": Rejected(((2, "quantity"),), 'quantity "99999999999999999999" is too large'),
    "quantity_over_int32.csv": Rejected(((2, "quantity"),), "at most 2,147,483,647"),
    "unknown_currency.csv": Rejected(((2, "currency"),), 'unknown currency "XYZ"'),
    "currency_symbol.csv": Rejected(((2, "currency"),), "Did you mean USD?"),
    "value_without_currency.csv": Rejected(((2, "currency"),), "a value is given without a currency"),
    # URLs
    "javascript_url.csv": Rejected(((3, "source_url"),), NOT_HTTP + ", not javascript"),
    "javascript_url_obfuscated.csv": Rejected(((3, "source_url"),), NOT_HTTP + ", not javascript"),
    "data_url.csv": Rejected(((3, "source_url"),), NOT_HTTP + ", not data"),
    "file_url.csv": Rejected(((4, "source_url"),), NOT_HTTP + ", not file"),
    "url_without_host.csv": Rejected(((4, "source_url"),), "the URL has no host name"),
    "url_with_spaces.csv": Rejected(((4, "source_url"),), "the URL contains spaces"),
    # Identifiers and required cells
    "bad_deal_id.csv": Rejected(((3, "deal_id"),), '"Bad Deal!" is not a valid deal id'),
    "formula_deal_id.csv": Rejected(((4, "deal_id"),), '"=1+1" is not a valid deal id'),
    "empty_required_cells.csv": Rejected(((3, "deal_id"), (4, "summary")), "deal_id is empty"),
    "new_deal_without_title.csv": Rejected(
        ((2, "deal_title"),), "deal hostile-test-deal is new to the ledger"
    ),
    "row_without_source.csv": Rejected(((4, "source_title"),), "the row has no source"),
    "many_problems.csv": Rejected(
        tuple((line, "stage") for line in range(2, 202)) + FILE_LEVEL, 'unknown stage "rumoured"'
    ),
    # Payloads and odd text
    "html_script_payloads.csv": Clean(3),
    "formula_payloads.csv": Clean(3),
    "sql_injection_text.csv": Clean(3),
    "control_characters.csv": Rejected(((2, "deal_title"), (3, "summary")), CONTROL),
    "rtl_and_zero_width.csv": Clean(3),
    "emoji.csv": Clean(3),
    "emoji_deal_id.csv": Rejected(((3, "deal_id"),), "is not a valid deal id"),
    "nfd_text.csv": Clean(3),
    "long_title.csv": Rejected(((2, "deal_title"),), "the cell is too long (301 characters; at most 300)"),
    "long_summary.csv": Rejected(((2, "summary"),), "the cell is too long (5,001 characters; at most 5,000)"),
    "max_length_summary.csv": Clean(3),
    "long_party_casefold.csv": Clean(3),
    "long_url_casefold.csv": Clean(3),
    # Built at test time
    "big_field.csv": Rejected(_line_only(3), "a field is longer than 131,072 characters"),
    "ten_thousand_columns.csv": Rejected(
        tuple((1, f"extra_{i}") for i in range(20)) + ((1, None),), 'unknown column "extra_0"'
    ),  # then "9961 more unknown columns"
    "over_upload_limit.csv": Rejected(FILE_LEVEL, "the file is 50.0 MB; uploads are limited to 50 MB"),
    # Hardening (issue 14): time, memory and rendering
    "blank_cell_rows_between.csv": Clean(3),
    "million_blank_lines.csv": Clean(3),
    "autolink_text.csv": Clean(3),  # stored as text; tests/test_pages.py shows it is rendered as text
    "sipri_generated_line_padded.csv": Clean(5),
    "sipri_long_generated_line.csv": Clean(5),
    "sipri_long_unreadable_generated_line.csv": Rejected(
        ((2, "Data generated"),), "the snapshot date cannot be read"
    ),
    "nul_in_multiline_summary.csv": Rejected(_line_only(4), NUL),
    "bidi_controls_summary.csv": Clean(3),
    "one_column_ten_thousand_times.csv": Rejected(
        ((1, "note"),) * 200 + ((1, None),), "column note appears twice (columns 19 and 20)"
    ),
    "sipri_big_comment.csv": Rejected(_line_only(4), "a field is longer than 131,072 characters"),
}

# Exactly what the analyst reads for some inputs: the first and the last problem, whole.
EXACT_PROBLEMS: dict[str, tuple[tuple[int | None, str | None, str, str], ...]] = {
    "nul_in_multiline_summary.csv": (
        (
            4,
            None,
            "the file contains NUL bytes, so it is binary or corrupt, not CSV text",
            SAVE_AS_CSV,
        ),
    ),
    "one_column_ten_thousand_times.csv": (
        (
            1,
            "note",
            "column note appears twice (columns 19 and 20)",
            "Keep one of them and delete the other.",
        ),
        (
            1,
            None,
            "9781 more repeated columns",
            "Keep each column once; the columns are listed in the template.",
        ),
    ),
    "big_field.csv": (
        (
            3,
            None,
            "a field is longer than 131,072 characters",
            "Shorten it: summaries and notes are limited to 5,000 characters.",
        ),
    ),
    "sipri_big_comment.csv": (
        (
            4,
            None,
            "a field is longer than 131,072 characters",
            "Export the file again from SIPRI; do not edit it in a text editor.",
        ),
    ),
}

# Through the CLI as well: at least one of each kind of outcome and location.
CLI_SUBSET = (
    "empty.csv", "header_only.csv", "missing_required_columns.csv", "duplicate_header.csv",
    "semicolon_delimiter.csv",
    "utf8_bom.csv", "utf16_le_bom.csv", "cp1252.csv", "invalid_byte.csv", "nul_bytes.csv", "xlsx_renamed.csv",
    "random_binary.csv", "unterminated_quote.csv", "record_broken_across_lines.csv", "duplicate_rows.csv",
    "same_event_two_sources.csv", "unknown_stage.csv", "ambiguous_country.csv", "ambiguous_date.csv",
    "far_future_date.csv", "value_low_above_high.csv", "unknown_currency.csv", "bad_reliability.csv",
    "javascript_url.csv", "quantity_overflow.csv", "html_script_payloads.csv", "formula_payloads.csv",
    "control_characters.csv", "emoji.csv", "many_problems.csv", "big_field.csv", "ten_thousand_columns.csv",
)  # fmt: skip


def corpus_bytes(name: str) -> bytes:
    if name in make_corpus.GENERATED_AT_TEST_TIME:
        return make_corpus.GENERATED_AT_TEST_TIME[name][1]()
    return (CORPUS_DIR / name).read_bytes()


def location(line: int | None, column: str | None) -> str:
    """How a problem's place reads in the CLI and on the upload page (see Problem.__str__)."""
    where = ([f"line {line}"] if line is not None else []) + ([f"column {column}"] if column else [])
    return (", ".join(where) + ": ") if where else ""


def _events(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Event)).scalar_one()


def _imports(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Import)).scalar_one()


def check_clean(engine: Engine, report: ImportReport, expected: Clean, events_before: int) -> None:
    assert (report.events_added, report.duplicates_skipped, report.encoding) == (
        expected.events,
        expected.duplicates,
        expected.encoding,
    )
    assert _events(engine) == events_before + expected.events


def check_rejected(problems: list, expected: Rejected) -> None:
    assert [(p.line, p.column) for p in problems] == list(expected.where)
    assert expected.says in f"{problems[0].message}. {problems[0].fix}"
    for problem in problems:
        assert problem.message and problem.fix  # every problem says what is wrong and how to fix it


# --- the corpus itself --------------------------------------------------------------------------------


def test_the_corpus_is_committed_as_its_generator_makes_it():
    committed = {p.name for p in CORPUS_DIR.glob("*.csv")}
    assert committed == set(make_corpus.CORPUS)
    for name, (_what, build) in make_corpus.CORPUS.items():
        assert (CORPUS_DIR / name).read_bytes() == build(), (
            f"{name} is stale: run tests/hostile/make_corpus.py"
        )
    assert not set(make_corpus.GENERATED_AT_TEST_TIME) & committed


def test_every_hostile_input_has_an_expected_outcome():
    inputs = set(make_corpus.CORPUS) | set(make_corpus.GENERATED_AT_TEST_TIME)
    assert set(EXPECTED) == inputs
    assert len(inputs) >= 60
    assert set(CLI_SUBSET) <= inputs


def test_ten_thousand_columns_list_twenty_and_count_the_rest():
    with pytest.raises(ImportRejected) as caught:
        read_batch(
            make_corpus.ten_thousand_columns(), today=TODAY
        )  # the validation, before any database work
    last = caught.value.problems[-1]
    assert (last.line, last.column, last.message) == (1, None, "9961 more unknown columns")
    assert len(str(caught.value)) < 5_000  # the summary stays readable


def test_the_big_inputs_are_as_big_as_promised():
    assert len(make_corpus.big_field()) > 1_000_000
    header = make_corpus.ten_thousand_columns().split(b"\n", 1)[0]
    assert header.count(b",") + 1 == 10_000
    assert len(make_corpus.over_upload_limit()) == UPLOAD_LIMIT + 1
    assert make_corpus.million_blank_lines().count(b"\n") - make_corpus.base_text().count("\n") == 1_000_000
    for name in ("sipri_long_generated_line.csv", "sipri_long_unreadable_generated_line.csv"):
        generated = make_corpus.GENERATED_AT_TEST_TIME[name][1]().split(b"\n")[1]
        assert generated.startswith(b"Data generated: ") and len(generated) > 160_000


@pytest.mark.parametrize("name", list(EXACT_PROBLEMS))
def test_exact_problems(seeded: Engine, name: str):
    with pytest.raises(ImportRejected) as caught:
        import_bytes(
            seeded, corpus_bytes(name), file_name=name, editor="hostile", max_bytes=UPLOAD_LIMIT, today=TODAY
        )
    problems = [(p.line, p.column, p.message, p.fix) for p in caught.value.problems]
    expected = EXACT_PROBLEMS[name]
    assert (problems[0], problems[-1]) == (expected[0], expected[-1])


# --- every input through the upload path --------------------------------------------------------------


@pytest.mark.parametrize("name", list(EXPECTED))
def test_hostile_input_via_upload_path(seeded: Engine, name: str):
    expected = EXPECTED[name]
    data = corpus_bytes(name)
    before, before_dump, events_before = digest(seeded), sqlite_dump(seeded), _events(seeded)
    imports_before = _imports(seeded)
    if isinstance(expected, Rejected):
        with pytest.raises(ImportRejected) as caught:
            import_bytes(seeded, data, file_name=name, editor="hostile", max_bytes=UPLOAD_LIMIT, today=TODAY)
        check_rejected(caught.value.problems, expected)
        assert digest(seeded) == before
        assert sqlite_dump(seeded) == before_dump
        assert _imports(seeded) == imports_before  # no partial import recorded
        return
    report = import_bytes(seeded, data, file_name=name, editor="hostile", max_bytes=UPLOAD_LIMIT, today=TODAY)
    check_clean(seeded, report, expected, events_before)
    assert _imports(seeded) == imports_before + (0 if report.nothing_new else 1)
    # Every row is in: importing the same file again finds nothing new and counts every row as present.
    after = digest(seeded)
    again = import_bytes(seeded, data, file_name=name, editor="hostile", max_bytes=UPLOAD_LIMIT, today=TODAY)
    assert again.nothing_new and again.duplicates_skipped == again.rows_read == report.rows_read
    assert digest(seeded) == after


# --- a representative subset through the CLI ----------------------------------------------------------


@pytest.mark.parametrize("name", CLI_SUBSET)
def test_hostile_input_via_cli(seeded: Engine, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    expected = EXPECTED[name]
    path = tmp_path / name
    path.write_bytes(corpus_bytes(name))
    before, events_before = digest(seeded), _events(seeded)
    capsys.readouterr()
    code = main(["import", str(path), "--editor", "hostile"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if isinstance(expected, Rejected):
        assert code == 1 and out == ""
        lines = err.splitlines()
        assert lines[0] == f"error: {len(expected.where)} problem(s); nothing was imported."
        assert len(lines) == 1 + len(expected.where)
        for text, (line, column) in zip(lines[1:], expected.where):
            assert text.startswith("  " + location(line, column))
            if line is None:
                assert not text.startswith("  line ")
        assert expected.says in lines[1]
        assert digest(seeded) == before
    else:
        assert code == 0 and err == ""
        assert f"added {expected.events} events" in out
        assert _events(seeded) == events_before + expected.events


# --- what clean imports store, and how it leaves again -------------------------------------------------


def _import(engine: Engine, name: str) -> ImportReport:
    return import_bytes(engine, corpus_bytes(name), file_name=name, editor="hostile", today=TODAY)


def _stored_text(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        values: set[str] = set()
        for statement in (
            select(Deal.title, Deal.summary, Deal.category),
            select(Event.summary, Event.note, Event.topic),
            select(Source.title, Source.publisher),
            select(Party.name),
        ):
            for row in connection.execute(statement):
                values.update(v for v in row if v)
    return values


def _export_cells(engine: Engine) -> tuple[list[list[str]], list[tuple[str, object, str | None]]]:
    rows = ledger_rows(engine, Filters())
    parsed = list(csv.reader(io.StringIO(to_csv_bytes(rows).decode("utf-8-sig"), newline="")))
    workbook = load_workbook(
        io.BytesIO(to_xlsx_bytes({"events": rows, "parties": deal_parties(engine, Filters())}))
    )
    cells = [
        (sheet.title, cell.value, cell.data_type)
        for sheet in workbook
        for row in sheet.iter_rows()
        for cell in row
    ]
    return parsed, cells


def test_html_payloads_are_stored_verbatim_as_text(seeded: Engine):
    _import(seeded, "html_script_payloads.csv")
    stored = _stored_text(seeded)
    for payload in (
        '<script>alert("title")</script>',
        "<img src=x onerror=alert(1)>",
        '"><svg onload=alert(1)>',
        "{{7*7}} ${7*7} <%= 7*7 %>",
        '<b onmouseover="alert(1)">Minister</b>',
    ):
        assert (
            payload in stored
        )  # not escaped, stripped or evaluated: rendering escapes, the ledger keeps text
    parsed, cells = _export_cells(seeded)
    exported = {value for row in parsed for value in row}
    assert '<script>alert("title")</script>' in exported and "{{7*7}} ${7*7} <%= 7*7 %>" in exported
    assert '<b onmouseover="alert(1)">Minister</b>' in {v for _sheet, v, _t in cells}
    assert all(data_type != "f" for _sheet, _v, data_type in cells)


def test_formula_payloads_are_stored_and_neutralised_on_export(seeded: Engine):
    _import(seeded, "formula_payloads.csv")
    stored = _stored_text(seeded)
    # Leading tab and CR are trimmed on import like any leading space; the formula after them stays text.
    for payload in (
        '=HYPERLINK("http://evil.example","click")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "=1+1",
        "@cmd",
    ):
        assert payload in stored
    parsed, cells = _export_cells(seeded)
    _header, *body = parsed
    for row in body:
        for value in row:
            assert not value.startswith(FORMULA_STARTS), value
    exported = {value for row in body for value in row}
    assert {
        '\'=HYPERLINK("http://evil.example","click")',
        "'+cmd|' /C calc'!A0",
        "'=1+1",
        "'@cmd",
    } <= exported
    for _sheet, value, data_type in cells:
        assert data_type != "f", value  # openpyxl would write a formula for a string starting with "="
        assert not (isinstance(value, str) and value.startswith(FORMULA_STARTS)), value
    assert any(value == "'=1+1" for _sheet, value, _t in cells)


def test_sql_text_is_only_text(seeded: Engine):
    _import(seeded, "sql_injection_text.csv")
    stored = _stored_text(seeded)
    assert {"x'); DROP TABLE events; --", "Robert'); DROP TABLE deals;--", "' OR '1'='1"} <= stored
    with seeded.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Deal)).scalar_one() == 2


def test_right_to_left_and_zero_width_text(seeded: Engine):
    _import(seeded, "rtl_and_zero_width.csv")
    with seeded.connect() as connection:
        deals = set(connection.execute(select(Deal.id)).scalars())
        summaries = set(connection.execute(select(Event.summary)).scalars())
        publishers = set(connection.execute(select(Source.publisher)).scalars())
    assert "hostile-test-deal" in deals  # zero-width characters removed from the id, not kept invisibly
    # Bidirectional controls are removed on import: an override can no longer make the text after it
    # display in another order than it reads.
    assert "صفقة طائرات تدريب evil.exe" in summaries
    assert "Wire Service" in publishers and "Wire\u2060 Service" not in publishers


def test_every_bidirectional_control_is_removed_from_a_summary(seeded: Engine):
    _import(seeded, "bidi_controls_summary.csv")
    with seeded.connect() as connection:
        summaries = set(connection.execute(select(Event.summary)).scalars())
    assert "Contract LRE RLE LRO signed: see exe.txt LRI RLI FSI LRM RLM ALM." in summaries


def test_emoji_and_decomposed_accents(seeded: Engine):
    _import(seeded, "emoji.csv")
    _import(seeded, "nfd_text.csv")
    with seeded.connect() as connection:
        summaries = set(connection.execute(select(Event.summary)).scalars())
        publishers = set(connection.execute(select(Source.publisher)).scalars())
        buyers = set(
            connection.execute(
                select(Party.country_code)
                .join(DealParty, DealParty.party_id == Party.id)
                .where(DealParty.role == "buyer")
            ).scalars()
        )
    assert "Deal 🚀✈️ signed 👍🏽 🇵🇱🇮🇹" in summaries and "📰 Wire" in publishers
    assert unicodedata.normalize("NFC", "Se\u0301gou\u0301 signs.") in summaries
    assert "CIV" in buyers  # "Côte d’Ivoire" written with a combining accent still resolves


def test_an_overlong_utf8_slash_is_not_a_slash(seeded: Engine):
    report = _import(seeded, "overlong_utf8.csv")
    assert report.encoding == "cp1252"
    with seeded.connect() as connection:
        urls = set(connection.execute(select(Source.url)).scalars())
    assert "https://example.org/news\u00c0\u00af2" in urls


def test_keys_that_grow_when_case_folded_still_fit_their_columns(seeded: Engine):
    _import(seeded, "long_party_casefold.csv")
    _import(seeded, "long_url_casefold.csv")
    with seeded.connect() as connection:
        party_keys = list(connection.execute(select(Party.key)).scalars())
        source_keys = list(connection.execute(select(Source.key)).scalars())
        names = set(connection.execute(select(Party.name)).scalars())
    assert max(map(len, party_keys)) <= PARTY_KEY_LENGTH and max(map(len, source_keys)) <= SOURCE_KEY_LENGTH
    assert "ß" * 300 in names  # the name itself is kept whole
    assert any(key.startswith("ss" * 100) and "#" in key for key in party_keys)
    for name in ("long_party_casefold.csv", "long_url_casefold.csv"):
        assert _import(seeded, name).nothing_new  # the shortened key is stable: no duplicate party or source


def test_hostile_cli_arguments(seeded: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    before = digest(seeded)
    for target in (tmp_path / "missing.csv", tmp_path):
        capsys.readouterr()
        assert main(["import", str(target)]) == 1
        out, err = capsys.readouterr()
        assert (out, err) == ("", f"error: {target} is not a file.\n")
    assert digest(seeded) == before
    # An editor name longer than the column, with an escape sequence: recorded cleaned and cut, not a crash.
    path = tmp_path / "emoji.csv"
    path.write_bytes(corpus_bytes("emoji.csv"))
    assert main(["import", str(path), "--editor", "\x1b[31m" + "x" * 500]) == 0
    with seeded.connect() as connection:
        editors = list(connection.execute(select(Import.editor).order_by(Import.id)).scalars())
    assert editors[-1] == "[31m" + "x" * 96


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\deals.csv", "deals.csv"),
        ("<script>alert(1)</script>.csv", "script>.csv"),
        ("\x00\x1b[2J\n", "[2J"),
        ("\x00\x07\n\t ", "upload.csv"),
        ("é" * 1000 + ".csv", "é" * 255),
    ],
)
def test_hostile_file_names_from_the_browser(seeded: Engine, sent: str, kept: str):
    report = import_bytes(
        seeded,
        corpus_bytes("emoji.csv"),
        file_name=sent,
        editor="hostile",
        today=TODAY,
        max_bytes=UPLOAD_LIMIT,
    )
    with seeded.connect() as connection:
        stored = connection.execute(
            select(Import.file_name).where(Import.id == report.import_id)
        ).scalar_one()
    assert report.file_name == stored == kept
