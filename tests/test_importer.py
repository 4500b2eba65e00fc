"""The importer against a real ledger: atomicity, idempotency, recorded changes, undo and dry runs."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TODAY
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.builders import ledger_csv, row
from tests.ledger_snapshot import dump
from tracker.errors import ImportRejected, UndoRefused
from tracker.importer import import_bytes, preview_undo, undo_import
from tracker.importer import report as report_module
from tracker.models import Deal, DealChange, DealParty, Event, EventSource, Import, Party, Source


def run(engine: Engine, data: bytes, *, name: str = "update.csv", dry_run: bool = False):
    return import_bytes(engine, data, file_name=name, editor="alice", dry_run=dry_run, today=TODAY)


def count(engine: Engine, model) -> int:
    with engine.connect() as connection:
        return len(connection.execute(select(model)).all())


def test_one_bad_row_among_many_leaves_the_ledger_unchanged(seeded: Engine):
    before = dump(seeded)
    rows = [row(deal_id=f"deal-{i}", summary=f"Development {i}") for i in range(300)]
    rows[217] = row(deal_id="deal-217", date="2025-02-30")
    with pytest.raises(ImportRejected) as caught:
        run(seeded, ledger_csv(*rows))
    assert [(p.line, p.column) for p in caught.value.problems] == [(219, "date")]
    assert dump(seeded) == before


def test_a_ledger_dependent_problem_also_leaves_it_unchanged(seeded: Engine):
    before = dump(seeded)
    data = ledger_csv(row(), row(deal_id="untitled-deal", deal_title=""))
    with pytest.raises(ImportRejected) as caught:
        run(seeded, data)
    assert [(p.line, p.column, p.message, p.fix) for p in caught.value.problems] == [
        (
            3,
            "deal_title",
            "deal untitled-deal is new to the ledger and has no title",
            "Give deal_title on at least one row of this deal (or check the deal_id for a typo).",
        )
    ]
    assert dump(seeded) == before


def test_reimporting_the_same_file_adds_nothing_and_records_nothing(engine: Engine):
    data = ledger_csv(row(), row(date="2025-08", stage="negotiating", summary="Talks begin."))
    first = run(engine, data)
    after_first = dump(engine)
    second = run(engine, data, name="same-again.csv")
    assert (
        first.import_id,
        first.events_added,
        second.import_id,
        second.events_added,
        second.nothing_new,
    ) == (1, 2, None, 0, True)
    assert second.describe() == "same-again.csv: nothing new; all 2 rows are already in the ledger."
    assert dump(engine) == after_first


def test_rows_already_in_the_ledger_are_skipped_and_new_ones_added(engine: Engine):
    run(engine, ledger_csv(row()))
    report = run(engine, ledger_csv(row(), row(date="2025-08", summary="Later development.")))
    assert (report.events_added, report.duplicates_skipped, report.deals_created, report.deals_updated) == (
        1,
        1,
        [],
        ["test-deal"],
    )


def test_the_same_event_from_two_sources_is_one_event_with_two_links(engine: Engine):
    report = run(
        engine,
        ledger_csv(
            row(),
            row(
                deal_title="",
                source_title="Second report",
                source_url="https://example.org/second",
                reliability="C",
                credibility="3",
            ),
        ),
    )
    with engine.connect() as connection:
        links = connection.execute(
            select(Source.reliability, EventSource.credibility)
            .join(EventSource, EventSource.source_id == Source.id)
            .order_by(Source.id)
        ).all()
    assert (report.events_added, report.links_added, [tuple(link) for link in links]) == (
        1,
        2,
        [("B", 2), ("C", 3)],
    )


def test_a_new_event_keeps_its_link_when_a_known_event_has_more_sources(engine: Engine):
    """Links are told apart by one number per (event, source) pair: a known event's link to a source the
    batch does not name must not take the number of a new event's link (it did: the new event of the
    seed article, drafted on the article page, was written without its source)."""
    sources = [("Report", "https://example.org/report"), ("Second", "https://example.org/2"),
               ("Third", "https://example.org/3")]  # fmt: skip
    run(engine, ledger_csv(*(row(source_title=t, source_url=u, deal_title="Test deal") for t, u in sources)))
    # Pairs were numbered event * (largest batch source id + 1) + source: new event 2 with source 1 gave
    # 2 * 2 + 1 = 5, the number of known event 1 with source 3.
    report = run(engine, ledger_csv(row(date="2025-08-01", summary="A later development.")))
    with engine.connect() as connection:
        links = connection.execute(
            select(EventSource.event_id, EventSource.source_id).order_by(
                EventSource.event_id, EventSource.source_id
            )
        ).all()
    assert (report.events_added, report.links_added) == (1, 1)
    assert [tuple(link) for link in links] == [(1, 1), (1, 2), (1, 3), (2, 1)]


def test_dry_run_reports_without_writing(seeded: Engine):
    before = dump(seeded)
    report = run(
        seeded,
        ledger_csv(
            row(
                deal_id="us-ukraine-drone-deal",
                deal_title="",
                category="Drones",
                date="2025-10-20",
                stage="agreed",
                summary="Hypothetical agreement.",
            )
        ),
        dry_run=True,
    )
    assert (
        report.dry_run,
        report.import_id,
        report.events_added,
        report.deals_updated,
        [(c.field, c.old, c.new) for c in report.changes],
    ) == (True, None, 1, ["us-ukraine-drone-deal"], [("category", "UAV", "Drones")])
    assert report.new_events[["line", "deal_id", "date_text", "stage"]].values.tolist() == [
        [2, "us-ukraine-drone-deal", "2025-10-20", "agreed"]
    ]
    assert dump(seeded) == before


def test_a_report_lists_the_first_new_events_and_counts_them_all(engine: Engine, monkeypatch):
    monkeypatch.setattr(report_module, "PREVIEW_EVENTS", 2)
    data = ledger_csv(*(row(deal_id=f"deal-{n}", summary=f"Deal {n} is announced.") for n in range(3)))
    for dry_run in (True, False):
        report = run(engine, data, dry_run=dry_run)
        assert report.events_added == 3
        assert report.new_events[["line", "deal_id", "summary"]].values.tolist() == [
            [2, "deal-0", "Deal 0 is announced."],
            [3, "deal-1", "Deal 1 is announced."],
        ]


def test_attribute_updates_are_recorded_as_changes_and_stage_is_derived(engine: Engine):
    run(engine, ledger_csv(row(category="UAV", value_low="10bn", value_high="30bn", currency="USD")))
    run(
        engine,
        ledger_csv(
            row(
                deal_title="Renamed deal",
                date="2025-09",
                stage="negotiating",
                summary="Talks.",
                category="Loitering munitions",
                value_low="12bn",
                value_high="",
                currency="USD",
            )
        ),
    )
    with Session(engine) as session:
        deal = session.scalars(select(Deal)).one()
        changes = session.execute(
            select(
                DealChange.field, DealChange.old_value, DealChange.new_value, DealChange.import_id
            ).order_by(DealChange.id)
        ).all()
    assert (
        deal.title,
        deal.category,
        deal.value_low,
        deal.value_high,
        deal.currency,
        deal.current_stage,
        deal.stage_since,
        deal.first_event_on,
        deal.last_event_on,
        deal.event_count,
    ) == (
        "Renamed deal",
        "Loitering munitions",
        12e9,
        None,
        "USD",
        "negotiating",
        dt.date(2025, 9, 1),
        dt.date(2025, 7, 4),
        dt.date(2025, 9, 1),
        2,
    )
    assert [tuple(c) for c in changes] == [
        ("title", "Test deal", "Renamed deal", 2),
        ("category", "UAV", "Loitering munitions", 2),
        ("value", "10000000000.0|30000000000.0|USD", "12000000000.0||USD", 2),
    ]


def test_undo_restores_the_ledger_exactly(seeded: Engine):
    before = dump(seeded)
    report = run(
        seeded,
        ledger_csv(
            row(
                deal_id="us-ukraine-drone-deal",
                deal_title="Drone Deal (renamed)",
                date="2025-10-20",
                stage="agreed",
                summary="Agreement signed.",
                party="New Negotiator",
                party_role="negotiator",
                party_kind="person",
                party_country="UKR",
                tags="signed",
            ),
            row(deal_id="another-deal", deal_title="Another deal"),
        ),
    )
    ledger = dump(seeded)
    preview = preview_undo(seeded, report.import_id)
    assert dump(seeded) == ledger  # the preview writes nothing
    result = undo_import(seeded, report.import_id, editor="bob")
    # The preview said what the undo then did.
    assert (
        preview.import_id,
        preview.file_name,
        preview.editor,
        preview.rows_read,
        preview.events_removed,
        preview.deals_removed,
        preview.sources_removed,
        preview.deals_restored,
    ) == (2, "update.csv", "alice", 2, 2, 1, 1, 1)
    assert (result.events_removed, result.deals_removed, result.deals_restored) == (2, 1, 1)
    after = dump(seeded)
    undone = after.pop("imports")
    before.pop("imports")  # the import rows differ by design: the undone one is kept, marked undone
    assert after == before
    status = undone[0].index("status")
    assert [(r[0], r[status]) for r in undone[1:]] == [("int:1", "str:committed"), ("int:2", "str:undone")]
    assert (result.events_removed, result.deals_removed, result.deals_restored) == (2, 1, 1)


def test_undo_is_refused_while_a_later_import_depends_on_it(engine: Engine):
    first = run(engine, ledger_csv(row()))
    second = run(engine, ledger_csv(row(date="2025-08", summary="Follow-up.")))
    with pytest.raises(UndoRefused) as caught:
        undo_import(engine, first.import_id, editor="bob")
    assert str(caught.value) == (
        "import #1 “update.csv” cannot be undone: later import #2 added events to a deal it touched. "
        "Undo the later import first."
    )
    with pytest.raises(UndoRefused) as previewed:  # the preview refuses with the same words
        preview_undo(engine, first.import_id)
    assert str(previewed.value) == str(caught.value)
    undo_import(engine, second.import_id, editor="bob")
    undo_import(engine, first.import_id, editor="bob")
    assert (count(engine, Event), count(engine, Deal), count(engine, Source), count(engine, Party)) == (
        0,
        0,
        0,
        0,
    )


@pytest.mark.parametrize(
    ("import_id", "message"),
    [
        (7, "there is no import #7; `python -m tracker imports` lists them."),
    ],
)
def test_undo_of_an_unknown_import(engine: Engine, import_id: int, message: str):
    with pytest.raises(UndoRefused) as caught:
        undo_import(engine, import_id, editor="bob")
    assert str(caught.value) == message


def test_undo_twice_is_refused(engine: Engine):
    report = run(engine, ledger_csv(row()))
    undo_import(engine, report.import_id, editor="bob")
    with pytest.raises(UndoRefused) as caught:
        undo_import(engine, report.import_id, editor="bob")
    assert str(caught.value) == "import #1 “update.csv” has already been undone."


def test_reimport_after_undo_adds_the_rows_again(engine: Engine):
    data = ledger_csv(row())
    first = run(engine, data)
    undo_import(engine, first.import_id, editor="bob")
    again = run(engine, data)
    assert (again.import_id, again.events_added, count(engine, Event)) == (2, 1, 1)


def test_a_source_grade_that_contradicts_the_ledger_is_rejected(seeded: Engine):
    data = ledger_csv(
        row(
            deal_id="us-ukraine-drone-deal",
            deal_title="",
            summary="New claim.",
            source_url="https://en.interfax.com.ua/news/general/1111501.html",
            reliability="D",
        )
    )
    with pytest.raises(ImportRejected) as caught:
        run(seeded, data)
    assert [(p.line, p.column, p.message, p.fix) for p in caught.value.problems] == [
        (
            2,
            "reliability",
            "this source is graded B in the ledger",
            "Use B, or leave reliability empty to keep the ledger's grade.",
        )
    ]


def test_rows_of_one_event_must_agree(engine: Engine):
    data = ledger_csv(row(note="first"), row(note="second", source_url="https://example.org/other"))
    with pytest.raises(ImportRejected) as caught:
        run(engine, data)
    assert [(p.line, p.column, p.message) for p in caught.value.problems] == [
        (3, "note", "this row describes the same event as line 2, which gives note first")
    ]


def test_new_party_needs_a_kind_and_a_known_parent(engine: Engine):
    data = ledger_csv(
        row(party="Ministry X", party_role="negotiator", party_parent="Nowhere Land"),
        row(
            summary="Second.",
            party="Agency Y",
            party_role="participant",
            party_kind="agency",
            party_parent="Nowhere Land",
        ),
    )
    with pytest.raises(ImportRejected) as caught:
        run(engine, data)
    assert [(p.line, p.column, p.message) for p in caught.value.problems] == [
        (2, "party_kind", 'party "Ministry X" is new to the ledger and has no kind'),
        (2, "party_parent", 'parent party "Nowhere Land" is not in the ledger'),
        (3, "party_parent", 'parent party "Nowhere Land" is not in the ledger'),
    ]


def test_parties_get_parents_and_roles(engine: Engine):
    run(
        engine,
        ledger_csv(
            row(
                party="Ministry of Defence of Ukraine",
                party_role="seller",
                party_kind="ministry",
                party_country="Ukraine",
                party_parent="Ukraine",
            ),
            row(
                summary="Second.",
                party="Deputy Minister",
                party_role="negotiator",
                party_kind="person",
                party_country="UA",
                party_parent="Ministry of Defence of Ukraine",
            ),
        ),
    )
    with engine.connect() as connection:
        parties = connection.execute(
            select(Party.id, Party.name, Party.kind, Party.country_code, Party.parent_id).order_by(Party.id)
        ).all()
        roles = connection.execute(
            select(DealParty.party_id, DealParty.role).order_by(DealParty.party_id, DealParty.role)
        ).all()
    assert [tuple(p) for p in parties] == [
        (1, "United States", "state", "USA", None),
        (2, "Ukraine", "state", "UKR", None),
        (3, "Ministry of Defence of Ukraine", "ministry", "UKR", 2),
        (4, "Deputy Minister", "person", "UKR", 3),
    ]
    assert [tuple(r) for r in roles] == [(1, "buyer"), (2, "seller"), (3, "seller"), (4, "negotiator")]


def test_whole_numbers_are_stored_as_integers_when_some_deals_have_none(engine: Engine):
    # pandas holds a column of whole numbers with gaps as floats; the ledger must still get 12, not 12.0
    # (PostgreSQL's COPY refuses "12.0" for an integer column).
    run(
        engine,
        ledger_csv(row(quantity="12"), row(deal_id="other-deal", deal_title="Other deal", summary="Other.")),
    )
    with engine.connect() as connection:
        stored = connection.execute(select(Deal.id, Deal.quantity).order_by(Deal.id)).all()
    assert [(deal_id, quantity, type(quantity)) for deal_id, quantity in stored] == [
        ("other-deal", None, type(None)),
        ("test-deal", 12, int),
    ]


def test_upload_size_limit_is_checked_in_code(engine: Engine):
    with pytest.raises(ImportRejected) as caught:
        import_bytes(engine, b"x" * 2_000_001, file_name="big.csv", editor="alice", max_bytes=2_000_000)
    assert str(caught.value.problems[0]) == (
        "the file is 2.0 MB; uploads are limited to 2 MB. Split it into smaller "
        "files, or import it with the CLI: python -m tracker import FILE"
    )


def test_import_record_keeps_who_what_and_counts(engine: Engine):
    report = run(engine, ledger_csv(row(), row(source_title="Other", source_url="")), name="../../etc/x.csv")
    with Session(engine) as session:
        record = session.scalars(select(Import)).one()
    assert (
        record.file_name,
        record.editor,
        record.format,
        record.encoding,
        record.rows_read,
        record.events_added,
        record.sources_added,
        record.links_added,
        record.deals_created,
        record.status,
        record.sha256,
    ) == ("x.csv", "alice", "ledger-csv", "utf-8", 2, 1, 2, 2, 1, "committed", report.sha256)


SEED_DEAL = "us-ukraine-drone-deal"  # negotiating since the week of 22 Sep 2025; its last event 17 Oct 2025


@pytest.mark.parametrize(
    ("cells", "moves"),
    [
        ({"date": "2025-11-03", "stage": "agreed"}, [("negotiating", "agreed")]),
        ({"date": "2025-11-03", "stage": "negotiating"}, []),  # the stage it is in
        ({"date": "2025-11-03", "stage": ""}, []),  # news without a stage
        ({"date": "2025-06-02", "stage": "approved"}, []),  # before the stages it has: not its current one
        ({"date": "2025-11", "stage": "stalled"}, [("negotiating", "stalled")]),
    ],
)
def test_a_check_names_the_deals_whose_stage_the_import_moves(seeded: Engine, cells, moves):
    data = ledger_csv(
        row(deal_id=SEED_DEAL, deal_title="", summary="Scratch news of the deal.", **cells),
        row(deal_id="new-deal", deal_title="New deal", stage="agreed"),  # a new deal moves nothing
    )
    expected = [report_module.StageMove(SEED_DEAL, "US–Ukraine Drone Deal", *move) for move in moves]
    checked = run(seeded, data, dry_run=True)
    assert (checked.stage_moves, checked.stages_moved) == (expected, len(expected))
    run(seeded, data)
    with Session(seeded) as session:
        assert session.get(Deal, SEED_DEAL).current_stage == (moves[-1][1] if moves else "negotiating")
