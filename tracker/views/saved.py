"""Saved views in the sidebar: each with the number of changes since it was last opened, a link that opens
it on the Changes page, and (for editors) saving the current filters under a name."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from tracker import queries, saved_views
from tracker.display import escape_markdown
from tracker.errors import ViewNotSaved
from tracker.filters import Filters, view_from_query, widget_values
from tracker.views import common, editors, importing

VIEW_PARAMETER = "view"  # ?view=<id> on the Changes page: the saved view being opened
SAVED_NOTICE = "saved-view-notice"  # session-state key: the message of the view just saved


@st.cache_data(show_spinner=False, max_entries=200, ttl=60)
def _count(url: str, version: str, view: saved_views.View) -> int:
    # `version` is part of the cache key only; the minute-long ttl lets overdue signposts come in.
    del version
    # The stale thresholds are read once per ledger version, not again for each saved view.
    thresholds = common.read(queries.stale_thresholds)
    return saved_views.changes_since_seen(common.ledger(), view, thresholds=thresholds)


def save(name: str, filters: Filters) -> saved_views.View:
    """Save the filters for the signed-in editor (checked where it writes)."""
    editor = editors.editor_for_write()
    return saved_views.save_view(common.ledger(), name, filters, editor=editor)


def mark_opened(view_id: int) -> None:
    """An editor opened the view: count its changes from now on (visitors do not write to the ledger)."""
    editors.editor_for_write()
    saved_views.mark_opened(common.ledger(), view_id)


def _apply(view: saved_views.View) -> None:
    """Put the view's filters into the sidebar's widgets (a click's callback: before they are drawn)."""
    options = common.read(queries.filter_options)
    st.session_state.update(
        widget_values(view_from_query(view.query, options, today=dt.date.today()).filters)
    )


def sidebar(filters: Filters) -> None:
    views = saved_views.saved_views(common.ledger())
    editor = importing.allowed_editor()
    with st.sidebar:
        st.divider()
        st.markdown("**Saved views**")
        version = common.read_version()
        for view in views:
            count = _count(common.database_url(), version, view)
            label = f"{escape_markdown(view.name)} ({count} new)" if count else escape_markdown(view.name)
            if st.button(
                label,
                key=f"open-view-{view.id}",
                type="tertiary",
                help=view.query or "all deals",
                on_click=_apply,
                args=(view,),
            ):
                st.switch_page(common.CHANGES_PAGE, query_params={VIEW_PARAMETER: str(view.id)})
        if not views:
            st.caption("No saved views yet." + ("" if editor else " Editors can save the current filters."))
        if editor is None:
            return
        with st.form("save-view", clear_on_submit=True, border=False):
            name = st.text_input("Name", key="save-view-name", placeholder="e.g. Ukraine air defence")
            if st.form_submit_button("Save these filters"):
                try:
                    saved = save(name, filters)
                except ViewNotSaved as refused:
                    st.error(f"Not saved: {escape_markdown(refused)}")
                else:
                    # Run again so the list above shows the new view; the message waits for that run.
                    st.session_state[SAVED_NOTICE] = (
                        f"Saved as “{saved.name}” ({saved.query or 'all deals'})."
                    )
                    st.rerun()
        if SAVED_NOTICE in st.session_state:
            st.success(escape_markdown(st.session_state.pop(SAVED_NOTICE)))
