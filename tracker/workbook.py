"""XLSX workbooks in the upload format, read into records so that a workbook goes through exactly the same
validation as a CSV. An export's workbook (tracker.export.ledger_workbook) keeps the upload format in its
"ledger rows" sheet; any workbook whose sheet starts with the upload format's header works too.

A workbook is a ZIP archive: its unpacked size is checked before anything is unpacked, so a small file
that unpacks to gigabytes is refused instead of filling memory.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from tracker.columns import REQUIRED_COLUMNS
from tracker.errors import ImportRejected, Problem, Problems
from tracker.ledger_csv import normalise_header
from tracker.textfile import Records

LEDGER_SHEET = "ledger rows"
# Unpacked bytes allowed per byte of the file, and in all: a workbook of text compresses about 5 to 10
# times; more than this is a ZIP bomb, not a ledger.
MAX_EXPANSION = 40
MAX_UNPACKED = 400_000_000
HEADER_SCAN_ROWS = 20
_SAVE_AS_CSV = (
    'Open it in a spreadsheet program and save it as "CSV UTF-8 (comma delimited)", then upload that file.'
)


def is_zip(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04")


def _rejected(message: str, fix: str = _SAVE_AS_CSV) -> ImportRejected:
    return ImportRejected([Problem(None, None, None, message, fix)])


def _cell_text(value: Any) -> str:
    """A cell as the upload format writes it: numbers without a needless ".0" or exponent, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f").removesuffix(".0")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def read_workbook(data: bytes) -> Records:
    """The upload-format sheet's header and rows; ImportRejected when the file is no such workbook."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _rejected(f"this ZIP file cannot be opened ({exc})") from exc
    if "xl/workbook.xml" not in {member.filename for member in members}:
        raise _rejected("this is a ZIP file, not a CSV text file or an XLSX workbook")
    unpacked = sum(member.file_size for member in members)
    if unpacked > min(MAX_EXPANSION * len(data), MAX_UNPACKED):
        raise _rejected(
            f"the workbook unpacks to {unpacked / 1e6:,.0f} MB from {len(data) / 1e6:,.1f} MB, more than a "
            "ledger workbook ever does",
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook; all mean "cannot be read"
        raise _rejected(f"this XLSX workbook cannot be read ({type(exc).__name__})") from exc
    try:
        names = workbook.sheetnames
        ordered = (
            [LEDGER_SHEET, *(name for name in names if name != LEDGER_SHEET)]
            if LEDGER_SHEET in names
            else names
        )
        for name in ordered:
            found = _ledger_sheet(workbook[name])
            if found is not None:
                return found
    finally:
        workbook.close()
    raise _rejected(
        f"no sheet of this workbook has the upload format's columns ({', '.join(REQUIRED_COLUMNS)} …)",
        fix=f'Put the ledger rows in a sheet named "{LEDGER_SHEET}" under a header row, as the export does; '
        "download the template to see the columns.",
    )


def _ledger_sheet(sheet: Any) -> Records | None:
    """The sheet's records when one of its first rows is an upload-format header, else None."""
    rows = sheet.iter_rows(values_only=True)
    header: list[str] | None = None
    header_line = 0
    for number, row in enumerate(rows, start=1):
        cells = [_cell_text(value) for value in row]
        names = {normalise_header(cell) for cell in cells}
        if all(required in names for required in REQUIRED_COLUMNS):
            header, header_line = cells, number
            break
        if number >= HEADER_SCAN_ROWS:
            return None
    if header is None:
        return None
    while header and not header[-1].strip():
        header.pop()
    width = len(header)
    records: list[list[str]] = []
    lines: list[int] = []
    problems = Problems()
    for number, row in enumerate(rows, start=header_line + 1):
        cells = [_cell_text(value) for value in row]
        if any(cell.strip() for cell in cells[width:]):
            problems.add(
                Problem(
                    number,
                    None,
                    None,
                    f"this row has a value beyond the header's {width} columns",
                    "Give the column a header from the template, or delete the value.",
                )
            )
        cells = cells[:width]
        if not any(cell.strip() for cell in cells):
            continue
        records.append(cells + [""] * (width - len(cells)))
        lines.append(number)
    problems.raise_if_any()
    return Records(header=header, header_line=header_line, rows=records, lines=lines, delimiter=",")
