"""The one import path: every file (seed, CLI, upload page) is read, validated, planned and written here.

The steps, each in its own module: `tracker.formats` reads a file into a validated batch (ledger CSV,
XLSX workbook or SIPRI export); `plan` works out, against the ledger, what the batch adds; `report`
describes the plan; `write` writes it in bulk. A file is validated completely before anything is
written, and the plan is computed again inside the write transaction (holding the ledger's write
lock), so concurrent imports cannot interleave. `undo` reverts an import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from sqlalchemy import Engine

from tracker import formats
from tracker.db import refresh_planner_statistics, write_transaction
from tracker.errors import ImportRejected, Problem
from tracker.importer.plan import next_id, plan_import
from tracker.importer.report import DealChangeRow, ImportReport, UndoPreview, UndoReport
from tracker.importer.undo import preview_undo, safe_editor, undo_import
from tracker.importer.write import refresh_deals, write_plan
from tracker.memory import cycle_collection_paused
from tracker.models import Import

__all__ = [
    "UPLOAD_LIMIT_BYTES",
    "DealChangeRow",
    "ImportReport",
    "Progress",
    "UndoPreview",
    "UndoReport",
    "import_bytes",
    "preview_undo",
    "refresh_deals",
    "undo_import",
]

Progress = Callable[[float, str], None]
# The upload page's limit, the same as server.maxUploadSize in .streamlit/config.toml; the CLI has none.
UPLOAD_LIMIT_BYTES = 50_000_000


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
                    "Split it into smaller files, or import it with the CLI: python -m tracker import FILE",
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
            with engine.connect() as connection:
                plan = plan_import(connection, batch)
            return ImportReport.from_plan(plan, **file, encoding=encoding, dry_run=True)
        with write_transaction(engine, references_resolved=True) as connection:
            plan = plan_import(connection, batch)
            if plan.nothing_new:
                return ImportReport.from_plan(plan, **file, encoding=encoding, dry_run=False)
            report = ImportReport.from_plan(
                plan,
                **file,
                encoding=encoding,
                dry_run=False,
                import_id=next_id(connection, Import.__table__),
            )
            report_progress(0.6, "Writing to the ledger")
            write_plan(
                connection, plan, report, editor=safe_editor(editor), started=started, now=now or _now()
            )
            refresh_planner_statistics(connection)
    report_progress(1.0, "Done")
    return report


def _safe_file_name(name: str) -> str:
    """The browser sends any name it likes: keep the last path part, printable, at most 255 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return (cleaned or "upload.csv")[:255]
