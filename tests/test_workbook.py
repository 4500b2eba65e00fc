"""XLSX workbooks in the upload format import like CSV files; damaged, bloated or unrelated ones are
refused with a message, and nothing is written."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from conftest import TODAY
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from tests.builders import GOOD_ROW
from tracker.columns import TEMPLATE_COLUMNS
from tracker.errors import ImportRejected
from tracker.importer import import_bytes
from tracker.models import Deal, Event
from tracker.workbook import _cell_text, read_workbook


def workbook(*sheets: tuple[str, list[list[object]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def problems(data: bytes) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(ImportRejected) as rejected:
        read_workbook(data)
    return [(p.line, p.column, p.message) for p in rejected.value.problems]


CELLS = [
    (None, ""),
    ("text", "text"),
    (12, "12"),
    (12.0, "12"),
    (1.5e10, "15000000000"),
    (0.1, "0.1"),
    (1e22, "10000000000000000000000"),
    (True, "TRUE"),
    (dt.datetime(2025, 9, 29), "2025-09-29"),
    (dt.datetime(2025, 9, 29, 14, 5), "2025-09-29 14:05:00"),
    (dt.date(2025, 7, 4), "2025-07-04"),
]


@pytest.mark.parametrize(("value", "text"), CELLS)
def test_cells_read_as_the_upload_format_writes_them(value, text):
    assert _cell_text(value) == text


def test_a_workbook_with_typed_cells_imports_like_its_csv(engine: Engine):
    header = list(TEMPLATE_COLUMNS)
    cells = {**GOOD_ROW, "date": dt.datetime(2025, 7, 4), "quantity": 12, "value_low": 3e8, "currency": "EUR"}
    data = workbook(
        ("notes", [["Anything before the ledger rows"]]),
        ("my rows", [["a title line"], header, [cells.get(name, None) for name in header], [None] * 3]),
    )
    report = import_bytes(engine, data, file_name="rows.xlsx", editor="t", today=TODAY)
    assert (report.format, report.encoding, report.rows_read, report.events_added) == (
        "ledger-xlsx",
        "xlsx",
        1,
        1,
    )
    with engine.connect() as connection:
        assert connection.execute(select(Deal.quantity, Deal.value_low, Deal.currency)).one() == (
            12,
            3e8,
            "EUR",
        )
        assert connection.execute(select(Event.date_text)).scalar_one() == "2025-07-04"


def test_problems_in_a_workbook_name_its_row_and_column(engine: Engine):
    header = list(TEMPLATE_COLUMNS)
    bad = {**GOOD_ROW, "date": "03/04/2025"}
    data = workbook(("ledger rows", [header, [bad.get(name, "") for name in header]]))
    with pytest.raises(ImportRejected) as rejected:
        import_bytes(engine, data, file_name="bad.xlsx", editor="t", today=TODAY)
    assert [(p.line, p.column, p.value) for p in rejected.value.problems] == [(2, "date", "03/04/2025")]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Deal)).scalar_one() == 0


def test_a_value_beyond_the_header_is_a_problem():
    assert problems(
        workbook(("ledger rows", [["deal_id", "date", "summary"], ["a", "2025", "b", "stray"]]))
    ) == [(2, None, "this row has a value beyond the header's 3 columns")]


def test_a_workbook_without_the_upload_format_is_refused():
    assert problems(workbook(("Sheet", [["name", "value"], ["a", 1]]))) == [
        (None, None, "no sheet of this workbook has the upload format's columns (deal_id, date, summary …)")
    ]


def test_a_zip_that_unpacks_to_far_more_than_it_holds_is_refused_before_unpacking():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        archive.writestr("xl/sharedStrings.xml", b" " * 50_000_000)
    data = buffer.getvalue()
    assert len(data) < 100_000
    [(line, column, message)] = problems(data)
    assert (line, column, message.startswith("the workbook unpacks to 50 MB from 0.0 MB")) == (
        None,
        None,
        True,
    )
