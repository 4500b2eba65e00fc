"""Exports neutralise spreadsheet formulas and round-trip through the importer."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from tests.builders import ledger_csv, row
from tracker.export import ledger_rows, neutralise, to_csv_bytes, to_xlsx_bytes
from tracker.filters import Filters
from tracker.importer import import_bytes


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
    assert (report.rows_read, report.nothing_new) == (20, True)
