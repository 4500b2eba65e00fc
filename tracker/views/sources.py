"""Sources: every source behind the filtered deals, its grade and use, and deals resting on weak sources."""

from __future__ import annotations

import streamlit as st

from tracker import queries
from tracker.display import counted
from tracker.views import common, tables

filters = common.current_filters()
common.page_header("Sources", filters)

if common.ledger_is_empty():
    common.show_empty_ledger()
    st.stop()

total = common.read(queries.count_sources, filters=filters)
if total == 0:
    common.show_no_match("clear-filters-sources")
    st.stop()

sources = common.read(queries.sources_table, filters=filters)
tables.SOURCES.show(sources, key="sources-table")
shown = len(sources)
note = f"Showing the {shown:,} most-used of {total:,} sources" if shown < total else counted(total, "source")
st.caption(f"{note} behind the events of the matching deals.")

st.subheader("Deals resting on low-grade sources")
st.markdown(
    "A deal is listed here when **no event of the deal is backed by a source graded A, B or C**: "
    "everything the ledger says about it comes from sources graded D (not usually reliable), "
    "E (unreliable) or F (cannot be judged). *Sources* counts the distinct sources it rests on; "
    "1 means a single low-grade source."
)
weak = common.read(queries.weakly_sourced_deals, filters=filters)
if weak.empty:
    st.success("Every matching deal has at least one source graded A, B or C.", icon=":material/verified:")
else:
    picked = tables.WEAK_DEALS.show(weak, key="weak-deals-table")
    st.caption("Select a row to open the deal page.")
    if picked.selection.rows:
        common.open_deal(weak["deal_id"].iloc[picked.selection.rows[0]])
