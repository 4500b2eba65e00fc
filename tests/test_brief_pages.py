"""The "Brief" downloads on the deal page and the Deals page (AppTest), and the bytes they hand over."""

from __future__ import annotations

import io

import pytest
from docx import Document
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from tests.apptest import open_page
from tracker import queries
from tracker.briefs import Brief, deal_brief
from tracker.filters import Filters
from tracker.views import brief_downloads

pytestmark = pytest.mark.usefixtures("fresh_caches")
DEALS, DEAL = "tracker/views/deals.py", "tracker/views/deal.py"


def brief_buttons(at: AppTest) -> list[tuple[str, bool]]:
    """The brief download buttons: label, and whether the file is built only when clicked."""
    return [
        (b.proto.label, bool(b.proto.deferred_file_id))
        for b in at.get("download_button")
        if b.proto.label.startswith("Brief")
    ]


def test_the_deal_page_offers_its_brief(seeded: Engine):
    at = open_page(DEAL, query={"deal": "us-ukraine-drone-deal"}, timeout=60)
    assert brief_buttons(at) == [("Brief (HTML)", True), ("Brief (DOCX)", True)]


def test_the_deals_page_offers_a_brief_of_the_view(seeded: Engine):
    at = open_page(DEALS, query={"stage": "negotiating"}, timeout=60)
    assert brief_buttons(at) == [("Brief (HTML)", True), ("Brief (DOCX)", True)]


def test_the_downloads_are_the_briefs_and_are_kept_until_the_ledger_changes(seeded: Engine, monkeypatch):
    built: list[str] = []

    def counted(engine: Engine, deal_id: str, **options: object) -> Brief:
        built.append(deal_id)
        return deal_brief(engine, deal_id, **options)

    monkeypatch.setattr(brief_downloads, "deal_brief", counted)
    version = queries.ledger_version(seeded)
    page = brief_downloads._deal_bytes(seeded, "url", version, "us-ukraine-drone-deal", None, "html")
    assert page.startswith(b"<!DOCTYPE html>") and b"US\xe2\x80\x93Ukraine Drone Deal</h1>" in page
    again = brief_downloads._deal_bytes(seeded, "url", version, "us-ukraine-drone-deal", None, "html")
    assert (again, built) == (page, ["us-ukraine-drone-deal"])  # the second from the cache
    brief_downloads._deal_bytes(seeded, "url", "a later version", "us-ukraine-drone-deal", None, "html")
    assert built == ["us-ukraine-drone-deal"] * 2
    docx = brief_downloads._view_bytes(seeded, "url", version, Filters(stages=("negotiating",)), None, "docx")
    assert [len(t.rows) for t in Document(io.BytesIO(docx)).tables] == [6, 10, 2, 15, 4]
