"""The upload page's worker process (tracker/import_worker.py): the same outcome as `import_bytes` on the
page's thread, its errors as the importer's exceptions, and nothing written when the page stops waiting."""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from tests.builders import EPSILON_BAD_CSV, EPSILON_CSV
from tests.ledger_snapshot import dump
from tracker import import_worker
from tracker.errors import ImportRejected, LedgerUnavailable, Problem
from tracker.importer import import_bytes


class PageStopped(Exception):
    """Stands for Streamlit's StopException, raised in the page's thread by a progress update."""


def _changes(seen: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """The progress updates without the heartbeat's repeats, or the wait before the worker's first."""
    changes = [update for index, update in enumerate(seen) if index == 0 or update != seen[index - 1]]
    return [update for update in changes if update != (0.0, "Starting")]


def test_a_check_gives_the_same_report_as_on_the_page_thread(engine: Engine, ledger_url: str) -> None:
    seen: list[tuple[float, str]] = []
    before = dump(engine)
    report = import_worker.run_import(
        ledger_url,
        EPSILON_CSV,
        file_name="good.csv",
        editor="alice",
        dry_run=True,
        progress=lambda fraction, text: seen.append((fraction, text)),
    )
    direct = import_bytes(engine, EPSILON_CSV, file_name="good.csv", editor="alice", dry_run=True)
    assert (report.dry_run, report.import_id, report.events_added, report.deals_created) == (
        True,
        None,
        1,
        ["epsilon"],
    )
    fields = [field.name for field in dataclasses.fields(report) if field.name != "new_events"]
    assert {name: getattr(report, name) for name in fields} == {
        name: getattr(direct, name) for name in fields
    }
    pd.testing.assert_frame_equal(report.new_events, direct.new_events)
    assert _changes(seen) == [(0.05, "Reading the file"), (0.3, "Checking the rows against the ledger")]
    assert dump(engine) == before


def test_an_import_writes_and_reports_its_progress(engine: Engine, ledger_url: str) -> None:
    seen: list[tuple[float, str]] = []
    report = import_worker.run_import(
        ledger_url,
        EPSILON_CSV,
        file_name="good.csv",
        editor="alice",
        progress=lambda fraction, text: seen.append((fraction, text)),
    )
    assert (report.dry_run, report.import_id, report.events_added, report.deals_created) == (
        False,
        1,
        1,
        ["epsilon"],
    )
    assert _changes(seen) == [
        (0.05, "Reading the file"),
        (0.3, "Checking the rows against the ledger"),
        (0.6, "Writing to the ledger"),
        (1.0, "Done"),
    ]
    again = import_bytes(engine, EPSILON_CSV, file_name="good.csv", editor="alice", dry_run=True)
    assert (again.events_added, again.duplicates_skipped) == (0, 1)  # the worker's import is in the ledger


def test_a_prepared_worker_is_used_for_the_next_file(engine: Engine, ledger_url: str) -> None:
    import_worker.prepare()
    spare = import_worker._spare
    assert spare is not None
    report = import_worker.run_import(
        ledger_url, EPSILON_CSV, file_name="good.csv", editor="alice", dry_run=True
    )
    assert (report.events_added, import_worker._spare, spare.returncode) == (1, None, 0)


def test_problems_arrive_as_import_rejected_with_the_same_problems(engine: Engine, ledger_url: str) -> None:
    with pytest.raises(ImportRejected) as direct:
        import_bytes(engine, EPSILON_BAD_CSV, file_name="bad.csv", editor="alice", dry_run=True)
    with pytest.raises(ImportRejected) as rejected:
        import_worker.run_import(ledger_url, EPSILON_BAD_CSV, file_name="bad.csv", editor="alice")
    assert rejected.value.problems == direct.value.problems
    assert [(p.line, p.column) for p in rejected.value.problems] == [(2, "date"), (2, "reliability")]
    assert str(rejected.value) == str(direct.value)


def test_the_upload_limit_is_applied_in_the_worker(engine: Engine, ledger_url: str) -> None:
    with pytest.raises(ImportRejected) as rejected:
        import_worker.run_import(
            ledger_url,
            EPSILON_CSV,
            file_name="good.csv",
            editor="alice",
            max_bytes=100,
        )
    assert rejected.value.problems == [
        Problem(
            None,
            None,
            None,
            "the file is 0.0 MB; uploads are limited to 0 MB",
            "Split it into smaller files, or import it with the CLI: python -m tracker import FILE",
        )
    ]


def test_a_check_that_passes_its_memory_limit_is_ended_and_rejected(engine: Engine, ledger_url: str) -> None:
    before = dump(engine)
    with pytest.raises(ImportRejected) as rejected:  # 10 MB: the worker is past it before it reads the file
        import_worker.run_import(
            ledger_url,
            EPSILON_CSV,
            file_name="good.csv",
            editor="alice",
            dry_run=True,
            check_memory_limit=10 * 1024**2,
        )
    assert rejected.value.problems == [
        Problem(
            None,
            None,
            None,
            "checking the file took more than the 10 MB of memory a check may use (a file dense in events, "
            "such as a SIPRI export listing a delivery in every year, takes up to 120 times its size)",
            "Split it into smaller files, or import it with the CLI: python -m tracker import FILE",
        )
    ]
    assert dump(engine) == before


def test_an_import_is_not_held_to_the_checks_memory_limit(engine: Engine, ledger_url: str) -> None:
    report = import_worker.run_import(
        ledger_url, EPSILON_CSV, file_name="good.csv", editor="alice", check_memory_limit=10 * 1024**2
    )
    assert (report.dry_run, report.import_id, report.events_added) == (False, 1, 1)


def test_a_ledger_error_arrives_as_its_own_exception(tmp_path: Path) -> None:
    with pytest.raises(LedgerUnavailable) as error:
        import_worker.run_import(f"sqlite:///{tmp_path}", EPSILON_CSV, file_name="good.csv", editor="alice")
    assert (
        str(error.value) == f"{tmp_path} is a folder, not a database file; point the database URL at a file."
    )


# The two tests below run a worker whose importer is patched: one that dies, one that stalls between
# writing and committing.


def _patched_worker(monkeypatch: pytest.MonkeyPatch, patch: str) -> None:
    imports = "import os, pathlib, time, tracker.importer, tracker.import_worker as worker"
    code = f"{imports}; {patch}; worker._work()"
    monkeypatch.setattr(import_worker, "_command", lambda: [sys.executable, "-c", code])
    monkeypatch.setattr(import_worker, "_spare", None)  # not one an earlier test prepared


def test_a_worker_that_dies_is_reported(ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _patched_worker(monkeypatch, "worker.import_bytes = lambda *args, **options: os._exit(3)")
    with pytest.raises(RuntimeError) as error:
        import_worker.run_import(ledger_url, EPSILON_CSV, file_name="good.csv", editor="alice")
    assert str(error.value) == (
        "the import worker stopped (exit code 3) before it answered; whatever it had not committed was "
        "rolled back (the import history shows what was)"
    )


def test_a_page_that_stops_waiting_mid_write_leaves_the_ledger_unchanged(
    engine: Engine, ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    written = tmp_path / "written-not-committed"
    # After the rows are written, before the commit: say so, and wait.
    stall = f"pathlib.Path({str(written)!r}).touch() or time.sleep(60)"
    _patched_worker(monkeypatch, f"tracker.importer.refresh_planner_statistics = lambda connection: {stall}")

    def page_progress(_fraction: float, _text: str) -> None:
        if written.exists():
            raise PageStopped

    before = dump(engine)
    started = time.monotonic()
    with pytest.raises(PageStopped):
        import_worker.run_import(
            ledger_url, EPSILON_CSV, file_name="good.csv", editor="alice", progress=page_progress
        )
    assert time.monotonic() - started < 30  # the worker was ended, not waited for
    assert dump(engine) == before
    report = import_bytes(engine, EPSILON_CSV, file_name="good.csv", editor="alice")  # the write lock is free
    assert (report.import_id, report.events_added) == (1, 1)


def test_a_file_beyond_the_workers_at_once_waits_for_one_to_end(engine: Engine, ledger_url: str) -> None:
    held = [import_worker._running.acquire(blocking=False) for _ in range(import_worker.WORKERS_AT_ONCE)]
    assert held == [True, True]  # two other files are being checked or imported
    seen: list[tuple[float, str]] = []
    outcome: dict[str, object] = {}

    def check() -> None:
        outcome["report"] = import_worker.run_import(
            ledger_url,
            EPSILON_CSV,
            file_name="good.csv",
            editor="alice",
            dry_run=True,
            progress=lambda fraction, text: seen.append((fraction, text)),
        )

    waiting = threading.Thread(target=check)
    waiting.start()
    try:
        while not seen and waiting.is_alive():
            time.sleep(0.05)
        assert (seen[0], outcome) == ((0.0, "Waiting for other editors' files to be done"), {})
    finally:
        import_worker._running.release()  # one ends: the waiting check goes ahead
        waiting.join()
        import_worker._running.release()
    assert _changes(seen) == [
        (0.0, "Waiting for other editors' files to be done"),
        (0.05, "Reading the file"),
        (0.3, "Checking the rows against the ledger"),
    ]
    assert outcome["report"].events_added == 1  # type: ignore[attr-defined]
