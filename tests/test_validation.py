"""Every validation rule of the ledger CSV, with its exact message and fix (no database needed)."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TODAY

from tests.builders import GOOD_ROW, ledger_csv, row
from tracker.columns import TEMPLATE_COLUMNS
from tracker.errors import ImportRejected
from tracker.formats import read_batch
from tracker.textfile import first_lines, lines_after, read_records

URL_FIX = "Give the article's http:// or https:// address, or leave source_url empty and give source_title."
STAGE_LIST = "announced, negotiating, agreed, approved, contracted, delivering, completed, stalled, cancelled"


def problems_of(data: bytes) -> list[tuple]:
    with pytest.raises(ImportRejected) as caught:
        read_batch(data, today=TODAY)
    return [(p.line, p.column, p.value, p.message, p.fix) for p in caught.value.problems]


CELL_CASES = [
    (
        {"deal_id": ""},
        "deal_id",
        "",
        "deal_id is empty",
        "Give every row the id of its deal, e.g. us-ukraine-drone-deal.",
    ),
    (
        {"deal_id": "Test Deal!"},
        "deal_id",
        "Test Deal!",
        '"Test Deal!" is not a valid deal id',
        "Use lowercase letters, digits and single hyphens, e.g. us-ukraine-drone-deal.",
    ),
    ({"summary": ""}, "summary", "", "summary is empty", "Say in a sentence what happened."),
    (
        {"signpost_stage": "contracted"},
        "signpost_by",
        "",
        "a signpost is given without the date it is expected by",
        "Give signpost_by, when the milestone is expected, e.g. 2026-03.",
    ),
    (
        {"signpost_by": "2027-03", "signpost_note": "A contract by March."},
        "signpost_stage",
        "",
        "signpost_by or signpost_note is given but signpost_stage is empty",
        "Give the stage expected next (e.g. contracted), or clear those cells.",
    ),
    (
        {"signpost_stage": "contracted", "signpost_by": "2090"},
        "signpost_by",
        "2090",
        '"2090" is more than 50 years ahead',
        "Check the year of the expected date.",
    ),
    ({"date": ""}, "date", "", "date is empty", "Write the date as YYYY-MM-DD, YYYY-MM or YYYY."),
    (
        {"date": "03/04/2025"},
        "date",
        "03/04/2025",
        '"03/04/2025" is ambiguous: day and month order is unknown',
        "Write it as 2025-04-03 or 2025-03-04.",
    ),
    (
        {"date": "2025-02-30"},
        "date",
        "2025-02-30",
        '"2025-02-30" is not a real date',
        "Check the day and month; write the date as YYYY-MM-DD.",
    ),
    (
        {"date": "2031-01-01"},
        "date",
        "2031-01-01",
        '"2031-01-01" is in the future',
        "The ledger records developments that have happened; put a planned date in the summary.",
    ),
    (
        {"stage": "signed-ish"},
        "stage",
        "signed-ish",
        'unknown stage "signed-ish"',
        f"Use one of: {STAGE_LIST} (or leave it empty when the stage does not change).",
    ),
    (
        {"stage": "negotiatng"},
        "stage",
        "negotiatng",
        'unknown stage "negotiatng"',
        (
            f"Did you mean negotiating? Use one of: {STAGE_LIST} (or leave it empty when the stage does "
            f"not change)."
        ),
    ),
    (
        {"buyer": "Ukrane"},
        "buyer",
        "Ukrane",
        'unknown country "Ukrane"',
        "Did you mean Ukraine? Use a country name or an ISO 3166 code such as UKR.",
    ),
    (
        {"seller": "Congo"},
        "seller",
        "Congo",
        '"Congo" is ambiguous: it could be Congo (Republic of the Congo, COG) or DR Congo (COD)',
        "Write COG or COD.",
    ),
    (
        {"quantity": "-4"},
        "quantity",
        "-4",
        'quantity "-4" is negative',
        "Give the number of units as a whole number ≥ 0.",
    ),
    (
        {"quantity": "twelve"},
        "quantity",
        "twelve",
        'quantity "twelve" is not a whole number',
        "Give the number of units as digits only, e.g. 24 (no commas or words).",
    ),
    (
        {"value_low": "-5", "currency": "USD"},
        "value_low",
        "-5",
        'value "-5" is negative',
        "Values are amounts of money: give a number ≥ 0.",
    ),
    (
        {"value_low": "1,000,000", "currency": "USD"},
        "value_low",
        "1,000,000",
        'value "1,000,000" uses a comma',
        "Write it without separators (1000000) or with a unit, e.g. 1.5bn; use a dot for decimals.",
    ),
    (
        {"value_low": "lots", "currency": "USD"},
        "value_low",
        "lots",
        'value "lots" is not a number',
        "Write the amount as digits, optionally with a unit: 250000000, 250m, 1.5bn.",
    ),
    (
        {"value_low": "30bn", "value_high": "10bn", "currency": "USD"},
        "value_high",
        "10bn",
        "value_high 10bn is below value_low",
        "Swap value_low and value_high, or correct one of them.",
    ),
    (
        {"value_low": "10bn"},
        "currency",
        "",
        "a value is given without a currency",
        "Give the ISO 4217 currency code of the value, e.g. USD or EUR.",
    ),
    (
        {"currency": "USD"},
        "currency",
        "USD",
        "a currency is given without a value",
        "Give value_low and/or value_high, or leave currency empty.",
    ),
    (
        {"value_low": "1", "currency": "$"},
        "currency",
        "$",
        'unknown currency "$"',
        "Did you mean USD? Use an ISO 4217 code such as USD, EUR or UAH.",
    ),
    (
        {"value_low": "1", "currency": "XYZ"},
        "currency",
        "XYZ",
        'unknown currency "XYZ"',
        "Use an ISO 4217 code such as USD, EUR or UAH.",
    ),
    (
        {"source_title": "", "source_url": ""},
        "source_title",
        "",
        "the row has no source",
        "Give source_title or source_url (or both): every event needs a source.",
    ),
    (
        {"source_url": "javascript:alert(1)"},
        "source_url",
        "javascript:alert(1)",
        "only http and https links are allowed, not javascript",
        URL_FIX,
    ),
    (
        {"source_url": "data:text/html,hi"},
        "source_url",
        "data:text/html,hi",
        "only http and https links are allowed, not data",
        URL_FIX,
    ),
    (
        {"source_url": "file:///etc/passwd"},
        "source_url",
        "file:///etc/passwd",
        "only http and https links are allowed, not file",
        URL_FIX,
    ),
    ({"source_url": "https://"}, "source_url", "https://", "the URL has no host name", URL_FIX),
    (
        {"source_url": "https://exa mple.org"},
        "source_url",
        "https://exa mple.org",
        "the URL contains spaces",
        URL_FIX,
    ),
    (
        {"reliability": "G"},
        "reliability",
        "G",
        '"G" is not a source reliability grade',
        "Use a letter A (completely reliable) to F (cannot be judged), the NATO Admiralty code.",
    ),
    (
        {"credibility": "7"},
        "credibility",
        "7",
        '"7" is not a claim credibility grade',
        "Use a digit 1 (confirmed) to 6 (cannot be judged), the NATO Admiralty code.",
    ),
    (
        {"party": "Someone", "party_kind": "person"},
        "party_role",
        "",
        "a party is given without its role",
        "Give the party's role in this deal, e.g. negotiator.",
    ),
    (
        {"party_role": "negotiator"},
        "party",
        "",
        "party_role or party_kind is given but party is empty",
        "Name the party, or clear those cells.",
    ),
    (
        {"party": "X", "party_role": "boss", "party_kind": "person"},
        "party_role",
        "boss",
        'unknown role "boss"',
        (
            "Use one of: buyer, seller, manufacturer, negotiator, signatory, financier, intermediary, "
            "spokesperson, head of state, "
            "official, participant."
        ),
    ),
    (
        {"party": "X", "party_role": "negotiator", "party_kind": "alien"},
        "party_kind",
        "alien",
        'unknown party kind "alien"',
        (
            "Use one of: state, ministry, agency, armed service, company, person, "
            "international organisation, legislature, non-state group."
        ),
    ),
    (
        {"summary": "bad\x07bell"},
        "summary",
        "bad\x07bell",
        "the cell contains a control character",
        "Delete the invisible control character (retype the text if unsure).",
    ),
    (
        {"deal_title": "ab\ncd"},
        "deal_title",
        "ab\ncd",
        "the cell contains a control character",
        (
            "Delete the invisible control character (retype the text if unsure). "
            "Line breaks are allowed only in summaries and notes."
        ),
    ),
    (
        {"deal_title": "x" * 301},
        "deal_title",
        "x" * 79 + "…",
        "the cell is too long (301 characters; at most 300)",
        "Shorten it; put long text in the note column or in the source itself.",
    ),
    (
        {"source_kind": "blog"},
        "source_kind",
        "blog",
        'unknown source kind "blog"',
        "Use one of: news, official statement, government document, database.",
    ),
    (
        {"source_date": "13/13/2025"},
        "source_date",
        "13/13/2025",
        '"13/13/2025" is not a real date',
        "Check the day and month; write the date as YYYY-MM-DD.",
    ),
]


@pytest.mark.parametrize(
    ("changes", "column", "value", "message", "fix"),
    CELL_CASES,
    ids=[f"{c[1]}:{c[3][:40]}" for c in CELL_CASES],
)
def test_each_bad_cell_is_reported_alone_with_line_column_and_fix(changes, column, value, message, fix):
    assert problems_of(ledger_csv(row(**changes))) == [(2, column, value, message, fix)]


def test_all_problems_are_reported_at_once_in_line_order():
    data = ledger_csv(
        row(), row(date="2025-02-30", stage="maybe"), row(), row(buyer="Atlantis", credibility="9")
    )
    assert [(line, column) for line, column, *_ in problems_of(data)] == [
        (3, "date"),
        (3, "stage"),
        (5, "buyer"),
        (5, "credibility"),
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ("deal_id", "date", "summary"),
            [
                (
                    1,
                    "source_title",
                    None,
                    "there is no source column",
                    "Add source_title or source_url (or both): every event needs a source.",
                )
            ],
        ),
        (
            ("deal_id", "summary", "source_url"),
            [
                (
                    1,
                    "date",
                    None,
                    "required column date is missing",
                    "Add a column named date; download the template to see all columns.",
                )
            ],
        ),
        (
            ("deal_id", "date", "summary", "source_url", "sumary"),
            [
                (
                    1,
                    "sumary",
                    "sumary",
                    'unknown column "sumary"',
                    "Did you mean summary? Rename or delete it; the columns are listed in the template.",
                )
            ],
        ),
        (
            ("deal_id", "date", "summary", "source_url", "Date"),
            [
                (
                    1,
                    "date",
                    "Date",
                    "column date appears twice (columns 2 and 5)",
                    "Keep one of them and delete the other.",
                )
            ],
        ),
    ],
)
def test_header_problems(header, expected):
    data = ",".join(header).encode() + b"\n" + b",".join(b"x" for _ in header) + b"\n"
    assert problems_of(data) == expected


def test_column_names_ignore_case_and_surrounding_spaces():
    data = b" DEAL_ID ,Date,SUMMARY , Source_URL\ntest-deal,2025-07,Talks,https://example.org/a\n"
    batch, _ = read_batch(data.replace(b"\n", b"\n", 1), today=TODAY)
    assert batch.rows[["deal_id", "date_text", "summary", "source_url"]].values.tolist() == [
        ["test-deal", "2025-07", "Talks", "https://example.org/a"]
    ]


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_delimiter_is_sniffed(delimiter, name):
    batch, encoding = read_batch(ledger_csv(row(), delimiter=delimiter), today=TODAY)
    assert (len(batch.rows), encoding, batch.rows["seller"].iloc[0] if "seller" in batch.rows else None) == (
        1,
        "utf-8",
        None,
    )
    assert batch.rows["sellers"].tolist() == ["UKR"]


@pytest.mark.parametrize(
    ("text", "count", "expected"),
    [
        ("a\nb\r\nc\rd", 2, ["a", "b"]),
        ("a\nb", 5, ["a", "b"]),
        ("", 3, []),
        (
            "x" * 70_000 + "\nshort\n" + "y" * 300_000,
            3,
            ["x" * 70_000, "short", "y" * 300_000],
        ),  # grows past 64 KB
        ("\n" * 100_000 + "last", 2, ["", ""]),
        ("ab\n" * 5_000, 2_000, ["ab"] * 2_000),  # grows past the first 4 KB
        ("x" * 4_095 + "\r\ny", 2, ["x" * 4_095, "y"]),  # a CRLF across the first 4 KB's end
        ("x" * 4_095 + "\r\ny", 1, ["x" * 4_095]),
    ],
)
def test_first_lines_are_those_of_splitlines(text, count, expected):
    assert first_lines(text, count) == expected == text.splitlines()[:count]


@pytest.mark.parametrize(
    ("text", "lines", "plain", "rows"),
    [
        (
            "h1,h2\na,b\nc,d\n",
            [2, 3],
            True,
            [["a", "b"], ["c", "d"]],
        ),  # every record well formed: checked at once
        ("\n\nh1,h2\na,b\nc,d", [4, 5], True, [["a", "b"], ["c", "d"]]),  # blank lines before the header
        (
            "h1,h2\na,b\n\nc,d\n",
            [2, 4],
            True,
            [["a", "b"], ["c", "d"]],
        ),  # a blank line between records is skipped
        ("h1,h2\na,b\nc,d\n,\n , \n", [2, 3], True, [["a", "b"], ["c", "d"]]),  # trailing rows of empty cells
        (
            "h1,h2\n ,b\nc,d\n",
            [2, 3],
            True,
            [[" ", "b"], ["c", "d"]],
        ),  # a blank first cell alone is not a blank row
        (
            'h1,h2\n"a\nstill a",b\nc,d\n',
            [2, 4],
            False,
            [["a\nstill a", "b"], ["c", "d"]],
        ),  # a record spans lines
        (
            "h1,h2\r\na,b\r\nc,d\r\n",
            [2, 3],
            False,
            [["a", "b"], ["c", "d"]],
        ),  # CRLF: carriage returns are controls
        ("h1,h2\ra,b\rc,d", [2, 3], False, [["a", "b"], ["c", "d"]]),  # old Mac line ends
        ("h1,h2\na\x07,b\nc,d\n", [2, 3], False, [["a\x07", "b"], ["c", "d"]]),  # a control character
        ("h1,h2\nRéunion,b\nc,d\n", [2, 3], False, [["Réunion", "b"], ["c", "d"]]),  # not ASCII
        (
            "h1,h2\n" + "\n" * 100_000 + "a,b\n" + " , \n" * 50_000 + ",,\n" * 50_000 + "c,d\n",
            [100_002, 200_003],
            True,
            [["a", "b"], ["c", "d"]],
        ),  # many blank lines and rows of blank cells: dropped as they are read, the numbers still follow
        (
            'h1,h2\n\n"a\nb",c\n\n\nd,e\n',
            [3, 7],
            False,
            [["a\nb", "c"], ["d", "e"]],
        ),  # blank lines around a record that spans lines
        ("\n" * 3 + "h1,h2\n" + "\n" * 3 + "a,b\n", [8], True, [["a", "b"]]),  # blank lines only around
    ],
)
def test_records_keep_the_line_they_start_on(text, lines, plain, rows):
    records = read_records(text)
    assert (records.header, records.lines, records.plain, records.rows) == (["h1", "h2"], lines, plain, rows)


@pytest.mark.parametrize(
    ("text", "skipped", "after"),
    [
        ("Note\nMore notes\nh1,h2\na,b\n\nc,d\n", 2, ["h1,h2\n", "a,b\n", "\n", "c,d\n"]),
        ("Note\x0cpage\nh1,h2\na,b\n", 2, ["h1,h2\n", "a,b\n"]),  # a form feed ends a preamble line
        ("Note\n" + "\n" * 100_000 + "h1,h2\na,b\n", 100_001, ["h1,h2\n", "a,b\n"]),
        # After the preamble, lines split as the csv module reads them: CRLF ends one line, a form feed none.
        ("Note\r\nh1,h2\r\na\x0cb,c\rd,e", 1, ["h1,h2\r\n", "a\x0cb,c\r", "d,e"]),
    ],
)
def test_a_preamble_is_skipped_by_lines(text, skipped, after):
    assert list(lines_after(text, skipped)) == after


@pytest.mark.parametrize(
    ("encode", "expected_encoding"),
    [
        (lambda text: text.encode("utf-8"), "utf-8"),
        (lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), "utf-8"),
        (lambda text: text.encode("utf-16"), "utf-16"),
        (lambda text: text.encode("cp1252"), "cp1252"),
    ],
)
def test_encodings_are_detected(encode, expected_encoding):
    text = ledger_csv(row(summary="Réunion in Curaçao – “talks”")).decode()
    batch, encoding = read_batch(encode(text), today=TODAY)
    assert (encoding, batch.rows["summary"].tolist()) == (expected_encoding, ["Réunion in Curaçao – “talks”"])


def test_mixed_utf8_and_invalid_bytes_are_rejected_with_the_line():
    data = ledger_csv(row(summary="Curaçao"), row()).replace(b"A development.", b"A develop\xffment.", 1)
    assert problems_of(data) == [
        (
            3,
            None,
            None,
            "byte 0xff is not valid UTF-8 (and the file is not consistently Windows-1252 either)",
            (
                "Re-save the file as UTF-8 from the program that made it; fix or retype the "
                "characters on that line."
            ),
        )
    ]


@pytest.mark.parametrize(
    ("text", "start", "end", "precision", "canonical"),
    [
        ("2025-07-04", dt.date(2025, 7, 4), dt.date(2025, 7, 4), "day", "2025-07-04"),
        ("2025-07", dt.date(2025, 7, 1), dt.date(2025, 7, 31), "month", "2025-07"),
        ("2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31), "year", "2025"),
        ("29 Sep 2025", dt.date(2025, 9, 29), dt.date(2025, 9, 29), "day", "2025-09-29"),
        ("2025-W39", dt.date(2025, 9, 22), dt.date(2025, 9, 28), "week", "2025-W39"),
        ("2025-09-29/2025-10-02", dt.date(2025, 9, 29), dt.date(2025, 10, 2), "day", "2025-09-29/2025-10-02"),
    ],
)
def test_dates_keep_their_precision(text, start, end, precision, canonical):
    batch, _ = read_batch(ledger_csv(row(date=text)), today=TODAY)
    assert batch.rows[["date_start", "date_end", "date_precision", "date_text"]].values.tolist() == [
        [start, end, precision, canonical]
    ]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("proposed", "announced"),
        ("Signed Contract", "contracted"),
        ("in talks", "negotiating"),
        ("CANCELED", "cancelled"),
        ("on hold", "stalled"),
        ("", None),
    ],
)
def test_stage_names_and_aliases(given, expected):
    batch, _ = read_batch(ledger_csv(row(stage=given)), today=TODAY)
    assert batch.rows["stage"].tolist() == [expected]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        ("10bn", "30bn", (1e10, 3e10)),
        ("250m", "", (2.5e8, None)),
        ("1.5 billion", "2000000000", (1.5e9, 2e9)),
        ("", "750k", (None, 7.5e5)),
    ],
)
def test_values_accept_units(low, high, expected):
    batch, _ = read_batch(ledger_csv(row(value_low=low, value_high=high, currency="usd")), today=TODAY)
    got = batch.rows[["deal_value_low", "deal_value_high", "deal_currency"]].values.tolist()[0]
    assert (got[0], got[1], got[2]) == (*expected, "USD")


def test_countries_are_normalised_and_deduplicated():
    batch, _ = read_batch(
        ledger_csv(row(buyer="USA; United States of America; UK", seller="Türkiye")), today=TODAY
    )
    assert (batch.rows["buyers"].tolist(), batch.rows["sellers"].tolist()) == (["USA;GBR"], ["TUR"])


def test_invisible_characters_are_removed_and_text_is_trimmed():
    batch, _ = read_batch(ledger_csv(row(deal_id="\u200btest-deal ", buyer="Uk\u200braine")), today=TODAY)
    assert (batch.rows["deal_id"].tolist(), batch.rows["buyers"].tolist()) == (["test-deal"], ["UKR"])


@pytest.mark.parametrize(
    ("cells", "summary", "title"),
    [
        ({"summary": "  spaced  "}, "spaced", "Test deal"),
        ({"summary": "tab\tinside"}, "tab\tinside", "Test deal"),
        ({"deal_title": "\tLead "}, "A development.", "Lead"),
        ({"summary": "a,  b"}, "a,  b", "Test deal"),
    ],
)
def test_plain_ascii_cells_are_trimmed_only_at_their_edges(cells: dict[str, str], summary: str, title: str):
    # Plain ASCII files take the fast path that looks for spaces and tabs at cell edges once per column.
    batch, _ = read_batch(ledger_csv(row(**cells)), today=TODAY)
    assert (batch.rows["summary"].tolist(), batch.rows["deal_title"].tolist()) == ([summary], [title])


def test_template_file_has_every_column():
    from tracker.ledger_csv import TEMPLATE_PATH

    if not TEMPLATE_PATH.exists():
        pytest.fail(f"{TEMPLATE_PATH} is missing")
    header = TEMPLATE_PATH.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert tuple(header) == TEMPLATE_COLUMNS


def test_good_row_is_accepted():
    batch, _ = read_batch(ledger_csv(GOOD_ROW), today=TODAY)
    assert (batch.format, batch.rows_read, batch.rows["credibility"].tolist()) == ("ledger-csv", 1, [2])
