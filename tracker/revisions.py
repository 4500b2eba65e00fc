"""Correcting the ledger without erasing it: retract an event, correct one (a retraction and its
replacement in one step), regrade a source, re-rate a claim, edit a deal's attributes and tags.

Each change is an import of its own (an `imports` row: who, when, why, and its kind as `format`), so it
shows in the import history and the deal's history, and `tracker.importer.undo_import` undoes it like any
import. Nothing is overwritten without a record: a retraction is a `retractions` row (the event stays,
and the as-of views before it still show it), a regrade or re-rating a `grade_changes` row with the old
and new grade, a deal edit `deal_changes` rows in the attribute codec (tracker.attributes) and tags
marked removed. A correction's replacement goes through the importer as any batch of rows does.

The caller says who the editor is: the dashboard checks the editor's rights where it writes
(tracker.views.editors.editor_for_write), the CLI takes --editor. Refusals raise CorrectionRefused (or
ImportRejected, with the importer's problems, for a replacement's or a deal's cells).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from tracker.attributes import ATTRIBUTE_BY_NAME, DealAttribute
from tracker.db import write_transaction
from tracker.errors import CorrectionRefused, ImportRejected, InvalidValue, Problem
from tracker.importer import ImportReport, batch_of_rows, commit_batch, preview_batch, rows_digest
from tracker.importer.plan import next_id
from tracker.importer.report import DealChangeRow
from tracker.importer.undo import safe_editor
from tracker.importer.write import refresh_deals
from tracker.ledger_csv import Batch, read_deal_cells
from tracker.models import (
    Deal,
    DealChange,
    DealTag,
    Event,
    EventSource,
    GradeChange,
    Import,
    Retraction,
    Source,
)
from tracker.vocab import resolve_credibility, resolve_reliability

# The kinds of change, as `imports.format` records them, and what people call them.
FORM = "form"
RETRACTION = "retraction"
CORRECTION = "correction"
REGRADE = "regrade"
RERATING = "re-rating"
DEAL_EDIT = "deal edit"
KINDS: dict[str, str] = {
    FORM: "entered in a form",
    RETRACTION: "retracted",
    CORRECTION: "corrected",
    REGRADE: "regraded",
    RERATING: "re-rated",
    DEAL_EDIT: "edited",
}
# The deal attributes an editor may set by hand (a SIPRI TIV comes only from SIPRI), and the tags.
EDITABLE_ATTRIBUTES: tuple[DealAttribute, ...] = tuple(
    ATTRIBUTE_BY_NAME[name] for name in ("title", "summary", "category", "quantity", "value")
)
TAGS = "tags"
REASON_LENGTH = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Revision:
    """A change made: the import that records it, and one line saying what it did."""

    import_id: int
    description: str


@dataclass(frozen=True, slots=True)
class Correction:
    """A correction made (or, as a dry run, what it would add): the replacement's import report, the event
    it retracts and the event that replaces it (None in a dry run)."""

    report: ImportReport
    retracted: int
    replacement: int | None


@dataclass(frozen=True, slots=True)
class DealEdit:
    """A deal edit made (or, as a dry run, what it would change)."""

    deal_id: str
    changes: list[DealChangeRow]
    tags_added: list[str] = field(default_factory=list)
    tags_removed: list[str] = field(default_factory=list)
    import_id: int | None = None

    @property
    def nothing_new(self) -> bool:
        return not (self.changes or self.tags_added or self.tags_removed)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def clean_reason(text: str | None, *, required: bool) -> str | None:
    """The reason as recorded: control characters removed, trimmed, at most REASON_LENGTH characters;
    CorrectionRefused when a reason is required and none is given."""
    cleaned = _CONTROL.sub("", (text or "").replace("\r\n", "\n")).strip()
    if len(cleaned) > REASON_LENGTH:
        raise CorrectionRefused(
            f"the reason is {len(cleaned):,} characters long; give it in at most {REASON_LENGTH:,} "
            "(put the details in the event's note)."
        )
    if not cleaned and required:
        raise CorrectionRefused(
            "give a reason: it is recorded with the change and shown in the deal's history."
        )
    return cleaned or None


def _record(
    connection: Connection, *, kind: str, label: str, editor: str, reason: str | None, now: dt.datetime
) -> int:
    """The import row of a change made without a batch of rows; its id."""
    import_id = next_id(connection, Import.__table__)
    zero = dict.fromkeys(
        ("rows_read", "deals_created", "deals_updated", "events_added", "sources_added", "parties_added",
         "links_added", "duplicates_skipped"),
        0,
    )  # fmt: skip
    connection.execute(
        insert(Import.__table__).values(
            id=import_id,
            file_name=label[:255],
            sha256=hashlib.sha256(f"{kind}\x1f{label}\x1f{now.isoformat()}".encode()).hexdigest(),
            format=kind,
            encoding="",
            editor=safe_editor(editor),
            started_at=now,
            committed_at=now,
            status="committed",
            reason=reason,
            **zero,
        )
    )
    return import_id


@dataclass(frozen=True, slots=True)
class _Event:
    id: int
    deal_id: str
    fingerprint: str
    date_text: str
    summary: str


def _current_event(connection: Connection, event_id: int, *, doing: str) -> _Event:
    """The event, if it exists and is not retracted; else CorrectionRefused saying so."""
    row = connection.execute(
        select(Event.id, Event.deal_id, Event.fingerprint, Event.date_text, Event.summary).where(
            Event.id == event_id
        )
    ).first()
    if row is None:
        raise CorrectionRefused(f"there is no event #{event_id}; the deal page's Events tab lists them.")
    retraction = connection.execute(
        select(Import.id, Import.committed_at, Import.editor)
        .join(Retraction, Retraction.import_id == Import.id)
        .where(Retraction.event_id == event_id)
    ).first()
    if retraction is not None:
        raise CorrectionRefused(
            f"event #{event_id} cannot be {doing}: it was retracted on "
            f"{retraction.committed_at:%Y-%m-%d %H:%M} by {retraction.editor} (change #{retraction.id}). "
            "Undo that change first to bring it back."
        )
    return _Event(*row)


def retract_event(
    engine: Engine, event_id: int, *, reason: str, editor: str, now: dt.datetime | None = None
) -> Revision:
    """Take an event back: it leaves the current views and the deal's stage and dates are recomputed; the
    as-of views before now still show it. Undo the returned import to bring it back."""
    why = clean_reason(reason, required=True)
    moment = now or _now()
    with write_transaction(engine) as connection:
        event = _current_event(connection, event_id, doing="retracted")
        import_id = _record(
            connection,
            kind=RETRACTION,
            label=f"retraction of event #{event_id} ({event.deal_id})",
            editor=editor,
            reason=why,
            now=moment,
        )
        connection.execute(insert(Retraction.__table__).values(event_id=event_id, import_id=import_id))
        refresh_deals(connection, [event.deal_id])
    return Revision(
        import_id,
        f"Retracted event #{event_id} of {event.deal_id} ({event.date_text}: {_short(event.summary)}) as "
        f"change #{import_id}.",
    )


def correct_event(
    engine: Engine,
    event_id: int,
    rows: Sequence[Mapping[str, object]],
    *,
    reason: str,
    editor: str,
    dry_run: bool = False,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Correction:
    """Replace an event by the event `rows` describe (upload-format rows of one event of the same deal,
    imported as any rows are), and retract it, in one transaction: the history then reads "corrected on
    ... by ...: was ..., now ...". ImportRejected with the importer's problems for bad rows."""
    why = clean_reason(reason, required=True)
    batch = batch_of_rows(rows, today=today, format=CORRECTION)
    label = f"correction of event #{event_id}"
    file = {"file_name": label, "sha256": rows_digest(rows), "encoding": "utf-8"}
    moment = now or _now()
    if dry_run:
        with engine.connect() as connection:
            old = _current_event(connection, event_id, doing="corrected")
            batch = _replacing(connection, batch, old)
        return Correction(preview_batch(engine, batch, **file), event_id, None)
    with write_transaction(engine, references_resolved=True) as connection:
        old = _current_event(connection, event_id, doing="corrected")
        batch = _replacing(connection, batch, old)
        fingerprint = batch.rows["fingerprint"].iloc[0]  # commit_batch releases the rows
        report = commit_batch(
            connection, batch, **file, editor=editor, started=moment, now=moment, reason=why
        )
        replacement = connection.execute(
            select(Event.id).where(Event.fingerprint == fingerprint)
        ).scalar_one()
        connection.execute(
            insert(Retraction.__table__).values(
                event_id=event_id, replacement_id=replacement, import_id=report.import_id
            )
        )
        refresh_deals(connection, [old.deal_id])
    return Correction(report, event_id, replacement)


def _replacing(connection: Connection, batch: Batch, old: _Event) -> Batch:
    """The batch as the replacement of `old`: rows of one event of the same deal, new to the ledger.

    A correction that keeps the date, stage and summary (it corrects a value, a source or a note) describes
    an event with the same identity as the one it replaces; it gets an identity of its own, derived from
    the old one, so that both are kept (the old one retracted) and a re-import of the old row still finds
    the old event.
    """
    rows = batch.rows
    problems = [
        Problem(int(line), "deal_id", deal_id, f"a correction of an event of {old.deal_id} names {deal_id}",
                f"Correct the event within its deal ({old.deal_id}), or add an event to the other deal.")
        for line, deal_id in zip(rows["line"], rows["deal_id"])
        if deal_id != old.deal_id
    ]  # fmt: skip
    if problems:
        raise ImportRejected(problems)
    fingerprints = set(rows["fingerprint"])
    if len(fingerprints) != 1:
        raise CorrectionRefused(
            "the rows describe more than one event; a correction replaces one event with one event "
            "(give every row the same date, stage and summary)."
        )
    (fingerprint,) = fingerprints
    if fingerprint == old.fingerprint:
        fingerprint = hashlib.sha256(f"{old.fingerprint}\x1fcorrects {old.id}".encode()).hexdigest()[:32]
        rows = rows.assign(fingerprint=fingerprint)
    same = connection.execute(select(Event.id).where(Event.fingerprint == fingerprint)).scalar()
    if same is not None:
        raise CorrectionRefused(
            f"the corrected event is event #{same} of this deal already (the same date, stage and summary); "
            f"retract event #{old.id} instead, or change what the correction says."
        )
    return dataclasses.replace(batch, rows=rows)


def regrade_source(
    engine: Engine,
    source_id: int,
    grade: str,
    *,
    reason: str,
    editor: str,
    now: dt.datetime | None = None,
) -> Revision:
    """Give a source a new reliability grade (A-F), recorded with the old one: the current views show the
    new grade, the as-of views before now the old."""
    new = _graded(resolve_reliability, str(grade))
    why = clean_reason(reason, required=True)
    with write_transaction(engine) as connection:
        source = connection.execute(
            select(Source.reliability, Source.publisher, Source.title).where(Source.id == source_id)
        ).first()
        if source is None:
            raise CorrectionRefused(f"there is no source #{source_id}; the Sources page lists them.")
        name = source.publisher or source.title or f"source #{source_id}"
        if source.reliability == new:
            raise CorrectionRefused(f"{name} (source #{source_id}) is graded {new} already.")
        import_id = _record(
            connection,
            kind=REGRADE,
            label=f"regrade of source #{source_id} ({name})",
            editor=editor,
            reason=why,
            now=now or _now(),
        )
        _grade_change(connection, source_id, None, "reliability", source.reliability, new, import_id)
        connection.execute(update(Source.__table__).where(Source.id == source_id).values(reliability=new))
    return Revision(
        import_id,
        f"Regraded {_short(name)} (source #{source_id}) from {source.reliability} to {new} as change "
        f"#{import_id}.",
    )


def rerate_claim(
    engine: Engine,
    event_id: int,
    source_id: int,
    credibility: str | int,
    *,
    reason: str,
    editor: str,
    now: dt.datetime | None = None,
) -> Revision:
    """Give the claim a source makes for an event a new credibility (1-6), recorded with the old one."""
    new = str(_graded(resolve_credibility, str(credibility)))
    why = clean_reason(reason, required=True)
    with write_transaction(engine) as connection:
        event = _current_event(connection, event_id, doing="re-rated")
        old = connection.execute(
            select(EventSource.credibility).where(
                EventSource.event_id == event_id, EventSource.source_id == source_id
            )
        ).scalar()
        if old is None:
            raise CorrectionRefused(
                f"source #{source_id} is not a source of event #{event_id}; the deal page's Events tab "
                "lists every event's sources."
            )
        if str(old) == new:
            raise CorrectionRefused(
                f"the claim of source #{source_id} for event #{event_id} is rated {new} already."
            )
        import_id = _record(
            connection,
            kind=RERATING,
            label=f"re-rating of source #{source_id} for event #{event_id} ({event.deal_id})",
            editor=editor,
            reason=why,
            now=now or _now(),
        )
        _grade_change(connection, source_id, event_id, "credibility", str(old), new, import_id)
        connection.execute(
            update(EventSource.__table__)
            .where(EventSource.event_id == event_id, EventSource.source_id == source_id)
            .values(credibility=int(new))
        )
    return Revision(
        import_id,
        f"Re-rated the claim of source #{source_id} for event #{event_id} from {old} to {new} as change "
        f"#{import_id}.",
    )


def _graded(resolve: Any, text: str) -> Any:
    try:
        return resolve(text)
    except InvalidValue as exc:
        raise CorrectionRefused(f"{exc.message}. {exc.fix}") from exc


def _grade_change(
    connection: Connection,
    source_id: int,
    event_id: int | None,
    grade: str,
    old: str,
    new: str,
    import_id: int,
) -> None:
    connection.execute(
        insert(GradeChange.__table__).values(
            id=next_id(connection, GradeChange.__table__),
            source_id=source_id,
            event_id=event_id,
            grade=grade,
            old_value=old,
            new_value=new,
            import_id=import_id,
        )
    )


def edit_deal(
    engine: Engine,
    deal_id: str,
    cells: Mapping[str, str],
    *,
    editor: str,
    reason: str | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> DealEdit:
    """Set a deal's attributes and tags from upload-format cells (deal_title, deal_summary, category,
    deal_quantity, deal_value_low/high, deal_currency, tags; an attribute whose cells are not given keeps
    its value, an empty cell clears it), recorded as deal changes in the attribute codec, as an import's
    are. ImportRejected with the importer's problems for bad cells."""
    allowed = {c for a in EDITABLE_ATTRIBUTES for c in a.batch_columns} | {TAGS}
    refused = [
        Problem(1, name, None, f"{name} cannot be edited here", "Edit the title, summary, category, "
                "quantity, value and tags; other columns come with events.")
        for name in cells
        if name not in allowed
    ]  # fmt: skip
    if refused:
        raise ImportRejected(refused)
    values = read_deal_cells(cells)
    if "deal_title" in cells and not values["deal_title"]:
        raise ImportRejected(
            [Problem(1, "deal_title", "", "the deal's title is empty", "Give the deal a title.")]
        )
    why = clean_reason(reason, required=False)
    moment = now or _now()
    if dry_run:
        with engine.connect() as connection:
            return _planned_edit(connection, deal_id, cells, values)
    with write_transaction(engine) as connection:
        edit = _planned_edit(connection, deal_id, cells, values)
        if edit.nothing_new:
            return edit
        import_id = _record(
            connection, kind=DEAL_EDIT, label=f"edit of deal {deal_id}", editor=editor, reason=why, now=moment
        )
        first = next_id(connection, DealChange.__table__)
        for offset, change in enumerate(edit.changes):
            connection.execute(
                insert(DealChange.__table__).values(
                    id=first + offset,
                    deal_id=deal_id,
                    field=change.field,
                    old_value=change.old,
                    new_value=change.new,
                    event_id=None,
                    import_id=import_id,
                    recorded_at=moment,
                )
            )
            attribute = ATTRIBUTE_BY_NAME[change.field]
            connection.execute(
                update(Deal.__table__).where(Deal.id == deal_id).values(**attribute.decode(change.new))
            )
        if edit.tags_removed:
            connection.execute(
                update(DealTag.__table__)
                .where(DealTag.deal_id == deal_id, DealTag.tag.in_(edit.tags_removed))
                .values(removed_by=import_id)
            )
        for tag in edit.tags_added:
            connection.execute(
                insert(DealTag.__table__).values(deal_id=deal_id, tag=tag, import_id=import_id)
            )
    return dataclasses.replace(edit, import_id=import_id)


def _planned_edit(
    connection: Connection, deal_id: str, cells: Mapping[str, str], values: Mapping[str, Any]
) -> DealEdit:
    deal = connection.execute(select(Deal.__table__).where(Deal.id == deal_id)).mappings().first()
    if deal is None:
        raise CorrectionRefused(f"there is no deal {deal_id}; the Deals page lists them.")
    changes = []
    for attribute in EDITABLE_ATTRIBUTES:
        if not any(column in cells for column in attribute.batch_columns):
            continue
        new = attribute.encode([values.get(column) for column in attribute.batch_columns])
        old = attribute.of(deal)
        if new != old:
            changes.append(DealChangeRow(deal_id, attribute.name, old, new))
    if TAGS not in cells:
        return DealEdit(deal_id, changes)
    wanted = [tag for tag in str(values[TAGS]).split(";") if tag]
    tags = connection.execute(select(DealTag.tag, DealTag.removed_by).where(DealTag.deal_id == deal_id)).all()
    current = {tag for tag, removed_by in tags if removed_by is None}
    removed = {tag: removed_by for tag, removed_by in tags if removed_by is not None}
    comeback = [tag for tag in wanted if tag in removed]
    if comeback:
        raise ImportRejected(
            [
                Problem(
                    1,
                    TAGS,
                    tag,
                    f'tag "{tag}" was taken off this deal by change #{removed[tag]}',
                    f"Undo change #{removed[tag]} to put it back, or give the tag another name.",
                )
                for tag in comeback
            ]
        )
    return DealEdit(
        deal_id,
        changes,
        tags_added=[tag for tag in wanted if tag not in current],
        tags_removed=sorted(current - set(wanted)),
    )


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
