"""deal dates with their precision, and where the last event's period ends

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00

A deal's derived dates (stage_since, first_event_on, last_event_on) are the starts of its events' periods,
so a SIPRI delivery "2023" read as 1 Jan 2023 and a deal was judged stale 60 days after 1 Jan 2023. Each
date now carries the precision it was reported with, and the last event's period its end
(`last_event_until`), derived like the dates themselves (tracker.stages.deal_status). Existing deals get
them from their events here, in SQL that picks the events deal_status picks: the last event is the latest
to start, then to end; the first, and the one that began the current stage, the earliest to start, then
the most precise.

The stage-mix index covers the stale count (tracker.staleness): last_event_until and its precision
instead of last_event_on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_FINENESS = "CASE e.date_precision WHEN 'day' THEN 0 WHEN 'week' THEN 1 WHEN 'month' THEN 2 ELSE 3 END"
_LAST = "ORDER BY e.occurred_on DESC, e.occurred_until DESC, e.id DESC LIMIT 1"
# Retracted events (0006) no longer count, as tracker.knowledge has it.
_CURRENT = "AND NOT EXISTS (SELECT 1 FROM retractions r WHERE r.event_id = e.id)"
BACKFILL = f"""
UPDATE deals SET
    last_event_until = (SELECT e.occurred_until FROM events e WHERE e.deal_id = deals.id {_CURRENT} {_LAST}),
    last_event_precision = (
        SELECT e.date_precision FROM events e WHERE e.deal_id = deals.id {_CURRENT} {_LAST}
    ),
    first_event_precision = (
        SELECT e.date_precision FROM events e WHERE e.deal_id = deals.id {_CURRENT}
        ORDER BY e.occurred_on, {_FINENESS}, e.id LIMIT 1
    ),
    stage_since_precision = (
        SELECT e.date_precision FROM events e
        WHERE e.deal_id = deals.id AND e.stage = deals.current_stage AND e.occurred_on = deals.stage_since
            {_CURRENT}
        ORDER BY {_FINENESS}, e.id LIMIT 1
    )
"""


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN: a batch copy of deals would trip its foreign keys (see 0002).
    op.add_column("deals", sa.Column("stage_since_precision", sa.String(length=8), nullable=True))
    op.add_column("deals", sa.Column("first_event_precision", sa.String(length=8), nullable=True))
    op.add_column("deals", sa.Column("last_event_precision", sa.String(length=8), nullable=True))
    op.add_column("deals", sa.Column("last_event_until", sa.Date(), nullable=True))
    op.execute(BACKFILL)
    op.drop_index("ix_deals_stage_mix", table_name="deals")
    op.create_index(
        "ix_deals_stage_mix",
        "deals",
        ["current_stage", "buyer_codes", "seller_codes", "last_event_until", "last_event_precision"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_deals_stage_mix", table_name="deals")
    op.create_index(
        "ix_deals_stage_mix",
        "deals",
        ["current_stage", "buyer_codes", "seller_codes", "last_event_on"],
        unique=False,
    )
    for column in (
        "last_event_until",
        "last_event_precision",
        "first_event_precision",
        "stage_since_precision",
    ):
        op.drop_column("deals", column)
