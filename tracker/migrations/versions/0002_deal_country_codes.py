"""deal buyer and seller codes, covered by a stage index; no index on events.stage

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:10:00

The overview counts deals per (stage, buyer codes, seller codes) in one GROUP BY over deals, so each deal
carries the ISO codes of its state buyers and sellers (derived, like `buyers` and `sellers`), and one index
on (current_stage, buyer_codes, seller_codes, last_event_on) serves that GROUP BY and the stage filter.
Existing deals get their codes from deal_parties here. The stage index on events served no query and cost
every import.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("buyer_codes", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("seller_codes", sa.Text(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_deals_current_stage"))
        batch_op.create_index(
            "ix_deals_stage_mix",
            ["current_stage", "buyer_codes", "seller_codes", "last_event_on"],
            unique=False,
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_stage"))

    connection = op.get_bind()
    codes: dict[tuple[str, str], set[str]] = defaultdict(set)
    for deal_id, role, code in connection.execute(
        sa.text(
            "SELECT deal_parties.deal_id, deal_parties.role, parties.country_code FROM deal_parties "
            "JOIN parties ON parties.id = deal_parties.party_id "
            "WHERE deal_parties.role IN ('buyer', 'seller') AND parties.kind = 'state' "
            "AND parties.country_code IS NOT NULL"
        )
    ):
        codes[(deal_id, role)].add(code)
    deal_ids = {deal_id for deal_id, _ in codes}
    updates = [
        {
            "deal_id": deal_id,
            "buyer_codes": " ".join(sorted(codes[(deal_id, "buyer")])) or None,
            "seller_codes": " ".join(sorted(codes[(deal_id, "seller")])) or None,
        }
        for deal_id in sorted(deal_ids)
    ]
    if updates:
        connection.execute(
            sa.text(
                "UPDATE deals SET buyer_codes = :buyer_codes, seller_codes = :seller_codes "
                "WHERE id = :deal_id"
            ),
            updates,
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_stage"), ["stage"], unique=False)
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index("ix_deals_stage_mix")
        batch_op.create_index(batch_op.f("ix_deals_current_stage"), ["current_stage"], unique=False)
    # Plain ALTER TABLE DROP COLUMN (SQLite 3.35+): a batch copy of deals would trip its foreign keys.
    op.drop_column("deals", "seller_codes")
    op.drop_column("deals", "buyer_codes")
