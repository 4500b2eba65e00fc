"""Sources: every source behind the filtered deals, its grade and use, and deals resting on weak sources."""

from __future__ import annotations

import streamlit as st

from tracker import queries
from tracker.display import counted
from tracker.views import common

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
st.dataframe(
    sources,
    key="sources-table",
    hide_index=True,
    placeholder="–",
    column_order=(
        "publisher",
        "title",
        "url",
        "published_on",
        "kind",
        "reliability",
        "reliability_meaning",
        "events",
        "deals",
    ),
    column_config={
        "publisher": st.column_config.TextColumn("Publisher"),
        "title": st.column_config.TextColumn("Title", width="large"),
        "url": st.column_config.LinkColumn("Link", display_text="open ↗", validate=r"^https?://"),
        "published_on": st.column_config.DateColumn("Published", format="D MMM YYYY"),
        "kind": st.column_config.TextColumn("Kind", width="small"),
        "reliability": st.column_config.TextColumn(
            "Grade", width="small", help="NATO Admiralty source reliability, A (best) to F."
        ),
        "reliability_meaning": st.column_config.TextColumn("Reliability"),
        "events": st.column_config.NumberColumn("Events supported", width="small"),
        "deals": st.column_config.NumberColumn("Deals supported", width="small"),
    },
)
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
    chosen = st.dataframe(
        weak,
        key="weak-deals-table",
        hide_index=True,
        placeholder="–",
        on_select="rerun",
        selection_mode="single-row",
        column_order=("title", "stage", "sources", "best_grade"),
        column_config={
            "title": st.column_config.TextColumn("Deal", width="large"),
            "stage": "Stage",
            "sources": st.column_config.NumberColumn("Sources"),
            "best_grade": st.column_config.TextColumn("Best grade"),
        },
    )
    st.caption("Select a row to open the deal page.")
    if chosen.selection.rows:
        common.open_deal(weak["deal_id"].iloc[chosen.selection.rows[0]])
