"""Schema and migrations: an empty database is migrated to exactly the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text

from tests.builders import downgrade, ledger_csv, row
from tests.ledger_snapshot import dump, table_counts
from tracker.db import (
    SCHEMA_HEAD,
    create_ledger_engine,
    head_revision,
    migrate,
    schema_revision,
    write_transaction,
)
from tracker.errors import LedgerUnavailable
from tracker.importer import import_bytes
from tracker.models import Base, Deal, StageRow

SIPRI_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sipri" / "classic-2024.csv"
# A source link to an event that does not exist.
ORPHAN_EVENT_SOURCE = text(
    "INSERT INTO event_sources (event_id, source_id, credibility, import_id) VALUES (9999, 1, 3, 1)"
)


def test_upgrade_from_empty_matches_the_models(ledger_url: str):
    engine = create_ledger_engine(ledger_url)
    assert schema_revision(engine) is None
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert (schema_revision(engine), differences) == (head_revision(), [])
    engine.dispose()


def test_the_schema_head_constant_is_the_newest_migration():
    # migrate() skips Alembic when a ledger is at SCHEMA_HEAD: a new migration must move it.
    assert SCHEMA_HEAD == head_revision() == "0009"


def test_tables(engine: Engine):
    assert sorted(inspect(engine).get_table_names()) == [
        "alembic_version",
        "deal_changes",
        "deal_external_ids",
        "deal_parties",
        "deal_tags",
        "deals",
        "event_sources",
        "events",
        "grade_changes",
        "imports",
        "parties",
        "retractions",
        "saved_views",
        "signposts",
        "sources",
        "stages",
    ]


def test_stage_vocabulary_is_in_the_database_in_order(engine: Engine):
    with engine.connect() as connection:
        stages = connection.execute(select(StageRow.name, StageRow.on_path).order_by(StageRow.position)).all()
    assert [tuple(s) for s in stages] == [
        ("announced", True),
        ("negotiating", True),
        ("agreed", True),
        ("approved", True),
        ("contracted", True),
        ("delivering", True),
        ("completed", True),
        ("stalled", False),
        ("cancelled", False),
    ]


def test_migrate_twice_is_a_no_op(engine: Engine):
    migrate(engine)
    assert schema_revision(engine) == head_revision()


def test_sqlite_connections_are_set_up_for_sharing(engine: Engine):
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        settings = [
            connection.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        ]
    assert settings == ["wal", 1, 60000]


def test_sqlite_foreign_key_checks_are_skipped_only_where_asked(seeded: Engine):
    if seeded.dialect.name != "sqlite":
        return
    with write_transaction(seeded, references_resolved=True) as connection:
        during_import = connection.execute(text("PRAGMA foreign_keys")).scalar()
    # The same pooled connection, in an ordinary write transaction: checks are back on.
    with (
        pytest.raises(LedgerUnavailable, match="FOREIGN KEY constraint failed"),
        write_transaction(seeded) as connection,
    ):
        after = connection.execute(text("PRAGMA foreign_keys")).scalar()
        connection.execute(ORPHAN_EVENT_SOURCE)
    with seeded.connect() as connection:
        orphans = connection.execute(
            text("SELECT count(*) FROM event_sources WHERE event_id = 9999")
        ).scalar()
    assert (during_import, after, orphans, seeded.pool.checkedin()) == (0, 1, 0, 1)


def test_imports_leave_the_sqlite_planner_statistics_of_the_filtered_tables(seeded: Engine):
    if seeded.dialect.name != "sqlite":
        return
    with seeded.connect() as connection:
        analysed = (
            connection.execute(text("SELECT DISTINCT tbl FROM sqlite_stat1 ORDER BY tbl")).scalars().all()
        )
        deals = connection.execute(
            text("SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_deals_stage_mix'")
        ).scalar()
    # One row (the seed deal), one per column of the index: stage, buyers, sellers, last news, its precision.
    assert (analysed, deals) == (["deal_parties", "deals", "parties"], "1 1 1 1 1 1")


def test_relative_sqlite_paths_resolve_against_the_project(monkeypatch, tmp_path):
    from tracker import db

    monkeypatch.chdir(tmp_path)
    engine = create_ledger_engine("sqlite:///data/somewhere-else.db")
    assert engine.url.database == str(db.PROJECT_ROOT / "data" / "somewhere-else.db")
    engine.dispose()


def test_upgrading_from_0001_derives_the_deals_country_codes(seeded: Engine):
    import_bytes(
        seeded,
        ledger_csv(row(deal_id="joint-order", buyer="Poland; Estonia", seller="Germany")),
        file_name="joint.csv",
        editor="test",
    )
    downgrade(seeded, "0001")
    assert schema_revision(seeded) == "0001"
    migrate(seeded)
    with seeded.connect() as connection:
        codes = connection.execute(
            select(Deal.id, Deal.buyer_codes, Deal.seller_codes).order_by(Deal.id)
        ).all()
    assert [tuple(c) for c in codes] == [
        ("joint-order", "EST POL", "DEU"),
        ("us-ukraine-drone-deal", "USA", "UKR"),
    ]


def test_every_foreign_key_leads_an_index(engine: Engine):
    """A delete looks up the rows that refer to the deleted one: without an index, a scan per deleted row
    (undo on PostgreSQL was quadratic). events.stage alone goes without: stages are never deleted."""
    inspector = inspect(engine)
    unindexed = []
    for table in inspector.get_table_names():
        leading = [tuple(index["column_names"]) for index in inspector.get_indexes(table)]
        leading += [tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(table)]
        leading.append(tuple(inspector.get_pk_constraint(table)["constrained_columns"]))
        for key in inspector.get_foreign_keys(table):
            columns = tuple(key["constrained_columns"])
            if not any(index[: len(columns)] == columns for index in leading):
                unindexed.append((table, columns, key["referred_table"]))
    assert unindexed == [("events", ("stage",), "stages")]


def test_upgrading_from_0003_indexes_the_foreign_keys(seeded: Engine):
    def foreign_key_indexes() -> dict[str, list[str]]:
        inspector = inspect(seeded)
        return {
            table: sorted(
                index["name"]
                for index in inspector.get_indexes(table)
                if index["name"].endswith(("_event_id", "_parent_id"))
            )
            for table in ("deal_changes", "deal_parties", "parties")
        }

    downgrade(seeded, "0003")
    before = foreign_key_indexes()
    migrate(seeded)
    assert (before, foreign_key_indexes()) == (
        {"deal_changes": [], "deal_parties": [], "parties": []},
        {
            "deal_changes": ["ix_deal_changes_event_id"],
            "deal_parties": ["ix_deal_parties_event_id"],
            "parties": ["ix_parties_parent_id"],
        },
    )


def test_upgrading_from_0005_keeps_every_row_and_adds_what_corrections_need(seeded: Engine):
    before = table_counts(seeded)
    downgrade(seeded, "0005")
    inspector = inspect(seeded)
    old = (
        [t for t in ("retractions", "grade_changes") if inspector.has_table(t)],
        [c["name"] for c in inspector.get_columns("imports") if c["name"] == "reason"],
        [c["name"] for c in inspector.get_columns("deal_tags") if c["name"] == "removed_by"],
    )
    migrate(seeded)
    assert (old, table_counts(seeded), schema_revision(seeded)) == (([], [], []), before, "0009")


def test_upgrading_from_0007_derives_the_deals_date_precisions(seeded: Engine):
    """The migration's SQL picks the events tracker.stages.deal_status picks (what an import stores)."""
    import_bytes(seeded, SIPRI_FIXTURE.read_bytes(), file_name="classic-2024.csv", editor="test")
    import_bytes(
        seeded,
        ledger_csv(
            row(deal_id="mixed", date="2025-09", stage="announced", summary="Talks are announced."),
            row(deal_id="mixed", date="2025-09-01", stage="announced", summary="First report."),
            row(deal_id="mixed", date="2025-09-29/2025-10-02", summary="A delegation visits."),
        ),
        file_name="mixed.csv",
        editor="test",
    )
    columns = (
        Deal.id,
        Deal.stage_since_precision,
        Deal.first_event_precision,
        Deal.last_event_precision,
        Deal.last_event_until,
    )

    def derived() -> list[tuple]:
        with seeded.connect() as connection:
            return [tuple(r) for r in connection.execute(select(*columns).order_by(Deal.id))]

    stored = derived()
    downgrade(seeded, "0007")
    assert "last_event_until" not in {column["name"] for column in inspect(seeded).get_columns("deals")}
    migrate(seeded)
    assert derived() == stored
    by_id = {deal_id: rest for deal_id, *rest in stored}
    assert by_id["mixed"] == ["day", "day", "day", dt.date(2025, 10, 2)]
    # Talks reported in the week of 22 Sep 2025, the first event in July 2025, the last on 17 Oct 2025.
    assert by_id["us-ukraine-drone-deal"] == ["week", "month", "day", dt.date(2025, 10, 17)]
    assert {tuple(rest[:3]) for deal_id, rest in by_id.items() if deal_id.startswith("sipri")} == {
        ("year", "year", "year")
    }


def _delete_actions(engine: Engine) -> dict[str | None, int]:
    inspector = inspect(engine)
    actions: dict[str | None, int] = {}
    for table in inspector.get_table_names():
        for key in inspector.get_foreign_keys(table):
            action = key["options"].get("ondelete")
            actions[action] = actions.get(action, 0) + 1
    return actions


def test_upgrading_from_0008_makes_every_foreign_key_restrict_and_keeps_every_row(seeded: Engine):
    import_bytes(seeded, SIPRI_FIXTURE.read_bytes(), file_name="classic-2024.csv", editor="test")
    before = dump(seeded)
    downgrade(seeded, "0008")
    old = _delete_actions(seeded)
    migrate(seeded)
    assert (old, _delete_actions(seeded), dump(seeded) == before) == ({None: 34}, {"RESTRICT": 34}, True)


def test_a_migration_that_would_leave_a_broken_reference_changes_nothing(seeded: Engine):
    if seeded.dialect.name != "sqlite":
        return  # PostgreSQL checks every key as the migration writes
    downgrade(seeded, "0008")
    with write_transaction(seeded, references_resolved=True) as connection:
        connection.execute(ORPHAN_EVENT_SOURCE)
    with pytest.raises(LedgerUnavailable) as refused:
        migrate(seeded)
    outcome = (str(refused.value), schema_revision(seeded), _delete_actions(seeded))
    with write_transaction(seeded) as connection:
        connection.execute(text("DELETE FROM event_sources WHERE event_id = 9999"))
    assert outcome == (
        (
            "the schema change left row 21 of event_sources referring to a missing row of events; nothing "
            "was changed. Restore the ledger from a backup or report it."
        ),
        "0008",
        {None: 34},
    )
