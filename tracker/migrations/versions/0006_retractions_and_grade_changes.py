"""retractions, grade changes, removed tags and the reason for a change: correcting without erasing

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00

Editors take events back (a retraction, or a correction: a retraction with its replacement), regrade
sources and re-rate claims, and remove tags, each as a recorded change with a reason (tracker.revisions).
Nothing is deleted: the as-of views read what was known and how it was graded at any moment, and an undo
removes the record. Every new foreign key leads an index (see 0004).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("imports", sa.Column("reason", sa.Text(), nullable=True))
    with op.batch_alter_table("deal_tags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_deal_tags_removed_by_imports"), "imports", ["removed_by"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_deal_tags_removed_by"), ["removed_by"], unique=False)
    op.create_table(
        "retractions",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("replacement_id", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_retractions_event_id_events")),
        sa.ForeignKeyConstraint(
            ["replacement_id"], ["events.id"], name=op.f("fk_retractions_replacement_id_events")
        ),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], name=op.f("fk_retractions_import_id_imports")),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_retractions")),
    )
    with op.batch_alter_table("retractions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retractions_import_id"), ["import_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_retractions_replacement_id"), ["replacement_id"], unique=False)
    op.create_table(
        "grade_changes",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("grade", sa.String(length=12), nullable=False),
        sa.Column("old_value", sa.String(length=1), nullable=False),
        sa.Column("new_value", sa.String(length=1), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(grade = 'reliability') = (event_id IS NULL)", name=op.f("ck_grade_changes_claim")
        ),
        sa.CheckConstraint("grade IN ('reliability', 'credibility')", name=op.f("ck_grade_changes_grade")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_grade_changes_event_id_events")),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_grade_changes_import_id_imports")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_grade_changes_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_changes")),
    )
    with op.batch_alter_table("grade_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grade_changes_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_grade_changes_import_id"), ["import_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_grade_changes_source_id"), ["source_id"], unique=False)


def downgrade() -> None:
    op.drop_table("grade_changes")
    op.drop_table("retractions")
    with op.batch_alter_table("deal_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_tags_removed_by"))
        batch_op.drop_constraint(batch_op.f("fk_deal_tags_removed_by_imports"), type_="foreignkey")
        batch_op.drop_column("removed_by")
    # Not in batch mode: on SQLite that copies the table, which every other table refers to (SQLite 3.35+
    # drops a plain column in place).
    op.drop_column("imports", "reason")
