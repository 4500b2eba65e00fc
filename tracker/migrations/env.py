"""Alembic environment: run by tracker.db.migrate with a connection, or by `alembic` offline."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from tracker.db import resolve_database_url
from tracker.models import Base

target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(
        url=resolve_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table instead.
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        with create_engine(resolve_database_url()).connect() as own_connection:
            _run(own_connection)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
