"""Two SIPRI-recorded deals with one title read apart on every surface that names a deal: the briefs (HTML
and DOCX), the signpost lists, the changes digest (text, CSV, Atom, the Changes page) and the Sources page.
Each reads tracker.labels, which applies tracker.display.deal_label (its cases: tests/test_display.py)."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote

import pytest
from docx import Document
from sqlalchemy import Engine

from tests.apptest import open_page, open_signed_in, page_path, run
from tests.builders import event_row, ledger_csv
from tracker import changes, queries
from tracker.briefs import brief_docx, brief_html, deal_brief, view_brief
from tracker.display import escape_markdown
from tracker.filters import Filters
from tracker.importer import import_bytes
from tracker.labels import deal_labels
from tracker.signposts import overdue_signposts, signposts_of_deals

pytestmark = pytest.mark.usefixtures("fresh_caches")
TITLE = "TX-990 Testradar (radar) — France to India"
EARLY = f"{TITLE}, ordered 2019, 2 units"
LATE = f"{TITLE}, ordered 2021, 5 units"
IMPORTED = dt.datetime(2026, 1, 5, 12, 0)
ALL = Filters(scope="all")


def _ordered(deal: str, year: str, quantity: str, by: str) -> dict[str, str]:
    """An order told only by a database source (as a SIPRI import writes them), with a signpost; graded D
    so that the low-grade list of the Sources page names the deals too."""
    return event_row(
        deal, year, f"{quantity} ordered.", source="Arms Register", grade="D", stage="contracted",
        deal_title=TITLE, buyer="India", seller="France", quantity=quantity, source_kind="database",
        signpost_stage="delivering", signpost_by=by, signpost_note=f"deliveries by {by}",
    )  # fmt: skip


@pytest.fixture
def twins(engine: Engine) -> Engine:
    """Two SIPRI-recorded deals of one title: ordered 2019 (2 units) and 2021 (5 units); both signposts
    (deliveries by 2020, by 2022) are overdue."""
    rows = [_ordered("twin-2019", "2019", "2", "2020"), _ordered("twin-2021", "2021", "5", "2022")]
    import_bytes(engine, ledger_csv(*rows), file_name="register.csv", editor="ana", now=IMPORTED)
    return engine


def test_the_labels_tell_the_twins_apart(twins: Engine) -> None:
    assert deal_labels(twins, ["twin-2019", "twin-2021", "no-such-deal"]) == {
        "twin-2019": EARLY,
        "twin-2021": LATE,
    }


def test_signpost_lists_name_deals_by_label(twins: Engine) -> None:
    today = dt.date(2026, 1, 10)
    columns = ["deal_id", "deal_title", "deal_label", "expected", "status"]
    expected = [["twin-2019", TITLE, EARLY, "2020", "overdue"], ["twin-2021", TITLE, LATE, "2022", "overdue"]]
    assert overdue_signposts(twins, filters=ALL, today=today)[columns].values.tolist() == expected
    assert (
        signposts_of_deals(twins, ["twin-2021", "twin-2019"], today=today)[columns].values.tolist()
        == expected
    )


def test_briefs_name_deals_by_label(twins: Engine) -> None:
    made = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
    brief = deal_brief(twins, "twin-2021", now=made)
    assert brief.title == LATE
    assert '<h1 id="brief-title">TX-990 Testradar (radar) — France to India, ordered 2021, 5 units</h1>' in (
        brief_html(brief).decode()
    )
    assert Document(io.BytesIO(brief_docx(brief))).paragraphs[0].text == LATE

    view = view_brief(twins, filters=ALL, now=made)
    assert [deal.label for deal in view.deals] == [LATE, EARLY]  # latest event first
    assert [(event.deal, event.date) for event in view.events] == [(LATE, "2021"), (EARLY, "2019")]
    assert [(post.deal, post.expected) for post in view.signposts] == [(EARLY, "by 2020"), (LATE, "by 2022")]
    html = brief_html(view).decode()
    assert [html.count(f"<td>{label}</td>") for label in (EARLY, LATE)] == [3, 3]  # deals, events, signposts
    document = Document(io.BytesIO(brief_docx(view)))
    deals_table = document.tables[2]  # after the figures and the deals by stage
    assert [row.cells[0].text for row in deals_table.rows] == ["Deal", LATE, EARLY]


def test_the_changes_digest_groups_deals_by_label(twins: Engine) -> None:
    digest = changes.digest(twins, since=IMPORTED, until=IMPORTED + dt.timedelta(hours=1), filters=ALL)
    assert [(group.deal_id, group.deal_title) for group in digest.by_deal()] == [
        ("twin-2019", EARLY),
        ("twin-2021", LATE),
    ]
    text = changes.to_text(digest, caption="All deals")
    assert [line for line in text.splitlines() if line.startswith("TX-990")] == [
        f"{EARLY} (twin-2019)",
        f"{LATE} (twin-2021)",
    ]
    frame = changes.to_frame(digest)
    assert sorted(set(zip(frame["deal_id"], frame["deal_title"]))) == [
        ("twin-2019", EARLY),
        ("twin-2021", LATE),
    ]
    atom = changes.to_atom(digest, caption="All deals", feed_id="tag:test").decode()
    new_deals = [f"<title>{label}: New deal: " for label in (EARLY, LATE)]
    assert [atom.count(title) for title in new_deals] == [1, 1]


def test_source_support_names_deals_by_label(twins: Engine) -> None:
    support = queries.source_support(twins, 1, filters=ALL)
    assert support.events[["deal_id", "deal_title", "deal_label"]].values.tolist() == [
        ["twin-2021", TITLE, LATE],
        ["twin-2019", TITLE, EARLY],
    ]
    assert support.deals[["deal_id", "title", "label"]].values.tolist() == [
        ["twin-2021", TITLE, LATE],
        ["twin-2019", TITLE, EARLY],
    ]
    weak = queries.weakly_sourced_deals(twins, filters=ALL)
    assert weak[["deal_id", "label"]].values.tolist() == [["twin-2019", EARLY], ["twin-2021", LATE]]


def _link(deal_id: str, label: str) -> str:
    return f"deal?deal={deal_id}#{quote(label, safe='')}"


def test_the_pages_name_deals_by_label(twins: Engine) -> None:
    at = open_page(page_path("sources"), query={"scope": "all"})
    assert at.dataframe(key="weak-deals-table").value["label"].tolist() == [EARLY, LATE]
    at.session_state["sources-table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    run(at)
    pages = [frame.value["page"].tolist() for frame in at.dataframe if "page" in frame.value.columns]
    assert pages == [
        [_link("twin-2021", LATE), _link("twin-2019", EARLY)],  # events supported
        [_link("twin-2021", LATE), _link("twin-2019", EARLY)],  # deals supported
    ]

    overview = open_page(query={"scope": "all"})
    overdue = overview.dataframe(key="overview-overdue")
    assert overdue.value["deal_label"].tolist() == [EARLY, LATE]
    assert list(overdue.proto.column_order)[:2] == ["deal_label", "stage"]


def test_the_changes_page_links_each_deal_group_by_label(engine: Engine) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)  # the page's window ends now
    rows = [_ordered("twin-2019", "2019", "2", "2020"), _ordered("twin-2021", "2021", "5", "2022")]
    import_bytes(engine, ledger_csv(*rows), file_name="register.csv", editor="ana", now=now)
    at = open_signed_in(page_path("changes"), query={"scope": "all"}, link=False)
    assert sorted((link.proto.label, link.proto.page) for link in at.get("page_link")) == [
        (escape_markdown(EARLY), "deal"),
        (escape_markdown(LATE), "deal"),
    ]
    # The overdue signposts beneath, by label too.
    assert at.dataframe(key="changes-overdue").value["deal_label"].tolist() == [EARLY, LATE]
