"""Shared fixtures: every test that touches the ledger gets a fresh, migrated database of its own.

SQLite (a file under tmp_path) by default; with TRACKER_TEST_DATABASE=postgres, a fresh PostgreSQL
database per test on the server named by TRACKER_TEST_POSTGRES_URL (see scripts/start-postgres.sh).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.builders import THREE_DEALS, ledger_csv
from tracker.db import open_ledger, sqlite_url_for
from tracker.importer import import_bytes
from tracker.seed import seed_ledger

TODAY = dt.date(2026, 11, 25)
DB_FIXTURES = {"ledger_url", "engine", "seeded", "three", "another_ledger"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that use a ledger are re-run against PostgreSQL in CI (`pytest -m db`).
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def _postgres_database() -> Iterator[str]:
    server = os.environ.get("TRACKER_TEST_POSTGRES_URL")
    if not server:
        pytest.fail(
            "TRACKER_TEST_DATABASE=postgres needs TRACKER_TEST_POSTGRES_URL (scripts/start-postgres.sh)"
        )
    name = f"tracker_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))  # name is generated above, never user input
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fresh_url(path: Path) -> tuple[str, Iterator[str] | None]:
    """A URL for an empty database, and the generator that drops it afterwards (PostgreSQL only)."""
    if os.environ.get("TRACKER_TEST_DATABASE") == "postgres":
        generator = _postgres_database()
        return next(generator), generator
    return sqlite_url_for(path), None


@pytest.fixture
def ledger_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A URL for an empty database, also exported as TRACKER_DATABASE_URL for the app and the CLI."""
    url, generator = _fresh_url(tmp_path / "ledger.db")
    monkeypatch.setenv("TRACKER_DATABASE_URL", url)
    yield url
    if generator is not None:
        generator.close()


@pytest.fixture
def engine(ledger_url: str) -> Iterator[Engine]:
    """A migrated, empty ledger; after the test, every foreign key in it must still resolve.

    The importer writes with SQLite's per-row foreign-key checks off (tracker.db.write_transaction), so
    this is what holds its plan to the constraints, after every test that imports anything.
    """
    ledger = open_ledger(ledger_url)
    yield ledger
    _check_foreign_keys(ledger)
    ledger.dispose()


@pytest.fixture
def another_ledger(tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """Makes more migrated, empty ledgers in one test (to import an export into, say); each is checked
    and dropped afterwards like `engine`."""
    made: list[tuple[Engine, Iterator[str] | None]] = []

    def make() -> Engine:
        url, generator = _fresh_url(tmp_path / f"another-{len(made) + 1}.db")
        ledger = open_ledger(url)
        made.append((ledger, generator))
        return ledger

    yield make
    for ledger, generator in made:
        _check_foreign_keys(ledger)
        ledger.dispose()
        if generator is not None:
            generator.close()


def _check_foreign_keys(ledger: Engine) -> None:
    if ledger.dialect.name == "sqlite" and _readable(ledger):
        with ledger.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def _readable(ledger: Engine) -> bool:
    """False for a ledger file a test has deliberately corrupted, removed or made unreadable."""
    try:
        with ledger.connect() as connection:
            connection.exec_driver_sql("SELECT count(*) FROM alembic_version").all()
    except DBAPIError:
        return False
    return True


@pytest.fixture
def three(engine: Engine) -> Engine:
    """A ledger holding THREE_DEALS (tests/builders.py), three deals the filters tell apart."""
    import_bytes(engine, ledger_csv(*THREE_DEALS), file_name="three.csv", editor="test")
    return engine


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    """A ledger holding the seed data, imported through the real importer."""
    seed_ledger(engine)
    return engine


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """Streamlit's caches outlive a test: a page test starts and ends with none (tests/apptest.py)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
