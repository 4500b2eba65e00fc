"""Recognising what kind of file was uploaded and reading it into a validated Batch.

The format is detected from the content, never from the file name: an XLSX workbook (a ZIP archive) is
read by tracker.workbook and validated as a ledger CSV; in text, a SIPRI trade-register
export (classic: a line starting "Recipient,Supplier,Year of order"; new: a line starting
"SIPRI AT Database ID"; either after an optional preamble) is read by tracker.sipri, anything else
as the ledger CSV.
"""

from __future__ import annotations

import codecs
import datetime as dt

from tracker import ledger_csv, sipri
from tracker.ledger_csv import Batch
from tracker.textfile import decode, read_records
from tracker.workbook import is_zip, read_workbook

LEDGER_XLSX = "ledger-xlsx"
# What analysts call each kind of file, as `imports.format` records it (a revision's kinds are named in
# tracker.revisions.KINDS).
FILE_FORMATS: dict[str, str] = {
    ledger_csv.FORMAT: "ledger CSV",
    LEDGER_XLSX: "ledger workbook",
    sipri.CLASSIC: "SIPRI",
    sipri.NEW: "SIPRI",
}


def read_batch(data: bytes, *, today: dt.date | None = None) -> tuple[Batch, str]:
    """The file's validated rows and the encoding it was read with ("xlsx" for a workbook); ImportRejected
    on any problem."""
    if is_zip(data):
        return ledger_csv.batch_from_records(read_workbook(data), today=today, format=LEDGER_XLSX), "xlsx"
    text, encoding = decode(data)
    detected = sipri.detect_layout(text)
    if detected is not None:
        layout, header_index = detected
        batch = sipri.read_sipri(text, layout=layout, header_index=header_index, today=today, data=data)
        return batch, encoding
    # A file read as UTF-8 without a BOM is the text's UTF-8 already: parsed as it is, not encoded again.
    utf8 = encoding == "utf-8" and not data.startswith(codecs.BOM_UTF8)
    records = read_records(text, encoded=data if utf8 else None)
    del text  # parsed: validation does not need it (a whole copy of the file, four for wide characters)
    return ledger_csv.batch_from_records(records, today=today), encoding
