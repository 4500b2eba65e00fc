"""Changes: what happened to the filtered deals between two dates (tracker.changes): the changes to many
deals at once (a bulk import, a source's regrade), each with a few of its deals linked, then the others
grouped by deal, newest first, each deal linking to its page; the overdue signposts; the digest as CSV
and Atom.

Opened from a saved view (?view=<id>), it starts from when that view was last opened; otherwise from
DEFAULT_DAYS ago.
"""

from __future__ import annotations

import datetime as dt
import functools

import streamlit as st

from tracker import changes, queries, saved_views, signposts
from tracker.display import counted, escape_markdown
from tracker.export import to_csv_bytes
from tracker.filters import Filters, to_query
from tracker.views import common, importing, saved

DEFAULT_DAYS = 7
DEALS_SHOWN = 100  # deals per page; the downloads hold every change


@st.cache_data(show_spinner="Reading what changed…", max_entries=20, ttl=600)
def _digest(
    url: str, version: str, since: dt.datetime, until: dt.datetime, filters: Filters
) -> changes.Digest:
    # Keyed by the ledger's version: an import or undo starts afresh. A window ending now ends at the
    # next whole minute, so reruns within that minute (a click, a download) reuse the digest.
    del url, version
    # The stale thresholds are read once per ledger version for every page, not again for each digest.
    thresholds = common.read(queries.stale_thresholds)
    return changes.digest(common.ledger(), since=since, until=until, filters=filters, thresholds=thresholds)


def _csv_bytes(result: changes.Digest) -> bytes:
    return to_csv_bytes(changes.to_frame(result))


def _line(change: changes.Change) -> str:
    who = f" · by {change.editor}" + (f": {change.reason}" if change.reason else "") if change.editor else ""
    return f"{change.at:%Y-%m-%d %H:%M} · {change.line}{who}"


filters = common.current_filters()
common.page_header("Changes", filters)
now = dt.datetime.now(dt.UTC).replace(tzinfo=None, second=0, microsecond=0) + dt.timedelta(minutes=1)
today = now.date()

view = None
view_text = st.query_params.get(saved.VIEW_PARAMETER, "")
if view_text.isdigit() and len(view_text) < 12:
    view = saved_views.find_view(common.ledger(), int(view_text))
# When the view was seen before this visit: kept for the session, since opening it moves it to now.
seen_key = f"changes-seen-{view.id}" if view else "changes-seen"
if seen_key not in st.session_state:
    st.session_state[seen_key] = view.seen_at if view else now - dt.timedelta(days=DEFAULT_DAYS)
    if view and importing.allowed_editor() is not None:
        saved.mark_opened(view.id)
seen: dt.datetime = st.session_state[seen_key]
if view:
    # The view's own filters (the sidebar shows them too when the view was opened from there; a link
    # with ?view= may arrive with other sidebar filters).
    filters = saved_views.view_filters(common.ledger(), view)
    st.caption(
        f"Saved view “{escape_markdown(view.name)}”: changes since it was last opened "
        f"({seen:%Y-%m-%d %H:%M} UTC). {escape_markdown(common.filters_caption(filters))}."
    )
    if st.button("Use the sidebar's filters instead", key="leave-view"):
        st.switch_page(common.CHANGES_PAGE)

from_column, until_column = st.columns(2)
since_day = from_column.date_input(
    "From", value=seen.date(), key=f"{seen_key}-from", max_value=today, format="YYYY-MM-DD"
)
until_day = until_column.date_input(
    "Until (end of the day)", value=today, key=f"{seen_key}-until", max_value=today, format="YYYY-MM-DD"
)
since = seen if since_day == seen.date() else dt.datetime.combine(since_day, dt.time.min)
until = min(now, dt.datetime.combine(until_day + dt.timedelta(days=1), dt.time.min))
if until <= since:
    st.warning(
        "“Until” is before “From”: choose a later end or an earlier start.", icon=":material/event_busy:"
    )
    st.stop()

result = _digest(common.database_url(), common.read_version(), since, until, filters)
across, groups = result.across_deals(), result.by_deal()
# Our own labels and numbers only: no ledger text in this markdown.
counts = "; ".join(
    f"{changes.KIND_BY_NAME[kind].label.lower()}: {count}" for kind, count in result.counts().items()
)
told = [f"{counted(len(result.changes) - len(across), 'change')} to {counted(len(groups), 'deal')}"]
if across:
    told = [*told[: 1 if groups else 0], f"{counted(len(across), 'change')} to many deals at once"]
st.markdown(
    f"**{' and '.join(told)}** from {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC"
    + (f" ({counts})." if counts else ".")
)
caption = common.filters_caption(filters)
csv_column, atom_column = st.columns(2)
# The files are built when a button is clicked (a callable, run outside the script: no Streamlit in it).
csv_column.download_button(
    "Download CSV",
    functools.partial(_csv_bytes, result),
    file_name=f"changes-{since:%Y%m%d}-{until:%Y%m%d}.csv",
    mime="text/csv",
    key="changes-csv",
)
atom_column.download_button(
    "Download Atom feed",
    functools.partial(
        changes.to_atom,
        result,
        caption=caption,
        feed_id=changes.feed_id(to_query(filters, common.read(queries.filter_options))),
    ),
    file_name=f"changes-{since:%Y%m%d}-{until:%Y%m%d}.atom",
    mime="application/atom+xml",
    key="changes-atom",
)

if not result.changes:
    st.info("Nothing changed for these deals in this period.", icon=":material/check_circle:")
if across:
    with st.container(border=True):
        st.markdown(f"**{changes.ACROSS_DEALS}**")
        for change in across:
            # st.text: ledger words are shown as they are, never as markdown.
            st.text(_line(change))
            st.caption("For example:")
            for deal_id, title in change.examples:
                st.page_link(common.DEAL_PAGE, label=escape_markdown(title), query_params={"deal": deal_id})
            if change.kind == "import":
                st.page_link(
                    common.UPLOAD_PAGE, label="Import history (Upload page)", icon=":material/history:"
                )
for group in groups[:DEALS_SHOWN]:
    with st.container(border=True):
        st.page_link(
            common.DEAL_PAGE, label=escape_markdown(group.deal_title), query_params={"deal": group.deal_id}
        )
        st.text("\n".join(_line(change) for change in group.changes))
if len(groups) > DEALS_SHOWN:
    st.caption(f"The {DEALS_SHOWN} deals with the latest changes; the downloads hold all {len(groups)}.")

st.subheader("Overdue signposts")
overdue = signposts.overdue_signposts(common.ledger(), filters=filters, today=today)
if overdue.empty:
    st.caption("No signpost of these deals is overdue.")
else:
    common.show_signposts(overdue, key="changes-overdue", with_deal=True)
