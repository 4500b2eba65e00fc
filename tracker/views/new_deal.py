"""New deal (editors only): a deal and its first event, with its sources and parties, entered in a form and
imported as a file's rows are (tracker.views.capture)."""

from __future__ import annotations

import streamlit as st

from tracker.views import capture, common, importing

common.page_header("New deal", None)
importing.show_written_message()
importing.signed_in_editor()
st.caption(
    "A deal the ledger does not hold yet, with its first event. To add an event to a deal in the ledger, "
    "open the deal's page and use Add event."
)
capture.new_deal()
