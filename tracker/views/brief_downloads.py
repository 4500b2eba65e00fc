"""The "Brief" downloads of the deal page and the Deals page: the bytes come from tracker.briefs.

The file is built when a button is clicked (Streamlit runs `data` callables then), and kept per ledger
version, deal or view, as-of view and format, so a second click, or a colleague's, reuses it until the
ledger changes. Caching lives here, in the UI layer; tracker.briefs builds afresh on every call.
"""

from __future__ import annotations

import re

import streamlit as st
from sqlalchemy import Engine

from tracker import queries
from tracker.briefs import FORMATS, BriefFormat, deal_brief, render, view_brief
from tracker.filters import Filters
from tracker.knowledge import AsOf
from tracker.views import common

LABELS: dict[str, str] = {"html": "Brief (HTML)", "docx": "Brief (DOCX)"}
HELP: dict[str, str] = {
    "html": "One file that opens and prints offline: figures, timeline chart, events with sources and "
    "grades, conflicting claims, signposts and parties.",
    "docx": "The same brief as a Word document to edit (the chart as a table of its stages).",
}


@st.cache_data(show_spinner=False, max_entries=50)
def _deal_bytes(
    _engine: Engine, url: str, version: str, deal_id: str, as_of: AsOf | None, format: BriefFormat
) -> bytes:
    del url, version  # cache key only: a new import or undo gives new keys
    return render(deal_brief(_engine, deal_id, as_of=as_of), format)


@st.cache_data(show_spinner=False, max_entries=50)
def _view_bytes(
    _engine: Engine, url: str, version: str, filters: Filters, as_of: AsOf | None, format: BriefFormat
) -> bytes:
    del url, version
    return render(view_brief(_engine, filters=filters, as_of=as_of), format)


def brief_buttons(
    *, key: str, deal_id: str | None = None, filters: Filters | None = None, as_of: AsOf | None = None
) -> None:
    """An HTML and a DOCX download of the brief of `deal_id`, or of the view `filters` chooses."""
    # The deal id is ledger text: only letters, digits and dashes reach the file name.
    stem = "brief-" + (
        re.sub(r"[^A-Za-z0-9]+", "-", deal_id).strip("-")[:60] or "deal" if deal_id else "deals"
    )
    engine = common.ledger()
    url = engine.url.render_as_string(hide_password=False)
    version = queries.ledger_version(engine)
    # Side by side at their own width: in columns across the page the second button sat in its middle.
    row = st.container(horizontal=True, gap="small")
    for format in FORMATS:

        def build(format: BriefFormat = format) -> bytes:
            if deal_id is not None:
                return _deal_bytes(engine, url, version, deal_id, as_of, format)
            return _view_bytes(engine, url, version, filters or Filters(), as_of, format)

        row.download_button(
            LABELS[format],
            key=f"{key}-{format}",
            icon=":material/description:",
            mime=FORMATS[format],
            file_name=f"{stem}.{format}",
            on_click="ignore",
            data=build,
            help=HELP[format],
        )
