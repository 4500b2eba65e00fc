"""Sources: every source behind the filtered deals, its grade and use; selecting one lists the events and
deals it supports, each leading to its deal page. Deals resting on weak sources."""

from __future__ import annotations

import streamlit as st

from tracker import queries
from tracker.display import counted, escape_markdown
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
chosen = tables.SOURCES.show(sources, key="sources-table")
shown = len(sources)
note = f"Showing the {shown:,} most-used of {total:,} sources" if shown < total else counted(total, "source")
st.caption(f"{note} behind the events of the matching deals. Select a source to see what it supports.")

rows = chosen.selection.rows
if rows and rows[0] < len(sources):
    source = sources.iloc[rows[0]]
    support = common.read(queries.source_support, int(source["source_id"]), filters=filters)
    name = source["publisher"] if isinstance(source["publisher"], str) and source["publisher"] else "—"
    st.subheader(f"What {escape_markdown(name)} supports")
    # Its title, else its whole address: which of a publisher's articles it is.
    about = source["title"] if isinstance(source["title"], str) and source["title"] else source["url"]
    if isinstance(about, str) and about:
        st.caption(escape_markdown(about))
    events_column, deals_column = st.columns(2)
    events_column.metric("Events", f"{support.event_count:,}")
    deals_column.metric("Deals", f"{support.deal_count:,}")
    events = support.events.assign(
        page=common.deal_links(support.events["deal_id"], support.events["deal_label"])
    )
    tables.SOURCE_EVENTS.show(events, key="source-events")
    if support.event_count > len(events):
        st.caption(f"The latest {len(events):,} of {counted(support.event_count, 'event')}, by date.")
    deals = support.deals.assign(page=common.deal_links(support.deals["deal_id"], support.deals["label"]))
    tables.SOURCE_DEALS.show(deals, key="source-deals")
    if support.deal_count > len(deals):
        st.caption(
            f"The {len(deals):,} of {counted(support.deal_count, 'deal')} with the latest events this "
            "source supports."
        )
    st.caption("A deal's title opens its page in a new tab.")

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
