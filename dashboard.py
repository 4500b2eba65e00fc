"""The defense-deal tracker dashboard: `streamlit run dashboard.py`.

This script sets up the ledger (seeding it on first run), the shared sidebar filters and the pages;
each page lives in tracker/views/ and reads the ledger only through tracker functions.
"""

from __future__ import annotations

import streamlit as st

from tracker.display import escape_markdown
from tracker.errors import LedgerUnavailable
from tracker.views import common, editors, heap, saved, server_guards

# Uploads kept for signed-in editors only, and no visitor may clear everyone's caches (see the module).
server_guards.install()
# Streamlit's collection after each run then skips the imported code (0.2-1 s a run; see the module).
heap.freeze_loaded_code()
# No page or page_config icons: Streamlit turns the current page's icon into the favicon and fetches a
# Material icon's SVG from fonts.gstatic.com, which this deployment cannot reach.
st.set_page_config(page_title="Defense-deal tracker", layout="wide")

try:
    common.seed_on_first_run()
except LedgerUnavailable as exc:
    st.error(f"The ledger cannot be opened: {escape_markdown(exc)}")
    st.stop()
# With no editor configured: the console's one-time sign-in link (printed, and redeemed from ?signin=).
editors.sign_in_link_step(common.configured_editors())

overview = st.Page(common.OVERVIEW_PAGE, title="Overview", url_path="overview", default=True)
deal = st.Page(common.DEAL_PAGE, title="Deal page", url_path="deal")
navigation = st.navigation(
    {
        "Ledger": [
            overview,
            st.Page(common.PIPELINE_PAGE, title="Pipeline", url_path="pipeline"),
            st.Page(common.DEALS_PAGE, title="Deals", url_path="deals"),
            deal,
            st.Page(common.SOURCES_PAGE, title="Sources", url_path="sources"),
            st.Page(common.CHANGES_PAGE, title="Changes", url_path="changes"),
        ],
        "Editors": [
            st.Page(common.NEW_DEAL_PAGE, title="New deal", url_path="new-deal"),
            st.Page(common.UPLOAD_PAGE, title="Upload", url_path="upload"),
            st.Page(common.ARTICLE_PAGE, title="Add from article", url_path="article"),
        ],
    }
)
saved.sidebar(common.sidebar_filters())
common.as_of_picker(applies=navigation in (overview, deal))
navigation.run()
