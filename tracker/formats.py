"""Recognising what kind of file was uploaded and reading it into a validated Batch."""

from __future__ import annotations

import datetime as dt

from tracker import ledger_csv
from tracker.ledger_csv import Batch
from tracker.textfile import decode, read_records


def read_batch(data: bytes, *, today: dt.date | None = None) -> tuple[Batch, str]:
    """The file's validated rows and the encoding it was read with; ImportRejected on any problem."""
    text, encoding = decode(data)
    records = read_records(text)
    return ledger_csv.batch_from_records(records, today=today), encoding
