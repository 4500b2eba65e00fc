"""every foreign key ON DELETE RESTRICT

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 20:00:00

The ledger deletes rows only when an import is undone, referring rows first, so RESTRICT refuses exactly the
deletes the default NO ACTION refused. PostgreSQL checks a NO ACTION key twice for every deleted row (first
for another row with the same key, which would let the referring rows stay), a RESTRICT key once; seven keys
refer to events, and undoing 300k events spent 31.6 s deleting them, 17.5 s with RESTRICT.

SQLite changes a key only by copying its table (batch mode): every table with a foreign key is copied once,
with the keys off for the migration's transaction and all checked before it commits (tracker.db.migrate).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _set_foreign_keys(ondelete="RESTRICT")


def downgrade() -> None:
    _set_foreign_keys(ondelete=None)


def _set_foreign_keys(*, ondelete: str | None) -> None:
    inspector = sa.inspect(op.get_bind())
    for table in sorted(inspector.get_table_names()):
        keys = inspector.get_foreign_keys(table)
        if not keys:
            continue
        with op.batch_alter_table(table) as batch_op:
            for key in keys:
                batch_op.drop_constraint(key["name"], type_="foreignkey")
                batch_op.create_foreign_key(
                    key["name"],
                    key["referred_table"],
                    key["constrained_columns"],
                    key["referred_columns"],
                    ondelete=ondelete,
                )
