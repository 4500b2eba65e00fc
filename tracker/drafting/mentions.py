"""Who an article names: states (by name, code, adjective or capital) and parties (people, bodies,
companies), each with the span it was read from.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from tracker.countries import Country, country_phrase
from tracker.drafting.text import Sentence, Span, inside, quoted_ranges
from tracker.drafting.vocabulary import (
    BODY_ALIASES,
    BODY_HEADS,
    COMPANY_NOUNS,
    COMPANY_SUFFIXES,
    NEWS_OUTLETS,
    PERSON_TITLES,
)

_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|[^\W\d_][\w'’\-]*")
_POSSESSIVE = re.compile(r"['’]s?$")
_CONNECTORS = frozenset({"and", "of", "the"})
# Before a capital, these make it a place ("talks in Washington"), not a government.
_PLACE_WORDS = frozenset(
    (
        "in", "at", "to", "into", "near", "visit", "visited", "visiting", "visits", "arrive", "arrived",
        "arrives", "arriving", "via", "outside", "across", "around", "toward", "towards"
    )
)  # fmt: skip
_CAPWORD = r"[A-Z][\w'’\-]*"
_NAME = rf"(?-i:{_CAPWORD}(?:\s+{_CAPWORD}){{0,2}})"


@dataclass(frozen=True, slots=True)
class CountryMention:
    country: Country
    form: str
    span: Span
    possessive: bool
    place: bool


@dataclass(slots=True)
class PartyMention:
    """A named party as the text gives it. `country` is an ISO code read from the text (or None)."""

    name: str
    kind: str
    span: Span
    country: str | None = None
    title_role: str | None = None
    speaks: bool = False
    role_phrase: str | None = None
    how: list[str] = field(default_factory=list)


def _word_before(text: str, position: int) -> str:
    words = text[:position].split()
    return words[-1].lower() if words else ""


def find_countries(sentence: Sentence) -> list[CountryMention]:
    """States named in the sentence, longest phrase first ("South Korean" before "Korean")."""
    text = sentence.text
    tokens = list(_TOKEN.finditer(text))
    found: list[CountryMention] = []
    index = 0
    while index < len(tokens):
        first = tokens[index]
        if not first.group()[0].isupper():
            index += 1
            continue
        for size in (4, 3, 2, 1):
            last = index + size - 1
            if last >= len(tokens):
                continue
            window = tokens[index : last + 1]
            if any(text[a.end() : b.start()] != " " for a, b in itertools.pairwise(window)):
                continue
            if any(t.group() in _CONNECTORS for t in (window[0], window[-1])) or any(
                not t.group()[0].isupper() and t.group() not in _CONNECTORS for t in window
            ):
                continue
            end = window[-1].end()
            possessive = bool(_POSSESSIVE.search(window[-1].group())) and size >= 1
            phrase = text[first.start() : end]
            if possessive:
                phrase = _POSSESSIVE.sub("", phrase)
            found_phrase = country_phrase(phrase)
            if found_phrase is None and possessive:
                # "U.S.'" is not a possessive of anything: try the whole token.
                continue
            if found_phrase is None:
                continue
            if phrase.isupper() and found_phrase.form != "abbreviation" and len(phrase) > 3:
                continue  # a dateline ("WASHINGTON —"), not a party
            place = found_phrase.form == "capital" and _word_before(text, first.start()) in _PLACE_WORDS
            found.append(
                CountryMention(
                    country=found_phrase.country,
                    form=found_phrase.form,
                    span=sentence.span(first.start(), first.start() + len(phrase)),
                    possessive=possessive,
                    place=place,
                )
            )
            index = last
            break
        index += 1
    return found


# --- parties ------------------------------------------------------------------------------------------

_ADJECTIVES = r"(?:(?:new|top|chief|senior|deputy|former|acting|foreign|defen[cs]e)\s+)*"
_TITLE_WORDS = "|".join(sorted((re.escape(t) for t in PERSON_TITLES), key=len, reverse=True))
_TITLE = re.compile(rf"\b(?P<title>{_ADJECTIVES}(?:{_TITLE_WORDS}))(?![\w])", re.IGNORECASE)
_COMPLEMENT = re.compile(r"\s+(?:to|of|for)\s+(?:the\s+)?")
_NAME_AT = re.compile(rf"\s+(?P<name>{_NAME})")
_APPOSITIVE = re.compile(
    rf"(?P<name>(?-i:{_CAPWORD}\s+{_CAPWORD}(?:\s+{_CAPWORD})?)),\s+(?:a|an|the|its|his|her)\s+"
    rf"(?:[\w'’\-]+\s+){{0,4}}?(?P<title>{_TITLE_WORDS})\b",
    re.IGNORECASE,
)
_SPEAKER = re.compile(
    rf"\b(?:said|says|told|added)\s+(?P<after>(?-i:{_CAPWORD}\s+{_CAPWORD}(?:\s+{_CAPWORD})?))"
    rf"|(?P<before>(?-i:{_CAPWORD}\s+{_CAPWORD}(?:\s+{_CAPWORD})?))\s+(?:said|says|told|added)\b"
)
_SPEECH_VERBS = r"(?:said|says|told|tells|added|adds|stated|wrote|revealed|announced)"
# "NAME said", "NAME, a spokesman for X, said"; "said NAME", "said new Ukrainian Ambassador to the US NAME".
_SPEAKS_AFTER = re.compile(rf"(?:['’]s)?(?:,[^,]{{1,80}},)?\s+{_SPEECH_VERBS}\b")
_SPEAKS_BEFORE = re.compile(rf"\b(?:{_SPEECH_VERBS}|according to)\s+(?:[\w'’.\-]+\s+){{0,7}}$")
_HONORIFIC = re.compile(rf"\b(?:Mr|Mrs|Ms|Dr)\.?\s+(?P<name>{_CAPWORD})")


def _cap_head(head: str) -> str:
    return " ".join(word if word == "of" else word.capitalize() for word in head.split())


_HEADS = "|".join(sorted((_cap_head(h) for h in BODY_HEADS), key=len, reverse=True))
_BODY = re.compile(
    rf"(?P<body>(?:{_CAPWORD}\s+(?:(?:and|of|for)\s+)?){{0,6}}?(?:{_HEADS})\b"
    rf"(?:\s+of\s+(?:the\s+)?{_CAPWORD}(?:\s+(?:(?:and|of|for)\s+)?{_CAPWORD}){{0,4}})?)"
)
_LOWER_BODY = re.compile(
    r"\b(?:(?:defen[cs]e|foreign|interior|finance|armament|procurement)\s+(?:ministry|agency)|parliament)\b"
)
_SUFFIXES = "|".join(sorted((re.escape(s) for s in COMPANY_SUFFIXES), key=len, reverse=True))
_COMPANY = re.compile(
    rf"(?P<suffixed>(?:{_CAPWORD}\s+){{1,3}}(?:{_SUFFIXES})(?:\s+(?!(?i:{_TITLE_WORDS})\b){_CAPWORD})?)(?![\w])"
    rf"|\b{COMPANY_NOUNS}\s+(?P<named>{_CAPWORD}(?:\s+{_CAPWORD}){{0,2}})"
    rf"|(?P<appositive>{_CAPWORD}(?:\s+{_CAPWORD}){{0,2}}),\s+(?:a|an|the)\s+(?:[\w'’\-]+\s+){{0,4}}?"
    rf"{COMPANY_NOUNS}\b"
    rf"|\b(?:made|built|produced|manufactured|developed|designed)\s+by\s+(?P<maker>{_CAPWORD}(?:\s+{_CAPWORD}){{0,2}})"
)
_AFTER_POSSESSIVE = re.compile(rf"\s+(?P<name>{_CAPWORD}(?:\s+{_CAPWORD}){{0,2}})")
# Full names only: "Jan" and "Sept" begin people's names too.
_MONTHS_AND_DAYS = frozenset(
    (
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    )
)  # fmt: skip
_NOT_NAMES = frozenset(
    (
        "the", "a", "an", "in", "on", "at", "this", "that", "these", "those", "it", "its", "he", "she",
        "they", "we", "i", "but", "and", "while", "after", "before", "as", "following", "currently",
        "meanwhile",
        "however"
    )
)  # fmt: skip
_OUTLET_KEYS = frozenset(o.casefold() for o in NEWS_OUTLETS)
_OUTLET_BEFORE = re.compile(
    r"\b(?:told|interview with|according to|reported by|citing|quoted by)\s+$", re.IGNORECASE
)


def _strip_possessive(text: str) -> str:
    return _POSSESSIVE.sub("", text) if re.search(r"['’]s$", text) else text


def _bad_company(words: list[str]) -> bool:
    first = words[0].lower()
    return (
        first in _NOT_NAMES
        or first in _MONTHS_AND_DAYS
        or first in PERSON_TITLES
        or country_phrase(" ".join(words)) is not None
        or (
            len(words) > 1
            and country_phrase(" ".join(words[:-1])) is not None
            and words[-1] in ("Defence", "Defense")
        )
    )


def _bad_name(words: list[str], countries: list[CountryMention]) -> bool:
    first = words[0].lower()
    return (
        first in _NOT_NAMES
        or first in _MONTHS_AND_DAYS
        or first in PERSON_TITLES
        or any(w.lower() in BODY_HEADS for w in words)
        or country_phrase(" ".join(words)) is not None
        or country_phrase(words[0]) is not None
    )


@dataclass(slots=True)
class PartyReader:
    """Reads the parties of an article's sentences; people named once in full are recognised by
    surname in every sentence ("Zelensky" after "President Volodymyr Zelensky")."""

    publisher: str
    people: dict[str, PartyMention] = field(default_factory=dict)  # surname -> first full mention

    def is_outlet(self, name: str, text: str, start: int) -> bool:
        key = name.casefold()
        publisher = self.publisher.casefold().strip()
        if key in _OUTLET_KEYS or (publisher and key == publisher):
            return True
        if publisher and key.startswith("the ") and key[4:] in publisher.split():
            return True
        return key.startswith("the ") and bool(_OUTLET_BEFORE.search(text, 0, start))

    def learn(self, sentences: list[Sentence], countries: dict[int, list[CountryMention]]) -> None:
        """First pass: the people each sentence names with a title or in full."""
        for sentence in sentences:
            for mention in self._people(sentence, countries[sentence.index]):
                surname = mention.name.split()[-1]
                known = self.people.get(surname)
                if known is None or (len(mention.name.split()) > len(known.name.split())):
                    if known is not None:
                        mention.title_role = mention.title_role or known.title_role
                        mention.country = mention.country or known.country
                    self.people[surname] = mention
                elif known.title_role is None and mention.title_role:
                    known.title_role = mention.title_role
                elif known.country is None and mention.country:
                    known.country = mention.country

    def read(self, sentence: Sentence, countries: list[CountryMention]) -> list[PartyMention]:
        """The parties `sentence` names, each once, in order of appearance."""
        taken: list[tuple[int, int]] = []
        found: list[PartyMention] = []

        def add(mention: PartyMention) -> None:
            start, end = mention.span.start, mention.span.end
            if any(a < end and start < b for a, b in taken):
                return
            if self.is_outlet(mention.name, sentence.text, start - sentence.start):
                return
            taken.append((start, end))
            found.append(mention)

        for mention in self._aliases(sentence):
            add(mention)
        for mention in self._bodies(sentence, countries):
            add(mention)
        for mention in self._people(sentence, countries):
            add(self._known(mention))
        for mention in self._companies(sentence, countries):
            add(mention)
        for mention in self._surnames(sentence):
            add(mention)
        quotes = quoted_ranges(sentence)
        for mention in found:
            local = mention.span.start - sentence.start
            after = sentence.text[local + len(mention.span.text) :]
            mention.speaks = (
                mention.kind == "person"
                and not inside(local, quotes)
                and bool(_SPEAKS_AFTER.match(after) or _SPEAKS_BEFORE.search(sentence.text, 0, local))
            )
        return sorted(found, key=lambda m: m.span.start)

    def _known(self, mention: PartyMention) -> PartyMention:
        surname = mention.name.split()[-1]
        known = self.people.get(surname)
        if known is not None and known is not mention:
            mention.title_role = mention.title_role or known.title_role
            mention.country = mention.country or known.country
            if len(known.name.split()) > len(mention.name.split()):
                mention.how.append(
                    f"“{mention.span.text}” is {known.name}, named in full elsewhere in the text"
                )
                mention.name = known.name
        return mention

    def _aliases(self, sentence: Sentence) -> list[PartyMention]:
        found = []
        for alias, (kind, code) in BODY_ALIASES.items():
            for match in re.finditer(rf"\b{re.escape(alias)}\b", sentence.text):
                found.append(PartyMention(alias, kind, sentence.span(*match.span()), country=code))
        return found

    def _bodies(self, sentence: Sentence, countries: list[CountryMention]) -> list[PartyMention]:
        text = sentence.text
        found: list[PartyMention] = []
        for match in _BODY.finditer(text):
            start, end = match.span("body")
            words = text[start:end].split()
            # "South Korea's Defense Acquisition Program Administration": the state is not in the name.
            for position, word in enumerate(words[:-1]):
                if re.search(r"['’]s?$", word):
                    start += len(" ".join(words[: position + 1])) + 1
                    words = words[position + 1 :]
                    break
            while words and (words[0] in ("The", "A") or words[0].lower() in _NOT_NAMES):
                start += len(words[0]) + 1
                words = words[1:]
            if not words:
                continue
            name = " ".join(words)
            if re.match(rf"\s+(?:{_TITLE_WORDS})\s+{_CAPWORD}", text[end:], re.IGNORECASE):
                continue  # "Air Force chief Punpakdee Pattanakul": the body is part of the person's title
            head = next((h for h in sorted(BODY_HEADS, key=len, reverse=True) if h in name.lower()), "")
            kind = BODY_HEADS.get(head, "agency")
            country = _country_near(countries, sentence, start, end)
            if country is None and text[max(0, start - 4) : start] == "its " and found:
                country = found[-1].country  # "the Ukrainian Ministry of Defense and its ... Council"
            found.append(PartyMention(name, kind, sentence.span(start, end), country=country))
        for match in _LOWER_BODY.finditer(text):
            country = _country_near(countries, sentence, match.start(), match.end())
            if country is None:
                continue  # "the ministry" of no named state is no party the ledger can hold
            before = [c for c in countries if c.span.end - sentence.start <= match.start()]
            start = match.start()
            if (
                before
                and not before[-1].possessive
                and match.start() - (before[-1].span.end - sentence.start) <= 1
            ):
                start = before[-1].span.start - sentence.start
            kind = (
                "legislature"
                if "parliament" in match.group()
                else "ministry"
                if "ministry" in match.group()
                else "agency"
            )
            found.append(
                PartyMention(
                    text[start : match.end()], kind, sentence.span(start, match.end()), country=country
                )
            )
        return found

    def _people(self, sentence: Sentence, countries: list[CountryMention]) -> list[PartyMention]:
        text = sentence.text
        found: list[PartyMention] = []
        for match in _TITLE.finditer(text):
            title = match["title"]
            if not (title[0].isupper() or title.split()[-1].lower() in _LOWERCASE_TITLES):
                continue
            previous = re.search(r"(\S+)\s+$", text[: match.start()])
            if (
                title[0].isupper()
                and previous
                and previous.group(1)[0].isupper()
                and previous.group(1)[-1].isalnum()
                and not any(c.span.end - sentence.start == previous.end(1) for c in countries)
                and not re.search(r"['’]s?$", previous.group(1))
            ):
                continue  # inside a longer name: "United Nations General Assembly"
            position = match.end()
            country: str | None = None
            complement = _COMPLEMENT.match(text, position)
            if complement:
                following = [c for c in countries if c.span.start - sentence.start == complement.end()]
                if following:
                    position = following[0].span.end - sentence.start
                    if complement.group().strip().startswith(("of", "for")):
                        country = following[0].country.code
            name_match = _NAME_AT.match(text, position)
            if not name_match:
                continue
            words = [_strip_possessive(w) for w in name_match["name"].split()]
            if _bad_name(words, countries):
                continue
            name = " ".join(words)
            start = name_match.start("name")
            country = country or _country_near(countries, sentence, match.start(), match.start())
            mention = PartyMention(
                name, "person", sentence.span(start, start + len(name)), country=country,
                title_role=PERSON_TITLES.get(title.lower()) or PERSON_TITLES[title.split()[-1].lower()],
            )  # fmt: skip
            possessor = re.search(rf"(?P<owner>{_CAPWORD})['’]s?\s+$", text[: match.start()])
            if possessor and country is None:
                owner = self.people.get(_strip_possessive(possessor["owner"]))
                if owner is not None and owner.country:
                    mention.country = owner.country
                    mention.how.append(f"{name}'s country is {owner.name}'s (“{possessor.group()}”)")
            found.append(mention)
        for match in _APPOSITIVE.finditer(text):
            words = match["name"].split()
            if _bad_name(words, countries):
                continue
            start = match.start("name")
            found.append(
                PartyMention(
                    match["name"], "person", sentence.span(start, match.end("name")),
                    country=_country_near(countries, sentence, match.end("name"), match.end()),
                    title_role=PERSON_TITLES[match["title"].lower()],
                )
            )  # fmt: skip
        for match in _SPEAKER.finditer(text):
            group = "after" if match["after"] else "before"
            words = [_strip_possessive(w) for w in match[group].split()]
            if _bad_name(words, countries) or any(w in COMPANY_SUFFIXES for w in words):
                continue
            start = match.start(group)
            found.append(
                PartyMention(" ".join(words), "person", sentence.span(start, start + len(" ".join(words))))
            )
        return found

    def _surnames(self, sentence: Sentence) -> list[PartyMention]:
        found = []
        for surname, known in self.people.items():
            # "the Trump administration" is a government, not the man.
            for match in re.finditer(
                rf"\b{re.escape(surname)}\b(?!\s+(?:administration|government|team|camp))", sentence.text
            ):
                mention = PartyMention(
                    known.name, "person", sentence.span(*match.span()), country=known.country,
                    title_role=known.title_role,
                )  # fmt: skip
                if known.name != surname:
                    mention.how.append(f"“{surname}” is {known.name}, named in full elsewhere in the text")
                found.append(mention)
        for match in _HONORIFIC.finditer(sentence.text):
            found.append(PartyMention(match["name"], "person", sentence.span(*match.span("name"))))
        return found

    def _companies(self, sentence: Sentence, countries: list[CountryMention]) -> list[PartyMention]:
        text = sentence.text
        found: list[PartyMention] = []
        for match in _COMPANY.finditer(text):
            group = next(g for g in ("suffixed", "named", "appositive", "maker") if match[g])
            start, end = match.span(group)
            words = text[start:end].split()
            # "South Korea's Hyundai Rotem": the state is the company's, not part of its name.
            for position, word in enumerate(words[:-1]):
                if re.search(r"['’]s?$", word):
                    start += len(" ".join(words[: position + 1])) + 1
                    words = words[position + 1 :]
                    break
            while words and (words[0] in ("The", "A") or words[0].lower() in _NOT_NAMES):
                start += len(words[0]) + 1
                words = words[1:]
            if (
                not words
                or _bad_company(words)
                or re.match(rf"\s+(?:{_TITLE_WORDS})\b", text[start + len(" ".join(words)) :], re.IGNORECASE)
            ):
                continue  # "Colombian Defence Minister ...", "Thursday, the company said"
            found.append(
                PartyMention(
                    " ".join(words), "company", sentence.span(start, start + len(" ".join(words))),
                    country=_country_near(countries, sentence, start, start),
                    role_phrase="manufacturer" if group == "maker" else None,
                )
            )  # fmt: skip
        for country in countries:
            if not country.possessive:
                continue
            match = _AFTER_POSSESSIVE.match(text, country.span.end - sentence.start + 2)
            if not match:
                continue
            words = [_strip_possessive(w) for w in match["name"].split()]
            if _bad_name(words, countries) or words[0] in self.people:
                continue
            start = match.start("name")
            name = " ".join(words)
            found.append(
                PartyMention(
                    name, "company", sentence.span(start, start + len(name)), country=country.country.code
                )
            )
        return found


_LOWERCASE_TITLES = frozenset(
    (
        "adviser", "advisor", "spokesman", "spokeswoman", "spokesperson", "envoy", "negotiator", "official",
        "minister", "secretary", "ambassador", "president"
    )
)  # fmt: skip


def _country_near(countries: list[CountryMention], sentence: Sentence, start: int, end: int) -> str | None:
    """The state named inside [start, end) or right before it ("Poland's", "the Polish")."""
    for country in countries:
        local_start = country.span.start - sentence.start
        local_end = country.span.end - sentence.start
        if start <= local_start < end:
            return country.country.code
        gap = sentence.text[local_end:start]
        if 0 <= start - local_end <= 4 and re.fullmatch(r"(?:['’]s?)?\s*", gap):
            return country.country.code
    return None
