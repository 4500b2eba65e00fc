"""Deal page: one deal's stages over time, events with their sources, parties, value claims and conflicts.

Reached from the Deals table, the pipeline cards, or directly with ?deal=<deal id> in the URL.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from tracker import charts, queries, signposts
from tracker.attributes import DEAL_ATTRIBUTES
from tracker.conflicts import find_conflicts, linked_sources, value_claims
from tracker.dates import format_partial_date
from tracker.display import counted, escape_markdown, value_range_text
from tracker.errors import InvalidValue
from tracker.filters import url_deal_id
from tracker.stages import TimeInStage
from tracker.staleness import can_be_stale, is_stale, stale_after_days, stale_from
from tracker.views import capture, common, history, tables
from tracker.views.brief_downloads import brief_buttons

as_of = common.current_as_of()
deal_id = st.query_params.get("deal", "")
try:
    url_deal_id(deal_id)
except InvalidValue as problem:
    # Never sent to the database (PostgreSQL refuses a NUL byte); reported, and taken out of the address.
    common.ignore_url_value("deal", deal_id, problem)
    del st.query_params["deal"]
    deal_id = ""

if not deal_id:
    common.page_header("Deal page", None, as_of=as_of)
    st.info(
        "Choose a deal: select a row on the Deals page or open a card on the Pipeline page. A deal's "
        "page can also be opened directly with ?deal=<deal id> at the end of the address.",
        icon=":material/touch_app:",
    )
    st.page_link(common.DEALS_PAGE, label="Go to Deals", icon=":material/table_rows:")
    st.stop()

header = common.read(queries.deal_header, deal_id, as_of=as_of)
if header is None:
    common.page_header("Deal page", None, as_of=as_of)
    when = f" {as_of.words()}" if as_of is not None else ""
    st.warning(
        f"The ledger did not hold a deal with id “{escape_markdown(deal_id)}”{when}. Check the "
        "link, or find the deal on the Deals page.",
        icon=":material/search_off:",
    )
    if as_of is not None:
        st.button("Clear the date", key="deal-clear-date", on_click=common.clear_as_of)
    st.page_link(common.DEALS_PAGE, label="Go to Deals", icon=":material/table_rows:")
    st.stop()

common.page_header(escape_markdown(header.label), None, as_of=as_of)
st.caption("The sidebar filters choose deals for the other pages; a deal page always shows the whole deal.")
today = as_of.day if as_of is not None else dt.date.today()
value = value_range_text(header.value_low, header.value_high, header.currency) or "not stated"
# The thresholds are read from every event in the ledger: 3.6 s for the seed beside a SIPRI register on a
# first visit, most of the page's time. A completed or cancelled deal (or one with no stage yet) is never
# stale, so its page does without them.
thresholds = common.read(queries.stale_thresholds) if can_be_stale(header.stage) else None
stage_column, since_column, news_column, events_column = st.columns(4)
stage_column.metric("Stage", header.stage or "none stated", border=True)
tenure = TimeInStage.of(header.stage, header.stage_since, header.stage_since_precision, today=today)
if tenure.final:
    since_column.metric(tenure.label, tenure.since, border=True)
else:
    since_column.metric(
        "Days in stage",
        "–" if tenure.days is None else f"{tenure.days:,}",
        border=True,
        help=None if tenure.days is None else f"Since {tenure.since}.",
    )
if header.last_event_on and header.last_event_precision:
    stale = is_stale(
        header.stage,
        header.last_event_until,
        header.last_event_precision,
        today=today,
        thresholds=thresholds,
    )
    news_column.metric(
        "Last news",
        format_partial_date(header.last_event_on, header.last_event_precision),
        delta="stale" if stale else None,
        delta_color="inverse",
        delta_arrow="off",
        border=True,
        help=common.stale_help(thresholds)
        if thresholds is not None
        else "Completed and cancelled deals, and deals with no stage yet, are never stale.",
    )
else:
    news_column.metric("Last news", "–", border=True)
events_column.metric("Events", f"{header.event_count:,}", border=True)
if header.stage is not None and can_be_stale(header.stage) and header.last_event_until:
    after = stale_after_days(header.last_event_precision or "day", stage=header.stage, thresholds=thresholds)
    since = stale_from(
        header.last_event_until, header.last_event_precision, stage=header.stage, thresholds=thresholds
    )
    st.caption(
        f"{'Stale' if since is not None and today >= since else 'Not stale'}: a {header.stage} deal is stale "
        f"after {counted(after, 'day')} without news in this ledger"
        + (f" (from {since:%-d %b %Y})." if since is not None else ".")
    )
# The value on a row of its own: a range in billions never fits a quarter of the page.
st.metric(
    "Value",
    value,
    border=True,
    help="The deal's value range; see the notes of the value claims below for who states it.",
)
facts = [
    f"**Buyers:** {escape_markdown(header.buyers or 'not stated')}",
    f"**Sellers:** {escape_markdown(header.sellers or 'not stated')}",
    *(
        f"**{attribute.label}:** {escape_markdown(attribute.show(header.text(attribute)))}"
        for attribute in DEAL_ATTRIBUTES
        if attribute.in_facts and header.text(attribute) is not None
    ),
]
st.markdown(" · ".join(facts))
if header.summary:
    st.markdown(escape_markdown(header.summary))
brief_buttons(key="deal-brief", deal_id=deal_id, as_of=as_of)
editor = capture.deal_entry_points(deal_id, header, as_of=as_of)

events = common.read(queries.deal_events, deal_id, as_of=as_of)
sources = common.read(queries.deal_event_sources, deal_id, as_of=as_of)

conflicts = find_conflicts(events, sources)
links = linked_sources(sources)
for conflict in conflicts:
    lines = [f"**Conflicting claims ({conflict.kind}):** {escape_markdown(conflict.title)}"]
    for claim in conflict.claims.itertuples(index=False):
        parts = [escape_markdown(claim.date)]
        if claim.stage:
            parts.append(escape_markdown(claim.stage))
        if claim.value:
            parts.append(escape_markdown(claim.value))
        lines.append(
            f"- {' · '.join(parts)}: {escape_markdown(claim.summary)} — "
            f"{links.get(int(claim.event_id), 'no source')}"
        )
    st.warning("\n".join(lines), icon=":material/warning:")

deal_signposts = signposts.signposts_of_deals(common.ledger(), [deal_id], today=today, as_of=as_of)
if not deal_signposts.empty:
    st.markdown("**Signposts**: the milestones sources expect next")
    common.show_signposts(deal_signposts, key="deal-signposts", with_deal=False)

timeline_tab, events_tab, parties_tab, values_tab, history_tab = st.tabs(
    ["Timeline", f"Events ({len(events)})", "Parties", "Value claims", "History"], key="deal-tabs"
)

with timeline_tab:
    # From the events read above (reading them again cost as much as reading them once).
    intervals = queries.events_stage_intervals(deal_id, events, today=today, as_of=as_of)
    common.show_chart(
        charts.stage_timeline(intervals, events=events, title="Stages over time"), key="chart-deal-timeline"
    )
    st.markdown("**Time in each stage**")
    st.dataframe(
        queries.time_in_stage(intervals),
        key="time-in-stage",
        hide_index=True,
        placeholder="–",
        width="content",
        column_order=("stage", "days", "first_entered", "ongoing"),
        column_config={
            "stage": "Stage",
            "days": st.column_config.NumberColumn(
                "Days", format="localized", help="None for the stage a completed or cancelled deal ended in."
            ),
            "first_entered": st.column_config.TextColumn("First entered"),
            "ongoing": st.column_config.CheckboxColumn("Current"),
        },
    )

with events_tab:
    tables.DEAL_EVENTS.show(events, key="deal-events")
    st.markdown("**Every source, by event**")
    # In the events' order (by date, as the table above), not the links' (by event id).
    by_event = events[["event_id", "date", "summary"]].merge(sources, on="event_id")
    tables.DEAL_EVENT_SOURCES.show(by_event, key="deal-event-sources")
    capture.event_changes(deal_id, events, sources, editor=editor, as_of=as_of)

with parties_tab:
    roles = common.read(queries.deal_roles, deal_id, as_of=as_of)
    if roles.empty:
        st.info("No parties are named for this deal yet.")
    for role, members in roles.groupby("role", sort=False):
        described = [
            f"{name} ({kind}{', ' + code if isinstance(code, str) else ''})"  # no ", nan" without a country
            for name, kind, code in zip(members["party"], members["kind"], members["country_code"])
        ]
        names = ", ".join(escape_markdown(text) for text in described)
        st.markdown(f"**{escape_markdown(role.capitalize())}:** {names}")

with values_tab:
    claims = value_claims(events, sources)
    if claims.empty:
        st.info("No event of this deal states a value or a quantity.")
    else:
        tables.VALUE_CLAIMS.show(claims, key="value-claims")
        st.caption(
            "Each event's claim with its sources, side by side. Who states a value is in the event "
            "notes (Events tab)."
        )

with history_tab:
    history.show(deal_id, editor=editor)
