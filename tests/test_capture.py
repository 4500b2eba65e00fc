"""The capture forms through Streamlit's AppTest: the first-run sign-in link, logging an event on a deal page
and with a new deal (happy paths and the importer's problems at the fields), correcting, retracting,
regrading and editing, the deal's History tab with undo, and writes refused without editor rights, on the
page and at the function that writes."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from tests.apptest import DASHBOARD, open_signed_in, run
from tests.builders import THREE_DEALS, ledger_csv
from tests.ledger_snapshot import dump
from tracker import queries
from tracker.auth import hash_password
from tracker.importer import import_bytes
from tracker.signposts import signposts_of_deals
from tracker.views import editors

DEAL, NEW_DEAL, OVERVIEW, UPLOAD = (
    f"tracker/views/{name}.py" for name in ("deal", "new_deal", "overview", "upload")
)
pytestmark = pytest.mark.usefixtures("fresh_caches")
SEED_DEAL = "us-ukraine-drone-deal"
PASSWORD = "correct horse battery staple"


def texts(at: AppTest, kind: str) -> list[str]:
    return [element.value for element in getattr(at, kind)]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table(at: AppTest, *columns: str):  # a pandas DataFrame
    for frame in at.dataframe:
        if set(columns) <= set(frame.value.columns):
            return frame.value
    raise KeyError(columns)


def widget(at: AppTest, kind: str, prefix: str):
    """The one widget of `kind` whose key starts with `prefix` (keys that follow their options)."""
    (found,) = [w for w in getattr(at, kind) if w.key and w.key.startswith(prefix)]
    return found


def fill(at: AppTest, values: dict[str, str]) -> AppTest:
    """Type into text inputs and areas by key, then rerun."""
    for key, value in values.items():
        kind = (
            "text_area"
            if key.rsplit("-", 1)[-1] in ("summary", "note", "excerpt", "deal_summary")
            else "text_input"
        )
        getattr(at, kind)(key=key).input(value)
    return run(at)


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    return run(at)


# --- the first-run sign-in link -----------------------------------------------------------------------------


def test_the_sign_in_link_makes_one_browser_an_editor_once(seeded: Engine):
    token = editors.SIGN_IN_LINKS.issue()
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.query_params["signin"] = token
    run(at)
    assert "signin" not in at.query_params  # the token leaves the address at once
    at.switch_page(NEW_DEAL)
    run(at)
    assert f"Logged in as editor {editors.console_editor()}" in texts(at, "caption")
    assert at.text_input(key="new-deal-0-deal_title")

    again = AppTest.from_file(DASHBOARD, default_timeout=60)
    again.query_params["signin"] = token
    run(again)
    assert texts(again, "warning") == [
        (
            "This sign-in link has been used already, or the dashboard has been restarted since it was "
            "printed. "
            "Open the newest link printed in the console where the dashboard runs."
        )
    ]
    again.switch_page(NEW_DEAL)
    run(again)
    assert "No editors are configured" in texts(again, "warning")[0]
    assert not [w for w in again.text_input if w.key and w.key.startswith("new-deal")]
    assert editors.SIGN_IN_LINKS.outstanding()  # a new link was printed for the next browser


def test_sign_in_links_do_nothing_once_editors_are_configured(seeded: Engine):
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.secrets.update({"editors": {"alice": hash_password(PASSWORD)}})
    at.query_params["signin"] = editors.SIGN_IN_LINKS.issue()
    run(at)
    assert texts(at, "warning") == [
        "Sign-in links work only while no editor is configured; log in with your password on the Upload page."
    ]
    at.switch_page(NEW_DEAL)
    run(at)
    assert at.button(key="login-submit")


# --- visitors -----------------------------------------------------------------------------------------------


def test_visitors_see_the_history_but_no_forms_or_buttons(seeded: Engine):
    at = open_signed_in(DEAL, query={"deal": SEED_DEAL}, link=False)
    assert [e.label for e in at.expander] == []
    assert not [
        b for b in at.button if b.key and b.key.startswith(("add-event", "event-actions", "deal-undo"))
    ]
    history = table(at, "what", "reason")
    assert history[["import_id", "kind"]].values.tolist() == [[1, "ledger-csv"]]


# --- log an event -------------------------------------------------------------------------------------------

EVENT = {
    "add-event-0-date": "2025-11",
    "add-event-0-summary": "Talks resume in Kyiv.",
    "add-event-0-value_low": "12bn",
    "add-event-0-currency": "USD",
    "add-event-0-source-0-title": "Drone talks resume",
    "add-event-0-source-0-publisher": "Kyiv Wire",
    "add-event-0-source-0-url": "https://kyiv-wire.example/talks",
}


def test_add_event_checks_previews_and_saves_through_the_importer(seeded: Engine):
    at = open_signed_in(DEAL, query={"deal": SEED_DEAL})
    assert [e.label for e in at.expander] == [
        "Add event",
        "Edit the deal",
        "Correct, retract or regrade an event",
    ]
    at.selectbox(key="add-event-0-stage").set_value("negotiating")
    widget(at, "selectbox", "add-event-0-source-0-reliability").set_value("B")
    at = fill(at, EVENT)
    assert not [b for b in at.button if b.key == "add-event-0-save"]  # check first
    at = click(at, "add-event-0-check")
    assert {k: v for k, v in metrics(at).items() if k.startswith("New") or k == "Deals updated"} == {
        "New events": "1",
        "New deals": "0",
        "Deals updated": "1",
        "New sources": "1",
    }
    assert table(at, "line", "deal_id", "date_text")[["date_text", "stage", "summary"]].values.tolist() == [
        ["2025-11", "negotiating", "Talks resume in Kyiv."]
    ]
    at = click(at, "add-event-0-save")
    assert texts(at, "success")[0].startswith("Import \\#2\\: form\\: event of us\\-ukraine\\-drone\\-deal")
    assert metrics(at)["Events"] == "15"
    assert at.text_input(key="add-event-1-date").value == ""  # a fresh form
    history = table(at, "what", "reason")
    newest = history["what"].tolist()[0]
    assert newest.endswith(
        f"by {editors.console_editor()}: added an event: Nov 2025 · negotiating · Talks resume in Kyiv. "
        "· at least 12 bn USD; value was 10–30 bn USD, now at least 12 bn USD"
    )
    source = queries.deal_event_sources(seeded, SEED_DEAL).query("event_id == 15")
    assert source[["publisher", "grade"]].values.tolist() == [["Kyiv Wire", "B6"]]


def test_add_event_shows_the_importers_problems_at_their_fields_and_writes_nothing(seeded: Engine):
    before = dump(seeded)
    at = open_signed_in(DEAL, query={"deal": SEED_DEAL})
    bad = {"add-event-0-date": "03/04/2025", "add-event-0-value_low": "lots", "add-event-0-currency": "",
           "add-event-0-source-0-url": "ftp://kyiv-wire.example"}  # fmt: skip
    at = fill(at, {**EVENT, **bad})
    at = click(at, "add-event-0-check")
    assert texts(at, "error") == [
        (
            '\\"03\\/04\\/2025\\" is ambiguous\\: day and month order is unknown. Write it as '
            "2025\\-04\\-03 or "
            "2025\\-03\\-04\\."
        ),
        (
            'value \\"lots\\" is not a number. Write the amount as digits\\, optionally with a unit\\: '
            "250000000\\, 250m\\, 1\\.5bn\\."
        ),
        (
            "a value is given without a currency. Give the ISO 4217 currency code of the value\\, e\\.g\\. "
            "USD "
            "or EUR\\."
        ),
        (
            "only http and https links are allowed\\, not ftp. Give the article\\'s http\\:\u2060\\/\\/ or "
            "https\\:\u2060\\/\\/ address\\, or leave source\\_url empty and give source\\_title\\."
        ),
        "4 problems found, shown at the fields above; nothing was written.",
    ]
    assert not [b for b in at.button if b.key == "add-event-0-save"]
    assert dump(seeded) == before


def test_add_event_states_a_signpost_once_with_its_first_source(seeded: Engine):
    at = open_signed_in(DEAL, query={"deal": SEED_DEAL})
    at.number_input(key="add-event-0-sources").set_value(2)
    run(at)
    widget(at, "selectbox", "add-event-0-source-0-reliability").set_value("B")
    widget(at, "selectbox", "add-event-0-source-1-reliability").set_value("C")
    at.selectbox(key="add-event-0-signpost_stage").set_value("contracted")
    second = {
        "add-event-0-source-1-title": "Kyiv talks go on",
        "add-event-0-source-1-publisher": "Lviv Post",
        "add-event-0-source-1-url": "https://lviv-post.example/talks",
    }
    expected = {"add-event-0-signpost_by": "2026-03", "add-event-0-signpost_note": "a contract by March"}
    at = fill(at, {**EVENT, **second, **expected})
    at = click(at, "add-event-0-check")
    at = click(at, "add-event-0-save")
    posts = signposts_of_deals(seeded, [SEED_DEAL], today=dt.date(2026, 1, 1))
    assert posts[["stage", "expected_until", "note", "source", "status"]].values.tolist() == [
        ["contracted", dt.date(2026, 3, 31), "a contract by March", "Kyiv Wire", "expected"]
    ]


# --- a new deal ---------------------------------------------------------------------------------------------


def test_a_new_deal_with_a_new_source_and_party(seeded: Engine):
    at = open_signed_in(NEW_DEAL)
    at.multiselect(key="new-deal-0-buyer").set_value(["POL"])
    at.multiselect(key="new-deal-0-seller").set_value(["KOR"])
    at.selectbox(key="new-deal-0-stage").set_value("contracted")
    at.number_input(key="new-deal-0-parties").set_value(1)
    run(at)
    at.segmented_control(key="new-deal-0-party-0-where").set_value("new")
    run(at)
    at.selectbox(key="new-deal-0-party-0-kind").set_value("company")
    at.selectbox(key="new-deal-0-party-0-country").set_value("KOR")
    at.selectbox(key="new-deal-0-party-0-role").set_value("manufacturer")
    at = fill(at, {
        "new-deal-0-deal_title": "Poland K2 tanks",
        "new-deal-0-category": "tanks",
        "new-deal-0-date": "26 Aug 2022",
        "new-deal-0-summary": "Poland signs for 180 K2 tanks.",
        "new-deal-0-quantity": "180",
        "new-deal-0-source-0-title": "Poland signs K2 contract",
        "new-deal-0-source-0-url": "https://defence.example/k2",
        "new-deal-0-party-0-name": "Hyundai Rotem",
    })  # fmt: skip
    assert at.text_input(key="new-deal-0-deal_id").placeholder == "poland-k2-tanks"
    at = click(at, "new-deal-0-check")
    assert {k: v for k, v in metrics(at).items()} == {
        "New events": "1", "New deals": "1", "Deals updated": "0", "New sources": "1",
    }  # fmt: skip
    at = click(at, "new-deal-0-save")
    assert at.title[0].value == "Poland K2 tanks"  # the new deal's page
    assert at.query_params["deal"] == "poland-k2-tanks"
    assert texts(at, "success")[0].startswith("Import \\#2\\: form\\: new deal poland\\-k2\\-tanks")
    assert metrics(at)["Stage"] == "contracted"
    roles = queries.deal_roles(seeded, "poland-k2-tanks")
    assert roles[["role", "party", "kind", "country_code"]].values.tolist() == [
        ["buyer", "Poland", "state", "POL"],
        ["seller", "South Korea", "state", "KOR"],
        ["manufacturer", "Hyundai Rotem", "company", "KOR"],
    ]
    at.switch_page(OVERVIEW)
    run(at)
    assert metrics(at)["Deals"] == "2"


def test_a_new_deal_needs_a_title_and_an_id_of_its_own(seeded: Engine):
    before = dump(seeded)
    at = open_signed_in(NEW_DEAL)
    at = fill(at, {"new-deal-0-date": "2025-01", "new-deal-0-summary": "Something.",
                   "new-deal-0-deal_id": "Bad Id", "new-deal-0-source-0-title": "A report"})  # fmt: skip
    at = click(at, "new-deal-0-check")
    assert texts(at, "error") == [
        (
            '\\"Bad Id\\" is not a valid deal id. Use lowercase letters\\, digits and single hyphens\\, '
            "e\\.g\\. "
            "us\\-ukraine\\-drone\\-deal\\."
        ),
        "1 problem found, shown at the fields above; nothing was written.",
    ]
    at = fill(at, {"new-deal-0-deal_id": "good-id"})
    at = click(at, "new-deal-0-check")
    assert texts(at, "error")[0] == (
        "deal good\\-id is new to the ledger and has no title. Give deal\\_title on at least one row of "
        "this deal "
        "\\(or check the deal\\_id for a typo\\)\\."
    )
    at = fill(at, {"new-deal-0-deal_id": SEED_DEAL})
    assert texts(at, "error")[-1].startswith(
        "The ledger holds a deal with id us\\-ukraine\\-drone\\-deal already"
    )
    assert not [b for b in at.button if b.key == "new-deal-0-check"]
    assert dump(seeded) == before


def test_an_existing_source_and_party_are_found_by_search(seeded: Engine):
    at = open_signed_in(DEAL, query={"deal": SEED_DEAL})
    at.segmented_control(key="add-event-0-source-0-where").set_value("existing")
    at.number_input(key="add-event-0-parties").set_value(1)
    at = fill(at, {"add-event-0-date": "2025-11-02", "add-event-0-summary": "Yermak meets Witkoff."})
    at = fill(at, {"add-event-0-source-0-search": "independent", "add-event-0-party-0-search": "yermak"})
    source = widget(at, "selectbox", "add-event-0-source-0-pick-")
    assert source.options[0].startswith("The Independent — https://www.the-independent.com/")
    widget(at, "selectbox", "add-event-0-party-0-pick-").set_value(
        widget(at, "selectbox", "add-event-0-party-0-pick-").options[0]
    )
    at.selectbox(key="add-event-0-party-0-role").set_value("negotiator")
    at = click(run(at), "add-event-0-check")
    assert {k: metrics(at)[k] for k in ("New events", "New sources")} == {
        "New events": "1",
        "New sources": "0",
    }


# --- correct, retract, regrade, edit, undo ------------------------------------------------------------------


@pytest.fixture
def three_in_the_past(engine: Engine) -> Engine:
    """THREE_DEALS, imported on 1 Aug 2025, so that an as-of view of yesterday shows them."""
    import_bytes(
        engine,
        ledger_csv(*THREE_DEALS),
        file_name="three.csv",
        editor="test",
        now=dt.datetime(2025, 8, 1, 12),
    )
    return engine


def test_retract_then_find_it_as_of_before_then_undo_from_the_history(three_in_the_past: Engine):
    at = open_signed_in(DEAL, query={"deal": "beta"})
    event = widget(at, "selectbox", "event-actions-0-event-")
    assert event.value == 4  # the latest event is offered first
    at = click(at, "event-actions-0-retract")
    assert texts(at, "error")[-1] == (
        "give a reason\\: it is recorded with the change and shown in the deal\\'s history\\."
    )
    at = fill(at, {"event-actions-0-reason": "Not about this deal."})
    at = click(at, "event-actions-0-retract")
    assert texts(at, "success")[0] == (
        "Retracted event \\#4 of beta \\(2025\\-03\\-01\\: Talks on the air\\-defence package begin\\.\\) as "
        "change \\#2\\."
    )
    assert (metrics(at)["Events"], metrics(at)["Stage"]) == ("1", "announced")
    history = table(at, "what", "reason")
    assert history[["import_id", "kind", "reason"]].values.tolist()[0] == [
        2,
        "retraction",
        "Not about this deal.",
    ]
    # As recorded yesterday, before the retraction, the event is there and the deal was negotiating.
    at.date_input(key="as_of").set_value(dt.date.today() - dt.timedelta(days=1))
    run(at)
    at.segmented_control(key="as_of_mode").set_value("recorded")
    run(at)
    assert (metrics(at)["Events"], metrics(at)["Stage"]) == ("2", "negotiating")
    assert "Clear the as-of date in the sidebar to add, correct or retract events." in texts(at, "caption")
    at.date_input(key="as_of").set_value(None)
    run(at)
    assert widget(at, "selectbox", "deal-undo-").value == 2
    at = click(at, "deal-undo-button")
    assert texts(at, "success")[0] == "Undid change \\#2 \\(retraction of event \\#4 \\(beta\\)\\)\\."
    assert (metrics(at)["Events"], metrics(at)["Stage"]) == ("2", "negotiating")


def test_correct_an_event_prefilled_from_it(seeded: Engine):
    at = open_signed_in(DEAL, query={"deal": SEED_DEAL})
    widget(at, "segmented_control", "event-actions-0-action").set_value("correct")
    run(at)
    assert at.text_input(key="correct-14-0-date").value == "2025-10-17"
    assert widget(at, "selectbox", "correct-14-0-source-0-pick-").value == 13  # The Independent, its source
    at = fill(at, {"correct-14-0-date": "2025-10-18", "correct-14-0-reason": "Misdated by a day."})
    at = click(at, "correct-14-0-check")
    assert metrics(at)["New events"] == "1"
    at = click(at, "correct-14-0-save")
    assert texts(at, "success")[0] == "Corrected event \\#14\\: event \\#15 replaces it \\(change \\#2\\)\\."
    assert table(at, "what", "reason")["what"].tolist()[0].startswith("corrected on ")
    assert ": was 17 Oct 2025 · negotiating · White House meeting" in table(at, "what", "reason")["what"][0]
    assert ", now 18 Oct 2025 · negotiating · White House meeting" in table(at, "what", "reason")["what"][0]


def test_regrade_a_source_and_rerate_a_claim(seeded: Engine):
    at = open_signed_in(DEAL, query={"deal": SEED_DEAL})
    widget(at, "segmented_control", "event-actions-0-action").set_value("grades")
    run(at)
    source = widget(at, "selectbox", "event-actions-0-grade-source-14")
    widget(at, "selectbox", f"event-actions-0-grade-reliability-{source.value}").set_value("A")
    widget(at, "selectbox", f"event-actions-0-grade-credibility-14-{source.value}").set_value(1)
    at = fill(run(at), {"event-actions-0-reason": "Confirmed by the White House transcript."})
    at = click(at, "event-actions-0-save-grades")
    assert texts(at, "success")[0].startswith("Regraded ")
    kinds = table(at, "what", "reason")["kind"].tolist()
    assert kinds[:2] == ["re-rating", "regrade"]


def test_edit_the_deal_with_a_check_first(seeded: Engine):
    at = open_signed_in(DEAL, query={"deal": SEED_DEAL})
    at = fill(at, {"edit-deal-0-deal_title": "US–Ukraine drone deal", "edit-deal-0-deal_value_high": "25bn",
                   "edit-deal-0-tags": "drones; exports"})  # fmt: skip
    at = click(at, "edit-deal-0-check")
    assert texts(at, "success")[0] == (
        "The edit would change:\n- title: US–Ukraine Drone Deal → US–Ukraine drone deal\n- value: 10–30 bn "
        "USD "
        "→ 10–25 bn USD\n- tags added: exports"
    )
    at = click(at, "edit-deal-0-save")
    assert at.title[0].value == "US–Ukraine drone deal"
    assert metrics(at)["Value"] == "10–25 bn USD"


def test_a_bad_deal_edit_gets_the_importers_message(seeded: Engine):
    before = dump(seeded)
    at = open_signed_in(DEAL, query={"deal": SEED_DEAL})
    at = fill(at, {"edit-deal-0-deal_quantity": "a dozen"})
    at = click(at, "edit-deal-0-check")
    assert texts(at, "error") == [
        (
            'quantity \\"a dozen\\" is not a whole number. Give the number of units as digits only\\, '
            "e\\.g\\. "
            "24 "
            "\\(no commas or words\\)\\."
        ),
        "Fix the problems shown at the fields above; nothing was written.",
    ]
    assert dump(seeded) == before


# --- writes without editor rights ---------------------------------------------------------------------------


def test_a_click_after_the_rights_ended_writes_nothing(seeded: Engine):
    at = open_signed_in(DEAL, query={"deal": SEED_DEAL})
    at = fill(at, {"event-actions-0-reason": "Forged."})
    before = dump(seeded)
    editors.EDITOR_SESSIONS.sign_out(at.session_state[editors.SECRET])  # ended elsewhere (idle, other tab)
    at = click(at, "event-actions-0-retract")
    assert dump(seeded) == before
    assert [e.label for e in at.expander] == []  # the forms are gone


WRITES = {
    "log_rows": "capture.log_rows([{'deal_id': 'x'}], label='forged')",
    "retract": "capture.retract(1, reason='forged')",
    "correct": "capture.correct(1, [{'deal_id': 'us-ukraine-drone-deal'}], reason='forged')",
    "regrade": "capture.regrade(1, 'A', reason='forged')",
    "rerate": "capture.rerate(1, 1, 1, reason='forged')",
    "edit": "capture.edit('us-ukraine-drone-deal', {'deal_title': 'Forged'}, reason='forged')",
    "undo": "history.undo(1)",
}


@pytest.mark.parametrize("call", list(WRITES.values()), ids=list(WRITES))
def test_every_write_is_refused_where_it_writes_without_editor_rights(seeded: Engine, call: str):
    """As a forged request that reached the write would: no signed-in editor, nothing written."""
    before = dump(seeded)

    def script(call: str) -> None:
        import streamlit as st

        from tracker.views import capture, history  # noqa: F401 (used by the call)

        if "tried" not in st.session_state:
            st.session_state["tried"] = True
            eval(call)
            st.write("written")  # never reached: the write sends the visitor back to log in
        st.write("refused")

    at = AppTest.from_function(script, args=(call,), default_timeout=60)
    run(at)
    assert [m.value for m in at.markdown] == ["refused"]
    assert dump(seeded) == before
