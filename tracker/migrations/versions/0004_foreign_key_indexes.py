"""index the foreign keys that had none: deal_changes.event_id, deal_parties.event_id, parties.parent_id

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 21:10:00

Deleting a row makes the database look for rows that still refer to it. Without an index on the referring
column that is a scan of the whole table for every deleted row: undoing an import of 300k events on
PostgreSQL deleted each event after scanning deal_parties and deal_changes (508 s; 10 s on SQLite, whose
own scans are cheaper). Every other foreign key already leads an index or a primary key, except
events.stage: the stages vocabulary is never deleted from, and migration 0002 dropped that index because it
served no query and slowed every import.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = (
    ("deal_changes", "event_id"),
    ("deal_parties", "event_id"),
    ("parties", "parent_id"),
)


def upgrade() -> None:
    for table, column in INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        op.drop_index(f"ix_{table}_{column}", table_name=table)
