"""Validation of the ledger CSV (the upload format) into a batch, driven by the column registry.

`tracker.columns` declares every column (how a cell is read, its limits, where it lands); this module
applies those declarations to every row of a file, plus the few rules that span columns (a value needs
a currency, a party needs a role, a row needs a source). Validation never touches the database;
`tracker.importer` adds the checks that need the ledger. Every problem found is collected, so the
analyst sees them all at once.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tracker.attributes import DEAL_ATTRIBUTES
from tracker.columns import (
    ALL_COLUMNS,
    BATCH_COLUMNS,
    COLUMN_BY_NAME,
    COLUMNS,
    ONE_OF_COLUMNS,
    PARTY_KEY_LENGTH,
    REQUIRED_COLUMNS,
    SOURCE_KEY_LENGTH,
    Column,
    fit_key,
    shorten,
)
from tracker.errors import MAX_PROBLEMS, ImportRejected, InvalidValue, Problem, Problems
from tracker.textfile import Records

# `imports.format` of a ledger CSV import.
FORMAT = "ledger-csv"
TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "data" / "ledger-template.csv"
# A leading character that makes a spreadsheet evaluate a cell: exports prefix such cells with an
# apostrophe (tracker.export), and validation reads "'=..." back as "=...".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CONTROL_EXCEPT_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
# Zero-width characters and byte-order marks (pasted text carries them), and the bidirectional controls
# that can make text display in another order than it reads ("Trojan Source"): removed.
_COLUMN_ORDER = {name: position for position, name in enumerate(ALL_COLUMNS)}
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\u061c\ufeff]")


@dataclass(slots=True)
class Batch:
    """Validated rows ready for the importer: one row per (event, source[, party]) claim, in
    `tracker.columns.BATCH_COLUMNS`."""

    rows: pd.DataFrame
    format: str
    rows_read: int
    snapshot_on: Any = None  # a date, for snapshots such as SIPRI's "Data generated"

    def release_rows(self) -> None:
        """Let the rows go once they are planned: the plan's frames hold what the writer needs, and holding
        the batch as well while writing was the peak of an import (the batch keeps its columns, no rows)."""
        self.rows = self.rows.iloc[:0].copy()  # a copy: a slice would keep the whole columns alive


def normalise_header(name: str) -> str:
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", name)).strip().lower().replace(" ", "_")


def neutralise(value: object) -> object:
    """A text cell a spreadsheet would evaluate becomes plain text; other values pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _unneutralised(value: str) -> str:
    return value[1:] if value[:1] == "'" and value[1:2] and value[1] in "=+-@\t\r" else value


# The cells that make an event (event_fingerprint): rows that differ in any of them are separate events.
EVENT_IDENTITY: tuple[str, ...] = ("deal_id", "date", "stage", "summary")


def event_fingerprint(deal_id: str, date_text: str, stage: str | None, summary: str) -> str:
    """The identity of an event: the same deal, date, stage and summary (case and spacing aside)."""
    words = " ".join(summary.casefold().split())
    return hashlib.sha256(f"{deal_id}\x1f{date_text}\x1f{stage or ''}\x1f{words}".encode()).hexdigest()[:32]


def source_key(url: str, publisher: str, title: str) -> str:
    """One source per URL; without a URL, one per publisher and title."""
    if url:
        return fit_key(url.strip().lower(), SOURCE_KEY_LENGTH)
    return fit_key(
        f"{' '.join(publisher.casefold().split())}|{' '.join(title.casefold().split())}", SOURCE_KEY_LENGTH
    )


def signpost_fingerprint(deal_id: str, stage: str, expected_text: str, note: str) -> str:
    """The identity of a signpost: the same deal, stage, date and words, whichever source repeats it."""
    words = " ".join(note.casefold().split())
    return hashlib.sha256(f"{deal_id}\x1f{stage}\x1f{expected_text}\x1f{words}".encode()).hexdigest()[:32]


def party_key(name: str, country: str | None) -> str:
    return fit_key(f"{' '.join(name.casefold().split())}|{country or ''}", PARTY_KEY_LENGTH)


class _Checker:
    """Collects problems while columns are checked one at a time over their distinct values."""

    def __init__(self, frame: pd.DataFrame, lines: pd.Series) -> None:
        self.frame = frame
        self.lines = lines
        self.problems = Problems(column_order=_COLUMN_ORDER)
        # Cells already reported (and blanked): later checks must not report them again as empty.
        self.reported: dict[str, pd.Series] = {}

    def add(self, mask: pd.Series, column: str, message: str | Callable[[str], str], fix: str) -> None:
        if column in self.reported:
            mask = mask & ~self.reported[column]
        if not mask.any():
            return
        for line, value in zip(self.lines[mask], self.frame.loc[mask, column]):
            text = message(value) if callable(message) else message
            self.problems.add(Problem(int(line), column, shorten(value), text, fix))

    def series(self, values: list[Any]) -> pd.Series:
        """A column of plain Python objects aligned with the file's rows (no dtype inference: it is slow)."""
        return pd.Series(values, index=self.frame.index, dtype=object)

    def read(self, column: Column, *, today: Any) -> dict[str, pd.Series]:
        """The column's batch columns: its parser applied once per distinct non-empty value; empty cells,
        and cells that cannot be read (they are problems, so the batch is rejected anyway), give the
        column's `empty` value."""
        cells = self.frame[column.name].tolist()
        if column.parse is None:
            return {column.targets[0]: self.frame[column.name]}
        results = self._convert_distinct(column, cells, today)
        if column.parts:
            split = {
                raw: (column.empty,) * len(column.parts)
                if value is None
                else tuple(getattr(value, part) for part in column.parts)
                for raw, value in results.items()
            }
            parts = zip(*map(split.__getitem__, cells), strict=True)
            return {
                target: self.series(list(values))
                for target, values in zip(column.targets, parts, strict=True)
            }
        if column.empty is not None:
            results = {raw: column.empty if value is None else value for raw, value in results.items()}
        return {column.targets[0]: self.series(list(map(results.__getitem__, cells)))}

    def _convert_distinct(self, column: Column, cells: list[str], today: Any) -> dict[str, Any]:
        """Each distinct cell value converted once; failures become problems and None."""
        results: dict[str, Any] = {"": None}
        failures: dict[str, InvalidValue] = {}
        for value in dict.fromkeys(cells):
            if value in results:
                continue
            try:
                results[value] = column.parse(value, today)  # type: ignore[misc]
            except InvalidValue as exc:
                failures[value] = exc
                results[value] = None
        if failures:
            series = self.frame[column.name]
            mask = series.isin(list(failures))
            for line, value in zip(self.lines[mask], series[mask]):
                exc = failures[value]
                self.problems.add(Problem(int(line), column.name, shorten(value), exc.message, exc.fix))
        return results


def check_header(header: list[str], *, line: int) -> list[str]:
    """The normalised column names; every header problem raises at once (at most MAX_PROBLEMS of them)."""
    names = [normalise_header(h) for h in header]
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    repeated = 0
    for position, name in enumerate(names, start=1):
        if name in seen:
            repeated += 1
            if repeated <= MAX_PROBLEMS:
                problems.append(
                    Problem(
                        line,
                        name,
                        shorten(header[position - 1]),
                        f"column {shorten(name, 40)} appears twice (columns {seen[name]} and {position})",
                        "Keep one of them and delete the other.",
                    )
                )
        seen.setdefault(name, position)
    if repeated > MAX_PROBLEMS:
        problems.append(
            Problem(
                line,
                None,
                None,
                f"{repeated - MAX_PROBLEMS} more repeated columns",
                "Keep each column once; the columns are listed in the template.",
            )
        )
    unknown = [(raw, n) for raw, n in zip(header, names) if n not in ALL_COLUMNS]
    for raw, name in unknown[:20]:
        near = difflib.get_close_matches(name, ALL_COLUMNS, n=1, cutoff=0.7)
        hint = f"Did you mean {near[0]}? " if near else ""
        problems.append(
            Problem(
                line,
                name or "(blank)",
                shorten(raw),
                f'unknown column "{shorten(raw, 40)}"',
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
    if not any(name in names for name in ONE_OF_COLUMNS):
        either = " or ".join(ONE_OF_COLUMNS)
        problems.append(
            Problem(
                line,
                ONE_OF_COLUMNS[0],
                None,
                "there is no source column",
                f"Add {either} (or both): every event needs a source.",
            )
        )
    if problems:
        raise ImportRejected(problems)
    return names


def batch_from_records(records: Records, *, today: Any = None, format: str = FORMAT) -> Batch:
    """Validate a ledger CSV's records into a Batch, or raise ImportRejected with every problem.

    The records' rows are consumed: once in the frame they are cleared, as holding both kept a list per
    row alive through the whole validation.
    """
    names = check_header(records.header, line=records.header_line)
    frame = _frame_of(records.rows, names) if records.rows else pd.DataFrame(columns=names)
    records.rows.clear()
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
    for column in COLUMNS:
        for target, values in check.read(column, today=today).items():
            out[target] = values
        if column.when_empty:
            check.add(frame[column.name] == "", column.name, *column.when_empty)
    _check_rows(frame, out, check)
    _take_event_claims(out, names)

    check.problems.raise_if_any()
    # Keys are hashed once per distinct source and event: most events are told by more than one row.
    derived = _once_per_distinct(source_key, out["source_url"], out["source_publisher"], out["source_title"])
    given = out["source_key_given"].tolist()
    out["source_key"] = check.series([key or default for key, default in zip(given, derived)])
    out["fingerprint"] = check.series(
        _once_per_distinct(event_fingerprint, out["deal_id"], out["date_text"], out["stage"], out["summary"])
    )
    # Plain Python objects from here on: the importer iterates these columns, which is slow on Arrow strings.
    return Batch(rows=out[list(BATCH_COLUMNS)].astype(object), format=format, rows_read=len(frame))


def read_deal_cells(cells: Mapping[str, str], *, today: Any = None) -> dict[str, Any]:
    """A deal's own cells (deal columns and tags, e.g. from the deal edit form) read and checked as the cells
    of a file are, into batch values (deal_title -> text, deal_value_low -> a number, tags -> "a;b").
    ImportRejected with every problem (line 1); a column that is not the deal's own is one."""
    problems = [
        Problem(1, name, None, f"{name} is not one of a deal's own columns", "Give only the deal's columns.")
        for name in cells
        if name not in COLUMN_BY_NAME or COLUMN_BY_NAME[name].lands not in ("deal", "tag")
    ]
    if problems:
        raise ImportRejected(problems)
    frame = pd.DataFrame(
        [[str(cells.get(name, "")) for name in ALL_COLUMNS]], columns=ALL_COLUMNS, dtype=object
    )
    check = _Checker(frame, pd.Series([1], index=frame.index))
    _clean_text(frame, check, plain=False)
    out = pd.DataFrame(index=frame.index)
    for name in cells:
        for target, values in check.read(COLUMN_BY_NAME[name], today=today).items():
            out[target] = values
    if {"deal_value_low", "deal_value_high", "deal_currency"} <= set(cells):
        _check_values(frame, out, check, prefixes=("deal",))
    check.problems.raise_if_any()
    return {target: out[target].iloc[0] for target in out.columns}


def _frame_of(rows: list[list[str]], names: list[str]) -> pd.DataFrame:
    """The rows as columns of Python strings, each column holding each of its distinct values once.

    The parser makes a new string for every cell; a column repeats most of its values (a deal's id, a
    source's name and grade on every row that cites it): one shared string per value keeps the batch, held
    through the whole import, smaller. Peak memory at 5 MB (bench/hostile_bench.py, check / import): the
    well-formed file 8.0x / 9.5x -> 7.5x / 8.5x its size, many sources 12.6x / 13.5x -> 11.2x / 11.9x,
    disagreeing duplicates 11.0x -> 10.1x; no change in time that two shared CPUs could show.

    The kept values are copies, made while the rows are still held: the parser's strings lie scattered among
    the rows' in the allocator's arenas, and an arena goes back to the system only when all it holds is
    freed. Kept as they were, one surviving cell kept most of the parse's memory resident through the import,
    where the plan then came on top of it. Checked at 5 MB: disagreeing duplicates 53.4 -> 37.1 MB peak
    (10.7x -> 7.4x), many sources 55.4 -> 44.8 MB, only the required cells 113.2 -> 91.1 MB, the
    well-formed file 38.0 -> 29.7 MB (with the parse reading the file's own bytes, read_batch).
    """
    columns = {}
    for name, cells in zip(names, zip(*rows), strict=True):
        codes, distinct = pd.factorize(np.asarray(cells, dtype=object))
        fresh = np.empty(len(distinct), dtype=object)
        # A new string each: str(value) and f"{value}" give value itself.
        fresh[:] = ["".join((value, "")) for value in distinct]  # noqa: FLY002
        columns[name] = fresh.take(codes)
    return pd.DataFrame(columns, dtype=object, copy=False)


def _take_event_claims(out: pd.DataFrame, names: list[str]) -> None:
    """A file that has none of a deal attribute's own columns (deal_quantity; deal_value_low, _high,
    deal_currency) states the attribute through its events' claims (quantity; value_low, ...), as files
    written by hand do: each row's claim is then also a claim of the deal's."""
    fallbacks = {column.name: column for column in COLUMNS if column.fallback}
    for attribute in DEAL_ATTRIBUTES:
        own = [fallbacks[name] for name in attribute.batch_columns if name in fallbacks]
        if own and not any(column.name in names for column in own):
            for column in own:
                out[column.targets[0]] = out[column.fallback]


def _check_rows(frame: pd.DataFrame, out: pd.DataFrame, check: _Checker) -> None:
    """The rules that span columns."""
    _check_values(frame, out, check, prefixes=("event", "deal"))
    check.add(
        (frame["source_title"] == "") & (frame["source_url"] == ""),
        "source_title",
        "the row has no source",
        "Give source_title or source_url (or both): every event needs a source.",
    )
    signpost = frame["signpost_stage"] != ""
    check.add(
        signpost & (frame["signpost_by"] == ""),
        "signpost_by",
        "a signpost is given without the date it is expected by",
        "Give signpost_by, when the milestone is expected, e.g. 2026-03.",
    )
    check.add(
        ~signpost & ((frame["signpost_by"] != "") | (frame["signpost_note"] != "")),
        "signpost_stage",
        "signpost_by or signpost_note is given but signpost_stage is empty",
        "Give the stage expected next (e.g. contracted), or clear those cells.",
    )
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


_VALUE_COLUMNS = {"event": ("value_low", "currency"), "deal": ("deal_value_low", "deal_currency")}


def _check_values(
    frame: pd.DataFrame, out: pd.DataFrame, check: _Checker, *, prefixes: tuple[str, ...]
) -> None:
    """A value range is low to high, and a value and its currency come together (an event's claim, a
    deal's own value)."""
    for prefix in prefixes:
        low_name, currency_name = _VALUE_COLUMNS[prefix]
        low, high = out[f"{prefix}_value_low"], out[f"{prefix}_value_high"]
        high_name = low_name.replace("low", "high")
        both = low.notna() & high.notna()
        inverted = both & (low.where(both, 0) > high.where(both, 0))
        check.add(
            inverted,
            high_name,
            lambda v, low_name=low_name, high_name=high_name: f"{high_name} {v} is below {low_name}",
            f"Swap {low_name} and {high_name}, or correct one of them.",
        )
        has_value = (frame[low_name] != "") | (frame[high_name] != "")
        check.add(
            has_value & (frame[currency_name] == ""),
            currency_name,
            "a value is given without a currency",
            "Give the ISO 4217 currency code of the value, e.g. USD or EUR.",
        )
        check.add(
            ~has_value & (frame[currency_name] != ""),
            currency_name,
            "a currency is given without a value",
            f"Give {low_name} and/or {high_name}, or leave {currency_name} empty.",
        )


def _once_per_distinct(function: Callable[..., str], *columns: pd.Series) -> list[str]:
    keys = list(zip(*(column.tolist() for column in columns)))
    # A loop, not dict.fromkeys(keys): that one C call held the interpreter lock, which every other
    # session's page needs, for 0.21 s of CPU over a 20 MB file's 319,000 rows (bench/stall_bench.py).
    results: dict[tuple[Any, ...], str] = {}
    for key in keys:
        if key not in results:
            results[key] = function(*key)
    return list(map(results.__getitem__, keys))


def _clean_text(frame: pd.DataFrame, check: _Checker, *, plain: bool) -> None:
    """NFC, invisible and bidirectional control characters removed, cells an export neutralised read back,
    trimmed; other control characters and over-long cells are problems.

    `plain` text (see tracker.textfile.Records) only needs trimming and the length limits.
    """
    for column in COLUMNS:
        name = column.name
        if plain:
            values = frame[name].tolist()
            # In plain text only spaces and tabs can surround a cell: look for them once in the whole column.
            joined = "\x00".join(values)
            changed = False
            if "'" in joined:
                values = [_unneutralised(value) for value in values]
                changed = True
            if (
                "\t" in joined
                or " \x00" in joined
                or "\x00 " in joined
                or joined.startswith(" ")
                or joined.endswith(" ")
            ):
                values = [value.strip() for value in values]
                changed = True
            if changed:
                frame[name] = pd.Series(values, index=frame.index, dtype=object)
            series = frame[name]
            bad = None
        else:
            series = frame[name].astype(str)
            if series.str.contains(r"[^\x20-\x7e]", regex=True).any():
                series = series.map(lambda v: _INVISIBLE.sub("", unicodedata.normalize("NFC", v)))
            if series.str.startswith("'").any():
                series = series.map(_unneutralised)
            series = series.str.strip()
            frame[name] = series
            control = _CONTROL_EXCEPT_BREAKS if column.multiline else _CONTROL_OR_BREAK
            bad = series.str.contains(control.pattern, regex=True)
        if bad is not None and bad.any():
            check.add(
                bad,
                name,
                "the cell contains a control character",
                "Delete the invisible control character (retype the text if unsure)."
                + ("" if column.multiline else " Line breaks are allowed only in summaries and notes."),
            )
            frame.loc[bad, name] = ""
            check.reported[name] = bad
        limit = column.max_length
        if limit and max(map(len, values if plain else series.tolist()), default=0) > limit:
            long = series.str.len() > limit
            if long.any():
                check.add(
                    long,
                    name,
                    lambda v, limit=limit: f"the cell is too long ({len(v):,} characters; at most {limit:,})",
                    "Shorten it; put long text in the note column or in the source itself.",
                )
                frame.loc[long, name] = ""
                check.reported[name] = check.reported.get(name, long) | long
