"""The developments an article reports: stage cues (with their hedges), each paired with its date, and
sentences about the same development gathered into one event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracker.dates import PartialDate
from tracker.drafting.text import Sentence, Span
from tracker.drafting.vocabulary import (
    FUTURE_MARKERS,
    HEDGE_WINDOW_WORDS,
    HEDGES,
    NEGATIONS,
    STAGE_CUES,
    StageCue,
)
from tracker.drafting.when import DateMention
from tracker.vocab import STAGE_ORDER

_CUES = tuple((cue, re.compile(cue.pattern, re.IGNORECASE)) for cue in STAGE_CUES)
_CLAUSE_BREAK = re.compile(r"[;:—–()“”\"]|,\s+(?:which|who|but|while|although|though)\b")
_WORDS = re.compile(r"[\w'’]+")


def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    ordered = sorted((re.escape(p) for p in phrases), key=len, reverse=True)
    return re.compile(rf"(?<![\w'’])(?:{'|'.join(ordered)})(?![\w'’])", re.IGNORECASE)


_HEDGE = _phrase_pattern(HEDGES)
_FUTURE = _phrase_pattern(FUTURE_MARKERS)
_NEGATION = re.compile(rf"{_phrase_pattern(NEGATIONS).pattern}|n['’]t\b", re.IGNORECASE)
# Stages a plan is not yet: "will sign a contract" is no contract, but "will hold talks" are talks.
_FUTURE_HEDGES_FROM = STAGE_ORDER["agreed"]
# When one sentence gives several kinds of negotiating cue, the event is named by the most specific.
_KIND_ORDER = ("delegation", "meeting", "talks")


@dataclass(frozen=True, slots=True)
class CueHit:
    cue: StageCue
    span: Span
    hedge: str | None
    negated: bool


@dataclass(slots=True)
class Event:
    """One development: its stage (None when only hedged cues support it), date, and sentences."""

    stage: str | None
    kind: str
    date: DateMention | None
    sentences: list[int]
    cues: list[CueHit]
    hedged: list[CueHit] = field(default_factory=list)
    capped_by: CueHit | None = None
    topic: str = ""

    @property
    def main_sentence(self) -> int:
        return self.cues[0].span.sentence if self.cues else self.sentences[0]


def _window(text: str, start: int) -> str:
    """The few words before `start` within its clause."""
    before = text[:start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    if breaks:
        before = before[breaks[-1].end() :]
    words = _WORDS.findall(before)
    return " ".join(words[-(HEDGE_WINDOW_WORDS + 1) :])


def find_cues(sentence: Sentence) -> list[CueHit]:
    """Every stage cue in the sentence with the hedge or negation that governs it; overlapping cues of
    one stage count once."""
    hits: list[CueHit] = []
    for cue, pattern in _CUES:
        for match in pattern.finditer(sentence.text):
            if any(h.cue.stage == cue.stage and h.span.start < sentence.start + match.end() and
                   sentence.start + match.start() < h.span.end for h in hits):  # fmt: skip
                continue
            window = _window(sentence.text, match.start())
            negated = bool(_NEGATION.search(window))
            hedge = None
            if cue.stage != "announced":
                found = _HEDGE.search(window)
                if found is None and STAGE_ORDER[cue.stage] >= _FUTURE_HEDGES_FROM:
                    found = _FUTURE.search(window)
                hedge = found.group() if found else None
            hits.append(CueHit(cue, sentence.span(*match.span()), hedge, negated))
    return sorted(hits, key=lambda hit: hit.span.start)


def _nearest_date(hit: CueHit, dates: list[DateMention]) -> DateMention | None:
    usable = [d for d in dates if not d.planned]
    preferred = [d for d in usable if not d.statement_date] or usable
    if not preferred:
        return None
    return min(
        preferred, key=lambda d: min(abs(d.span.start - hit.span.end), abs(hit.span.start - d.span.end))
    )


def _decide(hits: list[CueHit]) -> tuple[str | None, str, CueHit | None]:
    """The stage the counted cues support, the kind of development, and the cue that capped it."""
    counted = [h for h in hits if not h.hedge and not h.negated]
    if not counted:
        return None, hits[0].cue.kind, None
    stage = max((h.cue.stage for h in counted), key=STAGE_ORDER.__getitem__)
    capped_by = next((h for h in counted if h.cue.kind == "intention"), None)
    if stage == "agreed" and capped_by is not None:
        stage = "announced"
    kinds = [h.cue.kind for h in counted if h.cue.stage == stage]
    kind = next((k for k in _KIND_ORDER if k in kinds), kinds[0])
    return stage, kind, capped_by


def _nested(first: PartialDate, second: PartialDate) -> bool:
    return (first.start <= second.start and second.end <= first.end) or (
        second.start <= first.start and first.end <= second.end
    )


def _narrower(first: DateMention, second: DateMention) -> DateMention:
    return first if (first.date.end - first.date.start) <= (second.date.end - second.date.start) else second


def gather_events(
    sentences: list[Sentence], cues: dict[int, list[CueHit]], dates: dict[int, list[DateMention]]
) -> list[Event]:
    """The article's developments, in the order it first reports them."""
    candidates: list[Event] = []
    for sentence in sentences:
        hits = [h for h in cues[sentence.index] if not h.negated]
        if not hits:
            continue
        groups: dict[int, list[CueHit]] = {}
        paired: dict[int, DateMention | None] = {}
        for hit in hits:
            date = _nearest_date(hit, dates[sentence.index])
            key = id(date)
            groups.setdefault(key, []).append(hit)
            paired[key] = date
        for key, group in groups.items():
            stage, kind, capped_by = _decide(group)
            counted = [h for h in group if not h.hedge]
            candidates.append(
                Event(
                    stage=stage,
                    kind=kind,
                    date=paired[key],
                    sentences=[sentence.index],
                    cues=counted if stage else [],
                    hedged=[h for h in group if h.hedge],
                    capped_by=capped_by,
                )
            )
    events: list[Event] = []
    for candidate in (c for c in candidates if c.stage and c.date):
        target = next(
            (
                e
                for e in events
                if e.stage == candidate.stage
                and e.date is not None
                and (
                    e.date.date == candidate.date.date
                    or (e.kind == candidate.kind and _nested(e.date.date, candidate.date.date))
                )
            ),
            None,
        )  # fmt: skip
        if target is None:
            events.append(candidate)
        else:
            _merge(target, candidate)
            target.date = _narrower(target.date, candidate.date)
    for candidate in (c for c in candidates if c.stage and not c.date):
        same = [e for e in events if e.stage == candidate.stage]
        if same:
            target = min(same, key=lambda e: min(abs(s - candidate.sentences[0]) for s in e.sentences))
            _merge(target, candidate)
        else:
            events.append(candidate)
    hedged_only = [c for c in candidates if not c.stage]
    for candidate in hedged_only:
        if events:
            target = min(events, key=lambda e: min(abs(s - candidate.sentences[0]) for s in e.sentences))
            _merge(target, candidate)
        elif candidate is hedged_only[0]:
            events.append(candidate)
        else:
            _merge(events[0], candidate)
    events.sort(key=lambda e: min(e.sentences))
    _flag_conflicts(events)
    return events


def _merge(target: Event, other: Event) -> None:
    target.sentences = sorted(set(target.sentences) | set(other.sentences))
    target.cues.extend(h for h in other.cues if h.cue.stage == target.stage)
    target.hedged.extend(other.hedged)
    target.capped_by = target.capped_by or other.capped_by


def _flag_conflicts(events: list[Event]) -> None:
    """Two events of one stage on overlapping dates that neither contains are two claims about the same
    thing: they share a topic, so the deal page shows the disagreement."""
    for position, first in enumerate(events):
        for second in events[position + 1 :]:
            if first.stage != second.stage or first.date is None or second.date is None:
                continue
            a, b = first.date.date, second.date.date
            if a.start <= b.end and b.start <= a.end and not _nested(a, b):
                kinds = sorted(
                    {first.kind, second.kind}, key=lambda k: _KIND_ORDER.index(k) if k in _KIND_ORDER else 9
                )
                topic = f"{kinds[0]} dates"
                first.topic = first.topic or topic
                second.topic = second.topic or topic


def attach_support(events: list[Event], sentences: list[Sentence], *, has_claims: dict[int, bool]) -> None:
    """Sentences without a cue that still belong to an event: one that goes on "at the time", and one
    that gives a value or a quantity (it belongs to the event reported just before it)."""
    if not events:
        return
    owner = {s: e for e in events for s in e.sentences}
    for sentence in sentences:
        if sentence.index in owner:
            continue
        continues = re.search(r"\b(?:at the time|then)\b", sentence.text, re.IGNORECASE)
        if not (continues or has_claims.get(sentence.index)):
            continue
        before = [e for e in events if min(e.sentences) < sentence.index]
        target = (
            max(before, key=lambda e: max(s for s in e.sentences if s < sentence.index))
            if before
            else events[0]
        )
        if continues and sentence.index - 1 not in target.sentences:
            continue
        target.sentences = sorted({*target.sentences, sentence.index})
        owner[sentence.index] = target
