"""What changed: a digest of what happened to the filtered deals between two instants, read from the
ledger's own history.

Every change the ledger records belongs to one import (a file, a form entry, a retraction, a correction,
a regrade or an edit: tracker.revisions), and the import's commit time is when it happened. So the digest
reads the rows those imports wrote: an undone import has deleted its rows and leaves nothing to show,
while a retraction is a row of its own and shows. Each fact is counted once:

- an event added in the window and retracted in it shows only as the retraction (its words name it);
- a correction's replacement shows in the correction ("was ..., now ..."), not again as a new event;
- a stage move is one per deal: its stage at the start of the window against its stage at the end, both
  derived by tracker.stages from the events current at that instant (tracker.knowledge), so adding two
  stage events in a week reads as one move, and a retraction that takes a stage back shows as a move too;
- an overdue signpost (tracker.signposts) shows in the window in which its date passed;
- a conflict (tracker.conflicts) shows when the window's events made it: it is among the deal's events
  known at `until`, not among those known at `since` (compared by what the claims say), and an event of
  the window first said one of its claims; a conflict a retraction ended shows as that retraction only;
- a deal went stale when its last news plus its stage's threshold (tracker.staleness, the thresholds of
  queries.stale_thresholds) fell in the window before newer news came, and came back when news came in
  the window while it was stale; completed and cancelled deals are never stale.

Some changes concern many deals at once, and read as one line each rather than one per deal:

- a source's regrade is a change to the source: one line with the number of filtered deals whose events it
  backs (a re-rated claim, one event's, stays with its deal);
- an import that created more than BULK_IMPORT_DEALS of the filtered deals (a SIPRI register) is one line
  for those deals: what it recorded on them does not show per deal (nor do those deals' new conflicts,
  going stale or coming back in that window). Its changes to deals that existed
  before it still do, and so do later changes to the deals it created, a stage move measured from the
  stage the import gave the deal.

Instants are naive UTC like every recorded time; the window holds `since <= t < until`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import pandas as pd
from sqlalchemy import Connection, Engine, and_, exists, func, or_, select

from tracker import queries
from tracker.attributes import ATTRIBUTE_BY_NAME, shown_change
from tracker.conflicts import claim_kinds, find_conflicts
from tracker.dates import format_partial_date
from tracker.display import counted, grade
from tracker.filters import Filters
from tracker.formats import FILE_FORMATS
from tracker.knowledge import AsOf, reliability
from tracker.labels import deal_labels
from tracker.models import (
    Deal,
    DealChange,
    Event,
    EventSource,
    GradeChange,
    Import,
    Retraction,
    Signpost,
    Source,
)
from tracker.queries import event_text
from tracker.signposts import overdue
from tracker.stages import EVENT_COLUMNS as STATUS_INPUT
from tracker.stages import deal_status
from tracker.staleness import PERIOD_DAYS, StageThresholds, can_be_stale, stale_after_days, stale_from
from tracker.vocab import ACTIVE_STAGES

# Entry ids of the Atom feed: a tag URI (RFC 4151) per change, the same for the same change on every run.
TAG_PREFIX = "tag:defense-deal-tracker,2026:change/"
# Deal attributes whose changed claims the digest reports (the others are edits of words, not claims).
CLAIM_FIELDS = ("value", "quantity")
# An import that created more of the filtered deals than this reads as one line for them: a register of
# 27,951 new deals listed deal by deal was 170,990 lines (34.9 s of digest) that nobody reads.
BULK_IMPORT_DEALS = 50
EXAMPLE_DEALS = 3  # deals named with a change that concerns many (on the Changes page and in Atom)
_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


DEAL_TITLE = Deal.title.label("deal_title")
# Who recorded a change, when and why: its import.
WHO = (Import.id.label("change_id"), Import.committed_at, Import.editor, Import.reason)
# What tracker.queries.event_text needs to say an event in a line.
EVENT_COLUMNS = (
    Event.id, Event.deal_id, Event.occurred_on, Event.occurred_until, Event.date_precision, Event.stage,
    Event.summary, Event.value_low, Event.value_high, Event.currency, Event.quantity,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ChangeKind:
    """One kind of change: its name (in CSV and Atom categories), its label for people, and its rank
    among changes of the same moment (a new deal before its events, a stage move before the event)."""

    name: str
    label: str
    rank: int

    def line(self, change: Change) -> str:
        """The change in one line of text (the text digest, the Changes page and the Atom title)."""
        return f"{self.label}: {change.what}"


KINDS: tuple[ChangeKind, ...] = (
    ChangeKind("import", "Import", 0),
    ChangeKind("new deal", "New deal", 1),
    ChangeKind("stage move", "Stage move", 2),
    ChangeKind("new event", "New event", 3),
    ChangeKind("correction", "Corrected", 4),
    ChangeKind("retraction", "Retracted", 5),
    ChangeKind("new source", "New source", 6),
    ChangeKind("regrade", "Regraded", 7),
    ChangeKind("claim", "Claim changed", 8),
    ChangeKind("overdue", "Signpost overdue", 9),
    ChangeKind("conflict", "Conflicting claims", 10),
    ChangeKind("stale", "Went stale", 11),
    ChangeKind("back", "Back from stale", 12),
)
KIND_BY_NAME: dict[str, ChangeKind] = {kind.name: kind for kind in KINDS}
# The kinds that add or take back events: only these move a deal's stage.
EVENT_KINDS = ("new deal", "new event", "correction", "retraction")


@dataclass(frozen=True, slots=True)
class Change:
    """One change to one deal, or to many at once (`deal_id` None: a bulk import's new deals, a source's
    regrade; `what` says how many deals)."""

    kind: str  # a name in KINDS
    deal_id: str | None
    deal_title: str | None  # the deal's label as the pages show it (tracker.labels)
    at: dt.datetime  # when the ledger recorded it (naive UTC); for an overdue signpost, when its date passed
    subject: str  # what it is about, stable across runs: "event 12", "source 3", "signpost 4", ...
    what: str  # in words, one line
    change_id: int | None = None  # the import that recorded it (None for an overdue signpost)
    editor: str | None = None
    reason: str | None = None
    examples: tuple[tuple[str, str], ...] = ()  # a change to many deals: the first few, (id, title)

    @property
    def label(self) -> str:
        return KIND_BY_NAME[self.kind].label

    @property
    def line(self) -> str:
        return KIND_BY_NAME[self.kind].line(self)

    @property
    def entry_id(self) -> str:
        """The same id for the same change on every run, so a feed reader shows it once."""
        recorded = "" if self.change_id is None else f"/{self.change_id}"
        about = self.subject if self.deal_id is None else f"{self.deal_id}/{self.subject}"
        return TAG_PREFIX + quote(f"{self.kind}/{about}", safe="/") + recorded


@dataclass(frozen=True, slots=True)
class DealChanges:
    deal_id: str
    deal_title: str
    changes: tuple[Change, ...]  # newest first

    @property
    def latest(self) -> dt.datetime:
        return self.changes[0].at


@dataclass(frozen=True, slots=True)
class Digest:
    since: dt.datetime
    until: dt.datetime
    filters: Filters
    # The changes to many deals at once, newest first, then the others grouped by deal, newest deal first.
    changes: tuple[Change, ...] = field(default_factory=tuple)

    def across_deals(self) -> tuple[Change, ...]:
        """The changes to many deals at once (bulk imports, source regrades), newest first."""
        return tuple(change for change in self.changes if change.deal_id is None)

    def by_deal(self) -> list[DealChanges]:
        groups: dict[str, list[Change]] = {}
        for change in self.changes:
            if change.deal_id is not None:
                groups.setdefault(change.deal_id, []).append(change)
        return [
            DealChanges(deal_id, items[0].deal_title or "", tuple(items)) for deal_id, items in groups.items()
        ]

    def counts(self) -> dict[str, int]:
        """Changes per kind, in KINDS order (kinds with none left out)."""
        tally = {kind.name: 0 for kind in KINDS}
        for change in self.changes:
            tally[change.kind] += 1
        return {name: count for name, count in tally.items() if count}


def _recorded(kind: str, row: Any, subject: str, what: str) -> Change:
    """A change recorded by an import; `row` has deal_id, deal_title and the import's `who` columns."""
    return Change(
        kind,
        row.deal_id,
        row.deal_title,
        row.committed_at,
        subject,
        what,
        row.change_id,
        row.editor,
        row.reason,
    )


def _in_chunks(connection: Connection, build: Callable[[list[Any]], Any], ids: Iterable[Any]) -> list[Any]:
    values = sorted(set(ids))
    rows: list[Any] = []
    for start in range(0, len(values), _CHUNK):
        rows.extend(connection.execute(build(values[start : start + _CHUNK])).all())
    return rows


def _best_grades(connection: Connection, event_ids: Iterable[int]) -> dict[int, str]:
    """Per event, the grade of its best source ("A2"): best reliability, then best credibility."""
    rows = _in_chunks(
        connection,
        lambda ids: (
            select(EventSource.event_id, Source.reliability, EventSource.credibility)
            .join(Source, Source.id == EventSource.source_id)
            .where(EventSource.event_id.in_(ids))
        ),
        event_ids,
    )
    best: dict[int, tuple[str, int]] = {}
    for event_id, letter, digit in rows:
        if event_id not in best or (letter, digit) < best[event_id]:
            best[event_id] = (letter, digit)
    return {event_id: grade(*pair) for event_id, pair in best.items()}


def _graded(text: str, best: str | None) -> str:
    return f"{text} (best source {best})" if best else f"{text} (no source)"


def digest(
    engine: Engine,
    *,
    since: dt.datetime,
    until: dt.datetime,
    filters: Filters,
    thresholds: StageThresholds | None = None,
) -> Digest:
    """What happened to the deals `filters` select between `since` (included) and `until` (excluded).

    The filters select deals as the ledger holds them now (a deal retracted out of a filter since the
    window does not show). `thresholds`: days without news before a deal in each stage is stale
    (`queries.stale_thresholds`, read here when not given: a page that caches them passes them)."""
    if until <= since:
        return Digest(since, until, filters)
    if thresholds is None:
        thresholds = queries.stale_thresholds(engine)
    # The imports of the window, as a subquery each read filters its rows' import_id by: the planners then
    # start from those rows' import_id indexes, not from deals or events (SQLite scanned every deal to
    # find the window's retractions when the window was a condition on the joined imports).
    recorded = select(Import.id).where(
        Import.committed_at >= since, Import.committed_at < until, Import.status == "committed"
    )
    in_scope = filters.deal_clause()
    with engine.connect() as connection:
        anything = connection.execute(recorded.limit(1)).first() is not None
        # Without an import in the window only signposts can have become overdue: skip the other reads.
        bulk = _bulk_imports(connection, recorded, in_scope) if anything else {}
        changes = list(bulk.values())
        if anything:
            changes.extend(_recorded_changes(connection, recorded, in_scope, until=until, bulk=list(bulk)))
        changes.extend(_stage_moves(connection, since=since, until=until, window=changes, bulk=list(bulk)))
        changes.extend(_overdue(connection, in_scope, since=since, until=until))
        if anything:
            changes.extend(
                _new_conflicts(
                    engine, connection, recorded, in_scope, since=since, until=until, bulk=list(bulk)
                )
            )
        changes.extend(
            _staleness(connection, in_scope, since=since, until=until, thresholds=thresholds, bulk=list(bulk))
        )
    return Digest(since, until, filters, _ordered(_named(engine, changes)))


def _named(engine: Engine, changes: list[Change]) -> list[Change]:
    """The changes with their deals named as the pages name them (tracker.labels): the digest's deal groups
    (text, CSV, Atom, the Changes page) then tell apart two SIPRI deals of one title."""
    names = deal_labels(engine, [change.deal_id for change in changes if change.deal_id is not None])
    return [
        change
        if change.deal_id is None
        # A deal undone since its changes were read keeps its stored title.
        else dataclasses.replace(change, deal_title=names.get(change.deal_id, change.deal_title))
        for change in changes
    ]


def _bulk_imports(connection: Connection, recorded: Any, in_scope: Any) -> dict[int, Change]:
    """The imports of the window that created more than BULK_IMPORT_DEALS of the filtered deals, each as
    one line for those deals: how many, with how many events and new sources."""
    created = connection.execute(
        select(Deal.import_id, func.count())
        .where(Deal.import_id.in_(recorded), in_scope)
        .group_by(Deal.import_id)
    ).all()
    bulk = {import_id: count for import_id, count in created if count > BULK_IMPORT_DEALS}
    if not bulk:
        return {}
    own_deal = and_(Deal.import_id.in_(list(bulk)), in_scope)
    events = dict(
        connection.execute(
            select(Event.import_id, func.count())
            .join(Deal, Deal.id == Event.deal_id)
            .where(Event.import_id == Deal.import_id, own_deal)
            .group_by(Event.import_id)
        ).all()
    )
    # A new source counts when it backs an event of one of the import's new deals (EXISTS stops at the
    # first: the SIPRI source backs all 87,108 events of its register).
    backs_new_deal = (
        select(EventSource.event_id)
        .join(Event, Event.id == EventSource.event_id)
        .join(Deal, Deal.id == Event.deal_id)
        .where(EventSource.source_id == Source.id, Deal.import_id == Source.import_id, own_deal)
    )
    sources = dict(
        connection.execute(
            select(Source.import_id, func.count())
            .where(Source.import_id.in_(list(bulk)), exists(backs_new_deal))
            .group_by(Source.import_id)
        ).all()
    )
    lines = {}
    for row in connection.execute(
        select(*WHO, Import.file_name, Import.format).where(Import.id.in_(list(bulk)))
    ):
        examples = connection.execute(
            select(Deal.id, Deal.title)
            .where(Deal.import_id == row.change_id, in_scope)
            .order_by(Deal.id)
            .limit(EXAMPLE_DEALS)
        ).all()
        counts = [counted(bulk[row.change_id], "new deal"), counted(events.get(row.change_id, 0), "event")]
        if sources.get(row.change_id):
            counts.append(counted(sources[row.change_id], "new source"))
        kind = FILE_FORMATS.get(row.format, row.format)
        lines[row.change_id] = Change(
            "import", None, None, row.committed_at, f"import {row.change_id}",
            f"#{row.change_id} {row.file_name} ({kind}): {', '.join(counts)}",
            row.change_id, row.editor, row.reason, tuple((deal_id, title) for deal_id, title in examples),
        )  # fmt: skip
    return lines


def _not_bulk(bulk: list[int], recorded_by: Any) -> list[Any]:
    """The condition that a row joined to `deals` was not recorded by the bulk import that created its deal
    (`recorded_by`: the row's import_id column); no condition when there is no bulk import."""
    if not bulk:
        return []
    return [or_(Deal.import_id.not_in(bulk), recorded_by != Deal.import_id)]


def _recorded_changes(
    connection: Connection, recorded: Any, in_scope: Any, *, until: dt.datetime, bulk: list[int]
) -> list[Change]:
    """Every change the imports of the window recorded, but stage moves (derived from these) and what the
    bulk imports recorded on the deals they created."""
    changes: list[Change] = []
    for row in connection.execute(
        select(Deal.id.label("deal_id"), DEAL_TITLE, *WHO)
        .join(Import, Import.id == Deal.import_id)
        .where(Deal.import_id.in_(recorded), in_scope, Deal.import_id.not_in(bulk))
    ):
        changes.append(_recorded("new deal", row, f"deal {row.deal_id}", row.deal_title))

    retractions = connection.execute(
        select(Retraction.event_id, Retraction.replacement_id, Event.deal_id, DEAL_TITLE, *WHO)
        .join(Import, Import.id == Retraction.import_id)
        .join(Event, Event.id == Retraction.event_id)
        .join(Deal, Deal.id == Event.deal_id)
        .where(Retraction.import_id.in_(recorded), in_scope)
    ).all()
    replacements = {row.replacement_id for row in retractions if row.replacement_id is not None}
    # An event added in the window can only be retracted after it, so in the window: these retractions.
    retracted = {row.event_id for row in retractions}
    added = connection.execute(
        select(*EVENT_COLUMNS, DEAL_TITLE, *WHO)
        .join(Import, Import.id == Event.import_id)
        .join(Deal, Deal.id == Event.deal_id)
        .where(Event.import_id.in_(recorded), in_scope, *_not_bulk(bulk, Event.import_id))
    ).all()
    events: dict[int, Any] = {row.id: row for row in added}
    # The events the retractions name that were added before the window.
    events.update(
        (row.id, row)
        for row in _in_chunks(
            connection,
            lambda ids: select(*EVENT_COLUMNS).where(Event.id.in_(ids)),
            (retracted | replacements) - set(events),
        )
    )
    best = _best_grades(connection, [row.id for row in added])
    for row in added:
        if row.id in replacements or row.id in retracted:
            continue
        changes.append(
            _recorded("new event", row, f"event {row.id}", _graded(event_text(row), best.get(row.id)))
        )
    for row in retractions:
        old = event_text(events[row.event_id])
        if row.replacement_id is None:
            changes.append(_recorded("retraction", row, f"event {row.event_id}", old))
        else:
            now = event_text(events[row.replacement_id])
            changes.append(_recorded("correction", row, f"event {row.event_id}", f"was {old}, now {now}"))

    changes.extend(_new_sources(connection, recorded, in_scope, until=until, bulk=bulk))
    changes.extend(_regrades(connection, recorded, in_scope))
    for row in connection.execute(
        select(
            DealChange.deal_id, DEAL_TITLE, DealChange.id, DealChange.field, DealChange.old_value,
            DealChange.new_value, *WHO,
        )
        .join(Import, Import.id == DealChange.import_id)
        .join(Deal, Deal.id == DealChange.deal_id)
        .where(DealChange.import_id.in_(recorded), in_scope, DealChange.field.in_(CLAIM_FIELDS))
    ):  # fmt: skip
        label = ATTRIBUTE_BY_NAME[row.field].label.lower()
        old, new = shown_change(row.field, row.old_value), shown_change(row.field, row.new_value)
        changes.append(_recorded("claim", row, f"{row.field} {row.id}", f"{label} was {old}, now {new}"))
    return changes


def _event_history(connection: Connection, deal_ids: Iterable[str]) -> pd.DataFrame:
    """Every event of the deals, retracted ones included (STATUS_INPUT, then when it was recorded, when it
    was retracted or None, its import and the import that created its deal): the stage and staleness
    readers replay the deals' states at any moment from it."""
    rows = _in_chunks(
        connection,
        lambda ids: select(
            Event.deal_id, Event.id.label("event_id"), Event.occurred_on, Event.occurred_until,
            Event.date_precision, Event.stage, Event.recorded_at, Import.committed_at.label("retracted_at"),
            Event.import_id, Deal.import_id.label("deal_import_id"),
        )
        .join(Deal, Deal.id == Event.deal_id)
        .outerjoin(Retraction, Retraction.event_id == Event.id)
        .outerjoin(Import, Import.id == Retraction.import_id)
        .where(Event.deal_id.in_(ids)),
        deal_ids,
    )  # fmt: skip
    return pd.DataFrame(
        rows, columns=[*STATUS_INPUT, "recorded_at", "retracted_at", "import_id", "deal_import_id"]
    )


def _stage_moves(
    connection: Connection, *, since: dt.datetime, until: dt.datetime, window: list[Change], bulk: list[int]
) -> list[Change]:
    """Per deal changed in the window, its stage at `since` against its stage at `until` (see the module);
    for a deal a bulk import of the window created, its stage after that import against its stage at
    `until`.

    The move is dated and attributed by the event that opened the new stage when that event was added in
    the window, else by the deal's latest change in it (a retraction that took a later stage back)."""
    latest: dict[str, Change] = {}
    for change in window:
        if (
            change.kind in EVENT_KINDS
            and change.deal_id is not None
            and (change.deal_id not in latest or change.at > latest[change.deal_id].at)
        ):
            latest[change.deal_id] = change
    if not latest:
        return []
    events = _event_history(connection, latest)

    def known(at: dt.datetime) -> pd.Series:
        retracted = events["retracted_at"].notna() & (events["retracted_at"] < at)
        return (events["recorded_at"] < at) & ~retracted

    # A deal a bulk import created starts from what that import recorded on it (nothing earlier exists).
    from_bulk = events["deal_import_id"].isin(bulk) & (events["import_id"] == events["deal_import_id"])
    before = deal_status(events[known(since) | from_bulk]).set_index("deal_id")["current_stage"].to_dict()
    now_known = events[known(until)]
    after = deal_status(now_known)
    after = after[after["current_stage"].notna()]
    after = after[[before.get(d) != stage for d, stage in zip(after["deal_id"], after["current_stage"])]]
    if after.empty:
        return []
    # The event that opened each deal's new stage: of its stage, on the day the stage began (the latest
    # recorded, as tracker.stages orders them). One merge rather than a scan of the events per deal.
    opening = (
        now_known.merge(
            after[["deal_id", "current_stage", "stage_since"]],
            left_on=["deal_id", "stage", "occurred_on"],
            right_on=["deal_id", "current_stage", "stage_since"],
        )
        .groupby("deal_id")["event_id"]
        .max()
        .to_dict()
    )
    texts = {
        row.id: event_text(row)
        for row in _in_chunks(
            connection, lambda ids: select(*EVENT_COLUMNS).where(Event.id.in_(ids)), opening.values()
        )
    }
    best = _best_grades(connection, opening.values())
    by_event = {change.subject: change for change in window if change.kind == "new event"}
    moves = []
    for deal_id, new in sorted(zip(after["deal_id"], after["current_stage"])):
        old, event_id = before.get(deal_id), int(opening[deal_id])
        cause = by_event.get(f"event {event_id}", latest[deal_id])
        what = _graded(f"{old or 'no stage'} → {new}: {texts[event_id]}", best.get(event_id))
        moves.append(
            dataclasses.replace(
                cause, kind="stage move", subject=f"{old or 'none'} to {new} event {event_id}", what=what
            )
        )
    return moves


_SOURCE_NAME = (Source.publisher, Source.title, Source.url)


def _new_sources(
    connection: Connection, recorded: Any, in_scope: Any, *, until: dt.datetime, bulk: list[int]
) -> list[Change]:
    """New sources of the filtered deals' events (graded as they were at `until`), one line per deal."""
    changes = []
    seen: set[tuple[str, int]] = set()
    for row in connection.execute(
        select(
            Event.deal_id,
            DEAL_TITLE,
            Source.id.label("source_id"),
            *_SOURCE_NAME,
            reliability(AsOf(until, "recorded")).label("reliability"),
            *WHO,
        )
        .join(Import, Import.id == Source.import_id)
        .join(EventSource, EventSource.source_id == Source.id)
        .join(Event, Event.id == EventSource.event_id)
        .join(Deal, Deal.id == Event.deal_id)
        .where(Source.import_id.in_(recorded), in_scope, *_not_bulk(bulk, EventSource.import_id))
        .order_by(Source.id, Event.deal_id)
    ):
        if (row.deal_id, row.source_id) in seen:
            continue
        seen.add((row.deal_id, row.source_id))
        label = row.publisher or row.title or row.url or f"source #{row.source_id}"
        # A publisher's sources are told apart by their title, else by their address.
        detail = (row.title or row.url) if row.publisher else None
        what = f"{label}, graded {row.reliability}" + (f" ({detail})" if detail else "")
        changes.append(_recorded("new source", row, f"source {row.source_id}", what))
    return changes


def _regrades(connection: Connection, recorded: Any, in_scope: Any) -> list[Change]:
    """A source's regrade, once, with how many of the filtered deals it backs events of (none: not shown);
    a claim's re-rating, with its event's deal.

    Each read starts from the window's grade changes (grade_changes.import_id) and follows indexes from
    there: a source's deals through event_sources.source_id, a claim's through its event. (A source's
    regrade is picked by `grade`, not by `event_id IS NULL`: with that, SQLite read every source regrade
    ever recorded through the event_id index.)"""
    changes = []
    for row in connection.execute(
        select(
            GradeChange.id.label("grade_change_id"), GradeChange.source_id,
            GradeChange.old_value, GradeChange.new_value, *_SOURCE_NAME, *WHO,
        )
        .join(Import, Import.id == GradeChange.import_id)
        .join(Source, Source.id == GradeChange.source_id)
        .where(GradeChange.import_id.in_(recorded), GradeChange.grade == "reliability")
        .order_by(GradeChange.id)
    ):  # fmt: skip
        # IN (its deals), not EXISTS per deal: the read starts from the source's links, not from every deal.
        its_deals = (
            select(Event.deal_id)
            .join(EventSource, EventSource.event_id == Event.id)
            .where(EventSource.source_id == row.source_id)
        )
        backed = select(Deal.id, Deal.title).where(Deal.id.in_(its_deals), in_scope)
        deals = connection.execute(select(func.count()).select_from(backed.subquery())).scalar_one()
        if not deals:
            continue
        examples = connection.execute(backed.order_by(Deal.id).limit(EXAMPLE_DEALS)).all()
        source = row.publisher or row.url or "a source"
        what = f"{source} {row.old_value} → {row.new_value}; backs events of {counted(deals, 'deal')}"
        changes.append(
            Change(
                "regrade", None, None, row.committed_at, f"grade {row.grade_change_id}", what, row.change_id,
                row.editor, row.reason, tuple((deal_id, title) for deal_id, title in examples),
            )
        )  # fmt: skip
    for row in connection.execute(
        select(
            Event.deal_id, DEAL_TITLE, GradeChange.id.label("grade_change_id"), GradeChange.event_id,
            GradeChange.old_value, GradeChange.new_value, Source.publisher, Source.url, *WHO,
        )
        .join(Import, Import.id == GradeChange.import_id)
        .join(Source, Source.id == GradeChange.source_id)
        .join(Event, Event.id == GradeChange.event_id)
        .join(Deal, Deal.id == Event.deal_id)
        .where(GradeChange.import_id.in_(recorded), in_scope)
        .order_by(GradeChange.id)
    ):  # fmt: skip
        source = row.publisher or row.url or "a source"
        what = f"credibility of {source} for event #{row.event_id} was {row.old_value}, now {row.new_value}"
        changes.append(_recorded("regrade", row, f"grade {row.grade_change_id}", what))
    return changes


def _overdue(
    connection: Connection, in_scope: Any, *, since: dt.datetime, until: dt.datetime
) -> list[Change]:
    """Signposts whose date passed in the window (overdue from the day after it) and that are overdue at
    its end."""
    first = (since - dt.timedelta(days=1)).date()
    changes = []
    for row in connection.execute(
        select(
            Signpost.id, Signpost.deal_id, DEAL_TITLE, Signpost.stage, Signpost.expected_text,
            Signpost.expected_until, Signpost.note,
        )
        .join(Deal, Deal.id == Signpost.deal_id)
        .where(Signpost.expected_until >= first, *overdue(today=until.date()), in_scope)
    ):  # fmt: skip
        at = dt.datetime.combine(row.expected_until + dt.timedelta(days=1), dt.time.min)
        if not since <= at < until:
            continue
        words = f" ({row.note})" if row.note else ""
        changes.append(
            Change("overdue", row.deal_id, row.deal_title, at, f"signpost {row.id}",
                   f"{row.stage} expected by {row.expected_text}{words}, not reached")
        )  # fmt: skip
    return changes


def _day(value: Any) -> dt.date:
    """A date from what pandas gives back for one (a date or a Timestamp)."""
    return pd.Timestamp(value).date()


# A moment's worth less than a recorded time's second: the ledger as known just before `since`.
_INSTANT = dt.timedelta(microseconds=1)


def _new_conflicts(
    engine: Engine,
    connection: Connection,
    recorded: Any,
    in_scope: Any,
    *,
    since: dt.datetime,
    until: dt.datetime,
    bulk: list[int],
) -> list[Change]:
    """Conflicts (tracker.conflicts) among a deal's events as known at `until` that were not among its
    events known at `since` (compared by `Conflict.key`) and that hold an event the window added; read only
    for the deals the window added events to. Dated and attributed by the latest of those events."""
    added = {
        row.id: row
        for row in connection.execute(
            select(
                Event.id, Event.deal_id, Event.value_low, Event.value_high, Event.currency, Event.topic,
                Event.stage, DEAL_TITLE, *WHO,
            )
            .join(Import, Import.id == Event.import_id)
            .join(Deal, Deal.id == Event.deal_id)
            .where(Event.import_id.in_(recorded), in_scope, *_not_bulk(bulk, Event.import_id))
        )
    }  # fmt: skip
    if not added:
        return []
    # Per deal, the kinds of conflict its new events can be claims of: only those are searched for, and a
    # deal with none is not read (most of the digest's time went to searching deals with no new claim).
    rows = pd.DataFrame(
        [
            (row.deal_id, row.value_low, row.value_high, row.currency, row.topic, row.stage)
            for row in added.values()
        ],
        columns=["deal_id", "value_low", "value_high", "currency", "topic", "stage"],
    )
    kinds_made: dict[str, set[str]] = {}
    for deal_id, kinds in zip(rows["deal_id"], claim_kinds(rows)):
        kinds_made.setdefault(deal_id, set()).update(kinds)

    def conflicts_at(as_of: AsOf | None, kinds_of: Callable[[str, pd.DataFrame], set[str]]) -> Any:
        """Per deal searched, its conflicts of the kinds `kinds_of` gives among its events known `as_of`."""
        ids = sorted(searched)
        for start in range(0, len(ids), _CHUNK):
            events, sources = queries.events_of_deals(engine, ids[start : start + _CHUNK], as_of=as_of)
            if as_of is None:  # events_of_deals then keeps retracted events: left out here
                taken_back = _in_chunks(
                    connection,
                    lambda chunk: select(Retraction.event_id).where(Retraction.event_id.in_(chunk)),
                    [int(i) for i in events["event_id"]],
                )
                events = events[~events["event_id"].isin([row.event_id for row in taken_back])]
            for deal_id, deal_events in events.groupby("deal_id", sort=False):
                kinds = kinds_of(str(deal_id), deal_events)
                # Every kind of conflict takes two events.
                if len(deal_events) > 1 and kinds:
                    own = sources[sources["event_id"].isin(deal_events["event_id"])]
                    yield str(deal_id), find_conflicts(deal_events, own, kinds=kinds)

    def made_here(deal_id: str, _: pd.DataFrame) -> set[str]:
        return kinds_made[deal_id]

    searched: Iterable[str] = {deal_id for deal_id, kinds in kinds_made.items() if kinds}
    candidates: dict[str, list[tuple[Any, list[Any]]]] = {}
    # The ledger as it is now is the ledger at `until` when nothing was recorded since (a window ending
    # now): read without the as-of conditions, a third of this reader's time on the 1M bench ledger.
    recorded_since = connection.execute(
        select(Import.id).where(Import.committed_at >= until).limit(1)
    ).first()
    at_until = None if recorded_since is None else AsOf(until - _INSTANT, "recorded")
    for deal_id, conflicts in conflicts_at(at_until, made_here):
        for conflict in conflicts:
            # The events that first said each claim (earlier recorded first): an added event that repeats
            # a claim made before neither makes nor dates the conflict.
            said, first = conflict.said(), {}
            for event_id in sorted(
                said, key=lambda i: (added[i].committed_at, i) if i in added else (since, i)
            ):
                first.setdefault(said[event_id], event_id)
            new = [added[i] for i in first.values() if i in added]
            if new:
                candidates.setdefault(deal_id, []).append((conflict, new))
    if not candidates:
        return []
    # The conflicts those deals had before the window: only for the deals that may have a new one.
    searched = set(candidates)
    before = {
        deal_id: {conflict.key for conflict in conflicts}
        for deal_id, conflicts in conflicts_at(AsOf(since - _INSTANT, "recorded"), made_here)
    }
    changes = []
    for deal_id, found in candidates.items():
        for conflict, new in found:
            if conflict.key in before.get(deal_id, set()):
                continue
            cause = max(new, key=lambda row: (row.committed_at, row.id))
            subject = f"{conflict.kind} events {','.join(map(str, sorted(conflict.said())))}"
            changes.append(_recorded("conflict", cause, subject, conflict.line()))
    return changes


def _staleness(
    connection: Connection,
    in_scope: Any,
    *,
    since: dt.datetime,
    until: dt.datetime,
    thresholds: StageThresholds,
    bulk: list[int],
) -> list[Change]:
    """Deals that went stale in the window (tracker.staleness: their last news plus their stage's
    threshold fell in it, no newer news having come by then) and deals that were stale when news came
    in the window.

    Read for the deals whose last news, as the ledger holds it now, makes them stale in the window, and
    for those whose events changed since `since` (their state in the window is not the one held now):
    replayed from their events, at `since` and at each moment the window added or retracted one."""
    later = select(Import.id).where(Import.committed_at >= since, Import.status == "committed")
    first, last = since.date(), until.date()
    going = [
        and_(
            Deal.current_stage == stage,
            Deal.last_event_precision == precision,
            Deal.last_event_until.between(
                first - dt.timedelta(days=days + 1), last - dt.timedelta(days=days)
            ),
        )
        for stage in ACTIVE_STAGES
        for precision in PERIOD_DAYS
        for days in [stale_after_days(precision, stage=stage, thresholds=thresholds)]
    ]
    changed = or_(
        Deal.id.in_(select(Event.deal_id).where(Event.import_id.in_(later))),
        Deal.id.in_(
            select(Event.deal_id)
            .join(Retraction, Retraction.event_id == Event.id)
            .where(Retraction.import_id.in_(later))
        ),
    )
    titles = dict(
        connection.execute(
            select(Deal.id, Deal.title).where(or_(*going, changed), in_scope, Deal.import_id.not_in(bulk))
        ).all()
    )
    if not titles:
        return []
    events = _event_history(connection, titles)
    # The moments the window changed each deal's events, each a state of the deal: state 0 is the deal
    # just before `since`; state k its events once the k-th moment's changes were made.
    moments = pd.concat(
        [events[["deal_id", "recorded_at"]].set_axis(["deal_id", "at"], axis=1),
         events[["deal_id", "retracted_at"]].set_axis(["deal_id", "at"], axis=1)]
    )  # fmt: skip
    moments = moments[(moments["at"] >= since) & (moments["at"] < until)].drop_duplicates()
    states = pd.concat([pd.DataFrame({"deal_id": list(titles), "at": since - _INSTANT}), moments])
    states = states.sort_values(["deal_id", "at"], kind="stable").reset_index(drop=True)
    states["state"] = states.index
    known = events.merge(states, on="deal_id")
    retracted = known["retracted_at"].notna() & (known["retracted_at"] <= known["at"])
    known = known[(known["recorded_at"] <= known["at"]) & ~retracted]
    status = deal_status(
        known.drop(columns="deal_id").rename(columns={"state": "deal_id"})[list(STATUS_INPUT)]
    )
    # Plain Python from here: a frame lookup per state was most of this reader's time.
    last = {
        state: (stage, _day(on), precision, _day(ends))
        for state, stage, on, precision, ends in zip(
            status["deal_id"], status["current_stage"], status["last_event_on"],
            status["last_event_precision"], status["last_event_until"],
        )
    }  # fmt: skip
    added = known[known["recorded_at"] == known["at"]]
    news_of: defaultdict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for state, *event in zip(
        added["state"], added["occurred_on"], added["event_id"], added["date_precision"],
        added["occurred_until"], added["import_id"],
    ):  # fmt: skip
        news_of[state].append(tuple(event))

    def stale_at(state: int) -> dt.datetime | None:
        """When the deal in this state is stale from (None: never)."""
        if state not in last or not can_be_stale(last[state][0]):
            return None
        stage, _, precision, ends = last[state]
        day = stale_from(ends, precision, stage=stage, thresholds=thresholds)
        return None if day is None else dt.datetime.combine(day, dt.time.min)

    def back(deal_id: str, state: int, at: dt.datetime) -> Change:
        silent_since = last[state - 1][3]
        news = sorted(news_of[state])
        # The news that ended the silence: the earliest new event dated after the last news.
        on, event_id, precision, ends, import_id = next((n for n in news if n[0] > silent_since), news[0])
        who = connection.execute(select(*WHO).where(Import.id == int(import_id))).one()
        when = format_partial_date(on, precision, ends)
        return Change(
            "back", deal_id, titles[deal_id], at, f"event {event_id}",
            f"new event on {when} after {counted((on - silent_since).days, 'day')} without news",
            who.change_id, who.editor, who.reason,
        )  # fmt: skip

    def went_stale(deal_id: str, state: int, at: dt.datetime) -> Change:
        stage, on, precision, ends = last[state]
        after = stale_after_days(precision, stage=stage, thresholds=thresholds)
        silent_since = format_partial_date(on, precision, ends)
        return Change(
            "stale", deal_id, titles[deal_id], at, f"stale from {at:%Y-%m-%d}",
            f"no news since {silent_since} ({stage}: stale after {counted(after, 'day')})",
        )  # fmt: skip

    by_deal: defaultdict[str, list[tuple[int, dt.datetime]]] = defaultdict(list)
    for deal_id, at, state in zip(states["deal_id"], states["at"], states["state"]):
        by_deal[deal_id].append((state, pd.Timestamp(at).to_pydatetime()))
    changes = []
    for deal_id, deal_states in by_deal.items():
        ends = [at for _, at in deal_states[1:]] + [until]
        was_stale = False
        for (state, start), end in zip(deal_states, ends):
            stale_from_moment = stale_at(state)
            stale = stale_from_moment is not None and stale_from_moment <= start
            if was_stale and not stale and news_of.get(state):
                changes.append(back(deal_id, state, start))
            if not stale and stale_from_moment is not None and start <= stale_from_moment < end:
                changes.append(went_stale(deal_id, state, stale_from_moment))
                stale = True
            was_stale = stale
    return changes


_DIGITS = re.compile(r"(\d+)")


def _numbers_as_numbers(subject: str) -> tuple[str | int, ...]:
    """A subject's sort key in which "event 9" comes before "event 10": an import's events, sources and
    signposts then read in the order it recorded them (the file's), not 1, 10, 11, ..., 2."""
    parts = _DIGITS.split(subject)
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))


def _ordered(changes: list[Change]) -> tuple[Change, ...]:
    """The changes to many deals at once first, then grouped by deal, the deal with the newest change
    first; each newest first."""

    def key(change: Change) -> tuple[Any, ...]:
        return (-change.at.timestamp(), KIND_BY_NAME[change.kind].rank, _numbers_as_numbers(change.subject))

    groups: defaultdict[str, list[Change]] = defaultdict(list)
    across: list[Change] = []
    for change in changes:
        if change.deal_id is None:
            across.append(change)
        else:
            groups[change.deal_id].append(change)
    ordered = [sorted(items, key=key) for items in groups.values()]
    ordered.sort(key=lambda items: (-items[0].at.timestamp(), items[0].deal_id))
    return tuple(sorted(across, key=key)) + tuple(change for items in ordered for change in items)


# --- the digest as text, CSV and Atom ---------------------------------------------------------------------

CSV_COLUMNS = (
    "recorded_at",
    "deal_id",
    "deal_title",
    "kind",
    "what",
    "change_id",
    "editor",
    "reason",
    "entry_id",
)
# The heading of the changes to many deals at once, in the text digest and on the Changes page.
ACROSS_DEALS = "Imports and sources (many deals at once)"
# Characters XML 1.0 cannot hold: ledger text with them would make the feed unreadable to any parser.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def feed_id(query: str) -> str:
    """The Atom feed's id for the view whose filters the URL query string holds
    (`tracker.filters.to_query`): the same view has the same feed on every run."""
    return f"tag:defense-deal-tracker,2026:changes?{quote(query, safe='=&')}"


def _stamp(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def _window_text(result: Digest, caption: str) -> str:
    return f"Changes from {_stamp(result.since)} to {_stamp(result.until)} UTC. {caption}."


def examples_text(change: Change) -> str:
    """The deals named with a change to many deals: "e.g. Alpha tanks (alpha), Beta air defence (beta)"."""
    return "e.g. " + ", ".join(f"{title} ({deal_id})" for deal_id, title in change.examples)


def to_text(result: Digest, *, caption: str) -> str:
    """The digest for a terminal or a mail: the changes to many deals at once, then by deal, newest first."""
    lines = [_window_text(result, caption)]

    def add(change: Change) -> None:
        who = (
            f" [by {change.editor}" + (f": {change.reason}]" if change.reason else "]")
            if change.editor
            else ""
        )
        lines.append(f"  {_stamp(change.at)}  {change.line}{who}")

    across, groups = result.across_deals(), result.by_deal()
    if not across and not groups:
        lines.append("No changes.")
    if across:
        lines.extend(["", ACROSS_DEALS])
        for change in across:
            add(change)
            lines.append(f"    {examples_text(change)}")
    for group in groups:
        lines.extend(["", f"{group.deal_title} ({group.deal_id})"])
        for change in group.changes:
            add(change)
    return "\n".join(lines) + "\n"


def to_frame(result: Digest) -> pd.DataFrame:
    rows = [
        (change.at, change.deal_id, change.deal_title, change.kind, change.what, change.change_id,
         change.editor, change.reason, change.entry_id)
        for change in result.changes
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS)).astype({"change_id": "Int64"})


def to_atom(result: Digest, *, caption: str, feed_id: str) -> bytes:
    """An Atom feed (RFC 4287), one entry per change with its stable id; `feed_id` names the view."""
    ns = "http://www.w3.org/2005/Atom"

    def text(parent: ElementTree.Element, tag: str, value: str, **attributes: str) -> None:
        ElementTree.SubElement(parent, f"{{{ns}}}{tag}", attributes).text = _NOT_XML.sub("", value)

    def updated(moment: dt.datetime) -> str:
        return moment.replace(microsecond=0).isoformat() + "Z"

    ElementTree.register_namespace("", ns)
    feed = ElementTree.Element(f"{{{ns}}}feed")
    text(feed, "id", feed_id)
    text(feed, "title", f"Defense-deal tracker: changes. {caption}")
    text(feed, "subtitle", _window_text(result, caption))
    text(feed, "updated", updated(max((c.at for c in result.changes), default=result.until)))
    author = ElementTree.SubElement(feed, f"{{{ns}}}author")
    text(author, "name", "Defense-deal tracker")
    for change in result.changes:
        entry = ElementTree.SubElement(feed, f"{{{ns}}}entry")
        text(entry, "id", change.entry_id)
        text(entry, "title", change.line if change.deal_id is None else f"{change.deal_title}: {change.line}")
        text(entry, "updated", updated(change.at))
        if change.editor:
            text(ElementTree.SubElement(entry, f"{{{ns}}}author"), "name", change.editor)
        text(entry, "category", "", term=change.kind, label=change.label)
        why = f" Reason: {change.reason}" if change.reason else ""
        about = (
            f"{change.line}; {examples_text(change)}."
            if change.deal_id is None
            else f"{change.deal_title} ({change.deal_id}). {change.line}."
        )
        text(entry, "content", about + why, type="text")
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
