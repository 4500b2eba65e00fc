"""Correcting without erasing (tracker.revisions) and rows from a form (tracker.importer.import_rows), on a
real ledger: what each change writes, what every view then shows, now and as of before it, the history
that records it, the refusals, and undo."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TODAY
from sqlalchemy import Engine, select

from tests.builders import event_row, ledger_csv, row
from tests.ledger_snapshot import dump
from tracker import queries, revisions
from tracker.errors import CorrectionRefused, ImportRejected, UndoRefused
from tracker.export import ledger_rows
from tracker.filters import Filters
from tracker.importer import import_bytes, import_rows, undo_import
from tracker.knowledge import AsOf
from tracker.models import DealChange, Event, GradeChange, Import, Retraction

IMPORTED = dt.datetime(2025, 8, 1, 12, 0)
LATER = dt.datetime(2025, 9, 1, 12, 0)
LATEST = dt.datetime(2025, 10, 1, 12, 0)
# An as-of moment between the import and LATER, as recorded (retractions and regrades as they were then).
BEFORE_LATER = AsOf(dt.datetime(2025, 8, 15, 23, 59), "recorded")


@pytest.fixture
def delta(engine: Engine) -> Engine:
    """One deal, delta: announced (A Wire, B) then negotiating (B Weekly, C), imported at IMPORTED."""
    import_bytes(
        engine,
        ledger_csv(
            event_row(
                "delta",
                "2025-07-01",
                "Delta is announced.",
                source="A Wire",
                grade="B",
                stage="announced",
                deal_title="Delta drones",
                buyer="Ukraine",
                seller="Poland",
                category="UAV",
                tags="drones; export",
            ),
            event_row(
                "delta",
                "2025-07-20",
                "Delta talks begin.",
                source="B Weekly",
                grade="C",
                stage="negotiating",
                value_low="1bn",
                currency="USD",
            ),
        ),
        file_name="delta.csv",
        editor="test",
        now=IMPORTED,
        today=TODAY,
    )
    return engine


def event_id(engine: Engine, summary: str) -> int:
    with engine.connect() as connection:
        return connection.execute(select(Event.id).where(Event.summary == summary)).scalar_one()


def status(engine: Engine, *, as_of: AsOf | None = None) -> tuple:
    header = queries.deal_header(engine, "delta", as_of=as_of)
    return header.stage, header.stage_since, header.last_event_on, header.event_count


def summaries(engine: Engine, *, as_of: AsOf | None = None) -> list[str]:
    return queries.deal_events(engine, "delta", as_of=as_of)["summary"].tolist()


# -- retraction ----------------------------------------------------------------------------------------------


def test_a_retracted_event_leaves_the_current_views_and_stays_in_the_past(delta: Engine):
    talks = event_id(delta, "Delta talks begin.")
    done = revisions.retract_event(
        delta, talks, reason="The report was withdrawn.", editor="alice", now=LATER
    )
    assert done == revisions.Revision(
        2, "Retracted event #2 of delta (2025-07-20: Delta talks begin.) as change #2."
    )
    assert summaries(delta) == ["Delta is announced."]
    assert status(delta) == ("announced", dt.date(2025, 7, 1), dt.date(2025, 7, 1), 1)
    assert summaries(delta, as_of=BEFORE_LATER) == ["Delta is announced.", "Delta talks begin."]
    assert status(delta, as_of=BEFORE_LATER) == ("negotiating", dt.date(2025, 7, 20), dt.date(2025, 7, 20), 2)
    assert queries.latest_events(delta, filters=Filters())["summary"].tolist() == ["Delta is announced."]
    assert queries.latest_events(delta, filters=Filters(), as_of=BEFORE_LATER)["summary"].tolist() == [
        "Delta talks begin.",
        "Delta is announced.",
    ]
    assert queries.deals_by_stage(delta)["deals"].tolist()[:2] == [1, 0]
    assert queries.deals_by_stage(delta, as_of=BEFORE_LATER)["deals"].tolist()[:2] == [0, 1]
    assert queries.ledger_counts(delta)["events"] == 1
    assert ledger_rows(delta, Filters())["summary"].tolist() == ["Delta is announced."]
    # The retracted event's words and source no longer find or count anything.
    assert queries.count_deals(delta, filters=Filters(text="talks")) == 0
    assert queries.sources_table(delta, filters=Filters())["publisher"].tolist() == ["A Wire"]
    with delta.connect() as connection:
        assert connection.execute(select(Retraction.event_id, Retraction.replacement_id)).all() == [(2, None)]
        assert connection.execute(
            select(Import.format, Import.file_name, Import.editor, Import.reason).where(Import.id == 2)
        ).one() == ("retraction", "retraction of event #2 (delta)", "alice", "The report was withdrawn.")


def test_undoing_a_retraction_brings_the_event_back_exactly(delta: Engine):
    before = dump(delta)
    done = revisions.retract_event(
        delta, event_id(delta, "Delta talks begin."), reason="Wrong.", editor="alice"
    )
    result = undo_import(delta, done.import_id, editor="bob")
    after = dump(delta)
    assert (after.pop("imports")[-1][0], result.events_removed) == ("int:2", 0)
    before.pop("imports")
    assert after == before
    assert status(delta) == ("negotiating", dt.date(2025, 7, 20), dt.date(2025, 7, 20), 2)


@pytest.mark.parametrize(
    ("event", "reason", "message"),
    [
        (99, "Gone.", "there is no event #99; the deal page's Events tab lists them."),
        (1, "  ", "give a reason: it is recorded with the change and shown in the deal's history."),
        (
            1,
            "x" * 2001,
            (
                "the reason is 2,001 characters long; give it in at most 2,000 (put the details in the "
                "event's note)."
            ),
        ),
    ],
)
def test_retractions_that_are_refused_write_nothing(delta: Engine, event: int, reason: str, message: str):
    before = dump(delta)
    with pytest.raises(CorrectionRefused) as refused:
        revisions.retract_event(delta, event, reason=reason, editor="alice")
    assert (str(refused.value), dump(delta)) == (message, before)


def test_an_event_is_retracted_once(delta: Engine):
    revisions.retract_event(delta, 1, reason="Wrong.", editor="alice", now=LATER)
    with pytest.raises(CorrectionRefused) as refused:
        revisions.retract_event(delta, 1, reason="Again.", editor="bob")
    assert str(refused.value) == (
        "event #1 cannot be retracted: it was retracted on 2025-09-01 12:00 by alice (change #2). Undo that "
        "change first to bring it back."
    )


def test_a_reimport_does_not_bring_a_retracted_event_back(delta: Engine):
    revisions.retract_event(delta, event_id(delta, "Delta talks begin."), reason="Wrong.", editor="alice")
    again = import_bytes(
        delta,
        ledger_csv(
            event_row(
                "delta",
                "2025-07-20",
                "Delta talks begin.",
                source="B Weekly",
                grade="C",
                stage="negotiating",
                value_low="1bn",
                currency="USD",
            )
        ),
        file_name="delta.csv",
        editor="test",
        today=TODAY,
    )
    assert (again.nothing_new, summaries(delta)) == (True, ["Delta is announced."])


def test_an_import_whose_event_was_retracted_later_cannot_be_undone_first(delta: Engine):
    revisions.retract_event(delta, 1, reason="Wrong.", editor="alice")
    with pytest.raises(UndoRefused) as refused:
        undo_import(delta, 1, editor="bob")
    assert str(refused.value) == (
        "import #1 “delta.csv” cannot be undone: later import #2 retracts an event it added. Undo the later "
        "import first."
    )


# -- correction ----------------------------------------------------------------------------------------------


def correction(**cells: str) -> dict[str, str]:
    """The talks event as the correction form builds it, with some cells changed."""
    return {
        "deal_id": "delta",
        "date": "2025-07-20",
        "stage": "negotiating",
        "summary": "Delta talks begin.",
        "value_low": "1bn",
        "currency": "USD",
        "source_publisher": "B Weekly",
        "source_url": "https://example.org/b-weekly",
        "credibility": "2",
        **cells,
    }


def test_a_correction_replaces_the_event_and_the_history_says_was_and_now(delta: Engine):
    talks = event_id(delta, "Delta talks begin.")
    done = revisions.correct_event(
        delta,
        talks,
        [correction(value_low="1.5bn")],
        reason="The ministry gave 1.5bn.",
        editor="alice",
        now=LATER,
    )
    assert (done.retracted, done.replacement, done.report.import_id, done.report.events_added) == (2, 3, 2, 1)
    events = queries.deal_events(delta, "delta")
    assert events[["event_id", "summary"]].values.tolist() == [
        [1, "Delta is announced."],
        [3, "Delta talks begin."],
    ]
    assert events["value_low"].fillna(0).tolist() == [0, 1.5e9]
    assert queries.deal_events(delta, "delta", as_of=BEFORE_LATER)["value_low"].tolist()[1] == 1e9
    # The deal's value follows the corrected claim, as an import's claim would set it.
    assert queries.deal_header(delta, "delta").value_low == 1.5e9
    history = queries.deal_history(delta, "delta")
    assert history[["import_id", "kind", "what", "reason"]].values.tolist()[0] == [
        2,
        "correction",
        (
            "corrected on 2025-09-01 12:00 by alice: was 20 Jul 2025 · negotiating · Delta talks begin. · "
            "at least "
            "1 bn USD, now 20 Jul 2025 · negotiating · Delta talks begin. · at least 1.5 bn USD; value was "
            "at "
            "least 1 bn USD, now at least 1.5 bn USD"
        ),
        "The ministry gave 1.5bn.",
    ]
    with delta.connect() as connection:
        assert connection.execute(select(Retraction.event_id, Retraction.replacement_id)).all() == [(2, 3)]


def test_a_correction_of_the_date_and_its_undo(delta: Engine):
    before = dump(delta)
    talks = event_id(delta, "Delta talks begin.")
    done = revisions.correct_event(
        delta, talks, [correction(date="2025-07-22", stage="agreed")], reason="Misdated.", editor="alice"
    )
    assert status(delta) == ("agreed", dt.date(2025, 7, 22), dt.date(2025, 7, 22), 2)
    undo_import(delta, done.report.import_id, editor="alice")
    after = dump(delta)
    after.pop("imports")
    before.pop("imports")
    assert after == before


def test_a_dry_run_of_a_correction_writes_nothing(delta: Engine):
    before = dump(delta)
    done = revisions.correct_event(
        delta,
        2,
        [correction(summary="Delta talks begin in Warsaw.")],
        reason="Place.",
        editor="",
        dry_run=True,
    )
    assert (done.report.dry_run, done.report.events_added, done.replacement, dump(delta)) == (
        True,
        1,
        None,
        before,
    )


@pytest.mark.parametrize(
    ("rows", "reason", "error", "message"),
    [
        (
            [correction(deal_id="other")],
            "x",
            ImportRejected,
            (
                "line 1, column deal_id: a correction of an event of delta names other. Correct the event "
                "within its "
                "deal (delta), or add an event to the other deal."
            ),
        ),
        (
            [correction(summary="Delta is announced.", date="2025-07-01", stage="announced")],
            "x",
            CorrectionRefused,
            (
                "the corrected event is event #1 of this deal already (the same date, stage and summary); "
                "retract "
                "event #2 instead, or change what the correction says."
            ),
        ),
        (
            [correction(), correction(summary="Another event.")],
            "x",
            CorrectionRefused,
            (
                "the rows describe more than one event; a correction replaces one event with one event "
                "(give every "
                "row the same date, stage and summary)."
            ),
        ),
        (
            [correction(value_low="lots")],
            "x",
            ImportRejected,
            (
                'line 1, column value_low: value "lots" is not a number. Write the amount as digits, '
                "optionally with "
                "a unit: 250000000, 250m, 1.5bn."
            ),
        ),
        (
            [correction()],
            "",
            CorrectionRefused,
            "give a reason: it is recorded with the change and shown in the deal's history.",
        ),
    ],
)
def test_corrections_that_are_refused_write_nothing(delta: Engine, rows, reason, error, message):
    before = dump(delta)
    with pytest.raises(error) as refused:
        revisions.correct_event(delta, 2, rows, reason=reason, editor="alice")
    shown = str(refused.value.problems[0]) if error is ImportRejected else str(refused.value)
    assert (shown, dump(delta)) == (message, before)


# -- grades --------------------------------------------------------------------------------------------------


def grades(engine: Engine, *, as_of: AsOf | None = None) -> list[tuple[str, str]]:
    sources = queries.deal_event_sources(engine, "delta", as_of=as_of)
    return sorted(zip(sources["publisher"], sources["grade"]))


def test_a_regrade_shows_now_and_the_old_grade_as_of_before(delta: Engine):
    done = revisions.regrade_source(
        delta, 2, "b", reason="Two ministries confirmed.", editor="alice", now=LATER
    )
    assert done.description == "Regraded B Weekly (source #2) from C to B as change #2."
    assert grades(delta) == [("A Wire", "B2"), ("B Weekly", "B2")]
    assert grades(delta, as_of=BEFORE_LATER) == [("A Wire", "B2"), ("B Weekly", "C2")]
    # The grade filter reads the grade as it was then.
    assert queries.latest_events(delta, filters=Filters(min_reliability="B"))["summary"].tolist() == [
        "Delta talks begin.",
        "Delta is announced.",
    ]
    assert queries.latest_events(delta, filters=Filters(min_reliability="B"), as_of=BEFORE_LATER)[
        "summary"
    ].tolist() == ["Delta is announced."]
    assert queries.deal_history(delta, "delta")["what"].tolist()[0] == (
        "regraded on 2025-09-01 12:00 by alice: reliability of B Weekly was C, now B"
    )


def test_a_rerating_and_both_undone(delta: Engine):
    before = dump(delta)
    regrade = revisions.regrade_source(delta, 2, "B", reason="Confirmed.", editor="alice", now=LATER)
    rerate = revisions.rerate_claim(delta, 2, 2, "4", reason="Hedged wording.", editor="alice", now=LATEST)
    assert rerate.description == "Re-rated the claim of source #2 for event #2 from 2 to 4 as change #3."
    assert grades(delta) == [("A Wire", "B2"), ("B Weekly", "B4")]
    assert grades(delta, as_of=AsOf(dt.datetime(2025, 9, 15), "recorded")) == [
        ("A Wire", "B2"),
        ("B Weekly", "B2"),
    ]
    assert grades(delta, as_of=BEFORE_LATER) == [("A Wire", "B2"), ("B Weekly", "C2")]
    with delta.connect() as connection:
        recorded = connection.execute(
            select(
                GradeChange.source_id,
                GradeChange.event_id,
                GradeChange.grade,
                GradeChange.old_value,
                GradeChange.new_value,
                GradeChange.import_id,
            ).order_by(GradeChange.id)
        ).all()
    assert recorded == [(2, None, "reliability", "C", "B", 2), (2, 2, "credibility", "2", "4", 3)]
    assert queries.deal_history(delta, "delta")["what"].tolist()[0] == (
        "re-rated on 2025-10-01 12:00 by alice: credibility of B Weekly for 20 Jul 2025 · negotiating · "
        "Delta "
        "talks begin. · at least 1 bn USD was 2, now 4"
    )
    with pytest.raises(UndoRefused) as refused:
        undo_import(delta, 1, editor="bob")
    assert "later import #2 regrades a source it added" in str(refused.value)
    undo_import(delta, rerate.import_id, editor="bob")
    undo_import(delta, regrade.import_id, editor="bob")
    after = dump(delta)
    after.pop("imports")
    before.pop("imports")
    assert after == before


def test_a_later_regrade_of_the_same_source_must_be_undone_first(delta: Engine):
    first = revisions.regrade_source(delta, 2, "B", reason="Confirmed.", editor="alice")
    revisions.regrade_source(delta, 2, "A", reason="Official.", editor="alice")
    with pytest.raises(UndoRefused) as refused:
        undo_import(delta, first.import_id, editor="bob")
    assert str(refused.value) == (
        "import #2 “regrade of source #2 (B Weekly)” cannot be undone: later import #3 changes a grade it "
        "changed. Undo the later import first."
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda e: revisions.regrade_source(e, 2, "C", reason="x", editor="a"),
            "B Weekly (source #2) is graded C already.",
        ),
        (
            lambda e: revisions.regrade_source(e, 9, "B", reason="x", editor="a"),
            "there is no source #9; the Sources page lists them.",
        ),
        (
            lambda e: revisions.regrade_source(e, 2, "G", reason="x", editor="a"),
            (
                '"G" is not a source reliability grade. Use a letter A (completely reliable) to F (cannot '
                "be judged), "
                "the NATO Admiralty code."
            ),
        ),
        (
            lambda e: revisions.rerate_claim(e, 1, 2, "3", reason="x", editor="a"),
            "source #2 is not a source of event #1; the deal page's Events tab lists every event's sources.",
        ),
        (
            lambda e: revisions.rerate_claim(e, 2, 2, "7", reason="x", editor="a"),
            (
                '"7" is not a claim credibility grade. Use a digit 1 (confirmed) to 6 (cannot be judged), '
                "the NATO "
                "Admiralty code."
            ),
        ),
        (
            lambda e: revisions.rerate_claim(e, 2, 2, "2", reason="x", editor="a"),
            "the claim of source #2 for event #2 is rated 2 already.",
        ),
    ],
)
def test_grade_changes_that_are_refused_write_nothing(delta: Engine, change, message: str):
    before = dump(delta)
    with pytest.raises(CorrectionRefused) as refused:
        change(delta)
    assert (str(refused.value), dump(delta)) == (message, before)


# -- deal edits ----------------------------------------------------------------------------------------------


def test_a_deal_edit_is_recorded_as_changes_in_the_codec_and_undone(delta: Engine):
    before = dump(delta)
    cells = {
        "deal_title": "Delta reconnaissance drones",
        "deal_summary": "",
        "category": "UAV",
        "deal_quantity": "24",
        "deal_value_low": "1bn",
        "deal_value_high": "2bn",
        "deal_currency": "usd",
        "tags": "drones; reconnaissance",
    }
    preview = revisions.edit_deal(delta, "delta", cells, editor="", dry_run=True)
    assert (preview.import_id, dump(delta)) == (None, before)
    done = revisions.edit_deal(delta, "delta", cells, editor="alice", reason="From the contract.", now=LATER)
    assert (done.import_id, done.tags_added, done.tags_removed) == (2, ["reconnaissance"], ["export"])
    assert [(c.field, c.old, c.new) for c in done.changes] == [
        ("title", "Delta drones", "Delta reconnaissance drones"),
        ("quantity", None, "24"),
        ("value", "1000000000.0||USD", "1000000000.0|2000000000.0|USD"),
    ]
    header = queries.deal_header(delta, "delta")
    assert (header.title, header.quantity, header.value_high, queries.deal_tags(delta, "delta")) == (
        "Delta reconnaissance drones",
        24,
        2e9,
        ["drones", "reconnaissance"],
    )
    assert queries.deal_header(delta, "delta", as_of=BEFORE_LATER).title == "Delta drones"
    assert ledger_rows(delta, Filters())["tags"].tolist()[0] == "drones;reconnaissance"
    assert queries.deal_history(delta, "delta")[["what", "reason"]].values.tolist()[0] == [
        (
            "edited on 2025-09-01 12:00 by alice: title was Delta drones, now Delta reconnaissance drones; "
            "quantity "
            "was not set, now 24; value was at least 1 bn USD, now 1–2 bn USD; took tag export off; tagged "
            "reconnaissance"
        ),
        "From the contract.",
    ]
    with delta.connect() as connection:
        assert connection.execute(
            select(DealChange.event_id).where(DealChange.import_id == 2)
        ).scalars().all() == [
            None,
            None,
            None,
        ]
    # A re-import of the first file does not put the removed tag back.
    import_bytes(
        delta,
        ledger_csv(
            event_row(
                "delta",
                "2025-07-01",
                "Delta is announced.",
                source="A Wire",
                grade="B",
                stage="announced",
                tags="export",
            )
        ),
        file_name="again.csv",
        editor="test",
        today=TODAY,
    )
    assert queries.deal_tags(delta, "delta") == ["drones", "reconnaissance"]
    undo_import(delta, done.import_id, editor="bob")
    after = dump(delta)
    after.pop("imports")
    before.pop("imports")
    assert after == before


@pytest.mark.parametrize(
    ("cells", "messages"),
    [
        (
            {"deal_title": " "},
            ["line 1, column deal_title: the deal's title is empty. Give the deal a title."],
        ),
        (
            {"deal_value_low": "2bn", "deal_value_high": "1bn", "deal_currency": ""},
            [
                (
                    "line 1, column deal_value_high: deal_value_high 1bn is below deal_value_low. Swap "
                    "deal_value_low and "
                    "deal_value_high, or correct one of them."
                ),
                (
                    "line 1, column deal_currency: a value is given without a currency. Give the ISO 4217 "
                    "currency code "
                    "of the value, e.g. USD or EUR."
                ),
            ],
        ),
        (
            {"deal_quantity": "two dozen"},
            [
                (
                    'line 1, column deal_quantity: quantity "two dozen" is not a whole number. Give the '
                    "number of units "
                    "as digits only, e.g. 24 (no commas or words)."
                )
            ],
        ),
        (
            {"deal_sipri_tiv": "5"},
            [
                (
                    "line 1, column deal_sipri_tiv: deal_sipri_tiv cannot be edited here. Edit the title, "
                    "summary, "
                    "category, quantity, value and tags; other columns come with events."
                )
            ],
        ),
    ],
)
def test_deal_edits_get_the_importers_messages_and_write_nothing(delta: Engine, cells, messages):
    before = dump(delta)
    with pytest.raises(ImportRejected) as rejected:
        revisions.edit_deal(delta, "delta", cells, editor="alice")
    assert ([str(p) for p in rejected.value.problems], dump(delta)) == (messages, before)


def test_a_removed_tag_comes_back_only_by_undoing_its_removal(delta: Engine):
    revisions.edit_deal(delta, "delta", {"tags": "drones"}, editor="alice")
    with pytest.raises(ImportRejected) as rejected:
        revisions.edit_deal(delta, "delta", {"tags": "drones; export"}, editor="alice")
    assert str(rejected.value.problems[0]) == (
        'line 1, column tags: tag "export" was taken off this deal by change #2. Undo change #2 to put it '
        "back, or give the tag another name."
    )
    with pytest.raises(UndoRefused) as refused:
        undo_import(delta, 1, editor="bob")
    assert "later import #2 removes a tag it added" in str(refused.value)


def test_an_edit_that_changes_nothing_records_nothing(delta: Engine):
    before = dump(delta)
    edit = revisions.edit_deal(
        delta, "delta", {"deal_title": "Delta drones", "tags": "export; drones"}, editor="a"
    )
    assert (edit.nothing_new, edit.import_id, dump(delta)) == (True, None, before)


# -- rows from a form ----------------------------------------------------------------------------------------


def test_form_rows_import_as_a_file_of_them_does(engine: Engine, another_ledger):
    rows = [
        row(
            deal_id="epsilon",
            deal_title="Epsilon radars",
            source_title="Radar Wire",
            party="Elbit",
            party_role="manufacturer",
            party_kind="company",
            party_country="ISR",
        ),
        row(deal_id="epsilon", source_title="Second Wire", source_url="https://example.org/second"),
    ]
    report = import_rows(engine, rows, label="form: new deal epsilon", editor="alice", today=TODAY)
    assert (report.import_id, report.events_added, report.sources_added, report.deals_created) == (
        1,
        1,
        2,
        ["epsilon"],
    )
    as_file = another_ledger()
    import_bytes(as_file, ledger_csv(*rows), file_name="epsilon.csv", editor="alice", today=TODAY)
    with engine.connect() as connection:
        assert connection.execute(select(Import.format, Import.file_name)).one() == (
            "form",
            "form: new deal epsilon",
        )
    from tests.ledger_snapshot import content

    assert content(engine) == content(as_file)


def test_bad_form_rows_get_the_importers_problems_by_row(engine: Engine):
    rows = [row(date="2025-13-01", reliability="Q"), row(source_title="", source_url="")]
    with pytest.raises(ImportRejected) as rejected:
        import_rows(engine, rows, label="form", editor="alice", today=TODAY)
    assert [(p.line, p.column, p.message) for p in rejected.value.problems] == [
        (1, "date", '"2025-13-01" is not a real date'),
        (1, "reliability", '"Q" is not a source reliability grade'),
        (2, "source_title", "the row has no source"),
    ]
    assert queries.ledger_counts(engine)["imports"] == 0


def test_a_form_cannot_smuggle_an_unknown_column(engine: Engine):
    with pytest.raises(ImportRejected) as rejected:
        import_rows(engine, [row(evil="x")], label="form", editor="alice", today=TODAY)
    assert [(p.line, p.column, p.message) for p in rejected.value.problems] == [
        (0, "evil", 'unknown column "evil"')
    ]
