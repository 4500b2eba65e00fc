"""signposts: the milestones someone expects next in a deal, each with its date and its source

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signposts",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("deal_id", sa.String(length=100), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("expected_on", sa.Date(), nullable=False),
        sa.Column("expected_until", sa.Date(), nullable=False),
        sa.Column("expected_precision", sa.String(length=8), nullable=False),
        sa.Column("expected_text", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "expected_precision IN ('day', 'week', 'month', 'year')", name=op.f("ck_signposts_precision")
        ),
        sa.ForeignKeyConstraint(["deal_id"], ["deals.id"], name=op.f("fk_signposts_deal_id_deals")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_signposts_event_id_events")),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], name=op.f("fk_signposts_import_id_imports")),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_signposts_source_id_sources")),
        sa.ForeignKeyConstraint(["stage"], ["stages.name"], name=op.f("fk_signposts_stage_stages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signposts")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_signposts_fingerprint")),
    )
    with op.batch_alter_table("signposts", schema=None) as batch_op:
        for column in ("deal_id", "stage", "event_id", "source_id", "import_id"):
            batch_op.create_index(batch_op.f(f"ix_signposts_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signposts", schema=None) as batch_op:
        for column in ("deal_id", "stage", "event_id", "source_id", "import_id"):
            batch_op.drop_index(batch_op.f(f"ix_signposts_{column}"))
    op.drop_table("signposts")
