"""Who buys and who sells, from how sentences put the states: "X signed a deal to buy ... from Y",
"Y will supply X", "Y's Hyundai Rotem ... Poland", "drones that X will purchase from Y".

States are replaced by markers (§0§, §1§ ...) so each pattern is written once over any way of naming
them; a capital counts only here, where the sentence makes it a party.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from tracker.drafting.mentions import CountryMention, PartyMention
from tracker.drafting.text import Sentence, Span

_BUY = re.compile(
    r"\b(?:buy|buys|bought|buying|purchase|purchases|purchased|purchasing|acquire|acquires|acquired|acquiring|"
    r"acquisition|procure|procures|procured|procuring|procurement|order|orders|ordered|ordering|import|imports|"
    r"imported|importing|receive|receives|received|receiving|(?:contract|deal|order)s?\s+for)\b"
)
_SELL = re.compile(
    r"\b(?:sell|sells|sold|selling|sale|sales|supply|supplies|supplied|supplying|deliver|delivers|delivered|"
    r"delivering|export|exports|exported|exporting|provide|provides|provided|providing|transfer|transfers|"
    r"hand over|hands over|handed over|handing over|"
    r"transferred|transferring)\b"
)
# Lower case only: "Defense Acquisition Program Administration" names a body, it buys nothing.
_MARK = re.compile(r"§(\d+)§")
_PREPOSITION_BEFORE = re.compile(
    r"\b(?:with|from|to|for|by|between|and|of|in|on|against)\s+(?:the\s+)?$", re.IGNORECASE
)
_POSSESSIVE_SUBJECT = re.compile(r"['’]s?\s+(?:[\w-]+\s+)?")
_CLAUSE = re.compile(r"[;:“”\"]|\.\s")
# How far a side may stand from its verb, in characters of the masked sentence.
_REACH = 140


@dataclass(slots=True)
class Sides:
    """Votes for each state as buyer or seller, with the spans that cast them."""

    buyer: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seller: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    spans: dict[tuple[str, str], list[Span]] = field(default_factory=lambda: defaultdict(list))

    def vote(self, side: str, mention: CountryMention) -> None:
        code = mention.country.code
        (self.buyer if side == "buyer" else self.seller)[code] += 1
        self.spans[(side, code)].append(mention.span)

    def decided(self) -> tuple[list[str], list[str]]:
        """Buyers and sellers: each state on the side most of its votes put it (ties: no side)."""
        buyers = [c for c, n in self.buyer.items() if n > self.seller.get(c, 0)]
        sellers = [c for c, n in self.seller.items() if n > self.buyer.get(c, 0)]
        return buyers, sellers


def _mask(sentence: Sentence, mentions: list[CountryMention]) -> tuple[str, list[CountryMention]]:
    usable = [m for m in mentions if not m.place]
    parts: list[str] = []
    position = 0
    for index, mention in enumerate(usable):
        start, end = mention.span.start - sentence.start, mention.span.end - sentence.start
        parts.append(sentence.text[position:start])
        parts.append(f"§{index}§")
        position = end
    parts.append(sentence.text[position:])
    return "".join(parts), usable


def _clause_bounds(masked: str, position: int) -> tuple[int, int]:
    start = max((m.end() for m in _CLAUSE.finditer(masked, 0, position)), default=0)
    after = _CLAUSE.search(masked, position)
    return start, after.start() if after else len(masked)


def _subject(masked: str, verb_start: int, clause_start: int) -> int | None:
    """The marker nearest before the verb that is not the object of a preposition."""
    for match in reversed(list(_MARK.finditer(masked, max(clause_start, verb_start - _REACH), verb_start))):
        # "Egypt's purchase of": a possessive right before the verb is its subject whatever precedes it.
        possessive = _POSSESSIVE_SUBJECT.fullmatch(masked, match.end(), verb_start)
        if possessive or not _PREPOSITION_BEFORE.search(masked, 0, match.start()):
            return int(match.group(1))
    return None


def _counterpart(masked: str, clause_start: int, clause_end: int, word: str) -> int | None:
    found = re.search(rf"\b{word}\s+(?:the\s+)?§(\d+)§", masked[clause_start:clause_end], re.IGNORECASE)
    return int(found.group(1)) if found else None


def read_sides(
    sentence: Sentence, mentions: list[CountryMention], parties: list[PartyMention], sides: Sides
) -> None:
    """Add the sentence's votes to `sides`."""
    masked, usable = _mask(sentence, mentions)
    if not usable:
        return
    for verb in _BUY.finditer(masked):
        start, end = _clause_bounds(masked, verb.start())
        buyer = _subject(masked, verb.start(), start)
        seller = _counterpart(masked, verb.end(), min(end, verb.end() + _REACH), "from")
        if seller is None:
            # "to buy Ukrainian drones", "to buy South Korea's K2 tanks"
            obj = re.match(r"(?:\s+[^\s§]+){0,4}?\s+§(\d+)§", masked[verb.end() : min(end, verb.end() + 60)])
            if obj and usable[int(obj.group(1))].form in ("demonym", "name", "abbreviation"):
                candidate = usable[int(obj.group(1))]
                if candidate.form == "demonym" or candidate.possessive:
                    seller = int(obj.group(1))
        if buyer is None:
            buyer = _counterpart(
                masked, verb.end(), min(end, verb.end() + _REACH), "by"
            )  # "purchase ... by Egypt"
        if seller is None and buyer is not None:
            seller = _counterpart(masked, start, end, "with")
        if buyer is not None and seller != buyer:
            sides.vote("buyer", usable[buyer])
        if seller is not None and seller != buyer:
            sides.vote("seller", usable[seller])
    for verb in _SELL.finditer(masked):
        start, end = _clause_bounds(masked, verb.start())
        seller = _subject(masked, verb.start(), start)
        buyer = _counterpart(masked, verb.end(), min(end, verb.end() + _REACH), "to")
        if buyer is None:
            direct = re.match(r"\s+(?:the\s+)?§(\d+)§", masked[verb.end() :])
            buyer = int(direct.group(1)) if direct else None
        if buyer is None and seller is not None:
            buyer = _counterpart(masked, start, end, "with")
        if seller is None and buyer is not None:
            owner = _company_state(parties, usable)
            seller = owner if owner != buyer else None
        if seller is not None and seller != buyer:
            sides.vote("seller", usable[seller])
        if buyer is not None and buyer != seller:
            sides.vote("buyer", usable[buyer])
    buys = bool(_BUY.search(masked))
    sells = bool(_SELL.search(masked))
    if not (buys or sells):
        # "Romania signed a contract with the United States": the signer buys, unless a verb says otherwise.
        signed = re.search(
            r"§(\d+)§(?!['’])[^§;]{0,40}?\bsign(?:s|ed)?\b[^§;]{0,60}?\bwith\s+(?:the\s+)?§(\d+)§", masked
        )
        if signed and signed.group(1) != signed.group(2):
            sides.vote("buyer", usable[int(signed.group(1))])
            sides.vote("seller", usable[int(signed.group(2))])
    if buys and not any(sides.seller.values()) and len({m.country.code for m in usable}) == 2:
        # "Moroccan and French officials held talks on the purchase of ...": the other state sells.
        buyer_codes = [m.country.code for m in usable if sides.buyer.get(m.country.code)]
        others = [m for m in usable if m.country.code not in buyer_codes]
        if buyer_codes and others:
            sides.vote("seller", others[0])
    # "South Korea's Hyundai Rotem signed a contract with Poland": the company's state sells.
    owner = _company_state(parties, usable)
    if owner is not None and re.search(r"\b(?:contract|deal|agreement|order)\b", masked, re.IGNORECASE):
        counterpart = _counterpart(masked, 0, len(masked), "with")
        if counterpart is not None and counterpart != owner:
            sides.vote("seller", usable[owner])
            sides.vote("buyer", usable[counterpart])


def _company_state(parties: list[PartyMention], usable: list[CountryMention]) -> int | None:
    for party in parties:
        if party.kind != "company" or party.country is None:
            continue
        for index, mention in enumerate(usable):
            if mention.country.code == party.country and 0 <= party.span.start - mention.span.end <= 4:
                return index
    return None
