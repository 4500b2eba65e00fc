"""the sentence(s) of a source that support an event, kept with the event-source link

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 22:00:00

Drafts from articles (tracker.drafting) and analysts quote the passage each claim rests on, so the deal
page can show it beside the source.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event_sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("excerpt", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event_sources", schema=None) as batch_op:
        batch_op.drop_column("excerpt")
