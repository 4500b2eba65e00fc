"""The one import path: every file (seed, CLI, upload page) and every batch of rows a capture form builds
is read, validated, planned and written here.

The steps, each in its own module: `tracker.formats` reads a file into a validated batch (ledger CSV,
XLSX workbook or SIPRI export); `plan` works out, against the ledger, what the batch adds; `report`
describes the plan; `write` writes it in bulk. A file is validated completely before anything is
written, and the plan is computed again inside the write transaction (holding the ledger's write
lock), so concurrent imports cannot interleave. `undo` reverts an import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import Connection, Engine

from tracker import formats, ledger_csv
from tracker.columns import TEMPLATE_COLUMNS
from tracker.db import refresh_planner_statistics, write_transaction
from tracker.errors import ImportRejected, Problem
from tracker.importer.plan import next_id, plan_import
from tracker.importer.report import DealChangeRow, ImportReport, UndoPreview, UndoReport
from tracker.importer.undo import preview_undo, safe_editor, undo_import
from tracker.importer.write import refresh_deals, stage_moves, write_plan
from tracker.ledger_csv import Batch
from tracker.memory import cycle_collection_paused
from tracker.models import Import
from tracker.textfile import Records

__all__ = [
    "TOO_LARGE_FIX",
    "UPLOAD_LIMIT_BYTES",
    "DealChangeRow",
    "ImportReport",
    "Progress",
    "UndoPreview",
    "UndoReport",
    "import_bytes",
    "import_rows",
    "preview_undo",
    "refresh_deals",
    "undo_import",
]

Progress = Callable[[float, str], None]
# The upload page's limit, the same as server.maxUploadSize in .streamlit/config.toml; the CLI has none.
UPLOAD_LIMIT_BYTES = 50_000_000
# How to get in a file the Upload page will not take (too large to upload, or to check in the memory a
# check may use): the CLI imports in the analyst's own process.
TOO_LARGE_FIX = "Split it into smaller files, or import it with the CLI: python -m tracker import FILE"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def import_bytes(
    engine: Engine,
    data: bytes,
    *,
    file_name: str,
    editor: str,
    dry_run: bool = False,
    max_bytes: int | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a file (ledger CSV, XLSX workbook or SIPRI export, detected from its content) as one
    transaction.

    Raises ImportRejected with every problem found; the ledger is then unchanged. `now` (naive UTC)
    stamps the import and its events instead of the clock, for replaying history and for tests.
    """
    report_progress = progress or (lambda _fraction, _text: None)
    if max_bytes is not None and len(data) > max_bytes:
        raise ImportRejected(
            [
                Problem(
                    None,
                    None,
                    None,
                    f"the file is {len(data) / 1e6:.1f} MB; uploads are limited to {max_bytes / 1e6:.0f} MB",
                    TOO_LARGE_FIX,
                )
            ]
        )
    started = now or _now()
    file = {"file_name": _safe_file_name(file_name), "sha256": hashlib.sha256(data).hexdigest()}
    with cycle_collection_paused():
        report_progress(0.05, "Reading the file")
        batch, encoding = formats.read_batch(data, today=today)
        report_progress(0.3, "Checking the rows against the ledger")
        if dry_run:
            return preview_batch(engine, batch, **file, encoding=encoding)
        with write_transaction(engine, references_resolved=True, rows_written=len(batch.rows)) as connection:
            report_progress(0.6, "Writing to the ledger")
            report = commit_batch(
                connection,
                batch,
                **file,
                encoding=encoding,
                editor=editor,
                started=started,
                now=now or _now(),
            )
    report_progress(1.0, "Done")
    return report


def import_rows(
    engine: Engine,
    rows: Sequence[Mapping[str, object]],
    *,
    label: str,
    editor: str,
    format: str = "form",
    reason: str | None = None,
    dry_run: bool = False,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Import rows in the upload format (dicts keyed by tracker.columns names) exactly as a file of them
    is imported: the same validation, plan, report and write, one transaction, recorded as an import
    (`label` as its file name, `format` as its format) that can be undone. The capture forms build these.

    Problems name the row (1 for the first) as `line`. Raises ImportRejected; the ledger is then unchanged.
    """
    batch = batch_of_rows(rows, today=today, format=format)
    file = {"file_name": _safe_file_name(label), "sha256": rows_digest(rows)}
    if dry_run:
        return preview_batch(engine, batch, **file, encoding="utf-8")
    with write_transaction(engine, references_resolved=True, rows_written=len(batch.rows)) as connection:
        return commit_batch(
            connection,
            batch,
            **file,
            encoding="utf-8",
            editor=editor,
            started=now or _now(),
            now=now or _now(),
            reason=reason,
        )


def batch_of_rows(rows: Sequence[Mapping[str, object]], *, today: dt.date | None, format: str) -> Batch:
    """The validated batch of upload-format rows, read as a hand-written file with these rows would be:
    its header is the template's columns and any other column a row gives (an unknown one is a problem)."""
    header = list(dict.fromkeys([*TEMPLATE_COLUMNS, *(name for row in rows for name in row)]))
    records = Records(
        header=header,
        header_line=0,
        rows=[["" if row.get(name) is None else str(row.get(name)) for name in header] for row in rows],
        lines=list(range(1, len(rows) + 1)),
        delimiter=",",
    )
    return ledger_csv.batch_from_records(records, today=today, format=format)


def rows_digest(rows: Sequence[Mapping[str, object]]) -> str:
    """What identifies a batch of rows as a file's SHA-256 identifies the file: their cells, in order."""
    hasher = hashlib.sha256()
    for row in rows:
        for name, value in sorted(row.items()):
            hasher.update(f"{name}\x1f{'' if value is None else value}\x1e".encode())
        hasher.update(b"\x1d")
    return hasher.hexdigest()


def preview_batch(
    engine: Engine, batch: Batch, *, file_name: str, sha256: str, encoding: str
) -> ImportReport:
    """What importing `batch` would do now (a dry run: nothing is written)."""
    with engine.connect() as connection:
        plan = plan_import(connection, batch)
        moves = stage_moves(connection, plan)
    return ImportReport.from_plan(
        plan, file_name=file_name, sha256=sha256, encoding=encoding, dry_run=True, stage_moves=moves
    )


def commit_batch(
    connection: Connection,
    batch: Batch,
    *,
    file_name: str,
    sha256: str,
    encoding: str,
    editor: str,
    started: dt.datetime,
    now: dt.datetime,
    reason: str | None = None,
) -> ImportReport:
    """Plan `batch` against the ledger and write it, inside the caller's write transaction (see
    tracker.db.write_transaction with references_resolved): the step every import shares.

    The batch's rows are released once planned (Batch.release_rows): read what you need of them before.
    """
    file = {"file_name": file_name, "sha256": sha256, "encoding": encoding}
    plan = plan_import(connection, batch)
    batch.release_rows()
    if plan.nothing_new:
        return ImportReport.from_plan(plan, **file, dry_run=False)
    report = ImportReport.from_plan(
        plan, **file, dry_run=False, import_id=next_id(connection, Import.__table__)
    )
    write_plan(connection, plan, report, editor=safe_editor(editor), started=started, now=now, reason=reason)
    refresh_planner_statistics(connection)
    return report


def _safe_file_name(name: str) -> str:
    """The browser sends any name it likes: keep the last path part, printable, at most 255 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return (cleaned or "upload.csv")[:255]
