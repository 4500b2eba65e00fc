"""Pipeline: the CRM board, one column per stage, each deal a card."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from tracker import queries
from tracker.display import counted, escape_markdown, value_range_text
from tracker.staleness import STALE_AFTER_DAYS, can_be_stale
from tracker.views import common
from tracker.vocab import STAGE_BY_NAME, STAGE_NAMES

filters = common.current_filters()
common.page_header("Pipeline", filters)

if common.ledger_is_empty():
    common.show_empty_ledger()
    st.stop()

totals = common.read(queries.deals_by_stage, filters=filters).set_index("stage")["deals"]
if int(totals.sum()) == 0:
    common.show_no_match("clear-filters-pipeline")
    st.stop()

thresholds = common.read(queries.stale_thresholds)
cards = common.read(queries.pipeline_cards, filters=filters, today=dt.date.today(), thresholds=thresholds)
stages = [stage for stage in STAGE_NAMES if not filters.stages or stage in filters.stages]
held = [stage for stage in stages if int(totals.get(stage, 0))]
st.caption(
    f"Each stage that holds deals has a lane of its {queries.CARDS_PER_STAGE} most recently active deals "
    "(scroll within a lane, and sideways when the lanes are wider than the screen); completed and cancelled "
    "deals are folded away. Grades: source reliability A–F and claim credibility 1–6 of the best source on "
    "the latest event. A deal is stale when its news is older than is usual for its stage in this ledger "
    "(the threshold under each stage's name)."
)
# Every stage's count on the first screen, the empty ones too: lanes past the window's edge are easy to miss.
st.caption(
    "Deals by stage: "
    + " · ".join(f"{stage.capitalize()} {int(totals.get(stage, 0)):,}" for stage in stages)
    + "."
)


def _card(card: Any) -> None:
    with st.container(border=True, key=f"card-{card.deal_id}"):
        st.markdown(f"**{escape_markdown(card.label)}**")
        lines = [
            f"Buyer: {escape_markdown(card.buyers or 'not stated')}",
            f"Seller: {escape_markdown(card.sellers or 'not stated')}",
        ]
        value = value_range_text(card.value_low, card.value_high, card.currency)
        if value:
            lines.append(f"Value: {escape_markdown(value)}")
        if card.last_event:
            lines.append(f"Last news: {escape_markdown(card.last_event)}")
        if pd.notna(card.days_in_stage):  # a float column once any card has none
            lines.append(f"{counted(int(card.days_in_stage), 'day')} in stage")
        if card.latest_grade:
            lines.append(f"Latest source: {card.latest_grade}")
        if card.stale:
            lines.append(":orange[**Stale**]")
        if card.overdue_signposts:
            lines.append(f":red[**{counted(card.overdue_signposts, 'overdue signpost')}**]")
        st.caption("  \n".join(lines))
        if st.button("Open", key=f"open-{card.deal_id}", width="stretch"):
            common.open_deal(card.deal_id)


# Stages left to right in one row as on a CRM board, the row scrolling sideways when it is wider than the
# screen. Each lane scrolls within a fixed height, so the row (and its sideways scroll bar) stays on the
# first screen instead of below the longest lane.
# Only stages that hold deals get a lane: with four empty lanes first (the seed's one deal in the making
# beside a SIPRI register, under "All"), the register's 27,951 deals in the later stages were off screen.
LANE_HEIGHT_PX = 640
CARDS_BEFORE_SCROLLING = 3
LANE_WIDTH_PX = 240
board = st.container(horizontal=True, wrap=False, gap="medium", key="pipeline-board")
for stage in held:
    total = int(totals[stage])
    with board.container(width=LANE_WIDTH_PX, key=f"lane-{stage}"):
        st.markdown(
            f"**{stage.capitalize()}** · {counted(total, 'deal')}", help=STAGE_BY_NAME[stage].description
        )
        in_stage = cards[cards["stage"] == stage]
        if can_be_stale(stage):
            st.caption(f"Stale after {counted(thresholds.get(stage, STALE_AFTER_DAYS), 'day')} without news")
        if not can_be_stale(stage):
            lane = st.expander(f"Show {counted(len(in_stage), 'deal')}")
        elif len(in_stage) > CARDS_BEFORE_SCROLLING:
            lane = st.container(height=LANE_HEIGHT_PX, border=False, key=f"cards-{stage}")
        else:
            lane = st.container()
        with lane:
            for card in in_stage.itertuples(index=False):
                _card(card)
            if total > len(in_stage):
                st.caption(f"Showing {len(in_stage):,} of {total:,}; narrow the filters to see the others.")
