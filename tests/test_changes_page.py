"""The Changes page, the saved views in the sidebar and the signposts on the deal page and the overview,
through Streamlit's AppTest. Times are taken when each test runs (the page's default window ends now)."""

from __future__ import annotations

import datetime as dt

import pytest
import streamlit as st
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from tests.apptest import open_signed_in, run
from tests.builders import event_row, ledger_csv
from tests.ledger_snapshot import dump
from tracker import revisions
from tracker.briefs import deal_brief
from tracker.changes import BULK_IMPORT_DEALS
from tracker.importer import import_bytes
from tracker.models import Event, Source
from tracker.saved_views import saved_views
from tracker.views import editors

pytestmark = pytest.mark.usefixtures("fresh_caches")
OVERDUE_MEANS = "Overdue: the expected period has passed and the deal, still live, has not reached the stage."
CHANGES, DEAL, OVERVIEW = (f"tracker/views/{name}.py" for name in ("changes", "deal", "overview"))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


@pytest.fixture
def recent(engine: Engine) -> dt.datetime:
    """Alpha imported ten days ago (with a signpost overdue since January 2025), beta two days ago, and
    beta's second event retracted a day ago. Returns the time of beta's import."""
    now = _now()
    old = [
        event_row("alpha", "2024-05-02", "Poland announces a tank purchase.", source="Alpha Wire", grade="A",
                  stage="announced", deal_title="Alpha tanks", buyer="Poland", seller="South Korea",
                  signpost_stage="contracted", signpost_by="2024-12", signpost_note="a contract by December"),
    ]  # fmt: skip
    import_bytes(engine, ledger_csv(*old), file_name="old.csv", editor="ana", now=now - dt.timedelta(days=10))
    fresh = [
        event_row("beta", "2025-01-15", "Ukraine asks for *more* [Patriot](https://evil.example) systems.",
                  source="Beta News", grade="C", stage="announced", deal_title="Beta **air** defence",
                  buyer="Ukraine", seller="United States"),
        event_row("beta", "2025-03-01", "Talks begin.", source="Beta News", grade="C", stage="negotiating"),
    ]  # fmt: skip
    beta_at = now - dt.timedelta(days=2)
    import_bytes(engine, ledger_csv(*fresh), file_name="fresh.csv", editor="ana", now=beta_at)
    with engine.connect() as connection:
        talks = connection.execute(select(Event.id).where(Event.summary == "Talks begin.")).scalar_one()
    revisions.retract_event(engine, talks, reason="wrong deal", editor="ben", now=now - dt.timedelta(days=1))
    return beta_at


def test_the_last_seven_days_grouped_by_deal_with_links(recent: dt.datetime):
    at = open_signed_in(CHANGES, link=False)
    then, at_ = f"{recent + dt.timedelta(days=1):%Y-%m-%d %H:%M}", f"{recent:%Y-%m-%d %H:%M}"
    asks = "15 Jan 2025 · announced · Ukraine asks for *more* [Patriot](https://evil.example) systems."
    assert [element.value for element in at.text] == [
        "\n".join(
            [
                f"{then} · Retracted: 1 Mar 2025 · negotiating · Talks begin. · by ben: wrong deal",
                f"{at_} · New deal: Beta **air** defence · by ana",
                f"{at_} · Stage move: no stage → announced: {asks} (best source C2) · by ana",
                f"{at_} · New event: {asks} (best source C2) · by ana",
                f"{at_} · New source: Beta News, graded C (https://example.org/beta-news) · by ana",
            ]
        )
    ]
    # One link per deal, to its deal page; the title's markdown is escaped.
    assert [(link.proto.label, link.proto.page) for link in at.get("page_link")] == [
        (r"Beta \*\*air\*\* defence", "deal")
    ]
    overdue = at.dataframe(key="changes-overdue").value
    assert overdue[["deal_id", "stage", "expected", "note"]].values.tolist() == [
        ["alpha", "contracted", "Dec 2024", "a contract by December"]
    ]


def test_a_bulk_import_and_a_regrade_are_one_line_each_with_a_few_deals_linked(engine: Engine):
    now = _now()
    imported, regraded = now - dt.timedelta(days=2), now - dt.timedelta(days=1)
    register = [
        event_row(f"reg-{i:02d}", "2025-10-01", f"Register entry {i}.", source="Register", grade="B",
                  stage="announced", deal_title=f"Register *deal* {i:02d}", buyer="Ukraine", seller="Germany")
        for i in range(1, BULK_IMPORT_DEALS + 2)
    ]  # fmt: skip
    import_bytes(engine, ledger_csv(*register), file_name="register.csv", editor="alice", now=imported)
    with engine.connect() as connection:
        (register_id,) = connection.execute(select(Source.id)).scalars()
    revisions.regrade_source(engine, register_id, "D", reason="a bad register", editor="ben", now=regraded)
    at = open_signed_in(CHANGES, link=False)
    deals = BULK_IMPORT_DEALS + 1
    regrade = f"Regraded: Register B → D; backs events of {deals} deals · by ben: a bad register"
    register = f"Import: #1 register.csv (ledger CSV): {deals} new deals, {deals} events, 1 new source"
    assert [element.value for element in at.text] == [
        f"{regraded:%Y-%m-%d %H:%M} · {regrade}",
        f"{imported:%Y-%m-%d %H:%M} · {register} · by alice",
    ]
    examples = [(rf"Register \*deal\* 0{i}", "deal") for i in (1, 2, 3)]
    assert [(link.proto.label, link.proto.page) for link in at.get("page_link")] == [
        *examples,
        *examples,
        ("Import history (Upload page)", "upload"),
    ]
    summary = [m.value for m in at.markdown if m.value.startswith("**")]
    assert summary[0].startswith("**2 changes to many deals at once** from ")
    assert summary[0].endswith(" UTC (import: 1; regraded: 1).")


def test_an_earlier_start_takes_in_older_changes(recent: dt.datetime):
    at = open_signed_in(CHANGES, link=False)
    at.date_input(key="changes-seen-from").set_value((recent - dt.timedelta(days=9)).date())
    run(at)
    summary = [m.value for m in at.markdown if m.value.startswith("**")]
    assert summary[0].startswith("**9 changes to 2 deals** from ")
    assert summary[0].endswith(
        " UTC (new deal: 2; stage move: 2; new event: 2; retracted: 1; new source: 2)."
    )


def test_saving_a_view_then_opening_it_counts_from_then(recent: dt.datetime, engine: Engine):
    at = open_signed_in(CHANGES)
    at.multiselect(key="country").set_value(["UKR"])
    run(at)
    at.text_input(key="save-view-name").input("Ukraine watch")
    at.button(key="FormSubmitter:save-view-Save these filters").click()
    run(at)
    (view,) = saved_views(engine)
    assert (view.name, view.query, view.created_by, view.last_opened_at) == (
        "Ukraine watch",
        "country=UKR",
        editors.console_editor(),
        None,
    )
    assert at.button(key=f"open-view-{view.id}").label == "Ukraine watch"  # nothing new since it was saved
    more = [
        event_row(
            "beta", "2025-04-01", "An agreement is signed.", source="Beta News", grade="C", stage="agreed"
        )
    ]
    import_bytes(engine, ledger_csv(*more), file_name="more.csv", editor="ana")
    st.cache_data.clear()
    run(at)
    assert (
        at.button(key=f"open-view-{view.id}").label == "Ukraine watch (2 new)"
    )  # the event and the stage move it made
    at.button(key=f"open-view-{view.id}").click()
    run(at)
    assert (saved_views(engine)[0].last_opened_at or dt.datetime.min) >= view.created_at
    saved_at = f"{view.created_at:%Y-%m-%d %H:%M}"
    caption = f"Saved view “Ukraine watch”: changes since it was last opened ({saved_at} UTC)."
    assert [m.value for m in at.caption if m.value.startswith("Saved view")] == [
        caption + " Deals with Ukraine as buyer or seller."
    ]


def test_visitors_see_saved_views_but_cannot_save_or_mark_them(recent: dt.datetime, engine: Engine):
    at = open_signed_in(CHANGES, link=False)
    assert not [w for w in at.text_input if w.key == "save-view-name"]
    before = dump(engine)

    def script() -> None:
        import streamlit as st

        from tracker.filters import Filters
        from tracker.views import saved

        if "tried" not in st.session_state:
            st.session_state["tried"] = True
            saved.save("Forged", Filters())
            st.write("written")
        st.write("refused")

    forged = AppTest.from_function(script, default_timeout=60)
    run(forged)
    assert [m.value for m in forged.markdown] == ["refused"]
    assert dump(engine) == before


def test_signposts_on_the_deal_page_and_overdue_on_the_overview(recent: dt.datetime):
    deal = open_signed_in(DEAL, query={"deal": "alpha"}, link=False)
    (table,) = [frame.value for frame in deal.dataframe if "status" in frame.value.columns]
    overdue_days = (dt.date.today() - dt.date(2024, 12, 31)).days
    assert table[
        ["stage", "expected", "status_text", "days_overdue", "note", "source", "grade"]
    ].values.tolist() == [
        ["contracted", "Dec 2024", "overdue", overdue_days, "a contract by December", "Alpha Wire", "A2"]
    ]
    overview = open_signed_in(OVERVIEW, link=False)
    assert "Overdue signposts (1)" in [h.value for h in overview.subheader]
    assert overview.dataframe(key="overview-overdue").value["deal_title"].tolist() == ["Alpha tanks"]
    assert OVERDUE_MEANS in [caption.value for caption in overview.caption]


def test_the_deal_page_says_when_a_signpost_was_reached_as_the_brief_does(engine: Engine):
    rows = [
        event_row("gamma", "2024-05-02", "Talks are expected.", source="Gamma Wire", grade="B",
                  stage="announced", deal_title="Gamma guns", buyer="Ukraine", seller="Germany",
                  signpost_stage="negotiating", signpost_by="2024-09", signpost_note="talks by September"),
        event_row("gamma", "2024-06-10", "A contract is expected.", source="Gamma Radio", grade="C",
                  signpost_stage="contracted", signpost_by="2024-12", signpost_note="a contract by December"),
        event_row("gamma", "2024-08", "Talks begin.", source="Gamma Wire", grade="B", stage="negotiating"),
        event_row("gamma", "2025-03-05", "Signed.", source="Gamma Wire", grade="B", stage="contracted"),
    ]  # fmt: skip
    import_bytes(engine, ledger_csv(*rows), file_name="gamma.csv", editor="ana", now=_now())
    deal = open_signed_in(DEAL, query={"deal": "gamma"}, link=False)
    (table,) = [frame.value for frame in deal.dataframe if "status" in frame.value.columns]
    assert table[["stage", "expected", "status_text", "days_overdue", "grade"]].values.tolist() == [
        ["negotiating", "Sep 2024", "reached in Aug 2024", None, "B2"],
        ["contracted", "Dec 2024", "reached late on 5 Mar 2025", None, "C2"],
    ]
    assert (
        "Reached: the deal came to the stage, or a later one on the path, by the end of the expected period; "
        "Reached late: the deal came to it after the expected period."
    ) in [caption.value for caption in deal.caption]
    brief = deal_brief(engine, "gamma")
    assert [post.status for post in brief.signposts] == table["status_text"].tolist()
