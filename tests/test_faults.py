"""Faults: an import killed midway, ledgers that cannot be used, schema versions, backups.

Each test uses the `ledger_url`/`engine`/`seeded` fixtures, so it runs on SQLite here and again on
PostgreSQL in CI wherever the fault makes sense there (file faults and the backup copy are SQLite's).
"""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TODAY
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from tests.builders import downgrade
from tests.hostile import make_corpus
from tests.ledger_snapshot import digest, dump
from tracker.backup import backup_ledger
from tracker.cli import main
from tracker.db import PROJECT_ROOT, SCHEMA_HEAD, head_revision, open_ledger, schema_revision, sqlite_url_for
from tracker.errors import LedgerUnavailable
from tracker.importer import import_bytes
from tracker.models import Event, Import

CORPUS_DIR = Path(__file__).resolve().parent / "hostile"

SMALL = make_corpus.base_text().encode()  # a good three-event file


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(Event)).scalar_one(),
            connection.execute(select(func.count()).select_from(Import)).scalar_one(),
        )


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err: str) -> str:
    """The CLI's refusal: exactly one line `error: ...`, never a traceback."""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0].removeprefix("error: ")


# --- SIGKILL during an import ------------------------------------------------------------------------

KILLED_IMPORT = """
import datetime as dt, sys, time
from pathlib import Path
from tracker.db import open_ledger
from tracker.importer import import_bytes

engine = open_ledger(sys.argv[1])
data = Path(sys.argv[2]).read_bytes()

def progress(fraction, text):
    print(f"{fraction} {text}", flush=True)

import_bytes(engine, data, file_name="big.csv", editor="killed", today=dt.date(2026, 11, 25),
             progress=progress)
print("committed", flush=True)
"""
BIG_ROWS = {"sqlite": 80_000, "postgresql": 40_000}  # 80,000 rows: about 35 MB of SQLite write-ahead log
# When to kill. ("line", text): as soon as the import reports that step ("Writing to the ledger" comes
# once it holds the write lock, before its first insert). ("wal", n): on SQLite, as soon as n bytes of
# the import's pages have reached the write-ahead log (polled), so the kill lands mid-write whatever
# the machine's speed. ("insert", s): on PostgreSQL, s seconds after the server first shows one of the
# import's writes (an INSERT, or a COPY of the bulk rows) running (polled in pg_stat_activity).
SQLITE_KILLS = (
    ("line", "Reading the file"),
    ("line", "Writing to the ledger"),
    ("wal", 1_000_000),
    ("wal", 8_000_000),
    ("wal", 20_000_000),
)
POSTGRES_KILLS = (
    ("line", "Reading the file"),
    ("line", "Writing to the ledger"),
    ("insert", 0.0),
    ("insert", 0.2),
    ("insert", 0.6),
)
ACTIVE_WRITES = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND state = 'active' "
    "AND (query ILIKE 'INSERT%' OR query ILIKE 'COPY%')"
)


def _start_import(url: str, path: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", KILLED_IMPORT, url, str(path)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_line(process: subprocess.Popen[str], marker: str, seen: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line.strip())
        if marker in line:
            return
    pytest.fail(
        f"the import ended before {marker!r}: {seen} {process.stderr.read() if process.stderr else ''}"
    )


def _kill(
    process: subprocess.Popen[str], how: str, value: object, wal: Path | None, url: str
) -> tuple[list[str], int]:
    """Kill the import at the given point; the lines it printed, and the bytes written when it was killed
    (the WAL's size on SQLite; on PostgreSQL 1 once a write was seen running, else 0)."""
    seen: list[str] = []
    written = 0
    if how == "line":
        _wait_for_line(process, str(value), seen)
    elif how == "insert":
        watcher = open_ledger(url, migrate_schema=False)
        deadline = time.monotonic() + 300
        with watcher.connect() as connection:
            while not connection.execute(ACTIVE_WRITES).scalar_one():
                connection.rollback()
                assert process.poll() is None, "the import ended before a write was seen"
                assert time.monotonic() < deadline
                time.sleep(0.002)
        watcher.dispose()
        written = 1
        time.sleep(float(value))  # type: ignore[arg-type]
    else:
        assert wal is not None
        deadline = time.monotonic() + 300
        while not (wal.exists() and wal.stat().st_size >= int(value)):  # type: ignore[call-overload]
            assert process.poll() is None, (
                f"the import ended before the WAL reached {value} bytes: raise BIG_ROWS"
            )
            assert time.monotonic() < deadline
            time.sleep(0.001)
    if wal is not None and wal.exists():
        written = wal.stat().st_size
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.stdout is not None
    seen.extend(line.strip() for line in process.stdout)
    return seen, written


def _sqlite_checks(path: Path) -> None:
    connection = sqlite3.connect(path)  # a plain connection: recovers the WAL like any next start
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()


def _empty_the_wal(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0  # not busy
    finally:
        connection.close()


@pytest.mark.slow
def test_an_import_killed_midway_leaves_the_ledger_as_it_was(seeded: Engine, ledger_url: str, tmp_path: Path):
    sqlite = _is_sqlite(ledger_url)
    rows = BIG_ROWS[seeded.dialect.name]
    big = tmp_path / "big.csv"
    big.write_bytes(make_corpus.bulk_ledger_csv(rows))
    seeded.dispose()
    wal = Path(f"{_sqlite_path(ledger_url)}-wal") if sqlite else None
    killed_mid_write = 0
    for number, (how, value) in enumerate(SQLITE_KILLS if sqlite else POSTGRES_KILLS):
        engine = open_ledger(ledger_url)
        before, (events, imports) = digest(engine), _counts(engine)
        engine.dispose()
        if sqlite:
            _empty_the_wal(_sqlite_path(ledger_url))  # so that its size measures this import's writes
        seen, written = _kill(_start_import(ledger_url, big), how, value, wal, ledger_url)
        committed = "committed" in seen
        killed_mid_write += bool(written) and not committed
        print(
            f"kill {number} at {how} {value}: written {written:,}; "
            f"{'committed first' if committed else 'killed'}"
        )
        if sqlite:
            _sqlite_checks(_sqlite_path(ledger_url))
        engine = open_ledger(ledger_url)  # the next start: opens, checks the schema
        if committed:  # the kill came after the commit (a slow delay on a fast machine): all of it is there
            assert _counts(engine) == (events + rows, imports + 1)
        else:
            assert digest(engine) == before  # no row, no import record: exactly as before
        # ... and the next import works.
        small = SMALL.replace(b"hostile-test-deal", f"after-kill-{number}".encode())
        report = import_bytes(engine, small, file_name="small.csv", editor="t", today=TODAY)
        assert report.events_added == 3
        engine.dispose()
    # At least two kills landed while the import was writing (normally all three "wal"/"insert" kills; a
    # badly stalled poll may let one import commit first, which the loop above checked as well).
    assert killed_mid_write >= 2
    engine = open_ledger(ledger_url)
    events, imports = _counts(engine)
    report = import_bytes(engine, big.read_bytes(), file_name="big.csv", editor="t", today=TODAY)
    assert report.events_added == rows and _counts(engine) == (events + rows, imports + 1)
    engine.dispose()
    if sqlite:
        _sqlite_checks(_sqlite_path(ledger_url))


# --- ledgers that cannot be used ---------------------------------------------------------------------

READ_ONLY = "the ledger at {url} is read-only; fix the file's permissions to make changes."


def _seeded_sqlite(path: Path) -> str:
    url = sqlite_url_for(path)
    engine = open_ledger(url)
    import_bytes(engine, SMALL, file_name="small.csv", editor="t", today=TODAY)
    engine.dispose()
    return url


def test_a_read_only_ledger_can_be_read_but_not_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    # Works as root too: SQLite's own read-only mode, which file permissions cannot override.
    path = tmp_path / "ledger.db"
    _seeded_sqlite(path)
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    engine = open_ledger(url)
    before = digest(engine)
    with pytest.raises(LedgerUnavailable) as caught:
        import_bytes(
            engine, SMALL.replace(b"hostile-test", b"other"), file_name="x.csv", editor="t", today=TODAY
        )
    shown = engine.url.render_as_string(hide_password=True)
    assert str(caught.value) == READ_ONLY.format(url=shown)
    assert digest(engine) == before
    engine.dispose()
    code, out, _err = _cli(capsys, "--database", url, "stats")
    assert code == 0 and "events: 3" in out
    other = tmp_path / "other.csv"
    other.write_bytes(SMALL.replace(b"hostile-test", b"other"))
    code, out, err = _cli(capsys, "--database", url, "import", str(other))
    assert (code, out) == (1, "")
    assert _one_error_line(err) == READ_ONLY.format(url=shown)


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="root ignores file permissions; "
    "test_a_read_only_ledger_can_be_read_but_not_changed covers read-only ledgers as root",
)
def test_a_ledger_without_write_permission_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "ledger.db"
    url = _seeded_sqlite(path)
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        message = (
            f"{path} is read-only for this user; SQLite needs write access to the file and its folder "
            "(for the write-ahead log). Fix the permissions or copy the file somewhere writable."
        )
        with pytest.raises(LedgerUnavailable, match="is read-only for this user") as caught:
            open_ledger(url)
        assert str(caught.value) == message
        code, out, err = _cli(capsys, "--database", url, "stats")
        assert (code, out, _one_error_line(err)) == (1, "", message)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)


def test_a_missing_ledger_in_a_folder_that_cannot_be_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the ledger's folder should be\n")
    path = blocker / "data" / "ledger.db"  # mkdir fails even for root: a file is in the way
    message = f"cannot create the folder for {path}: Not a directory"
    with pytest.raises(LedgerUnavailable) as caught:
        open_ledger(sqlite_url_for(path))
    assert str(caught.value) == message
    code, out, err = _cli(capsys, "--database", sqlite_url_for(path), "stats")
    assert (code, out, _one_error_line(err)) == (1, "", message)
    assert blocker.read_text() == "a file where the ledger's folder should be\n"


def test_a_missing_read_only_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "nowhere.db"
    code, out, err = _cli(capsys, "--database", f"sqlite:///file:{path}?mode=ro&uri=true", "stats")
    assert (code, out) == (1, "")
    assert (
        _one_error_line(err)
        == f"{path} does not exist; a ledger opened read-only (mode=ro) must already exist."
    )
    assert not path.exists()


def test_a_missing_ledger_in_an_existing_folder_is_created(tmp_path: Path):
    path = tmp_path / "new" / "ledger.db"
    engine = open_ledger(sqlite_url_for(path))
    assert schema_revision(engine) == head_revision()
    engine.dispose()


@pytest.mark.parametrize(
    "content",
    [b"hello, this is a text file\n", bytes(range(256)) * 8, b"\x89PNG\r\n\x1a\n"],
    ids=["text", "binary", "png"],
)
def test_a_file_that_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes):
    path = tmp_path / "ledger.db"
    path.write_bytes(content)
    message = (
        f"{path} is not a SQLite database; move it aside and run `python -m tracker init` to create one."
    )
    with pytest.raises(LedgerUnavailable) as caught:
        open_ledger(sqlite_url_for(path))
    assert str(caught.value) == message
    code, out, err = _cli(capsys, "--database", sqlite_url_for(path), "import", str(CORPUS_DIR / "emoji.csv"))
    assert (code, out, _one_error_line(err)) == (1, "", message)
    assert path.read_bytes() == content  # never "repaired" or overwritten


def test_a_corrupt_database_behind_a_valid_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "ledger.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4080)
    url = sqlite_url_for(path)
    message = f"{url} is not a usable SQLite database (file is not a database); restore it from a backup."
    with pytest.raises(LedgerUnavailable) as caught:
        open_ledger(url)
    assert str(caught.value) == message
    code, out, err = _cli(capsys, "--database", url, "stats")
    assert (code, out, _one_error_line(err)) == (1, "", message)


def test_a_folder_where_the_ledger_should_be(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    message = f"{tmp_path} is a folder, not a database file; point the database URL at a file."
    code, out, err = _cli(capsys, "--database", sqlite_url_for(tmp_path), "stats")
    assert (code, out, _one_error_line(err)) == (1, "", message)


def test_an_unreachable_postgresql_server(capsys: pytest.CaptureFixture[str]):
    url = "postgresql+psycopg://tracker@127.0.0.1:1/tracker"  # port 1: nothing listens there
    code, out, err = _cli(capsys, "--database", url, "stats")
    assert (code, out) == (1, "")
    line = _one_error_line(err)
    assert line.startswith(f"the ledger at {url} could not be used: connection failed")


# --- schema versions ---------------------------------------------------------------------------------


def test_an_empty_database_is_migrated_on_start(ledger_url: str):
    bare = open_ledger(ledger_url, migrate_schema=False)
    assert schema_revision(bare) is None
    bare.dispose()
    engine = open_ledger(ledger_url)
    assert schema_revision(engine) == head_revision()
    report = import_bytes(engine, SMALL, file_name="small.csv", editor="t", today=TODAY)
    assert report.events_added == 3
    engine.dispose()


def test_a_ledger_at_an_older_or_current_revision_is_upgraded_and_keeps_its_data(
    seeded: Engine, ledger_url: str
):
    before = digest(seeded)
    engine = open_ledger(ledger_url)  # at the head already: a no-op
    assert (schema_revision(engine), digest(engine)) == (SCHEMA_HEAD, before)
    # Back to 0001 (no buyer and seller codes, no foreign-key indexes), then opened by this tracker: every
    # row comes back, and the derived codes are filled in exactly as the importer would have.
    downgrade(engine, "0001")
    engine.dispose()
    engine = open_ledger(ledger_url)
    assert (schema_revision(engine), digest(engine)) == (SCHEMA_HEAD, before)
    downgrade(engine, "0004")  # a ledger of the previous version: only the signposts table is added
    engine.dispose()
    engine = open_ledger(ledger_url)
    assert (schema_revision(engine), digest(engine)) == (SCHEMA_HEAD, before)
    engine.dispose()


NEWER = (
    "the ledger's schema (revision 9999_from_the_future) is newer than this version of the tracker; "
    "update the tracker (git pull, then pip install -r requirements.txt) before opening it."
)


def test_a_schema_newer_than_the_code_is_refused(
    seeded: Engine, ledger_url: str, capsys: pytest.CaptureFixture[str]
):
    with seeded.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    before = dump(seeded)
    with pytest.raises(LedgerUnavailable) as caught:
        open_ledger(ledger_url)
    assert str(caught.value) == NEWER
    code, out, err = _cli(
        capsys, "import", str(CORPUS_DIR / "emoji.csv")
    )  # TRACKER_DATABASE_URL is the ledger
    assert (code, out, _one_error_line(err)) == (1, "", NEWER)
    assert dump(seeded) == before


def test_tables_without_a_schema_version_are_refused_not_overwritten(
    seeded: Engine, ledger_url: str, capsys: pytest.CaptureFixture[str]
):
    with seeded.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    before = dump(seeded)
    code, out, err = _cli(capsys, "stats")
    assert (code, out) == (1, "")
    line = _one_error_line(err)
    assert line.startswith("the ledger at ") and "could not be used" in line and "already exists" in line
    assert dump(seeded) == before


# --- backups -----------------------------------------------------------------------------------------


def test_backup_and_restore(
    seeded: Engine, ledger_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    destination = tmp_path / "backups" / "tracker-backup.db"
    destination.parent.mkdir()
    if not _is_sqlite(ledger_url):
        code, out, err = _cli(capsys, "backup", str(destination))
        assert (code, out) == (1, "")
        assert _one_error_line(err) == (
            "backup copies SQLite ledgers only; for PostgreSQL use pg_dump, e.g. "
            "pg_dump --format=custom --file tracker.dump DBNAME (restore with pg_restore)."
        )
        assert not destination.exists()
        return
    import_bytes(seeded, SMALL, file_name="small.csv", editor="t", today=TODAY)
    before = dump(seeded)
    code, out, err = _cli(capsys, "backup", str(destination))
    assert (code, err) == (0, "") and out == f"Backed up to {destination}.\n"
    # The backup opens as a ledger holding exactly what the original held.
    copy = open_ledger(sqlite_url_for(destination))
    assert dump(copy) == before
    copy.dispose()
    # Disaster: the ledger is lost. Restore it from the backup (the same online-backup API, in reverse).
    seeded.dispose()
    original = _sqlite_path(ledger_url)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{original}{suffix}").unlink(missing_ok=True)
    source, target = sqlite3.connect(destination), sqlite3.connect(original)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    restored = open_ledger(ledger_url)
    assert dump(restored) == before
    _sqlite_checks(original)
    report = import_bytes(
        restored, SMALL.replace(b"hostile-test", b"after-restore"), file_name="x.csv", editor="t", today=TODAY
    )
    assert report.events_added == 3
    restored.dispose()
    # A second backup never overwrites the first.
    code, out, err = _cli(capsys, "backup", str(destination))
    assert (code, out, _one_error_line(err)) == (
        1,
        "",
        f"{destination} already exists; choose a new file name.",
    )


def test_a_backup_taken_during_an_import_is_consistent(tmp_path: Path):
    url = _seeded_sqlite(tmp_path / "ledger.db")
    big = tmp_path / "big.csv"
    big.write_bytes(make_corpus.bulk_ledger_csv(20_000, prefix="during"))
    process = _start_import(url, big)
    assert process.stdout is not None
    for line in process.stdout:
        if "Writing to the ledger" in line:
            break
    engine = open_ledger(url)
    backup_ledger(engine, tmp_path / "during.db")  # while the import holds the write lock
    engine.dispose()
    assert process.wait(timeout=300) == 0
    copy = open_ledger(sqlite_url_for(tmp_path / "during.db"))
    events, imports = _counts(copy)
    copy.dispose()
    assert (events, imports) in {(3, 1), (3 + 20_000, 2)}  # before the import or after it, never between
    _sqlite_checks(tmp_path / "during.db")


# --- a full disk --------------------------------------------------------------------------------------

NO_SPACE = "No space left on device"


def _disk_full_after(limit: int):
    """os.write that writes `limit` bytes in all, as a disk would before it fills, then fails with ENOSPC."""
    real_write = os.write
    written = 0

    def write(descriptor: int, data: bytes) -> int:
        nonlocal written
        room = limit - written
        if room <= 0:
            raise OSError(errno.ENOSPC, NO_SPACE)
        done = real_write(descriptor, bytes(data[:room]))
        written += done
        return done

    return write


@pytest.mark.parametrize("existing", [None, b"an earlier export\n"])
def test_an_export_on_a_full_disk_leaves_no_partial_file(
    seeded: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch, existing: bytes | None
):
    output = tmp_path / "exports" / "ledger.csv"
    output.parent.mkdir()
    if existing is not None:
        output.write_bytes(existing)
    monkeypatch.setattr(os, "write", _disk_full_after(1000))
    code, out, err = _cli(capsys, "export", "--output", str(output))
    assert (code, out, _one_error_line(err)) == (
        1,
        "",
        f"cannot write {output}: {NO_SPACE}. Nothing was written; free some space or choose another folder.",
    )
    # The earlier file is untouched (or there is none), and no temporary file is left beside it.
    assert [p.name for p in output.parent.iterdir()] == ([] if existing is None else ["ledger.csv"])
    assert existing is None or output.read_bytes() == existing
    monkeypatch.undo()
    assert _cli(capsys, "export", "--output", str(output))[0] == 0  # with room, the export is whole
    assert output.read_bytes().startswith(b"\xef\xbb\xbfdeal_id,deal_title,date")


def test_an_xlsx_export_on_a_full_disk_leaves_no_partial_file(
    seeded: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
):
    output = tmp_path / "exports" / "ledger.xlsx"
    output.parent.mkdir()
    monkeypatch.setattr(os, "write", _disk_full_after(0))
    code, out, err = _cli(capsys, "export", "--format", "xlsx", "--output", str(output))
    assert (code, out, _one_error_line(err)) == (
        1,
        "",
        f"cannot write {output}: {NO_SPACE}. Nothing was written; free some space or choose another folder.",
    )
    assert list(output.parent.iterdir()) == []


def test_a_backup_on_a_full_disk_leaves_no_partial_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
):
    from tracker import backup

    url = _seeded_sqlite(tmp_path / "ledger.db")
    destination = tmp_path / "backups" / "tracker-backup.db"
    destination.parent.mkdir()

    def copy_until_full(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
        source.backup(target, pages=2)  # part of the ledger reaches the disk, then it is full
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(backup, "_copy_pages", copy_until_full)
    code, out, err = _cli(capsys, "--database", url, "backup", str(destination))
    assert (code, out, _one_error_line(err)) == (
        1,
        "",
        (
            f"cannot write {destination}: database or disk is full. Nothing was written; free some space "
            "or choose another folder."
        ),
    )
    assert list(destination.parent.iterdir()) == []
    monkeypatch.undo()
    assert _cli(capsys, "--database", url, "backup", str(destination))[0] == 0
    copy = open_ledger(sqlite_url_for(destination))
    assert _counts(copy) == (3, 1)
    copy.dispose()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_an_export_to_a_full_standard_output_says_it_is_incomplete(seeded: Engine, ledger_url: str):
    with open("/dev/full", "wb") as full:  # every write fails with ENOSPC
        done = subprocess.run(
            [sys.executable, "-m", "tracker", "--database", ledger_url, "export"],
            cwd=PROJECT_ROOT,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert (done.returncode, _one_error_line(done.stderr)) == (
        1,
        f"cannot write to standard output: {NO_SPACE}. What was written is incomplete; use --output FILE.",
    )


# --- a read-only ledger in a read-only folder ---------------------------------------------------------------


def _cli_without_write_access(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user who may not write in `folder` (mode 555). Root passes every permission check, so
    as root it runs in a new user namespace without privileges (`unshare --user`), where the mode holds."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        probe = subprocess.run(
            ["unshare", "--user", "test", "-w", str(folder)], capture_output=True, check=False
        )
        if probe.returncode != 1:  # unshare missing or refused, or the folder is writable all the same
            pytest.skip("cannot drop root's override of file permissions here (unshare --user)")
        prefix = ["unshare", "--user"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "tracker", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_read_only_ledger_in_a_read_only_folder(tmp_path: Path):
    folder = tmp_path / "share"
    folder.mkdir()
    path = folder / "ledger.db"
    _seeded_sqlite(path)
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    folder.chmod(0o555)
    try:
        # No -shm can be made here: the ledger is opened immutable, and reads work.
        done = _cli_without_write_access(folder, "--database", url, "stats")
        assert (done.returncode, done.stderr) == (0, "")
        assert done.stdout.splitlines()[1:7] == [
            "  deals: 1",
            "  events: 3",
            "  sources: 3",
            "  parties: 2",
            "  source links: 3",
            "  imports: 1",
        ]
        done = _cli_without_write_access(folder, "--database", url, "import", str(CORPUS_DIR / "emoji.csv"))
        assert (done.returncode, done.stdout) == (1, "")
        assert _one_error_line(done.stderr).endswith(
            "is read-only; fix the file's permissions to make changes."
        )
        assert os.listdir(folder) == ["ledger.db"]
    finally:
        folder.chmod(0o755)


def _leave_in_the_write_ahead_log(path: Path, statement: str) -> None:
    """A writer that changes the ledger and dies before SQLite folds its log into the file."""
    script = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA wal_autocheckpoint = 0')\n"
        "c.execute(sys.argv[2])\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path), statement], check=True)


def test_a_read_only_folder_with_the_writers_log_and_shared_memory(tmp_path: Path):
    folder = tmp_path / "share"
    folder.mkdir()
    path = folder / "ledger.db"
    _seeded_sqlite(path)
    _leave_in_the_write_ahead_log(path, "UPDATE imports SET status = 'undone'")
    assert sorted(os.listdir(folder)) == ["ledger.db", "ledger.db-shm", "ledger.db-wal"]
    folder.chmod(0o555)
    try:
        # SQLite reads the log through the writer's shared-memory file: the change in the log is seen.
        done = _cli_without_write_access(
            folder, "--database", f"sqlite:///file:{path}?mode=ro&uri=true", "stats"
        )
        assert (done.returncode, done.stderr, done.stdout.splitlines()[6]) == (0, "", "  imports: 0")
    finally:
        folder.chmod(0o755)


def test_a_read_only_folder_with_a_log_but_no_shared_memory_is_refused(tmp_path: Path):
    folder = tmp_path / "share"
    folder.mkdir()
    path = folder / "ledger.db"
    _seeded_sqlite(path)
    _leave_in_the_write_ahead_log(path, "UPDATE imports SET status = 'undone'")
    Path(f"{path}-shm").unlink()  # e.g. a copy of the folder that left the shared memory behind
    folder.chmod(0o555)
    try:
        done = _cli_without_write_access(
            folder, "--database", f"sqlite:///file:{path}?mode=ro&uri=true", "stats"
        )
        assert (done.returncode, done.stdout, _one_error_line(done.stderr)) == (
            1,
            "",
            (
                f"{path} has changes in its write-ahead log (ledger.db-wal) that cannot be read from a "
                "folder this user cannot write to. Open the ledger once with write access (which folds them "
                "into the file), or copy the folder somewhere writable."
            ),
        )
    finally:
        folder.chmod(0o755)
