"""The ledger CSV (the upload format): its columns, and validation of every row into a batch.

Validation never touches the database; `tracker.importer` adds the checks that need the ledger.
Every problem found is collected, so the analyst sees them all at once.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import pycountry

from tracker.countries import resolve_country, split_countries
from tracker.dates import parse_partial_date
from tracker.errors import ImportRejected, InvalidValue, Problem
from tracker.textfile import MAX_PROBLEMS, Records
from tracker.vocab import (
    resolve_credibility,
    resolve_party_kind,
    resolve_reliability,
    resolve_role,
    resolve_source_kind,
    resolve_stage,
)

STANDARD_COLUMNS: tuple[str, ...] = (
    "deal_id", "deal_title", "date", "stage", "summary", "buyer", "seller", "category", "quantity",
    "value_low", "value_high", "currency", "source_title", "source_publisher", "source_url", "source_date",
    "reliability", "credibility", "note",
)  # fmt: skip
# Our additions: the deal's own summary and tags, the source's kind, a topic that groups claims
# about the same thing (to flag conflicts), and one non-country party with its role per row.
EXTRA_COLUMNS: tuple[str, ...] = (
    "deal_summary", "tags", "source_kind", "topic",
    "party", "party_role", "party_kind", "party_country", "party_parent",
)  # fmt: skip
ALL_COLUMNS: tuple[str, ...] = STANDARD_COLUMNS + EXTRA_COLUMNS
REQUIRED_COLUMNS: tuple[str, ...] = ("deal_id", "date", "summary")
TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "data" / "ledger-template.csv"

MAX_LENGTH: dict[str, int] = {
    "deal_id": 100, "deal_title": 300, "deal_summary": 5000, "summary": 5000, "note": 5000, "category": 200,
    "source_title": 500, "source_publisher": 200, "source_url": 2048, "party": 300, "party_parent": 300,
    "topic": 100, "tags": 500,
}  # fmt: skip
MULTILINE_COLUMNS = frozenset({"summary", "deal_summary", "note"})
MAX_QUANTITY = 2_147_483_647  # events.quantity and deals.quantity are INTEGER (32-bit on PostgreSQL)
SOURCE_KEY_LENGTH = 2100  # sources.key
PARTY_KEY_LENGTH = 320  # parties.key
_CONTROL_EXCEPT_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff]")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_NUMBER = re.compile(
    r"^(\d+(?:\.\d+)?)\s*(k|m|mn|bn|b|million|billion|thousand|trillion|tn)?$", re.IGNORECASE
)
_SCALE = {
    "": 1,
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "tn": 1e12,
    "trillion": 1e12,
}
_ESTIMATE_MARK = "~"

BATCH_COLUMNS: tuple[str, ...] = (
    "line", "deal_id", "deal_title", "deal_summary", "category", "tags", "deal_quantity",
    "deal_value_low", "deal_value_high", "deal_currency", "deal_sipri_tiv", "external_scheme",
    "external_id", "buyers", "sellers",
    "date_start", "date_end", "date_precision", "date_text", "stage", "summary", "note", "topic",
    "event_quantity", "event_value_low", "event_value_high", "event_currency", "fingerprint",
    "source_key", "source_title", "source_publisher", "source_url", "source_date", "source_date_precision",
    "source_kind", "reliability", "credibility",
    "party", "party_role", "party_kind", "party_country", "party_parent",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Batch:
    """Validated rows ready for the importer: one row per (event, source[, party]) claim."""

    rows: pd.DataFrame
    format: str
    rows_read: int
    snapshot_on: Any = None  # a date, for snapshots such as SIPRI's "Data generated"


def normalise_header(name: str) -> str:
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", name)).strip().lower().replace(" ", "_")


def event_fingerprint(deal_id: str, date_text: str, stage: str | None, summary: str) -> str:
    """The identity of an event: the same deal, date, stage and summary (case and spacing aside)."""
    words = " ".join(summary.casefold().split())
    return hashlib.sha256(f"{deal_id}\x1f{date_text}\x1f{stage or ''}\x1f{words}".encode()).hexdigest()[:32]


def _fit_key(key: str, limit: int) -> str:
    """`key` if it fits its column; else a prefix and a digest of the whole key (still unique).

    Lower-casing can lengthen text ("ß" case-folds to "ss", "İ" lower-cases to two characters), so a cell
    within its length limit can still give a key longer than the database column (PostgreSQL refuses it).
    """
    if len(key) <= limit:
        return key
    return key[: limit - 33] + "#" + hashlib.sha256(key.encode()).hexdigest()[:32]


def source_key(url: str, publisher: str, title: str) -> str:
    """One source per URL; without a URL, one per publisher and title."""
    if url:
        return _fit_key(url.strip().lower(), SOURCE_KEY_LENGTH)
    return _fit_key(
        f"{' '.join(publisher.casefold().split())}|{' '.join(title.casefold().split())}", SOURCE_KEY_LENGTH
    )


def party_key(name: str, country: str | None) -> str:
    return _fit_key(f"{' '.join(name.casefold().split())}|{country or ''}", PARTY_KEY_LENGTH)


class _Checker:
    """Collects problems while columns are checked one at a time over their distinct values."""

    def __init__(self, frame: pd.DataFrame, lines: pd.Series) -> None:
        self.frame = frame
        self.lines = lines
        self.problems: list[Problem] = []
        # Cells already reported (and blanked): later checks must not report them again as empty.
        self.reported: dict[str, pd.Series] = {}

    def add(self, mask: pd.Series, column: str, message: str | Callable[[str], str], fix: str) -> None:
        if column in self.reported:
            mask = mask & ~self.reported[column]
        if not mask.any():
            return
        for line, value in zip(self.lines[mask], self.frame.loc[mask, column]):
            text = message(value) if callable(message) else message
            self.problems.append(Problem(int(line), column, _shorten(value), text, fix))

    def series(self, values: list[Any]) -> pd.Series:
        """A column of plain Python objects aligned with the file's rows (no dtype inference: it is slow)."""
        return pd.Series(values, index=self.frame.index, dtype=object)

    def map_values(self, column: str, convert: Callable[[str], Any], *, missing: Any = None) -> pd.Series:
        """`convert` applied once per distinct non-empty value; empty cells give `missing`, and so do cells
        that cannot be converted (they are problems, so the batch is rejected anyway)."""
        results = self.convert_distinct(column, convert)
        if missing is not None:
            results = {raw: missing if value is None else value for raw, value in results.items()}
        return self.series(list(map(results.__getitem__, self.frame[column].tolist())))

    def map_parts(
        self, column: str, convert: Callable[[str], Any], parts: tuple[str, ...]
    ) -> dict[str, pd.Series]:
        """Like map_values, but one Series per attribute in `parts` of the converted values."""
        results = self.convert_distinct(column, convert)
        split = {
            raw: (None,) * len(parts) if value is None else tuple(getattr(value, part) for part in parts)
            for raw, value in results.items()
        }
        columns = zip(*map(split.__getitem__, self.frame[column].tolist()), strict=True)
        return {part: self.series(list(values)) for part, values in zip(parts, columns, strict=True)}

    def convert_distinct(self, column: str, convert: Callable[[str], Any]) -> dict[str, Any]:
        """Each distinct cell value of `column` converted once; failures become problems and None."""
        series = self.frame[column]
        results: dict[str, Any] = {"": None}
        failures: dict[str, InvalidValue] = {}
        for value in dict.fromkeys(series.tolist()):
            if value in results:
                continue
            try:
                results[value] = convert(value)
            except InvalidValue as exc:
                failures[value] = exc
                results[value] = None
        if failures:
            mask = series.isin(list(failures))
            for line, value in zip(self.lines[mask], series[mask]):
                exc = failures[value]
                self.problems.append(Problem(int(line), column, _shorten(value), exc.message, exc.fix))
        return results


def _shorten(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def check_header(header: list[str], *, line: int) -> list[str]:
    """The normalised column names; every header problem raises at once."""
    names = [normalise_header(h) for h in header]
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            problems.append(
                Problem(
                    line,
                    name,
                    header[position - 1],
                    f"column {name} appears twice (columns {seen[name]} and {position})",
                    "Keep one of them and delete the other.",
                )
            )
        seen.setdefault(name, position)
    unknown = [(raw, n) for raw, n in zip(header, names) if n not in ALL_COLUMNS]
    for raw, name in unknown[:20]:
        near = difflib.get_close_matches(name, ALL_COLUMNS, n=1, cutoff=0.7)
        hint = f"Did you mean {near[0]}? " if near else ""
        problems.append(
            Problem(
                line,
                name or "(blank)",
                _shorten(raw),
                f'unknown column "{_shorten(raw, 40)}"',
                f"{hint}Rename or delete it; the columns are listed in the template.",
            )
        )
    if len(unknown) > 20:
        problems.append(
            Problem(
                line,
                None,
                None,
                f"{len(unknown) - 20} more unknown columns",
                "Use only the template's columns.",
            )
        )
    for required in REQUIRED_COLUMNS:
        if required not in names:
            problems.append(
                Problem(
                    line,
                    required,
                    None,
                    f"required column {required} is missing",
                    f"Add a column named {required}; download the template to see all columns.",
                )
            )
    if "source_title" not in names and "source_url" not in names:
        problems.append(
            Problem(
                line,
                "source_title",
                None,
                "there is no source column",
                "Add source_title or source_url (or both): every event needs a source.",
            )
        )
    if problems:
        raise ImportRejected(problems)
    return names


def batch_from_records(records: Records, *, today: Any = None) -> Batch:
    """Validate a ledger CSV's records into a Batch, or raise ImportRejected with every problem."""
    names = check_header(records.header, line=records.header_line)
    frame = (
        pd.DataFrame(records.rows, columns=names, dtype=object)
        if records.rows
        else pd.DataFrame(columns=names)
    )
    if frame.empty:
        raise ImportRejected(
            [
                Problem(
                    None,
                    None,
                    None,
                    "the file has a header but no rows",
                    "Add one row per event under the header.",
                )
            ]
        )
    for column in ALL_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    lines = pd.Series(records.lines, index=frame.index)
    check = _Checker(frame, lines)
    _clean_text(frame, check, plain=records.plain)

    out = pd.DataFrame(index=frame.index)
    out["line"] = lines
    deal_ids = frame["deal_id"].tolist()
    lowered = {value: value.lower() for value in dict.fromkeys(deal_ids)}
    out["deal_id"] = check.series(list(map(lowered.__getitem__, deal_ids)))
    check.add(
        frame["deal_id"] == "",
        "deal_id",
        "deal_id is empty",
        "Give every row the id of its deal, e.g. us-ukraine-drone-deal.",
    )
    not_slugs = [raw for raw, value in lowered.items() if value and not _SLUG.fullmatch(value)]
    bad_slug = frame["deal_id"].isin(not_slugs)
    check.add(
        bad_slug,
        "deal_id",
        lambda v: f'"{_shorten(v, 40)}" is not a valid deal id',
        "Use lowercase letters, digits and single hyphens, e.g. us-ukraine-drone-deal.",
    )
    for column in ("deal_title", "deal_summary", "category", "note", "topic", "summary"):
        out[column] = frame[column]
    check.add(frame["summary"] == "", "summary", "summary is empty", "Say in a sentence what happened.")
    out["tags"] = check.map_values("tags", _normalise_tags, missing="")

    dates = check.map_parts(
        "date", lambda v: parse_partial_date(v, today=today), ("start", "end", "precision", "text")
    )
    check.add(frame["date"] == "", "date", "date is empty", "Write the date as YYYY-MM-DD, YYYY-MM or YYYY.")
    for part, values in dates.items():
        out[f"date_{part}"] = values
    out["stage"] = check.map_values("stage", resolve_stage)

    out["buyers"] = check.map_values("buyer", _country_codes)
    out["sellers"] = check.map_values("seller", _country_codes)

    # An object column (as map_values gives): pandas would hold whole numbers with gaps as floats (12.0),
    # and a re-import of the same file would then record a change of the deal's quantity from "12" to "12.0".
    quantity = check.map_values("quantity", _parse_quantity)
    low = check.map_values("value_low", _parse_value)
    high = check.map_values("value_high", _parse_value)
    currency = check.map_values("currency", _parse_currency)
    both = low.notna() & high.notna()
    inverted = both & (low.where(both, 0) > high.where(both, 0))
    check.add(
        inverted,
        "value_high",
        lambda v: f"value_high {v} is below value_low",
        "Swap value_low and value_high, or correct one of them.",
    )
    has_value = (frame["value_low"] != "") | (frame["value_high"] != "")
    check.add(
        has_value & (frame["currency"] == ""),
        "currency",
        "a value is given without a currency",
        "Give the ISO 4217 currency code of the value, e.g. USD or EUR.",
    )
    check.add(
        ~has_value & (frame["currency"] != ""),
        "currency",
        "a currency is given without a value",
        "Give value_low and/or value_high, or leave currency empty.",
    )
    for side, series in (
        ("quantity", quantity),
        ("value_low", low),
        ("value_high", high),
        ("currency", currency),
    ):
        out[f"event_{side}"] = series
        out[f"deal_{side}"] = series
    out["deal_sipri_tiv"] = None
    out["external_scheme"] = ""
    out["external_id"] = ""

    out["source_title"] = frame["source_title"]
    out["source_publisher"] = frame["source_publisher"]
    out["source_url"] = check.map_values("source_url", _parse_url, missing="")
    check.add(
        (frame["source_title"] == "") & (frame["source_url"] == ""),
        "source_title",
        "the row has no source",
        "Give source_title or source_url (or both): every event needs a source.",
    )
    source_dates = check.map_parts(
        "source_date", lambda v: parse_partial_date(v, today=today), ("start", "precision")
    )
    out["source_date"] = source_dates["start"]
    out["source_date_precision"] = source_dates["precision"]
    out["source_kind"] = check.map_values("source_kind", resolve_source_kind, missing="news")
    out["reliability"] = check.map_values("reliability", resolve_reliability, missing="")
    out["credibility"] = check.map_values("credibility", resolve_credibility, missing=0)

    out["party"] = frame["party"]
    out["party_role"] = check.map_values("party_role", resolve_role, missing="")
    out["party_kind"] = check.map_values("party_kind", resolve_party_kind, missing="")
    out["party_country"] = check.map_values("party_country", lambda v: resolve_country(v).code, missing="")
    out["party_parent"] = frame["party_parent"]
    named = frame["party"] != ""
    check.add(
        named & (frame["party_role"] == ""),
        "party_role",
        "a party is given without its role",
        "Give the party's role in this deal, e.g. negotiator.",
    )
    check.add(
        ~named & ((frame["party_role"] != "") | (frame["party_kind"] != "")),
        "party",
        "party_role or party_kind is given but party is empty",
        "Name the party, or clear those cells.",
    )

    _finish(check, records)
    # Keys are hashed once per distinct source and event: most events are told by more than one row.
    out["source_key"] = check.series(
        _once_per_distinct(source_key, out["source_url"], out["source_publisher"], out["source_title"])
    )
    out["fingerprint"] = check.series(
        _once_per_distinct(event_fingerprint, out["deal_id"], out["date_text"], out["stage"], out["summary"])
    )
    # Plain Python objects from here on: the importer iterates these columns, which is slow on Arrow strings.
    return Batch(rows=out[list(BATCH_COLUMNS)].astype(object), format="ledger-csv", rows_read=len(frame))


def _finish(check: _Checker, records: Records) -> None:
    if check.problems:
        order = {name: i for i, name in enumerate(ALL_COLUMNS)}
        check.problems.sort(key=lambda p: (p.line or 0, order.get(p.column or "", 99)))
        raise ImportRejected(
            check.problems[:MAX_PROBLEMS]
            + (
                [
                    Problem(
                        None,
                        None,
                        None,
                        f"{len(check.problems) - MAX_PROBLEMS} more problems not shown",
                        "Fix the ones above and upload again.",
                    )
                ]
                if len(check.problems) > MAX_PROBLEMS
                else []
            )
        )


def _once_per_distinct(function: Callable[..., str], *columns: pd.Series) -> list[str]:
    keys = list(zip(*(column.tolist() for column in columns)))
    results = {key: function(*key) for key in dict.fromkeys(keys)}
    return list(map(results.__getitem__, keys))


def _clean_text(frame: pd.DataFrame, check: _Checker, *, plain: bool) -> None:
    """NFC, invisible characters removed, trimmed; control characters and over-long cells are problems.

    `plain` text (see tracker.textfile.Records) only needs trimming and the length limits.
    """
    for column in ALL_COLUMNS:
        if plain:
            values = frame[column].tolist()
            # In plain text only spaces and tabs can surround a cell: look for them once in the whole column.
            joined = "\x00".join(values)
            if (
                "\t" in joined
                or " \x00" in joined
                or "\x00 " in joined
                or joined.startswith(" ")
                or joined.endswith(" ")
            ):
                values = [value.strip() for value in values]
                frame[column] = pd.Series(values, index=frame.index, dtype=object)
            series = frame[column]
            bad = None
        else:
            series = frame[column].astype(str)
            if series.str.contains(r"[^\x20-\x7e]", regex=True).any():
                series = series.map(lambda v: _INVISIBLE.sub("", unicodedata.normalize("NFC", v)))
            series = series.str.strip()
            frame[column] = series
            control = _CONTROL_EXCEPT_BREAKS if column in MULTILINE_COLUMNS else _CONTROL_OR_BREAK
            bad = series.str.contains(control.pattern, regex=True)
        if bad is not None and bad.any():
            check.add(
                bad,
                column,
                "the cell contains a control character",
                "Delete the invisible control character (retype the text if unsure)."
                + (
                    ""
                    if column in MULTILINE_COLUMNS
                    else " Line breaks are allowed only in summaries and notes."
                ),
            )
            frame.loc[bad, column] = ""
            check.reported[column] = bad
        limit = MAX_LENGTH.get(column)
        if limit and max(map(len, values if plain else series.tolist()), default=0) > limit:
            long = series.str.len() > limit
            if long.any():
                check.add(
                    long,
                    column,
                    lambda v, limit=limit: f"the cell is too long ({len(v):,} characters; at most {limit:,})",
                    "Shorten it; put long text in the note column or in the source itself.",
                )
                frame.loc[long, column] = ""
                check.reported[column] = check.reported.get(column, long) | long


def _country_codes(text: str) -> str:
    codes = [resolve_country(part).code for part in split_countries(text)]
    return ";".join(dict.fromkeys(codes))


def _normalise_tags(text: str) -> str:
    tags = [" ".join(t.split()).lower() for t in text.split(";")]
    return ";".join(dict.fromkeys(t[:60] for t in tags if t))


def _parse_quantity(text: str) -> int:
    cleaned = text.replace("_", "")
    if cleaned.isdigit() and cleaned.isascii():
        if int(cleaned) > MAX_QUANTITY:  # the quantity columns are 32-bit integers on PostgreSQL
            raise InvalidValue(
                f'quantity "{_shorten(text, 40)}" is too large',
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


def _parse_value(text: str) -> float:
    cleaned = text.replace("_", "").replace(" ", "")
    match = _NUMBER.fullmatch(text.strip().replace("_", ""))
    if match:
        value = float(match.group(1)) * _SCALE[(match.group(2) or "").lower()]
        if not math.isfinite(value):  # "1" followed by 400 zeros reads as infinity
            raise InvalidValue(
                f'value "{_shorten(text, 40)}" is too large to be an amount of money',
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


def _parse_currency(text: str) -> str:
    code = text.strip().upper()
    if len(code) == 3 and pycountry.currencies.get(alpha_3=code) is not None:
        return code
    symbols = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₴": "UAH"}
    hint = f"Did you mean {symbols[code]}? " if code in symbols else ""
    raise InvalidValue(
        f'unknown currency "{text}"', fix=f"{hint}Use an ISO 4217 code such as USD, EUR or UAH."
    )


def _parse_url(text: str) -> str:
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
