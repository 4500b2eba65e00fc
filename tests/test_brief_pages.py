"""The "Brief" downloads on the deal page and the Deals page (AppTest), and the bytes they hand over."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from docx import Document
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from tracker import queries
from tracker.briefs import Brief, deal_brief
from tracker.filters import Filters
from tracker.views import brief_downloads

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")
DEALS, DEAL = "tracker/views/deals.py", "tracker/views/deal.py"


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def open_page(page: str, query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.query_params.update(query)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def brief_buttons(at: AppTest) -> list[tuple[str, bool]]:
    """The brief download buttons: label, and whether the file is built only when clicked."""
    return [
        (b.proto.label, bool(b.proto.deferred_file_id))
        for b in at.get("download_button")
        if b.proto.label.startswith("Brief")
    ]


def test_the_deal_page_offers_its_brief(seeded: Engine):
    at = open_page(DEAL, {"deal": "us-ukraine-drone-deal"})
    assert brief_buttons(at) == [("Brief (HTML)", True), ("Brief (DOCX)", True)]


def test_the_deals_page_offers_a_brief_of_the_view(seeded: Engine):
    at = open_page(DEALS, {"stage": "negotiating"})
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
