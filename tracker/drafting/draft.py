"""An article drafted into ledger rows: one row per (event, party), each with the spans it came from."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Engine

from tracker.columns import TEMPLATE_COLUMNS
from tracker.countries import country_by_code, country_phrase
from tracker.drafting.amounts import QuantityClaim, ValueClaim, find_quantities, find_values
from tracker.drafting.events import Event, attach_support, find_cues, gather_events
from tracker.drafting.ledger import LedgerDeal, LedgerKnowledge, LedgerParty, read_knowledge
from tracker.drafting.mentions import CountryMention, PartyMention, PartyReader, find_countries
from tracker.drafting.sides import Sides, read_sides
from tracker.drafting.text import Sentence, Span, check_article, split_sentences
from tracker.drafting.vocabulary import (
    ANONYMOUS_ATTRIBUTION,
    BODY_LEDGER_NAMES,
    CONFIRMED_BY_BOTH,
    ROLE_PHRASES,
    SECOND_HAND_ATTRIBUTION,
    SPELLINGS,
    SYSTEM_NOUNS,
)
from tracker.drafting.when import DateMention, find_dates
from tracker.errors import DraftRefused
from tracker.export import neutralise
from tracker.vocab import STAGE_BY_NAME, STAGE_ORDER

# The columns a draft fills, in order: the upload format an analyst writes by hand (source_excerpt holds
# the sentence(s) each row comes from).
DRAFT_COLUMNS: tuple[str, ...] = TEMPLATE_COLUMNS
MAX_ARTICLE_BYTES = 1_000_000
SUMMARY_CHARACTERS = 300
BASE_CREDIBILITY = 3  # one report of one side's account: "possibly true"
BODY_KINDS = frozenset({"ministry", "agency", "armed service", "legislature"})
_TITLE_STOPWORDS = frozenset(
    (
        "deal", "deals", "the", "of", "and", "for", "a", "an", "to", "contract", "contracts", "agreement",
        "purchase", "sale", "programme", "program", "procurement", "acquisition", "order", "new"
    )
)  # fmt: skip
_STEM = re.compile(r"(?:es|s)$")
_LINE_BREAK = re.compile(r"\r\n?")  # CR LF or a lone CR: written as LF
_SLUG = re.compile(r"[^a-z0-9]+")
_SYSTEM_DEAL = re.compile(
    r"\b(?P<system>(?:(?-i:[A-Z][\w-]*)\s+){0,2}?(?:"
    + "|".join(sorted(map(re.escape, SYSTEM_NOUNS), key=len, reverse=True))
    + r"))\s+(?P<noun>deal|contract|agreement|purchase|order|package)\b",
    re.IGNORECASE,
)
# "Patriot air defense systems", "Gripen fighters": a named system without a count.
_NAMED_SYSTEM = re.compile(
    r"(?-i:[A-Z][\w-]*)(?:\s+(?-i:[A-Z0-9][\w-]*)){0,2}\s+(?:"
    + "|".join(sorted(map(re.escape, SYSTEM_NOUNS), key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
_ANONYMOUS = re.compile(ANONYMOUS_ATTRIBUTION, re.IGNORECASE)
_SECOND_HAND = re.compile(SECOND_HAND_ATTRIBUTION, re.IGNORECASE)
_CONFIRMED = re.compile(CONFIRMED_BY_BOTH, re.IGNORECASE)
_ROLE_PHRASES = tuple((re.compile(p, re.IGNORECASE), role) for p, role in ROLE_PHRASES)


@dataclass(frozen=True, slots=True)
class ArticleSource:
    """The article as a source: what the analyst types once for every row."""

    published: dt.date
    publisher: str = ""
    title: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class DraftRow:
    """One draft row: its cells (DRAFT_COLUMNS), the event it belongs to, and per field the spans of the
    article it was read from ("date" has none when the date is the publication date)."""

    cells: dict[str, str]
    event: int
    sentences: tuple[int, ...]
    evidence: dict[str, tuple[Span, ...]]


@dataclass(frozen=True, slots=True)
class Draft:
    rows: tuple[DraftRow, ...]
    sentences: tuple[Sentence, ...]
    source: ArticleSource
    deal_reason: str

    def records(self, *, columns: tuple[str, ...] = DRAFT_COLUMNS) -> list[dict[str, str]]:
        return [{c: row.cells[c] for c in columns} for row in self.rows]


@dataclass(slots=True)
class _Analysis:
    sentences: list[Sentence]
    countries: dict[int, list[CountryMention]]
    parties: dict[int, list[PartyMention]]
    dates: dict[int, list[DateMention]]
    values: dict[int, list[ValueClaim]]
    quantities: dict[int, list[QuantityClaim]]
    events: list[Event]
    buyers: list[str]
    sellers: list[str]
    side_spans: dict[tuple[str, str], list[Span]]
    words: set[str] = field(default_factory=set)


def read_article(path: Path) -> str:
    """The text of an article file (UTF-8, or Windows-1252 when it holds no UTF-8); DraftRefused if it
    cannot be read, is empty, or is not text."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_ARTICLE_BYTES + 1)
    except OSError as exc:
        raise DraftRefused(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_ARTICLE_BYTES:
        raise DraftRefused(f"{path} is larger than {MAX_ARTICLE_BYTES:,} bytes: give one article at a time")
    if b"\x00" in data:
        raise DraftRefused(f"{path} is not a text file: save the article as plain text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise DraftRefused(f"{path} is neither UTF-8 nor Windows-1252 text: save it as UTF-8") from exc
    if not text.strip():
        raise DraftRefused(f"{path} is empty: save the article's text in it")
    return text


def _check_source(source: ArticleSource) -> None:
    if source.url:
        parts = urlsplit(source.url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise DraftRefused(
                f"the source URL must start with http:// or https:// and name a host, not {source.url!r}"
            )


def _analyse(text: str, source: ArticleSource) -> _Analysis:
    sentences = split_sentences(text)
    countries = {s.index: find_countries(s) for s in sentences}
    reader = PartyReader(publisher=source.publisher)
    reader.learn(sentences, countries)
    parties = {s.index: reader.read(s, countries[s.index]) for s in sentences}
    dates = {s.index: find_dates(s, published=source.published) for s in sentences}
    values = {s.index: find_values(s) for s in sentences}
    quantities = {
        s.index: find_quantities(
            s, taken=[d.span for d in dates[s.index]] + [v.span for v in values[s.index]]
        )
        for s in sentences
    }
    cues = {s.index: find_cues(s) for s in sentences}
    events = gather_events(sentences, cues, dates)
    attach_support(
        events,
        sentences,
        has_claims={s.index: bool(values[s.index] or quantities[s.index]) for s in sentences},
    )
    sides = Sides()
    for sentence in sentences:
        read_sides(sentence, countries[sentence.index], parties[sentence.index], sides)
    buyers, sellers = sides.decided()
    words = {_stem(w) for w in re.findall(r"[\w-]+", text.casefold())}
    return _Analysis(
        sentences, countries, parties, dates, values, quantities, events, buyers, sellers, sides.spans, words
    )


def _stem(word: str) -> str:
    return _STEM.sub("", word.casefold()) if len(word) > 3 else word.casefold()


def draft_article(
    text: str,
    *,
    source: ArticleSource,
    engine: Engine | None = None,
    knowledge: LedgerKnowledge | None = None,
) -> Draft:
    """Draft ledger rows from an article's text. With a ledger (`engine`, or `knowledge` already read)
    the draft joins an existing deal, names parties as the ledger does and suggests the publisher's grade.

    Nothing is invented: each country, party, date, number and stage cue comes from a span of the text
    (dates may be counted from the publication date). DraftRefused for text that is no article."""
    check_article(text)
    _check_source(source)
    analysis = _analyse(text, source)
    if knowledge is None:
        knowledge = LedgerKnowledge()
        if engine is not None:
            knowledge = read_knowledge(engine, **_wanted(analysis, source))
    return _compose(analysis, source, knowledge)


def _wanted(analysis: _Analysis, source: ArticleSource) -> dict[str, object]:
    mentions = [m for ms in analysis.parties.values() for m in ms]
    names = {m.name for m in mentions}
    names |= {alias for m in mentions for alias in BODY_LEDGER_NAMES.get(m.name, ())}
    surnames = {m.name.split()[-1] for m in mentions if m.kind == "person"}
    countries = {m.country.code for ms in analysis.countries.values() for m in ms if not m.place}
    return {
        "countries": countries,
        "buyers": analysis.buyers,
        "sellers": analysis.sellers,
        "names": names,
        "surnames": surnames,
        "publisher": source.publisher,
        "new_deal_id": _new_deal_name(analysis)[0],
    }


# --- the deal -----------------------------------------------------------------------------------------


def _title_words(deal: LedgerDeal) -> list[str]:
    named = f"{deal.title} {deal.category}"
    # The states a title names ("— Ukraine to United States", as every SIPRI deal is called) are its sides,
    # which the match checks on their own: as words, "United" and "States" matched any article on the US.
    for mention in reversed(find_countries(Sentence(0, 0, len(named), named))):
        named = f"{named[: mention.span.start]} {named[mention.span.end :]}"
    words = re.findall(r"[\w-]+", named)
    return [
        w for w in dict.fromkeys(words) if w.casefold() not in _TITLE_STOPWORDS and country_phrase(w) is None
    ]


def _names(codes: Iterable[str]) -> str:
    return " and ".join(country_by_code(c).name for c in codes)


def _match_deal(analysis: _Analysis, knowledge: LedgerKnowledge) -> tuple[LedgerDeal | None, str]:
    buyers, sellers = set(analysis.buyers), set(analysis.sellers)
    mentioned = {m.country.code for ms in analysis.countries.values() for m in ms if not m.place}
    best: tuple[int, LedgerDeal, list[str]] | None = None
    between: list[str] = []
    for deal in knowledge.deals:
        if buyers or sellers:
            fits = (not buyers or buyers & deal.buyers) and (not sellers or sellers & deal.sellers)
        else:
            fits = bool(deal.buyers | deal.sellers) and (deal.buyers | deal.sellers) <= mentioned
        if not fits:
            continue
        hits = [w for w in _title_words(deal) if _stem(w) in analysis.words]
        if not hits:
            between.append(deal.id)
            continue
        if best is None or len(hits) > best[0]:
            best = (len(hits), deal, hits)
    if best is None:
        if between:
            shown = ", ".join(sorted(between)[:3]) + (" …" if len(between) > 3 else "")
            return None, (
                f"new deal: the ledger has {len(between)} deal(s) between these states ({shown}) but none "
                "shares a system or title word with the text; check whether it is one of them"
            )
        return None, "new deal: no deal in the ledger has these states and a system or title word in the text"
    _, deal, hits = best
    sides = []
    if buyers & deal.buyers:
        sides.append(f"buyer {_names(sorted(buyers & deal.buyers))}")
    if sellers & deal.sellers:
        sides.append(f"seller {_names(sorted(sellers & deal.sellers))}")
    states = " and ".join(sides) if sides else "its states are all named in the text"
    words = ", ".join(f"“{w}”" for w in hits)
    return deal, f"existing deal {deal.id} (“{deal.title}”): {states}; title word {words} in the text"


def _system(analysis: _Analysis) -> tuple[str, str]:
    """The system the article is about, as written, and its ledger category ("" when unknown)."""
    for sentence in analysis.sentences:
        for claim in analysis.quantities[sentence.index]:
            if claim.system:
                return _without_state(claim.system), _category(claim.system)
    for sentence in analysis.sentences:
        match = _SYSTEM_DEAL.search(sentence.text)
        if match:
            return f"{match['system']} {match['noun']}", _category(match["system"])
    for sentence in analysis.sentences:
        match = _NAMED_SYSTEM.search(sentence.text)
        if match:
            return _without_state(match.group()), _category(match.group())
    return "", ""


def _without_state(system: str) -> str:
    """ "Swedish Gripen fighters" names the system "Gripen fighters": the state is a side, not a name."""
    words = system.split()
    while len(words) > 1 and country_phrase(words[0]) is not None:
        words = words[1:]
    return " ".join(words)


def _category(system: str) -> str:
    lowered = system.casefold()
    for noun in sorted(SYSTEM_NOUNS, key=len, reverse=True):
        if lowered.endswith(noun.casefold()):
            return SYSTEM_NOUNS[noun]
    return ""


def _new_deal(analysis: _Analysis, knowledge: LedgerKnowledge) -> tuple[str, str, str]:
    """A new deal's id (its name's slug, numbered past the ledger's deals of that slug), title and
    category."""
    slug, title, category = _new_deal_name(analysis)
    taken = knowledge.taken_ids | {d.id for d in knowledge.deals}
    deal_id, number = slug, 2
    while deal_id in taken:
        deal_id, number = f"{slug}-{number}", number + 1
    return deal_id, title, category


def _new_deal_name(analysis: _Analysis) -> tuple[str, str, str]:
    """The slug, title and category of a new deal the article would be about."""
    system, category = _system(analysis)
    sides = [_names(codes) for codes in (analysis.buyers, analysis.sellers) if codes]
    if not sides:
        # No sentence says who buys: the states named, in order, still tell deals apart.
        named = [m.country.code for ms in analysis.countries.values() for m in ms if not m.place]
        sides = [country_by_code(code).name for code in dict.fromkeys(named)][:2]
    title = " ".join(part for part in ("–".join(sides), system or "deal") if part)
    if not sides and not system:
        title = "New deal from an article"
    ascii_title = (
        unicodedata.normalize("NFKD", title.casefold().replace("–", "-")).encode("ascii", "ignore").decode()
    )
    slug = _SLUG.sub("-", ascii_title).strip("-")[:80].rstrip("-") or "new-deal"
    return slug, title[:300], category


# --- parties ------------------------------------------------------------------------------------------


def _core(name: str) -> str:
    """A body's name without its state and in one spelling: "Ukrainian Ministry of Defense" and
    "Ministry of Defence of Ukraine" are both "ministry of defence"."""
    words = re.sub(r"['’]s\b", "", name.casefold()).replace("the ", " ").split()
    words = [SPELLINGS.get(w, w) for w in words if country_phrase(w) is None]
    while words and words[-1] in ("of", "and"):
        words.pop()
    text = " ".join(words)
    found = re.fullmatch(r"(.+) ministry", text)
    return f"ministry of {found.group(1)}" if found else text


@dataclass(slots=True)
class _Party:
    name: str
    kind: str
    country: str | None
    mentions: list[PartyMention]
    known: bool
    how: list[str]


def _resolve_party(mention: PartyMention, knowledge: LedgerKnowledge) -> _Party:
    def compatible(party: LedgerParty) -> bool:
        return mention.country is None or party.country is None or party.country == mention.country

    def known(party: LedgerParty, why: str) -> _Party:
        how = [*mention.how]
        if why:
            how.append(f"“{mention.span.text}” is the ledger's {party.name} ({why})")
        return _Party(party.name, party.kind, party.country, [mention], True, how)

    key = mention.name.casefold()
    for party in knowledge.parties:
        if party.name.casefold() == key and compatible(party):
            return known(party, "")
    for alias in BODY_LEDGER_NAMES.get(mention.name, ()):
        for party in knowledge.parties:
            if party.name.casefold() == alias.casefold():
                return known(party, "another name for it")
    if mention.kind in BODY_KINDS:
        core = _core(mention.name)
        matches = [
            p for p in knowledge.parties if p.kind in BODY_KINDS and _core(p.name) == core and compatible(p)
        ]
        if len(matches) == 1:
            return known(matches[0], "the same body")
    if mention.kind == "person":
        surname = mention.name.split()[-1].casefold()
        matches = [
            p for p in knowledge.parties
            if p.kind == "person" and p.name.split()[-1].casefold() == surname and compatible(p)
        ]  # fmt: skip
        if len(matches) == 1:
            return known(matches[0], "same surname")
    return _Party(mention.name, mention.kind, mention.country, [mention], False, [*mention.how])


def _role(party: _Party, event: Event, analysis: _Analysis) -> str:
    for mention in party.mentions:
        if mention.role_phrase:
            return mention.role_phrase
        sentence = analysis.sentences[mention.span.sentence]
        local = mention.span.start - sentence.start
        before = sentence.text[max(0, local - 40) : local].rstrip()
        after = sentence.text[local + len(mention.span.text) :][:40].lstrip()
        for pattern, role in _ROLE_PHRASES:
            # "delegation led by NAME", "made by NAME" end right before the name; "NAME led the delegation".
            if any(found.end() == len(before) for found in pattern.finditer(before)) or pattern.match(after):
                return role
    if party.kind == "person":
        title = next((m.title_role for m in party.mentions if m.title_role), None) or "official"
        speaks = any(m.speaks for m in party.mentions)
        return "spokesperson" if title == "official" and speaks else title
    if party.kind == "company":
        return "manufacturer"
    if party.kind == "legislature":
        return "participant"
    if event.stage == "negotiating":
        return "negotiator"
    if party.country and party.country in analysis.buyers:
        return "buyer"
    if party.country and party.country in analysis.sellers:
        return "seller"
    return "participant"


# --- rows ---------------------------------------------------------------------------------------------


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _credibility(text: str) -> tuple[int, str]:
    anonymous = _ANONYMOUS.search(text)
    if anonymous:
        return BASE_CREDIBILITY + 1, f"credibility lowered: anonymous attribution (“{anonymous.group()}”)"
    second = _SECOND_HAND.search(text)
    if second:
        return BASE_CREDIBILITY + 1, f"credibility lowered: second-hand attribution (“{second.group()}”)"
    confirmed = _CONFIRMED.search(text)
    if confirmed:
        return BASE_CREDIBILITY - 1, f"credibility raised: “{confirmed.group()}”"
    return BASE_CREDIBILITY, ""


def _ledger_stage_note(deal: LedgerDeal | None, stage: str, on: dt.date) -> str:
    """Why a drafted stage is dropped: the ledger has the deal further along by that date already."""
    if deal is None or not STAGE_BY_NAME[stage].on_path:
        return ""
    earlier = [(d, s) for d, s in deal.stages if d <= on]
    if not earlier:
        return ""
    latest = earlier[-1][1]
    if STAGE_BY_NAME[latest].on_path and STAGE_ORDER[latest] > STAGE_ORDER[stage]:
        return (
            f"stage left empty: the text supports {stage}, but the ledger has this deal at {latest} by then "
            "(a lower stage would move it back)"
        )
    return ""


def _event_claims(
    event: Event, analysis: _Analysis
) -> tuple[ValueClaim | None, QuantityClaim | None, list[str]]:
    order = [event.main_sentence, *(s for s in event.sentences if s != event.main_sentence)]
    values = [v for s in order for v in analysis.values[s]]
    quantities = [q for s in order for q in analysis.quantities[s]]
    value = next((v for v in values if v.deal_word), values[0] if values else None)
    # The main sentence's count, even a range: a count in a support sentence may be of something else.
    quantity = quantities[0] if quantities else None
    notes = []
    if value and value.note:
        notes.append(f"value “{value.span.text}”: {value.note}")
    for other in values:
        if other is not value:
            notes.append(f"the text also gives the value “{other.span.text}”")
    if quantity and quantity.note:
        notes.append(quantity.note)
    for other in quantities:
        if other is not quantity:
            notes.append(f"the text also gives the quantity “{other.span.text}”")
    return value, quantity, notes


def _compose(analysis: _Analysis, source: ArticleSource, knowledge: LedgerKnowledge) -> Draft:
    deal, deal_reason = _match_deal(analysis, knowledge)
    if deal is not None:
        deal_id, title, category = deal.id, "", ""
    else:
        deal_id, title, category = _new_deal(analysis, knowledge)
    reliability, reliability_note = knowledge.suggested_reliability()
    buyer_names = ";".join(country_by_code(c).name for c in analysis.buyers)
    seller_names = ";".join(country_by_code(c).name for c in analysis.sellers)
    side_evidence = {
        side: tuple(span for code in codes for span in analysis.side_spans[(side, code)])
        for side, codes in (("buyer", analysis.buyers), ("seller", analysis.sellers))
    }
    rows: list[DraftRow] = []
    for number, event in enumerate(analysis.events):
        notes: list[str] = []
        sentences = [analysis.sentences[i] for i in event.sentences]
        date = event.date.date.text if event.date else source.published.isoformat()
        on = event.date.date.start if event.date else source.published
        stage = event.stage or ""
        if stage:
            cues = ", ".join(
                dict.fromkeys(f"“{h.span.text}”" for h in event.cues if h.cue.stage == event.stage)
            )
            notes.append(f"stage {stage} from {cues}")
            if event.capped_by is not None and stage == "announced":
                signed = next((h.span.text for h in event.cues if h.cue.stage == "agreed"), "")
                what = f"“{signed}” " if signed else ""
                notes.append(f"{what}no more than announced: the text calls it “{event.capped_by.span.text}”")
            dropped = _ledger_stage_note(deal, stage, on)
            if dropped:
                notes.append(dropped)
                stage = ""
        elif deal is None:
            stage = "announced"
            notes.append("stage announced: the text states only an intention, for a deal new to the ledger")
        else:
            notes.append("stage left empty: the text states only an intention")
        for hedged in event.hedged[:3]:
            notes.append(f"not counted: “{hedged.span.text}” is hedged by “{hedged.hedge}”")
        notes.append(event.date.how if event.date else f"no date in the text: the publication date {date}")
        value, quantity, claim_notes = _event_claims(event, analysis)
        notes.extend(claim_notes)
        credibility, credibility_note = _credibility(" ".join(s.text for s in sentences))
        if credibility_note:
            notes.append(credibility_note)
        if number == 0:
            notes.append(deal_reason)
            if reliability_note:
                notes.append(reliability_note)
        parties = _event_parties(event, analysis, knowledge)
        for party in parties:
            notes.extend(party.how)
        base = {column: "" for column in DRAFT_COLUMNS}
        base.update(
            deal_id=deal_id,
            deal_title=title,
            date=date,
            stage=stage,
            summary=_shorten(analysis.sentences[event.main_sentence].text, SUMMARY_CHARACTERS),
            buyer=buyer_names,
            seller=seller_names,
            category=category,
            quantity=quantity.quantity if quantity else "",
            value_low=value.low if value else "",
            value_high=value.high if value else "",
            currency=value.currency if value else "",
            source_title=source.title,
            source_publisher=source.publisher,
            source_url=source.url,
            source_date=source.published.isoformat(),
            reliability=reliability,
            credibility=str(credibility),
            note=_shorten("; ".join(dict.fromkeys(notes)), 5000),
            source_kind="news",
            topic=event.topic,
            source_excerpt=" ".join(s.text for s in sentences),
        )
        evidence: dict[str, tuple[Span, ...]] = {
            "buyer": side_evidence["buyer"],
            "seller": side_evidence["seller"],
            "date": (event.date.span,) if event.date else (),
            # The cues of the drafted stage; for a stage taken from hedged cues only, those cues.
            "stage": tuple(h.span for h in event.cues if h.cue.stage == event.stage)
            or tuple(h.span for h in event.hedged),
            "value": (value.span,) if value else (),
            "quantity": (quantity.span,) if quantity else (),
        }
        for party in parties or [None]:
            cells = dict(base)
            row_evidence = dict(evidence)
            if party is not None:
                cells.update(
                    party=party.name,
                    party_role=_role(party, event, analysis),
                    party_kind=party.kind,
                    party_country=party.country or "",
                    party_parent=country_by_code(party.country).name
                    if party.country and party.kind in BODY_KINDS and not party.known
                    else "",
                )
                row_evidence["party"] = tuple(m.span for m in party.mentions)
            rows.append(DraftRow(cells, number, tuple(event.sentences), row_evidence))
    return Draft(tuple(rows), tuple(analysis.sentences), source, deal_reason)


def _event_parties(event: Event, analysis: _Analysis, knowledge: LedgerKnowledge) -> list[_Party]:
    parties: dict[tuple[str, str | None], _Party] = {}
    for index in event.sentences:
        for mention in analysis.parties[index]:
            party = _resolve_party(mention, knowledge)
            key = (party.name.casefold(), party.country)
            if key in parties:
                parties[key].mentions.append(mention)
                parties[key].how.extend(h for h in party.how if h not in parties[key].how)
            else:
                parties[key] = party
    return list(parties.values())


def draft_csv_bytes(draft: Draft, *, columns: tuple[str, ...] = DRAFT_COLUMNS) -> bytes:
    """The draft as a ledger CSV (UTF-8 with BOM), cells a spreadsheet would run as formulas neutralised."""
    data, _ = records_csv(draft.records(columns=columns), columns=columns)
    return data


def records_csv(
    records: Iterable[Mapping[str, str]], *, columns: tuple[str, ...] = DRAFT_COLUMNS
) -> tuple[bytes, list[int]]:
    """Rows as a ledger CSV (UTF-8 with BOM, formulas neutralised, which the importer reads back as
    typed), and the line each row starts on as the importer counts them: the header is line 1, and a
    cell's line breaks push the rows after it down.

    Line breaks in cells are written as LF: csv.writer leaves a lone CR unquoted, which would end the
    row early."""
    row = io.StringIO()  # one row at a time: its line breaks are counted in it, not in the whole text
    writer = csv.writer(row, lineterminator="\n")
    writer.writerow(columns)
    parts, starts, line = [row.getvalue()], [], 2
    for record in records:
        row.seek(0)
        row.truncate()
        writer.writerow([neutralise(_LINE_BREAK.sub("\n", record[c])) for c in columns])
        text = row.getvalue()
        parts.append(text)
        starts.append(line)
        line += text.count("\n")
    return "".join(parts).encode("utf-8-sig"), starts
