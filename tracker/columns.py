"""The ledger CSV's columns, each declared once: what it means, whether it is required, how a cell is
read and checked, its length limit, and where it lands in the ledger.

Everything else is derived from this registry: the header check and the validation of every row
(tracker.ledger_csv), the batch layout the importer plans from (`BATCH_COLUMNS`, which the SIPRI reader
fills too), the export in the upload format (tracker.export), the template `data/ledger-template.csv`
and the README's column tables (tests check both against the registry).

A parser reads one distinct, non-empty, cleaned cell value and returns what goes into the batch (a
value, or an object whose `parts` fill several batch columns); it raises InvalidValue with a message
and a fix for anything it cannot read. `today` bounds dates (nothing after it is accepted).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import pycountry

from tracker.countries import party_country_code, resolve_country, split_countries
from tracker.dates import parse_partial_date
from tracker.errors import InvalidValue
from tracker.vocab import (
    resolve_credibility,
    resolve_party_kind,
    resolve_reliability,
    resolve_role,
    resolve_source_kind,
    resolve_stage,
)

Lands = Literal["deal", "tag", "external id", "event", "state role", "source", "link", "party", "signpost"]
Required = Literal["yes", "for a new deal", "one of them", "no"]
# The README's three tables: the columns of the common deal-tracking format, our additions, and the
# columns an export writes so that importing it gives the same ledger.
Group = Literal["standard", "ours", "round trip"]
Parser = Callable[[str, "dt.date | None"], Any]

MAX_QUANTITY = 2_147_483_647  # events.quantity and deals.quantity are INTEGER (32-bit on PostgreSQL)
SOURCE_KEY_LENGTH = 2100  # sources.key
PARTY_KEY_LENGTH = 320  # parties.key
EXTERNAL_SCHEME_LENGTH = 20  # deal_external_ids.scheme
EXTERNAL_ID_LENGTH = 100  # deal_external_ids.external_id

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_NUMBER = re.compile(
    r"^(\d+(?:\.\d+)?)\s*(k|m|mn|bn|b|million|billion|thousand|trillion|tn)?$", re.IGNORECASE
)
_SCALE = {
    "": 1, "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9,
    "billion": 1e9, "tn": 1e12, "trillion": 1e12,
}  # fmt: skip
_CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₴": "UAH"}
_EXTERNAL_SCHEME = re.compile(r"^[a-z][a-z0-9-]*$")


def shorten(value: str, limit: int = 80) -> str:
    """`value` cut to `limit` characters with an ellipsis, for messages."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def fit_key(key: str, limit: int) -> str:
    """`key` if it fits its column; else a prefix and a digest of the whole key (still unique).

    Lower-casing can lengthen text ("ß" case-folds to "ss", "İ" lower-cases to two characters), so a cell
    within its length limit can still give a key longer than the database column (PostgreSQL refuses it).
    """
    if len(key) <= limit:
        return key
    return key[: limit - 33] + "#" + hashlib.sha256(key.encode()).hexdigest()[:32]


# --- parsers ------------------------------------------------------------------------------------------


def _deal_id(text: str, _today: dt.date | None) -> str:
    value = text.lower()
    if not _SLUG.fullmatch(value):
        raise InvalidValue(
            f'"{shorten(text, 40)}" is not a valid deal id',
            fix="Use lowercase letters, digits and single hyphens, e.g. us-ukraine-drone-deal.",
        )
    return value


def _date(text: str, today: dt.date | None) -> Any:
    return parse_partial_date(text, today=today)


def _stage(text: str, _today: dt.date | None) -> str | None:
    return resolve_stage(text)


def _expected_date(text: str, today: dt.date | None) -> Any:
    """A date something is expected by: any precision, and in the future too (50 years at most)."""
    try:
        return parse_partial_date(text, today=today, max_future_days=50 * 366)
    except InvalidValue as exc:
        if "in the future" not in exc.message:
            raise
        raise InvalidValue(
            f'"{shorten(text, 40)}" is more than 50 years ahead', fix="Check the year of the expected date."
        ) from None


def _countries(text: str, _today: dt.date | None) -> str:
    codes = [resolve_country(part).code for part in split_countries(text)]
    return ";".join(dict.fromkeys(codes))


def _tags(text: str, _today: dt.date | None) -> str:
    tags = [" ".join(t.split()).lower() for t in text.split(";")]
    return ";".join(dict.fromkeys(t[:60] for t in tags if t))


def _quantity(text: str, _today: dt.date | None) -> int:
    cleaned = text.replace("_", "")
    if cleaned.isdigit() and cleaned.isascii():
        if int(cleaned) > MAX_QUANTITY:
            raise InvalidValue(
                f'quantity "{shorten(text, 40)}" is too large',
                fix=f"Give the number of units, at most {MAX_QUANTITY:,}; check for a typo.",
            )
        return int(cleaned)
    if cleaned.startswith("-") and cleaned[1:].isdigit():
        raise InvalidValue(
            f'quantity "{text}" is negative', fix="Give the number of units as a whole number ≥ 0."
        )
    raise InvalidValue(
        f'quantity "{text}" is not a whole number',
        fix="Give the number of units as digits only, e.g. 24 (no commas or words).",
    )


def _value(text: str, _today: dt.date | None) -> float:
    cleaned = text.replace("_", "").replace(" ", "")
    match = _NUMBER.fullmatch(text.strip().replace("_", ""))
    if match:
        value = float(match.group(1)) * _SCALE[(match.group(2) or "").lower()]
        if not math.isfinite(value):  # "1" followed by 400 zeros reads as infinity
            raise InvalidValue(
                f'value "{shorten(text, 40)}" is too large to be an amount of money',
                fix="Check the number of digits; write large amounts with a unit, e.g. 1.5bn.",
            )
        return value
    if cleaned.startswith("-") and _NUMBER.fullmatch(cleaned[1:]):
        raise InvalidValue(
            f'value "{text}" is negative', fix="Values are amounts of money: give a number ≥ 0."
        )
    if "," in cleaned and _NUMBER.fullmatch(cleaned.replace(",", "")):
        raise InvalidValue(
            f'value "{text}" uses a comma',
            fix=f"Write it without separators ({cleaned.replace(',', '')}) or with a unit, e.g. 1.5bn; "
            "use a dot for decimals.",
        )
    raise InvalidValue(
        f'value "{text}" is not a number',
        fix="Write the amount as digits, optionally with a unit: 250000000, 250m, 1.5bn.",
    )


def _currency(text: str, _today: dt.date | None) -> str:
    code = text.strip().upper()
    if len(code) == 3 and pycountry.currencies.get(alpha_3=code) is not None:
        return code
    hint = f"Did you mean {_CURRENCY_SYMBOLS[code]}? " if code in _CURRENCY_SYMBOLS else ""
    raise InvalidValue(
        f'unknown currency "{text}"', fix=f"{hint}Use an ISO 4217 code such as USD, EUR or UAH."
    )


def _tiv(text: str, _today: dt.date | None) -> float:
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InvalidValue(
            f'"{shorten(text, 40)}" is not a SIPRI TIV',
            fix="Give SIPRI's trend-indicator value in millions as a number ≥ 0, e.g. 27 or 4.5.",
        )
    return value


def _external_ids(text: str, _today: dt.date | None) -> str:
    """ "sipri:41523; other:AB-1" -> "sipri:41523;other:AB-1" (schemes lower-cased, order kept)."""
    pairs = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        scheme, colon, external = (s.strip() for s in part.partition(":"))
        scheme = scheme.lower()
        if (
            not colon
            or not external
            or not _EXTERNAL_SCHEME.fullmatch(scheme)
            or len(scheme) > EXTERNAL_SCHEME_LENGTH
            or len(external) > EXTERNAL_ID_LENGTH
        ):
            raise InvalidValue(
                f'"{shorten(part, 40)}" is not an external id',
                fix="Write scheme:id, e.g. sipri:41523 (a lowercase scheme of at most 20 characters, an id "
                "of at most 100); separate several with ;.",
            )
        pairs.append(f"{scheme}:{external}")
    return ";".join(dict.fromkeys(pairs))


def _url(text: str, _today: dt.date | None) -> str:
    fix = "Give the article's http:// or https:// address, or leave source_url empty and give source_title."
    if any(c.isspace() for c in text):
        raise InvalidValue("the URL contains spaces", fix=fix)
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise InvalidValue(f"the URL cannot be read ({exc})", fix=fix) from exc
    if parts.scheme.lower() not in ("http", "https"):
        scheme = parts.scheme or "no scheme"
        raise InvalidValue(f"only http and https links are allowed, not {scheme}", fix=fix)
    if not parts.hostname:
        raise InvalidValue("the URL has no host name", fix=fix)
    return text


def _source_key(text: str, _today: dt.date | None) -> str:
    return fit_key(text.lower(), SOURCE_KEY_LENGTH)


def _source_kind(text: str, _today: dt.date | None) -> str:
    return resolve_source_kind(text)


def _reliability(text: str, _today: dt.date | None) -> str:
    return resolve_reliability(text)


def _credibility(text: str, _today: dt.date | None) -> int:
    return resolve_credibility(text)


def _role(text: str, _today: dt.date | None) -> str:
    return resolve_role(text)


def _party_kind(text: str, _today: dt.date | None) -> str:
    return resolve_party_kind(text)


def _party_country(text: str, _today: dt.date | None) -> str:
    return party_country_code(text)


# --- the registry -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the ledger CSV."""

    name: str
    lands: Lands
    meaning: str  # for people: the README's tables are checked against it
    required: Required = "no"
    group: Group = "standard"
    max_length: int | None = None
    multiline: bool = False  # line breaks allowed in the cell
    parse: Parser | None = None  # None: the cleaned text as is
    # The batch columns the cell fills: one, or one per attribute in `parts` of the parsed value.
    into: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    # The ledger columns ("table.column") its batch columns are written to as they are, one per target;
    # empty for columns the importer writes through a rule of its own (keys, deal attributes, parties).
    stored: tuple[str, ...] = ()
    empty: Any = ""  # the batch value of an empty cell (and of a cell that is a problem)
    # Every row needs a value: the message and the fix for an empty cell.
    when_empty: tuple[str, str] | None = None
    # A column whose claims this one takes when the file has none of the columns of its deal attribute:
    # files written by hand state a deal's quantity and value through their events' claims.
    fallback: str = ""
    template: bool = True  # in the template and the README's main tables; else written by exports only

    @property
    def targets(self) -> tuple[str, ...]:
        return self.into or (self.name,)


COLUMNS: tuple[Column, ...] = (
    Column("deal_id", "deal", "stable id of the deal: lowercase letters, digits, hyphens "
           "(`us-ukraine-drone-deal`)", required="yes", max_length=100, parse=_deal_id,
           when_empty=("deal_id is empty", "Give every row the id of its deal, e.g. us-ukraine-drone-deal.")),
    Column("deal_title", "deal", "the deal's name", required="for a new deal", max_length=300),
    Column("date", "event", "when it happened: `2025-09-29`, `2025-09` (month), `2025` (year), `2025-W39` "
           "(ISO week), `2025-09-29/2025-10-02` (a span), or `29 Sep 2025`. `03/04/2025` is refused as "
           "ambiguous.", required="yes", parse=_date,
           into=("date_start", "date_end", "date_precision", "date_text"),
           parts=("start", "end", "precision", "text"), empty=None,
           stored=("events.occurred_on", "events.occurred_until", "events.date_precision",
                   "events.date_text"),
           when_empty=("date is empty", "Write the date as YYYY-MM-DD, YYYY-MM or YYYY.")),
    Column("stage", "event", "the stage this event moves the deal to; empty when it does not change it. "
           "Aliases: proposed → announced, signed contract → contracted, on hold → stalled, …",
           parse=_stage, empty=None, stored=("events.stage",)),
    Column("summary", "event", "what happened, in a sentence", required="yes", max_length=5000,
           multiline=True, stored=("events.summary",),
           when_empty=("summary is empty", "Say in a sentence what happened.")),
    Column("buyer", "state role", "buying countries by name or ISO code, several separated by `;` (\"USA\", "
           "\"UK\", \"Türkiye\", \"Kosovo\" all work; unknown or ambiguous names are refused with a "
           "suggestion)", parse=_countries, into=("buyers",), empty=None),
    Column("seller", "state role", "selling countries, written as `buyer` is", parse=_countries,
           into=("sellers",), empty=None),
    Column("category", "deal", "system or category, e.g. `UAV`", max_length=200),
    Column("quantity", "event", "number of units this event claims (whole number)", parse=_quantity,
           into=("event_quantity",), empty=None, stored=("events.quantity",)),
    Column("value_low", "event", "the low end of the value this event claims: `10bn`, `250m`, `1500000`",
           parse=_value, into=("event_value_low",), empty=None, stored=("events.value_low",)),
    Column("value_high", "event", "the high end of that value (the same as `value_low` for one figure)",
           parse=_value, into=("event_value_high",), empty=None, stored=("events.value_high",)),
    Column("currency", "event", "ISO 4217 currency of the value", parse=_currency, into=("event_currency",),
           empty=None, stored=("events.currency",)),
    Column("source_title", "source", "the source's title", required="one of them", max_length=500,
           stored=("sources.title",)),
    Column("source_publisher", "source", "who published it", max_length=200, stored=("sources.publisher",)),
    Column("source_url", "source", "the source's address; only `http://` or `https://`",
           required="one of them", max_length=2048, parse=_url, stored=("sources.url",)),
    Column("source_date", "source", "when the source was published, written as `date` is (its precision is "
           "kept)", parse=_date, into=("source_date", "source_date_precision"), parts=("start", "precision"),
           empty=None, stored=("sources.published_on", "sources.published_precision")),
    Column("reliability", "source", "source reliability A–F (F, \"cannot be judged\", when empty for a new "
           "source)", parse=_reliability, stored=("sources.reliability",)),
    Column("credibility", "link", "credibility 1–6 of this claim from this source (6 when empty)",
           parse=_credibility, empty=0, stored=("event_sources.credibility",)),
    Column("note", "event", "anything else worth keeping with the event", max_length=5000, multiline=True,
           stored=("events.note",)),
    Column("deal_summary", "deal", "the deal's own description", group="ours", max_length=5000,
           multiline=True),
    Column("tags", "tag", "`;`-separated tags of the deal", group="ours", max_length=500, parse=_tags),
    Column("source_kind", "source", "news (default), official statement, government document, database",
           group="ours", parse=_source_kind, empty="news", stored=("sources.kind",)),
    Column("topic", "event", "a short key shared by events that make claims about the same thing (e.g. "
           "`delegation dates`); the deal page flags topics whose events disagree", group="ours",
           max_length=100, stored=("events.topic",)),
    Column("party", "party", "one non-country party per row (a ministry, company, person …); repeat the "
           "event's row to add more parties", group="ours", max_length=300),
    Column("party_role", "party", "the party's role in the deal (buyer, seller, manufacturer, negotiator, "
           "signatory, financier, intermediary, spokesperson, head of state, official, participant)",
           group="ours", parse=_role),
    Column("party_kind", "party", "what the party is (state, ministry, agency, armed service, company, "
           "person, international organisation, legislature, non-state group); needed the first time it "
           "appears",
           group="ours", parse=_party_kind),
    Column("party_country", "party", "the party's country, by name or ISO code", group="ours",
           parse=_party_country),
    Column("party_parent", "party", "a country or another party the party belongs to", group="ours",
           max_length=300),
    Column("signpost_stage", "signpost", "a milestone someone expects next: the stage the deal is expected "
           "to reach (a signpost; overdue when its date passes first)", group="ours", parse=_stage,
           empty=None, stored=("signposts.stage",)),
    Column("signpost_by", "signpost", "when the milestone is expected, written as `date` is (by the end of "
           "that day, week, month or year); future dates are allowed here", group="ours",
           parse=_expected_date,
           into=("signpost_start", "signpost_end", "signpost_precision", "signpost_text"),
           parts=("start", "end", "precision", "text"), empty=None,
           stored=("signposts.expected_on", "signposts.expected_until", "signposts.expected_precision",
                   "signposts.expected_text")),
    Column("signpost_note", "signpost", "what is expected, in the source's words (\"contract expected by "
           "March 2026\")", group="ours", max_length=1000, stored=("signposts.note",)),
    Column("source_excerpt", "link", "the source's own sentence(s) that support this event, shown beside the "
           "source on the deal page", group="ours", max_length=2000, multiline=True,
           stored=("event_sources.excerpt",)),
    Column("deal_quantity", "deal", "the deal's number of units; in a file with this column, `quantity` "
           "claims no longer set the deal's", group="round trip", parse=_quantity, empty=None,
           fallback="event_quantity", template=False),
    Column("deal_value_low", "deal", "the low end of the deal's value; in a file with the deal_value "
           "columns, the events' value claims no longer set the deal's", group="round trip", parse=_value,
           empty=None, fallback="event_value_low", template=False),
    Column("deal_value_high", "deal", "the high end of the deal's value", group="round trip", parse=_value,
           empty=None, fallback="event_value_high", template=False),
    Column("deal_currency", "deal", "the currency of the deal's value", group="round trip", parse=_currency,
           empty=None, fallback="event_currency", template=False),
    Column("deal_sipri_tiv", "deal", "SIPRI's trend-indicator value of the deal in millions (a volume index, "
           "not money)", group="round trip", parse=_tiv, empty=None, template=False),
    Column("deal_external_ids", "external id", "the deal's ids in other databases, `scheme:id` separated by "
           "`;` (e.g. `sipri:41523`)", group="round trip", max_length=1000, parse=_external_ids,
           template=False),
    Column("source_key", "source", "the source's identity in the ledger, for sources a URL does not tell "
           "apart (e.g. two snapshots of one database); empty: the URL, else publisher and title",
           group="round trip", max_length=SOURCE_KEY_LENGTH, parse=_source_key, into=("source_key_given",),
           template=False),
)  # fmt: skip
COLUMN_BY_NAME: dict[str, Column] = {column.name: column for column in COLUMNS}
ALL_COLUMNS: tuple[str, ...] = tuple(column.name for column in COLUMNS)
# What an analyst writes by hand: the template's header (exports write ALL_COLUMNS).
TEMPLATE_COLUMNS: tuple[str, ...] = tuple(column.name for column in COLUMNS if column.template)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(column.name for column in COLUMNS if column.required == "yes")
ONE_OF_COLUMNS: tuple[str, ...] = tuple(column.name for column in COLUMNS if column.required == "one of them")

# The batch the importer plans from: one row per (event, source[, party]) claim. Beyond the columns'
# targets: the file line a row came from, and the keys computed once the row is valid.
BATCH_COLUMNS: tuple[str, ...] = (
    "line",
    *dict.fromkeys(target for column in COLUMNS for target in column.targets),
    "source_key",
    "fingerprint",
)


def stored_columns(table: str) -> dict[str, str]:
    """Batch column -> `table` column, for every batch column the registry stores in `table` as it is."""
    return {
        target: where.split(".", 1)[1]
        for column in COLUMNS
        if column.stored
        for target, where in zip(column.targets, column.stored, strict=True)
        if where.split(".", 1)[0] == table
    }


def empty_batch_values() -> dict[str, Any]:
    """Each batch column's value for a row that does not give it (a column's `empty`), for readers that fill
    only the columns they know (tracker.sipri)."""
    return {target: column.empty for column in COLUMNS for target in column.targets}
