"""Opening the ledger: database URL, engine set-up, migrations and write transactions."""

from __future__ import annotations

import os
import sqlite3
import tomllib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from tracker.errors import LedgerUnavailable

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_PATH = PROJECT_ROOT / "data" / "tracker.db"
DATABASE_URL_VARIABLE = "TRACKER_DATABASE_URL"
SECRETS_PATH = PROJECT_ROOT / ".streamlit" / "secrets.toml"
MIGRATIONS_PATH = Path(__file__).resolve().parent / "migrations"
# The newest revision in tracker/migrations (tests/test_schema.py checks it): opening a ledger that is
# already at it needs no Alembic, whose import is a tenth of a second of every CLI command.
SCHEMA_HEAD = "0009"
# Any constant works; it only has to be the same for every importer sharing a PostgreSQL database.
_PG_IMPORT_LOCK = 7_240_513


def read_secrets(path: Path = SECRETS_PATH) -> dict:
    """The parsed `.streamlit/secrets.toml`, or an empty dict when there is none."""
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise LedgerUnavailable(f"{path} is not valid TOML ({exc}); fix or remove it.") from exc


def resolve_database_url(explicit: str | None = None) -> str:
    """The ledger URL: an explicit one, else $TRACKER_DATABASE_URL, else secrets.toml, else
    data/tracker.db."""
    if explicit:
        return explicit
    if os.environ.get(DATABASE_URL_VARIABLE):
        return os.environ[DATABASE_URL_VARIABLE]
    configured = read_secrets().get("database", {}).get("url")
    if configured:
        return str(configured)
    return f"sqlite:///{DEFAULT_DATABASE_PATH}"


def sqlite_url_for(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def _unicode_lower(value: object) -> object:
    """SQL lower() for SQLite as PostgreSQL has it: every letter, not only A-Z ("ÜBER" -> "über")."""
    try:  # as fast as registering str.lower itself, which fails on NULL (an isinstance test: 1.2x slower)
        return value.lower()  # type: ignore[attr-defined]
    except AttributeError:  # NULL and numbers are returned as they are
        return value


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        # Replaces SQLite's ASCII-only lower(), so that searches ignore case in every script, as on
        # PostgreSQL. It runs in Python: a search that lowers every summary at 100k events costs more (see
        # docs/performance.md); no index uses lower().
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 60000")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode and mode[0] != "wal" and engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        # Set at every BEGIN (it cannot change inside a transaction), so a pooled connection never keeps
        # an import's setting. See write_transaction for when the per-row checks are skipped.
        connection.exec_driver_sql(
            "PRAGMA foreign_keys = OFF" if options.get("references_resolved") else "PRAGMA foreign_keys = ON"
        )
        # Writers take the lock up front so a second writer waits (busy_timeout) instead of failing later.
        if options.get("ledger_write"):
            kib = write_cache_kib(options.get("rows_written"))
            connection.exec_driver_sql(f"PRAGMA cache_size = -{kib}")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


# SQLite's page cache for a write transaction (KiB): 128 bytes a row written, between SQLite's default and
# 128 MB. Bulk writes need their indexes' pages in memory: with 2 MB the inserts of 1M events took 79 s
# against 47 s with 256 MB, a 300k-event import 50-55 s against 38-44 s with 128 MB (16 MB: 40-46 s). But
# the cache is resident memory that fills with the pages written, and a fixed 128 MB was most of the peak
# of an upload-sized import: the real 3.6 MB SIPRI export (87,108 rows) 222 MB fixed, 173 MB scaled (11 MB
# of cache); a 100k-event import (140,000 rows) took 15.3 s scaled against 16.9 s fixed (median of 3).
# A million events (1.4M rows) get the largest, as do writers that do not say how many rows (undo, edits).
WRITE_CACHE_KIB_PER_1000_ROWS = 125  # 128 bytes a row
WRITE_CACHE_KIB = (2_000, 131_072)


def write_cache_kib(rows_written: int | None) -> int:
    """The page cache (KiB) of a write transaction that writes about `rows_written` rows (None: unknown)."""
    smallest, largest = WRITE_CACHE_KIB
    if rows_written is None:
        return largest
    return max(smallest, min(largest, rows_written * WRITE_CACHE_KIB_PER_1000_ROWS // 1000))


def create_ledger_engine(url: str) -> Engine:
    """An engine for `url`, with SQLite set up for a shared file (WAL, foreign keys, busy timeout)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise LedgerUnavailable(f'"{url}" is not a database URL; use e.g. sqlite:///data/tracker.db') from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if str(parsed.query.get("uri", "")).lower() in ("true", "1") and database.startswith("file:"):
            # A SQLite URI filename, e.g. sqlite:///file:/srv/tracker.db?mode=ro&uri=true for a read-only
            # view.
            path = Path(unquote(urlsplit(database).path))
            if not path.is_absolute():
                path = PROJECT_ROOT / path
                parsed = parsed.set(database=f"file:{path}")
            read_only = parsed.query.get("mode") == "ro"
            _check_sqlite_file(path, read_only=read_only)
            if read_only and "immutable" not in parsed.query and _read_only_folder(path):
                parsed = parsed.update_query_dict({"immutable": "1"})
        elif database and database != ":memory:":
            path = Path(database)
            if not path.is_absolute():
                # Relative SQLite paths resolve against the project, never the working directory.
                path = PROJECT_ROOT / path
                parsed = parsed.set(database=str(path))
            _check_sqlite_file(path)
        engine = create_engine(parsed, connect_args={"timeout": 60})
        _configure_sqlite(engine)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except Exception as exc:  # driver missing or malformed options: report, do not trace
        raise LedgerUnavailable(
            f"cannot use database {parsed.render_as_string(hide_password=True)}: {exc}"
        ) from exc


def _check_sqlite_file(path: Path, *, read_only: bool = False) -> None:
    if read_only and not path.exists():
        raise LedgerUnavailable(
            f"{path} does not exist; a ledger opened read-only (mode=ro) must already exist."
        )
    if path.exists():
        if path.is_dir():
            raise LedgerUnavailable(
                f"{path} is a folder, not a database file; point the database URL at a file."
            )
        if not os.access(path, os.R_OK):
            raise LedgerUnavailable(f"{path} cannot be read (permissions); give this user read access.")
        if not read_only and (not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK)):
            raise LedgerUnavailable(
                f"{path} is read-only for this user; SQLite needs write access to the file and its folder "
                "(for the write-ahead log). Fix the permissions or copy the file somewhere writable."
            )
        if not _is_sqlite_file(path):
            raise LedgerUnavailable(
                f"{path} is not a SQLite database; move it aside and run `python -m tracker init` "
                f"to create one."
            )
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerUnavailable(f"cannot create the folder for {path}: {exc.strerror}") from exc
        if not os.access(path.parent, os.W_OK):
            raise LedgerUnavailable(f"cannot create {path}: its folder is not writable.")


def _is_sqlite_file(path: Path) -> bool:
    """Whether `path` starts as a SQLite database does (an empty file does too).

    Asked of SQLite first, and the file read only when SQLite cannot open it: closing any other descriptor
    of the file drops every lock this process holds on it (POSIX advisory locks), among them the one its
    open connections keep in WAL mode. Another process (the CLI, an import worker) closing the ledger then
    takes itself for the last one and deletes the write-ahead log and shared memory under them: this process
    no longer sees that process's commits, and its own later writes are lost. SQLite keeps its descriptors
    open while it holds locks on the file. Immutable: the probe takes no locks and needs no -shm file.
    """
    probe_uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(probe_uri, uri=True)) as probe:
            probe.execute("PRAGMA schema_version").fetchone()
        return True
    except sqlite3.DatabaseError:  # not a database, or one broken behind its header: the header tells
        with path.open("rb") as handle:
            header = handle.read(16)
        return header in (b"", b"SQLite format 3\x00")


def _read_only_folder(path: Path) -> bool:
    """Whether a ledger opened read-only must be opened as immutable: its folder is not writable for this
    user, so SQLite cannot create the shared-memory file (-shm) that reading a WAL ledger needs, and none
    is there.

    Immutable means no locks and no write-ahead log: right for a ledger nobody changes while it is open (a
    copy on a read-only share); changes made meanwhile are not seen. Changes still in a write-ahead log
    would be invisible, so that case is refused with what to do.
    """
    if os.access(path.parent, os.W_OK) or Path(f"{path}-shm").exists():
        return False
    log = Path(f"{path}-wal")
    if log.exists() and log.stat().st_size > 0:
        raise LedgerUnavailable(
            f"{path} has changes in its write-ahead log ({log.name}) that cannot be read from a folder this "
            "user cannot write to. Open the ledger once with write access (which folds them into the file), "
            "or copy the folder somewhere writable."
        )
    return True


def _script_directory() -> ScriptDirectory:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    return ScriptDirectory.from_config(config)


def head_revision() -> str:
    head = _script_directory().get_current_head()
    assert head is not None, "tracker/migrations has no revisions"
    return head


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at; None for an empty database."""
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        raise LedgerUnavailable(describe_database_error(engine, exc)) from exc


def migrate(engine: Engine) -> None:
    """Bring the schema to this code's version; refuse a schema newer than the code."""
    current = schema_revision(engine)
    if current == SCHEMA_HEAD:
        return
    from alembic import command
    from alembic.config import Config

    script = _script_directory()
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise LedgerUnavailable(
            f"the ledger's schema (revision {current}) is newer than this version of the tracker; "
            "update the tracker (git pull, then pip install -r requirements.txt) before opening it."
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    try:
        with write_transaction(engine, schema_change=True) as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except DBAPIError as exc:
        raise LedgerUnavailable(describe_database_error(engine, exc)) from exc


def open_ledger(url: str | None = None, *, migrate_schema: bool = True) -> Engine:
    """The engine for the configured ledger, created and migrated on first use."""
    engine = create_ledger_engine(resolve_database_url(url))
    if migrate_schema:
        migrate(engine)
    return engine


@contextmanager
def write_transaction(
    engine: Engine,
    *,
    references_resolved: bool = False,
    rows_written: int | None = None,
    schema_change: bool = False,
) -> Iterator[Connection]:
    """One transaction that holds the ledger's write lock from its first statement.

    SQLite: BEGIN IMMEDIATE. PostgreSQL: a transaction-scoped advisory lock, so two importers
    queue instead of racing for the same ids (and two processes opening an old ledger migrate it once).

    `references_resolved`: the caller has looked up, inside this transaction, every row its writes refer
    to (the importer's plan does), so on SQLite the per-row foreign-key lookups are skipped: they repeat
    that work and cost a fifth of a large import. The constraints stay declared and are enforced for
    every other transaction but a migration's (below); the test suite checks the whole ledger with PRAGMA
    foreign_key_check after every test. PostgreSQL always checks.

    `rows_written`: about how many rows the transaction writes, when the caller knows (an import's batch);
    on SQLite the page cache is scaled to it (write_cache_kib).

    `schema_change`: a migration. SQLite changes a table's constraints only by copying the table (Alembic's
    batch mode), and dropping the old copy of a table that others refer to fails while foreign keys are
    enforced; so, as SQLite's own procedure for such changes has it, the keys are off inside and every one
    is checked before the commit (LedgerUnavailable, and nothing changed, if a row refers to nothing).
    """
    try:
        options = {
            "ledger_write": True,
            "references_resolved": references_resolved or schema_change,
            "rows_written": rows_written,
        }
        with engine.connect().execution_options(**options) as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_IMPORT_LOCK})
            yield connection
            if schema_change and connection.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    table, rowid, referred, _ = broken
                    raise LedgerUnavailable(
                        f"the schema change left row {rowid} of {table} referring to a missing row of "
                        f"{referred}; nothing was changed. Restore the ledger from a backup or report it."
                    )
    except DBAPIError as exc:
        if exc.connection_invalidated or isinstance(
            exc.orig, (sqlite3.OperationalError, sqlite3.DatabaseError)
        ):
            raise LedgerUnavailable(describe_database_error(engine, exc)) from exc
        raise


# The tables the dashboard's filters start from: with statistics, SQLite finds a country's deals through
# parties -> deal_parties instead of testing every deal (0.035 s -> 0.004 s for a small country at 1M events).
_PLANNED_TABLES = ("deals", "deal_parties", "parties")
# PostgreSQL: the tables whose rows an undo deletes, and the foreign-key checks of those deletes look up.
# Autovacuum analyses a table a minute or so after a bulk write; an undo straight after an import (the usual
# mistake) had its checks planned without statistics, as scans: 100k events, undo 19.4 s -> 6.4 s.
_PG_UNDONE_TABLES = (
    "deals", "deal_external_ids", "deal_tags", "deal_changes", "parties", "deal_parties", "events",
    "sources", "event_sources",
)  # fmt: skip
# The tables this transaction changed by more than autovacuum's default threshold (50 rows + 10%): what it
# would analyse next, analysed now. A small import into a large ledger analyses nothing (all nine tables:
# 0.9 s at 300k events).
_PG_STALE_TABLES = text(
    "SELECT s.relname FROM pg_stat_xact_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid "
    "WHERE s.relname = ANY(:tables) "
    "AND s.n_tup_ins + s.n_tup_upd + s.n_tup_del > 50 + 0.1 * greatest(c.reltuples, 0) "
    "ORDER BY s.relname"
)


def refresh_planner_statistics(connection: Connection) -> None:
    """Recount what the query planner knows, after an import or undo.

    SQLite: the filtered tables (a full ANALYZE of these three takes about 0.07 s at 1M events; all tables
    would take 3 s). PostgreSQL: the tables an undo deletes from that this transaction changed enough to
    make their statistics stale.
    """
    if connection.dialect.name == "sqlite":
        tables = _PLANNED_TABLES
    else:
        tables = tuple(connection.execute(_PG_STALE_TABLES, {"tables": list(_PG_UNDONE_TABLES)}).scalars())
    for table in tables:
        connection.exec_driver_sql(f"ANALYZE {table}")  # names from the lists above, not input


def describe_database_error(engine: Engine, exc: DBAPIError) -> str:
    """A plain-words account of why the database could not be used."""
    where = engine.url.render_as_string(hide_password=True)
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    lowered = detail.lower()
    if "readonly" in lowered or "read-only" in lowered:
        return f"the ledger at {where} is read-only; fix the file's permissions to make changes."
    if "not a database" in lowered or "malformed" in lowered:
        return f"{where} is not a usable SQLite database ({detail}); restore it from a backup."
    if "locked" in lowered or "busy" in lowered:
        return f"the ledger at {where} stayed locked by another writer for 60 s; try again when it finishes."
    if "unable to open" in lowered:
        return f"cannot open the ledger at {where}; check that its folder exists and is writable."
    return f"the ledger at {where} could not be used: {detail}"
