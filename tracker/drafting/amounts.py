"""Money and unit counts in a sentence: value claims as ranges with a currency, and quantities of a system.

"$10-20-30 billion" is 10-30 bn USD; "8 billion pounds ($10.7 billion)" is 8 bn GBP with the dollar
figure noted; "almost $11bn" is 11 bn USD noted as approximate; "100 to 150 Gripen E" is a range of
quantities (noted, the quantity left for the analyst); "up to 100 drones" is 100, noted as a ceiling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracker.drafting.text import Sentence, Span
from tracker.drafting.vocabulary import (
    CURRENCY_CODES,
    CURRENCY_SYMBOLS,
    CURRENCY_WORDS,
    NUMBER_WORDS,
    SYSTEM_NOUNS,
)

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE = r"trillion|billion|million|thousand|tn|bn|mn|b|m|k"
_SCALE_TEXT = {"trillion": "tn", "tn": "tn", "billion": "bn", "bn": "bn", "b": "bn", "million": "m",
               "mn": "m",
               "m": "m", "thousand": "k", "k": "k", "": ""}  # fmt: skip
_SYMBOL = "|".join(re.escape(s) for s in sorted(CURRENCY_SYMBOLS, key=len, reverse=True))
_CODE = "|".join(CURRENCY_CODES)
_WORD = "|".join(sorted((re.escape(w) for w in CURRENCY_WORDS), key=len, reverse=True))
_RANGE_TAIL = rf"(?:\s*(?:-|–|to)\s*(?:{_SYMBOL})?(?:{_NUMBER})){{0,2}}"
_VALUE = re.compile(
    rf"(?:(?P<symbol>{_SYMBOL})\s?|\b(?P<code>{_CODE})\s?)(?P<numbers>(?:{_NUMBER}){_RANGE_TAIL})"
    rf"(?:\s?(?P<scale>{_SCALE})\b)?(?:\s+(?P<after_word>{_WORD})\b)?"
    rf"|(?<![\w$€£])(?P<bare>(?:{_NUMBER}){_RANGE_TAIL})(?:\s?(?P<bare_scale>{_SCALE})\b)?"
    rf"(?:\s+(?P<word>{_WORD})\b|\s+(?P<code_after>{_CODE})\b)",
    re.IGNORECASE,
)
# "$2 billion to $3 billion", "between 2 and 3 billion euros": the second figure closes a range.
_SECOND = re.compile(r"\s*(?:-|–|to)\s*", re.IGNORECASE)
_SECOND_AFTER_BETWEEN = re.compile(r"\s*(?:-|–|to|and)\s*", re.IGNORECASE)
_BETWEEN = re.compile(r"\bbetween\s+$", re.IGNORECASE)
_CONVERSION = re.compile(
    r"\s*[(,]\s*(?:or\s+)?(?:about|around|roughly|some|approximately|nearly|almost)?\s*$"
)
_QUALIFIER = re.compile(
    r"\b(?P<q>almost|nearly|about|around|roughly|approximately|some|an estimated|estimated|close to|"
    r"just under|just over|more than|over|at least|upwards of|up to|as much as|as many as|less than|under|"
    r"no more than)\s+$",
    re.IGNORECASE,
)
_APPROXIMATE = frozenset(
    (
        "almost",
        "nearly",
        "about",
        "around",
        "roughly",
        "approximately",
        "some",
        "estimated",
        "close",
        "to",
        "just",
        "under",
        "just",
        "over",
    )
)  # fmt: skip | {"an estimated", "close to", "just under", "just over"}
_FLOOR = frozenset({"more than", "over", "at least", "upwards of"})
_CEILING = frozenset({"up to", "as much as", "as many as", "less than", "under", "no more than"})
_DEAL_WORDS = re.compile(
    r"\b(?:worth|valued|value|costs?|costing|price|priced|for|contract|deal|order|package|agreement)\b[^.;]{0,40}$",
    re.IGNORECASE,
)

_NUMBER_WORD = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_NOUN = "|".join(sorted((re.escape(n) for n in SYSTEM_NOUNS), key=len, reverse=True))
# A model designation: "F-16", "AH-64E", "K2", "HIMARS", or a capitalised name ("Apache", "Gripen E").
_MODEL_TOKEN = r"(?-i:[A-Z][A-Za-z]*-?\d[\w-]*|[A-Z]{2,}[\w-]*|[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z])"
_QUANTITY = re.compile(
    rf"(?<![\w$€£.,-])(?P<numbers>(?:{_NUMBER}|{_NUMBER_WORD})(?:\s*(?:to|-|–|or)\s*(?:{_NUMBER}))?)"
    rf"(?P<more>\s+(?:more|additional|new|used|second-hand|modernised|modernized|upgraded|advanced))?"
    rf"\s+(?P<system>(?:{_MODEL_TOKEN}\s+(?:\d[\w-]*\s+)?){{0,3}}(?:(?:{_NOUN})\b)"
    rf"|(?:{_MODEL_TOKEN})(?:\s+{_MODEL_TOKEN}){{0,2}}\b)",
    re.IGNORECASE,
)
_ORDER_FOR = re.compile(
    rf"\b(?:deal|contract|order|agreement|purchase)\s+(?:for|of)\s+(?P<numbers>{_NUMBER}|{_NUMBER_WORD})\b"
    r"(?![\s\w]{0,3}(?:%|per|percent|million|billion|trillion|year|month|day|week))",
    re.IGNORECASE,
)
# Numbers that count something other than equipment.
_NOT_EQUIPMENT = re.compile(
    r"^(?:years?|months?|weeks?|days?|hours?|percent|per|people|officials|producers|companies|countries|"
    r"times|soldiers|troops|members|jobs|workers|km|kilometres|kilometers|miles)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ValueClaim:
    low: str
    high: str
    currency: str
    span: Span
    note: str
    deal_word: bool


@dataclass(frozen=True, slots=True)
class QuantityClaim:
    quantity: str
    span: Span
    system: str
    system_span: Span
    note: str


def _plain(number: str) -> str:
    text = number.replace(",", "")
    return text.removesuffix(".0")


def _numbers(text: str) -> list[str]:
    return [_plain(n) for n in re.findall(_NUMBER, text)]


def _currency(match: re.Match[str]) -> str | None:
    if match["symbol"]:
        return CURRENCY_SYMBOLS[match["symbol"].upper()]
    code = match["code"] or match["code_after"]
    if code:
        return code.upper()
    word = match["after_word"] or match["word"]
    return CURRENCY_WORDS.get(word.lower()) if word else None


def find_values(sentence: Sentence) -> list[ValueClaim]:
    """Every money amount in `sentence` that names its currency, in order; a figure in brackets right
    after another ("8 billion pounds ($10.7 billion)") is noted with the first, not claimed again."""
    text = sentence.text
    raw: list[tuple[re.Match[str], str]] = []
    for match in _VALUE.finditer(text):
        currency = _currency(match)
        if currency is None:
            continue
        raw.append((match, currency))
    claims: list[ValueClaim] = []
    skip: set[int] = set()
    for position, (match, currency) in enumerate(raw):
        if position in skip:
            continue
        numbers = _numbers(match["numbers"] or match["bare"])
        scale = _SCALE_TEXT[(match["scale"] or match["bare_scale"] or "").lower()]
        end = match.end()
        notes: list[str] = []
        if position + 1 < len(raw):
            following, _ = raw[position + 1]
            gap = text[end : following.start()]
            second_scale = _SCALE_TEXT[(following["scale"] or following["bare_scale"] or "").lower()]
            closes = _SECOND_AFTER_BETWEEN if _BETWEEN.search(text, 0, match.start()) else _SECOND
            if closes.fullmatch(gap) and (second_scale == scale or not scale):
                numbers.append(_numbers(following["numbers"] or following["bare"])[0])
                scale = second_scale or scale
                end = following.end()
                skip.add(position + 1)
            elif _CONVERSION.fullmatch(gap):
                notes.append(f"also given as “{text[following.start() : following.end()]}”")
                skip.add(position + 1)
        qualifier = _QUALIFIER.search(text, 0, match.start())
        word = qualifier["q"].lower() if qualifier else ""
        start = qualifier.start() if qualifier else match.start()
        if _BETWEEN.search(text, 0, match.start()):
            start = _BETWEEN.search(text, 0, match.start()).start()
        values = [f"{n}{scale}" for n in numbers]
        low, high = values[0], values[-1] if len(values) > 1 else values[0]
        if len(values) > 2:
            notes.insert(0, f"“{text[start:end]}” read as the range {low}–{high}")
        if word in _FLOOR:
            high = ""
            notes.insert(0, f"“{word}”: a floor, not the value")
        elif word in _CEILING:
            low = ""
            notes.insert(0, f"“{word}”: a ceiling, not the value")
        elif word in _APPROXIMATE:
            notes.insert(0, f"approximate (“{word}”)")
        claims.append(
            ValueClaim(
                low=low,
                high=high,
                currency=currency,
                span=sentence.span(start, end),
                note="; ".join(notes),
                deal_word=bool(_DEAL_WORDS.search(text, max(0, start - 60), start)),
            )
        )
    return claims


def find_quantities(sentence: Sentence, *, taken: list[Span]) -> list[QuantityClaim]:
    """Counts of equipment ("96 AH-64E Apache helicopters", "a deal for 40"), skipping text in `taken`
    (dates and money already read)."""
    text = sentence.text
    blocked = [(s.start - sentence.start, s.end - sentence.start) for s in taken]
    claims: list[QuantityClaim] = []
    for match in _QUANTITY.finditer(text):
        if any(a < match.end("numbers") and match.start() < b for a, b in blocked):
            continue
        system = match["system"]
        if _NOT_EQUIPMENT.match(system) or system.split()[0].lower() in NUMBER_WORDS:
            continue
        claims.append(_quantity_claim(sentence, match, system=match.span("system")))
    for match in _ORDER_FOR.finditer(text):
        if any(a < match.end() and match.start() < b for a, b in blocked):
            continue
        if any(c.span.start <= sentence.start + match.start("numbers") < c.span.end for c in claims):
            continue
        claims.append(_quantity_claim(sentence, match, system=None))
    return sorted(claims, key=lambda claim: claim.span.start)


def _quantity_claim(
    sentence: Sentence, match: re.Match[str], *, system: tuple[int, int] | None
) -> QuantityClaim:
    text = sentence.text
    numbers_text = match["numbers"]
    numbers = [
        NUMBER_WORDS[w.lower()] if w.lower() in NUMBER_WORDS else _plain(w)
        for w in re.findall(rf"{_NUMBER}|{_NUMBER_WORD}", numbers_text, re.IGNORECASE)
    ]
    qualifier = _QUALIFIER.search(text, 0, match.start("numbers"))
    word = qualifier["q"].lower() if qualifier else ""
    start = qualifier.start() if qualifier else match.start("numbers")
    end = system[1] if system else match.end("numbers")
    shown = text[start:end]
    notes: list[str] = []
    quantity = numbers[0]
    if len(numbers) > 1:
        quantity = ""
        notes.append(f"quantity “{shown}” is a range: give one number if the deal fixes it")
    elif word in _CEILING:
        notes.append(f"quantity “{shown}”: a ceiling")
    elif word in _FLOOR:
        notes.append(f"quantity “{shown}”: a floor")
    elif word in _APPROXIMATE:
        notes.append(f"quantity “{shown}”: approximate")
    if match.groupdict().get("more"):
        notes.append(f"quantity “{shown}”: more units on top of earlier ones")
    system_span = (
        sentence.span(*system) if system else sentence.span(match.end("numbers"), match.end("numbers"))
    )
    return QuantityClaim(
        quantity=quantity,
        span=sentence.span(start, end),
        system=system_span.text,
        system_span=system_span,
        note="; ".join(notes),
    )
