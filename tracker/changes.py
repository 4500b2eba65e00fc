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
- an overdue signpost (tracker.signposts) shows in the window in which its date passed.

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
from sqlalchemy import Connection, Engine, and_, or_, select

from tracker.attributes import ATTRIBUTE_BY_NAME, shown_change
from tracker.display import grade
from tracker.filters import Filters
from tracker.knowledge import AsOf, reliability
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

# Entry ids of the Atom feed: a tag URI (RFC 4151) per change, the same for the same change on every run.
TAG_PREFIX = "tag:defense-deal-tracker,2026:change/"
# Deal attributes whose changed claims the digest reports (the others are edits of words, not claims).
CLAIM_FIELDS = ("value", "quantity")
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
    ChangeKind("new deal", "New deal", 1),
    ChangeKind("stage move", "Stage move", 2),
    ChangeKind("new event", "New event", 3),
    ChangeKind("correction", "Corrected", 4),
    ChangeKind("retraction", "Retracted", 5),
    ChangeKind("new source", "New source", 6),
    ChangeKind("regrade", "Regraded", 7),
    ChangeKind("claim", "Claim changed", 8),
    ChangeKind("overdue", "Signpost overdue", 9),
)
KIND_BY_NAME: dict[str, ChangeKind] = {kind.name: kind for kind in KINDS}
# The kinds that add or take back events: only these move a deal's stage.
EVENT_KINDS = ("new deal", "new event", "correction", "retraction")


@dataclass(frozen=True, slots=True)
class Change:
    """One change to one deal."""

    kind: str  # a name in KINDS
    deal_id: str
    deal_title: str
    at: dt.datetime  # when the ledger recorded it (naive UTC); for an overdue signpost, when its date passed
    subject: str  # what it is about, stable across runs: "event 12", "source 3", "signpost 4", ...
    what: str  # in words, one line
    change_id: int | None = None  # the import that recorded it (None for an overdue signpost)
    editor: str | None = None
    reason: str | None = None

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
        return TAG_PREFIX + quote(f"{self.kind}/{self.deal_id}/{self.subject}", safe="/") + recorded


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
    changes: tuple[Change, ...] = field(default_factory=tuple)  # grouped by deal, newest deal first

    def by_deal(self) -> list[DealChanges]:
        groups: dict[str, list[Change]] = {}
        for change in self.changes:
            groups.setdefault(change.deal_id, []).append(change)
        return [DealChanges(deal_id, items[0].deal_title, tuple(items)) for deal_id, items in groups.items()]

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


def digest(engine: Engine, *, since: dt.datetime, until: dt.datetime, filters: Filters) -> Digest:
    """What happened to the deals `filters` select between `since` (included) and `until` (excluded).

    The filters select deals as the ledger holds them now (a deal retracted out of a filter since the
    window does not show)."""
    if until <= since:
        return Digest(since, until, filters)
    window = and_(Import.committed_at >= since, Import.committed_at < until, Import.status == "committed")
    in_scope = filters.deal_clause()
    with engine.connect() as connection:
        recorded = connection.execute(select(Import.id).where(window).limit(1)).first() is not None
        # Without an import in the window only signposts can have become overdue: skip the other reads.
        changes = _recorded_changes(connection, window, in_scope, until=until) if recorded else []
        changes.extend(_stage_moves(connection, since=since, until=until, window=changes))
        changes.extend(_overdue(connection, in_scope, since=since, until=until))
    return Digest(since, until, filters, _ordered(changes))


def _recorded_changes(
    connection: Connection, window: Any, in_scope: Any, *, until: dt.datetime
) -> list[Change]:
    """Every change the imports of the window recorded, but stage moves (derived from these)."""
    changes: list[Change] = []
    for row in connection.execute(
        select(Deal.id.label("deal_id"), DEAL_TITLE, *WHO)
        .join(Import, Import.id == Deal.import_id)
        .where(window, in_scope)
    ):
        changes.append(_recorded("new deal", row, f"deal {row.deal_id}", row.deal_title))

    retractions = connection.execute(
        select(Retraction.event_id, Retraction.replacement_id, Event.deal_id, DEAL_TITLE, *WHO)
        .join(Import, Import.id == Retraction.import_id)
        .join(Event, Event.id == Retraction.event_id)
        .join(Deal, Deal.id == Event.deal_id)
        .where(window, in_scope)
    ).all()
    replacements = {row.replacement_id for row in retractions if row.replacement_id is not None}
    retracted_by_end = set(
        connection.execute(
            select(Retraction.event_id)
            .join(Import, Import.id == Retraction.import_id)
            .where(Import.committed_at < until)
        ).scalars()
    )
    added = connection.execute(
        select(*EVENT_COLUMNS, DEAL_TITLE, *WHO)
        .join(Import, Import.id == Event.import_id)
        .join(Deal, Deal.id == Event.deal_id)
        .where(Event.import_id.in_(select(Import.id).where(window)), in_scope)
    ).all()
    events: dict[int, Any] = {row.id: row for row in added}
    # The events the retractions name that were added before the window.
    events.update(
        (row.id, row)
        for row in _in_chunks(
            connection,
            lambda ids: select(*EVENT_COLUMNS).where(Event.id.in_(ids)),
            ({row.event_id for row in retractions} | replacements) - set(events),
        )
    )
    best = _best_grades(connection, [row.id for row in added])
    for row in added:
        if row.id in replacements or row.id in retracted_by_end:
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

    changes.extend(_sources(connection, window, in_scope, until=until))
    for row in connection.execute(
        select(
            DealChange.deal_id, DEAL_TITLE, DealChange.id, DealChange.field, DealChange.old_value,
            DealChange.new_value, *WHO,
        )
        .join(Import, Import.id == DealChange.import_id)
        .join(Deal, Deal.id == DealChange.deal_id)
        .where(window, in_scope, DealChange.field.in_(CLAIM_FIELDS))
    ):  # fmt: skip
        label = ATTRIBUTE_BY_NAME[row.field].label.lower()
        old, new = shown_change(row.field, row.old_value), shown_change(row.field, row.new_value)
        changes.append(_recorded("claim", row, f"{row.field} {row.id}", f"{label} was {old}, now {new}"))
    return changes


def _stage_moves(
    connection: Connection, *, since: dt.datetime, until: dt.datetime, window: list[Change]
) -> list[Change]:
    """Per deal changed in the window, its stage at `since` against its stage at `until` (see the module).

    The move is dated and attributed by the event that opened the new stage when that event was added in
    the window, else by the deal's latest change in it (a retraction that took a later stage back)."""
    latest: dict[str, Change] = {}
    for change in window:
        if change.kind in EVENT_KINDS and (
            change.deal_id not in latest or change.at > latest[change.deal_id].at
        ):
            latest[change.deal_id] = change
    if not latest:
        return []
    rows = _in_chunks(
        connection,
        lambda ids: select(
            Event.deal_id, Event.id.label("event_id"), Event.occurred_on, Event.occurred_until,
            Event.date_precision, Event.stage, Event.recorded_at, Import.committed_at.label("retracted_at"),
        )
        .outerjoin(Retraction, Retraction.event_id == Event.id)
        .outerjoin(Import, Import.id == Retraction.import_id)
        .where(Event.deal_id.in_(ids)),
        latest,
    )  # fmt: skip
    events = pd.DataFrame(rows, columns=[*STATUS_INPUT, "recorded_at", "retracted_at"])

    def known(at: dt.datetime) -> pd.DataFrame:
        retracted = events["retracted_at"].notna() & (events["retracted_at"] < at)
        return events[(events["recorded_at"] < at) & ~retracted]

    before = deal_status(known(since)).set_index("deal_id")["current_stage"].to_dict()
    now_known = known(until)
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


def _sources(connection: Connection, window: Any, in_scope: Any, *, until: dt.datetime) -> list[Change]:
    """New sources of the filtered deals' events (graded as they were at `until`), and regraded sources
    and re-rated claims."""
    name = Source.publisher, Source.title, Source.url
    changes = []
    seen: set[tuple[str, int]] = set()
    for row in connection.execute(
        select(
            Event.deal_id,
            DEAL_TITLE,
            Source.id.label("source_id"),
            *name,
            reliability(AsOf(until, "recorded")).label("reliability"),
            *WHO,
        )
        .join(Import, Import.id == Source.import_id)
        .join(EventSource, EventSource.source_id == Source.id)
        .join(Event, Event.id == EventSource.event_id)
        .join(Deal, Deal.id == Event.deal_id)
        .where(window, in_scope)
        .order_by(Source.id, Event.deal_id)
    ):
        if (row.deal_id, row.source_id) in seen:
            continue
        seen.add((row.deal_id, row.source_id))
        label = row.publisher or row.title or row.url or f"source #{row.source_id}"
        what = f"{label}, graded {row.reliability}" + (
            f" ({row.title})" if row.publisher and row.title else ""
        )
        changes.append(_recorded("new source", row, f"source {row.source_id}", what))
    # A source's regrade concerns every filtered deal it supports; a claim's re-rating, its event's deal.
    supports = or_(
        GradeChange.event_id == Event.id,
        and_(GradeChange.event_id.is_(None), EventSource.source_id == GradeChange.source_id),
    )
    seen_grades: set[tuple[str, int]] = set()
    for row in connection.execute(
        select(
            Event.deal_id, DEAL_TITLE, GradeChange.id.label("grade_change_id"), GradeChange.grade,
            GradeChange.event_id, GradeChange.old_value, GradeChange.new_value, *name, *WHO,
        )
        .join(Import, Import.id == GradeChange.import_id)
        .join(Source, Source.id == GradeChange.source_id)
        .join(EventSource, EventSource.source_id == GradeChange.source_id)
        .join(Event, and_(Event.id == EventSource.event_id, supports))
        .join(Deal, Deal.id == Event.deal_id)
        .where(window, in_scope)
        .order_by(GradeChange.id, Event.deal_id)
    ):  # fmt: skip
        if (row.deal_id, row.grade_change_id) in seen_grades:
            continue
        seen_grades.add((row.deal_id, row.grade_change_id))
        source = row.publisher or row.url or "a source"
        claim = "" if row.event_id is None else f" for event #{row.event_id}"
        what = f"{row.grade} of {source}{claim} was {row.old_value}, now {row.new_value}"
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


def _ordered(changes: list[Change]) -> tuple[Change, ...]:
    """Grouped by deal, the deal with the newest change first; in a deal, newest first."""

    def key(change: Change) -> tuple[Any, ...]:
        return (-change.at.timestamp(), KIND_BY_NAME[change.kind].rank, change.subject)

    groups: defaultdict[str, list[Change]] = defaultdict(list)
    for change in changes:
        groups[change.deal_id].append(change)
    ordered = [sorted(items, key=key) for items in groups.values()]
    ordered.sort(key=lambda items: (-items[0].at.timestamp(), items[0].deal_id))
    return tuple(change for items in ordered for change in items)


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


def to_text(result: Digest, *, caption: str) -> str:
    """The digest for a terminal or a mail: grouped by deal, newest first."""
    lines = [_window_text(result, caption)]
    groups = result.by_deal()
    if not groups:
        lines.append("No changes.")
    for group in groups:
        lines.append("")
        lines.append(f"{group.deal_title} ({group.deal_id})")
        for change in group.changes:
            who = (
                f" [by {change.editor}" + (f": {change.reason}]" if change.reason else "]")
                if change.editor
                else ""
            )
            lines.append(f"  {_stamp(change.at)}  {change.line}{who}")
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
        text(entry, "title", f"{change.deal_title}: {change.line}")
        text(entry, "updated", updated(change.at))
        if change.editor:
            text(ElementTree.SubElement(entry, f"{{{ns}}}author"), "name", change.editor)
        text(entry, "category", "", term=change.kind, label=change.label)
        why = f" Reason: {change.reason}" if change.reason else ""
        text(entry, "content", f"{change.deal_title} ({change.deal_id}). {change.line}.{why}", type="text")
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
