"""SIPRI Arms Transfers Database exports ("trade register") read into a ledger Batch.

Two export layouts are recognised from the file itself (`detect_layout`), after any preamble:

- **classic** (`sipri-classic`): header ``Recipient,Supplier,Year of order, ,Number ordered, ,...``, one
  record per deal, with three blank-named columns holding '?' flags for the value to their left
  (year of order, number ordered, number delivered) and all delivery years in one cell
  ("2018; 2019", "2000;2001; 2002");
- **new** (`sipri-new`): header ``SIPRI AT Database ID,Supplier,Recipient,...``, one row per deal per
  delivery year, "... is estimate" Yes/No columns instead of '?' flags, usually CRLF with every line
  padded by a trailing ';'.

Quirks handled for both: a preamble of notes before the header (or none), the snapshot date from the
"Data generated: 13 Oct 2024 2:20:11 PM" line, Latin-1/cp1252 bytes (decoded by tracker.textfile),
trailing ';' padding, blank lines, and a record broken over two physical lines by an unquoted line
break (a short record is joined with the next one(s) when together they make exactly one record).

Mapping of one SIPRI deal to the ledger (one Batch row per event; deal attributes on the first row):

- **deal id**: new layout ``sipri-<AT Database ID>`` (also external id, scheme "sipri"). The classic
  layout has no id, so the key is ``sipri-c-<10 hex>``: SHA-256 of the normalised
  (recipient, supplier, year of order, designation), where recipient and supplier are the *resolved*
  parties (ISO code, historical code or non-state party key, so SIPRI renaming "Turkey" to "Turkiye"
  keeps the key) and the designation is case-folded with spaces collapsed. When several records in one
  file share that key (the same item ordered twice in a year), the second and later ones get ``-2``,
  ``-3``... in file order. Limits: SIPRI changing a designation's spelling (or the year of order)
  makes a new deal, leaving the old one in the ledger; identical orders are told apart only by their
  order in the file, so a newer export that reorders or drops one of them swaps their histories.
  Classic and new-layout exports of the same deal are different deals in the ledger (there is no
  shared id to match them on): keep to one layout per ledger.
- **title** "<designation> (<description>) — <supplier> to <recipient>" (states by the tracker's name,
  e.g. "Côte d'Ivoire" for "Cote d'Ivoire"; others as SIPRI writes them, without '*'); **category** the weapon
  description (both layouts, so categories agree across layouts); **summary** the classic Comments;
  **tags** "sipri", the second-hand status, and (new layout) the armament category and
  "local production".
- **quantity** the number ordered (classic); empty or "0" (SIPRI's open-ended licence production) is
  unknown, None. The new layout does not give the number ordered: quantity stays None.
- **SIPRI TIV** (millions of TIV, ``deals.sipri_tiv``, never value/currency): classic "SIPRI TIV for
  total order" (None when empty, or when the number ordered is unknown, where SIPRI writes 0); new
  layout the sum of "TIV delivery values" over the deal's rows, i.e. the TIV delivered in the export's
  year range (rounded to 6 decimals).
- **parties**: supplier = seller, recipient = buyer. Names that `tracker.countries.resolve_country`
  knows, or that `SIPRI_STATES` aliases ("Bosnia-Herzegovina", "Congo", "Libya GNC"...), go to the
  buyers/sellers columns as ISO codes. Former states (`FORMER_STATE_SPELLINGS`, codes from
  `tracker.countries.FORMER_STATES`: Soviet Union SUN, Yugoslavia YUG,
  Czechoslovakia CSK, East Germany DDR, South Yemen YMD: ISO 3166-3 codes; North Yemen XNY and South
  Vietnam XSV: tracker-assigned user codes, as ISO carried their codes over to today's Yemen and
  Vietnam) are parties of kind "state" with that code, given through the party columns (the importer
  keys a state with a code that is no current ISO code as a former state). SIPRI marks non-state
  actors with '*' and international organisations with '**': they become parties of kind
  "non-state group" / "international organisation" with the country in their parentheses
  ("Hezbollah (Lebanon)*" -> Hezbollah, LBN; curated exceptions in `NON_STATE_NAMES`). "unknown
  recipient(s)"/"unknown supplier(s)" and the unrecognised Biafra, Katanga and Northern Cyprus are
  non-state groups. Any other name is refused with its line: it needs a deliberate entry here.
- **events** (summaries carry no snapshot-specific text, so a newer snapshot restating the same facts
  matches them by fingerprint and only adds its source):
  year of order -> "contracted" (year precision, quantity = number ordered);
  each delivery year -> "delivering" (quantity = the year's number delivered in the new layout; in the
  classic layout only when there is a single delivery year, as SIPRI gives a total only);
  when the number delivered reaches the number ordered (classic, number ordered known), the last
  delivery year is "completed" instead. The new layout has no number ordered, so its deals never
  reach "completed" from SIPRI alone.
- **uncertainty**: a classic '?' flag or a new-layout "is estimate = Yes" gives the event a plain note
  ("order year uncertain (SIPRI '?')", "delivery year is a SIPRI estimate", ...) and credibility 3
  (possibly true) for that snapshot's claim instead of 2 (probably true).
- **source**: one per snapshot: "SIPRI Arms Transfers Database, trade register (data generated 13 Oct
  2024)", kind "database", the database's URL, dated by "Data generated", graded A (completely
  reliable: the reference record of arms transfers, with a consistent published method; its own
  uncertainty is carried per claim by credibility). Its key includes the snapshot date, so a newer
  snapshot is a new source and restated events gain a second source link rather than a duplicate.
  An export without "Data generated" is keyed by the file's SHA-256 (title says "undated export").

Deal attribute changes between snapshots (title, quantity, TIV, category, summary) are recorded by
the importer in deal_changes and listed in the ImportReport's `changes`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select

from tracker.columns import BATCH_COLUMNS, COLUMN_BY_NAME, MAX_QUANTITY, empty_batch_values
from tracker.countries import FORMER_STATES, resolve_country
from tracker.dates import PartialDate, parse_partial_date
from tracker.display import counted
from tracker.errors import MAX_PROBLEMS, ImportRejected, InvalidValue, Problem
from tracker.ledger_csv import Batch, event_fingerprint, party_key
from tracker.models import Deal, Import
from tracker.textfile import (
    FIELD_LIMIT,
    check_width,
    csv_error_text,
    first_lines,
    lines_after,
    width_problem_text,
)

CLASSIC = "sipri-classic"
NEW = "sipri-new"
_HEADER_STARTS = (("recipient,supplier,year of order", CLASSIC), ("sipri at database id", NEW))
HEADER_SCAN_LINES = 100  # the header is looked for in this many first lines (SIPRI's preamble has 11)

SIPRI_URL = "https://www.sipri.org/databases/armstransfers"
PUBLISHER = "SIPRI Arms Transfers Database"
RELIABILITY = "A"
CREDIBILITY = 2  # probably true
CREDIBILITY_UNCERTAIN = 3  # possibly true: SIPRI flags the value as uncertain or estimated
EXTERNAL_SCHEME = "sipri"

SUMMARY_ORDER = "Order recorded by SIPRI"
SUMMARY_DELIVERY = "Deliveries recorded by SIPRI"
SUMMARY_FINAL = "Final deliveries recorded by SIPRI (all units ordered delivered)"

STATE = "state"
NON_STATE = "non-state group"
ORGANISATION = "international organisation"

# SIPRI's spellings of today's states that tracker.countries does not know (it refuses "Congo" as
# ambiguous: SIPRI writes the other one "DR Congo").
SIPRI_STATES: dict[str, str] = {
    "Bosnia-Herzegovina": "BIH",
    "Brunei": "BRN",
    "Congo": "COG",
    "Saint Vincent": "VCT",
    # The General National Congress / GNA in Tripoli: the internationally recognised government, which
    # SIPRI lists apart from "Libya" (no '*'); the rival HoR is a non-state group below.
    "Libya GNC": "LBY",
}

# SIPRI's spellings of states that no longer exist, by their code in tracker.countries.FORMER_STATES.
FORMER_STATE_SPELLINGS: dict[str, str] = {
    "Soviet Union": "SUN",
    "Yugoslavia": "YUG",
    "Czechoslovakia": "CSK",
    "East Germany (GDR)": "DDR",
    "East Germany": "DDR",
    "South Yemen": "YMD",
    "North Yemen": "XNY",
    "Yemen Arab Republic (North Yemen)": "XNY",
    "South Vietnam": "XSV",
}

# Non-state names whose party name or country the general rule ("Name (Country)*") would get wrong,
# and non-state names SIPRI writes without '*'. Value: (party name, kind, country code or None).
NON_STATE_NAMES: dict[str, tuple[str, str, str | None]] = {
    "unknown recipient(s)": ("unknown recipient(s)", NON_STATE, None),
    "unknown supplier(s)": ("unknown supplier(s)", NON_STATE, None),
    "unknown rebel group*": ("unknown rebel group", NON_STATE, None),
    # Unrecognised secessionist states: listed under the state whose territory they claimed.
    "Biafra": ("Biafra", NON_STATE, "NGA"),
    "Katanga": ("Katanga", NON_STATE, "COD"),
    "Northern Cyprus": ("Northern Cyprus", NON_STATE, "CYP"),
    # SIPRI names the colonial power; the movements are those of today's Mozambique, Angola, Guinea-Bissau.
    "FRELIMO (Portugal)*": ("FRELIMO", NON_STATE, "MOZ"),
    "MPLA (Portugal)*": ("MPLA", NON_STATE, "AGO"),
    "PAIGC (Portugal)*": ("PAIGC", NON_STATE, "GNB"),
    "Viet Minh (France)*": ("Viet Minh", NON_STATE, "VNM"),
    "Viet Cong (South Vietnam)*": ("Viet Cong", NON_STATE, "VNM"),
    "PLO (Israel)*": ("PLO", NON_STATE, "PSE"),
    "PIJ (Israel/Palestine)*": ("Palestinian Islamic Jihad", NON_STATE, "PSE"),
    "Palestinian Islamic Jihad (Israel/Palestine)*": ("Palestinian Islamic Jihad", NON_STATE, "PSE"),
    "PRC (Israel/Palestine)*": ("PRC", NON_STATE, "PSE"),
    "Libya HoR*": ("HoR", NON_STATE, "LBY"),
    "HoR (Libya)*": ("HoR", NON_STATE, "LBY"),
    "Haiti rebels*": ("Haiti rebels", NON_STATE, "HTI"),
    "Indonesia rebels*": ("Indonesia rebels", NON_STATE, "IDN"),
    "Lebanon Palestinian rebels*": ("Lebanon Palestinian rebels", NON_STATE, "LBN"),
    "Syria rebels*": ("Syria rebels", NON_STATE, "SYR"),
    "Ukraine Rebels*": ("Ukraine rebels", NON_STATE, "UKR"),
}

_PARENTHESES = re.compile(r"^(?P<name>.+?)\s*\((?P<country>[^()]+)\)$")
_YEAR = re.compile(r"^\d{4}$")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
# Only the label is matched by a pattern; the value is cut with string methods (_generated_value). A
# pattern with a lazy value before `[\s;,]*$` backtracks over every run of spaces: quadratic in the line.
_GENERATED = re.compile(r"\s*data generated\s*:?", re.IGNORECASE)
_TRAILING_PADDING = re.compile(r"[\s;,]*")
_DAY_MONTH_YEAR = re.compile(r"(?P<day>\d{1,2})\s+(?P<month>[A-Za-z]{3,9})\.?,?\s+(?P<year>\d{4})")
_ISO_DAY = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})")


@dataclass(frozen=True, slots=True)
class Side:
    """A SIPRI recipient or supplier as the ledger takes it."""

    label: str  # the party's name ("Hezbollah")
    kind: str  # state, non-state group, international organisation
    code: str | None  # ISO alpha-3 of a current state (buyers/sellers), else the party's country
    current_state: bool  # True: goes to buyers/sellers; False: to the party columns
    key: str = ""  # identity used in the classic deal key: "state:<code>" or the party key
    title: str = ""  # the name in deal titles: SIPRI's own for non-state parties ("Hezbollah (Lebanon)")

    @classmethod
    def make(cls, label: str, kind: str, code: str | None, *, current_state: bool, title: str = "") -> Side:
        key = f"state:{code}" if kind == STATE else party_key(label, code)
        return cls(label, kind, code, current_state, key, title or label)


def _clean_name(name: str) -> str:
    return " ".join(name.replace("\u00a0", " ").split())


def resolve_party(name: str) -> Side:
    """How a SIPRI recipient or supplier name enters the ledger; InvalidValue for a name not provided for."""
    cleaned = _clean_name(name)
    if not cleaned:
        raise InvalidValue("the name is empty", fix="Give the recipient and the supplier of every record.")
    if cleaned in FORMER_STATE_SPELLINGS:
        code = FORMER_STATE_SPELLINGS[cleaned]
        label = FORMER_STATES[code]
        return Side.make(label, STATE, code, current_state=False)
    if cleaned in NON_STATE_NAMES:
        label, kind, code = NON_STATE_NAMES[cleaned]
        return Side.make(label, kind, code, current_state=False, title=cleaned.rstrip("*").strip())
    if cleaned in SIPRI_STATES:
        code = SIPRI_STATES[cleaned]
        return Side.make(resolve_country(code).name, STATE, code, current_state=True)
    if not cleaned.endswith("*"):
        try:
            country = resolve_country(cleaned)
        except InvalidValue as exc:
            raise InvalidValue(
                f'"{cleaned}" is not a state the tracker knows, nor marked by SIPRI as non-state (*) '
                f"or an organisation (**) ({exc.message})",
                fix="If SIPRI has started using a new name, add it to tracker/sipri.py "
                "(SIPRI_STATES, FORMER_STATE_SPELLINGS or NON_STATE_NAMES) and import again.",
            ) from None
        return Side.make(country.name, STATE, country.code, current_state=True)
    kind = ORGANISATION if cleaned.endswith("**") else NON_STATE
    bare = cleaned.rstrip("*").strip()
    match = _PARENTHESES.match(bare)
    if match:
        try:
            return Side.make(
                match["name"], kind, resolve_country(match["country"]).code, current_state=False, title=bare
            )
        except InvalidValue:
            pass
    return Side.make(bare, kind, None, current_state=False)


# --- detection and reading ----------------------------------------------------------------------------


def mixed_layout_warning(connection: Connection, layout: str) -> str | None:
    """What to know before an export of one layout goes into a ledger that holds deals from the other: the
    layouts share no deal id (see the module's docstring), so a transfer listed in both becomes two deals
    and every count of SIPRI-recorded deals counts it twice. None when the ledger holds none, or `layout` is
    not a SIPRI layout."""
    if layout not in (CLASSIC, NEW):
        return None
    other = NEW if layout == CLASSIC else CLASSIC
    deals = connection.execute(
        select(func.count(Deal.id)).join(Import, Import.id == Deal.import_id).where(Import.format == other)
    ).scalar_one()
    if not deals:
        return None
    this, that = layout.removeprefix("sipri-"), other.removeprefix("sipri-")
    return (
        f"This file is a SIPRI export in the {this} layout, and the ledger holds {counted(deals, 'deal')} "
        f"from exports in the {that} layout. The two layouts share no deal id, so a transfer listed in both "
        "becomes two deals and is counted twice. Keep to one layout per ledger: import the register in the "
        f"{that} layout, or first undo the {that}-layout imports (“Undo import…” on the Upload page, or "
        "python -m tracker undo)."
    )


def detect_layout(text: str) -> tuple[str, int] | None:
    """(layout, index of the header line) when `text` is a SIPRI export, else None.

    A line naming deal_id first is a ledger CSV's header: what follows it is data, never SIPRI's header.
    """
    for index, line in enumerate(first_lines(text, HEADER_SCAN_LINES)):
        head = line.lstrip("\ufeff").replace('"', "").strip().casefold()
        for start, layout in _HEADER_STARTS:
            if head.startswith(start):
                return layout, index
        if "deal_id" in head:
            return None
    return None


@dataclass(slots=True)
class _Delivery:
    line: int
    date: PartialDate
    quantity: int | None
    notes: list[str]
    uncertain: bool
    stage: str = "delivering"


@dataclass(slots=True)
class _Deal:
    line: int
    deal_id: str
    title: str
    summary: str
    category: str
    tags: list[str]
    quantity: int | None
    tiv: float | None
    external_id: str
    buyer: Side
    seller: Side
    order: PartialDate
    order_quantity: int | None
    order_notes: list[str]
    order_uncertain: bool
    deliveries: list[_Delivery] = field(default_factory=list)


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, line: int | None, column: str | None, value: str | None, message: str, fix: str) -> None:
        if len(self.items) <= MAX_PROBLEMS:
            shown = value if value is None or len(value) <= 80 else value[:79] + "…"
            self.items.append(Problem(line, column, shown, message, fix))

    def raise_if_any(self) -> None:
        if self.items:
            extra = len(self.items) - MAX_PROBLEMS
            problems = sorted(self.items[:MAX_PROBLEMS], key=lambda p: p.line or 0)
            if extra > 0:
                problems.append(
                    Problem(
                        None, None, None, "more problems not shown", "Fix the ones above and upload again."
                    )
                )
            raise ImportRejected(problems)


class _Cached:
    """A converter applied once per distinct text; InvalidValue becomes a problem on each line."""

    def __init__(
        self, convert: Callable[[str], Any], column: str, problems: _Problems, *, empty_is_none: bool = False
    ) -> None:
        self.convert = convert
        self.empty_is_none = empty_is_none
        self.column = column
        self.problems = problems
        self.results: dict[str, Any] = {}

    def __call__(self, text: str, line: int) -> Any:
        if not text and self.empty_is_none:
            return None
        try:
            result = self.results[text]
        except KeyError:
            try:
                result = self.convert(text)
            except InvalidValue as exc:
                result = exc
            self.results[text] = result
        if isinstance(result, InvalidValue):
            self.problems.add(line, self.column, text, result.message, result.fix)
            return None
        return result


def read_sipri(
    text: str, *, layout: str, header_index: int, today: dt.date | None = None, data: bytes = b""
) -> Batch:
    """The export's deals as a validated Batch; ImportRejected (with line numbers) on any problem."""
    problems = _Problems()
    preamble = first_lines(text, header_index)
    snapshot = _snapshot_date(preamble, problems)
    header, records = _records(text, header_index, problems)
    columns = _columns(header, layout, header_index + 1, problems)
    problems.raise_if_any()
    counted = _Counted(records)
    reader = _ClassicReader if layout == CLASSIC else _NewReader
    deals = reader(columns, len(header), problems, today).deals(counted)
    problems.raise_if_any()
    if not counted.count:
        raise ImportRejected(
            [
                Problem(
                    None,
                    None,
                    None,
                    "the SIPRI export has a header but no records",
                    "Export the trade register again with at least one deal.",
                )
            ]
        )
    frame = _batch_rows(deals, _source(snapshot, data))
    return Batch(rows=frame, format=layout, rows_read=counted.count, snapshot_on=snapshot)


class _Counted:
    """The records as they are read, counted."""

    def __init__(self, records: Iterable[tuple[int, list[str]]]) -> None:
        self._records = records
        self.count = 0

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for record in self._records:
            self.count += 1
            yield record


def _generated_value(line: str) -> str | None:
    """The value of a "Data generated:" preamble line (None for other lines), in time linear in the line.

    Surrounding spaces and the trailing semicolons and commas of a spreadsheet-saved preamble are cut; the
    trailing run is found by matching the reversed line at its start, where the pattern cannot backtrack.
    """
    label = _GENERATED.match(line)
    if label is None:
        return None
    value = line[label.end() :].lstrip()
    padding = _TRAILING_PADDING.match(value[::-1]).end()
    return value[: len(value) - padding]


def _snapshot_date(preamble: list[str], problems: _Problems) -> dt.date | None:
    for number, line in enumerate(preamble, start=1):
        value = _generated_value(line)
        if value is None:
            continue
        found = _DAY_MONTH_YEAR.search(value)
        try:
            if found and found["month"][:3].lower() in _MONTHS:
                return dt.date(int(found["year"]), _MONTHS[found["month"][:3].lower()], int(found["day"]))
            found = _ISO_DAY.search(value)
            if found:
                return dt.date(int(found["year"]), int(found["month"]), int(found["day"]))
        except ValueError:
            pass
        problems.add(
            number,
            "Data generated",
            value,
            "the snapshot date cannot be read",
            'Keep SIPRI\'s line as exported, e.g. "Data generated: 13 Oct 2024 2:20:11 PM".',
        )
        return None
    return None


def _strip_padding(line: str) -> str:
    return line.rstrip().rstrip(";").rstrip()


def _records(
    text: str, header_index: int, problems: _Problems
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header, and the records (with the physical line each starts on, broken records joined) as
    they are read: one pass over the text, one record held at a time.

    The readers build each deal as its record comes. Holding every record first, then the deals, held
    both at once: 43 MB of records beside 47 MB of deals for a 5 MB export, the import's peak (see
    docs/performance.md, "Import peak memory, fourth round").
    """
    header_line = _strip_padding(first_lines(text, header_index + 1)[header_index])
    check_width(header_line, ",", line=header_index + 1, fix="Export the trade register again from SIPRI.")
    header = next(csv.reader([header_line]))
    return header, _joined_records(text, header_index, len(header), problems)


def _joined_records(
    text: str, header_index: int, width: int, problems: _Problems
) -> Iterator[tuple[int, list[str]]]:
    joined = _Joined(width, problems)
    first_line = header_index + 2
    reader = csv.reader(_strip_padding(line) + "\n" for line in lines_after(text, header_index + 1))
    previous_end = 0
    try:
        for record in reader:
            start = first_line + previous_end
            previous_end = reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            yield from joined.add(start, record)
    except csv.Error as exc:
        problems.add(
            first_line + previous_end,
            None,
            None,
            csv_error_text(str(exc)),
            "Export the file again from SIPRI; do not edit it in a text editor.",
        )
        return
    yield from joined.finish()


# Pieces of a broken record's last field held before they are joined (see _Joined). Joining copies the text
# so far, at most FIELD_LIMIT characters, so a record costs at most FIELD_LIMIT / _PIECES_HELD copies of
# each of its characters, and holds at most this many strings.
_PIECES_HELD = 1024


def _spaced(pieces: list[str]) -> str:
    """The pieces of a field broken by line breaks, joined by a space each, blank pieces left out."""
    return " ".join(piece.strip() for piece in pieces if piece.strip())


class _Joined:
    """Records of `width` fields, from physical records of which some are pieces of one broken by an
    unquoted line break: a short record is joined with the next ones while together they have at most
    `width` fields, the line break becoming a space.

    Linear in the pieces: a joined record's last field is kept as a list of pieces until the record is
    complete (joining strings as they came was quadratic in a record broken over many lines), and it
    stops growing at the CSV parser's own field limit. The list is joined into one text every
    _PIECES_HELD pieces: a string object per piece took ten times the text it held (a 100 KB export
    broken over 20,000 lines of a word each: 1.0 MB of pieces, 1.4 MB checked in all).
    """

    def __init__(self, width: int, problems: _Problems) -> None:
        self.width = width
        self.problems = problems
        self._line = 0
        self._fields: list[str] = []  # the record so far, its last field excluded
        self._last: list[str] = []  # the pieces of its last field
        self._last_length = 0

    def add(self, line: int, record: list[str]) -> Iterator[tuple[int, list[str]]]:
        """The records this physical record completes (none while a broken record is being joined)."""
        pending = len(self._fields) + 1 if self._last else 0
        if (
            0 < pending < self.width
            and pending + len(record) - 1 <= self.width
            and self._last_length + len(record[0]) <= FIELD_LIMIT
        ):
            self._last.append(record[0])
            self._last_length += len(record[0])
            if len(self._last) > _PIECES_HELD:
                self._last = [_spaced(self._last)]
            if len(record) > 1:
                self._fields.append(_spaced(self._last))
                self._fields.extend(record[1:-1])
                self._last = [record[-1]]
                self._last_length = len(record[-1])
            return
        yield from self.finish()
        if len(record) > self.width and not any(value.strip() for value in record[self.width :]):
            record = record[: self.width]  # trailing empty fields (padding)
        self._line = line
        self._fields = record[:-1]
        self._last = [record[-1]]
        self._last_length = len(record[-1])

    def finish(self) -> Iterator[tuple[int, list[str]]]:
        """The record being joined is complete: given when it has the header's width, else a problem."""
        if not self._last:
            return
        last = self._last[0] if len(self._last) == 1 else _spaced(self._last)
        record = [*self._fields, last]
        self._fields, self._last = [], []
        if len(record) != self.width:
            self.problems.add(
                self._line,
                None,
                None,
                width_problem_text(len(record), self.width),
                "Export the file again from SIPRI; a record must not be edited into more or fewer fields.",
            )
            return
        yield self._line, [value.strip() for value in record] + [""]  # [width]: a missing column


_CLASSIC_COLUMNS = {
    "recipient": True,
    "supplier": True,
    "year of order": True,
    "? year of order": False,
    "number ordered": False,
    "? number ordered": False,
    "weapon designation": True,
    "weapon description": False,
    "number delivered": False,
    "? number delivered": False,
    "year(s) of delivery": False,
    "status": False,
    "comments": False,
    "sipri tiv per unit": False,
    "sipri tiv for total order": False,
    "sipri tiv of delivered weapons": False,
}  # name -> required
_NEW_COLUMNS = {
    "sipri at database id": True,
    "supplier": True,
    "recipient": True,
    "designation": True,
    "description": False,
    "armament category": False,
    "order date": True,
    "order date is estimate": False,
    "numbers delivered": False,
    "numbers delivered is estimate": False,
    "delivery year": True,
    "delivery year is estimate": False,
    "status": False,
    "sipri estimate": False,
    "tiv deal unit": False,
    "tiv delivery values": False,
    "local production": False,
}
_COLUMN_ALIASES = {
    "year(s) of deliveries": "year(s) of delivery",
    "years of delivery": "year(s) of delivery",
    "number of delivered": "number delivered",
}


def _columns(header: list[str], layout: str, line: int, problems: _Problems) -> dict[str, int]:
    """Column positions by normalised name; a blank-named column is "? <the column before it>"."""
    known = _CLASSIC_COLUMNS if layout == CLASSIC else _NEW_COLUMNS
    positions: dict[str, int] = {}
    previous = ""
    for position, raw in enumerate(header):
        name = " ".join(raw.replace("\ufeff", "").split()).casefold()
        name = _COLUMN_ALIASES.get(name, name)
        if not name or name == "?":
            name = f"? {previous}"
        else:
            previous = name
        positions.setdefault(name, position)
    for name, required in known.items():
        if required and name not in positions:
            problems.add(
                line,
                name,
                None,
                f'the SIPRI column "{name}" is missing',
                "Export the trade register again from SIPRI with all its columns.",
            )
    return positions


class _Reader:
    def __init__(
        self, columns: dict[str, int], width: int, problems: _Problems, today: dt.date | None
    ) -> None:
        self.columns = columns
        self.width = width
        self.problems = problems
        self.today = today
        self._caches: dict[str, _Cached] = {}  # one converter (and its cache) per column

    def get(self, record: list[str], name: str) -> str:
        return record[self.at(name)]

    def at(self, name: str) -> int:
        """The column's position; a missing (optional) column reads as the empty field records end with."""
        return self.columns.get(name, self.width)

    def side(self, column: str) -> _Cached:
        if column not in self._caches:
            self._caches[column] = _Cached(resolve_party, column, self.problems)
        return self._caches[column]

    def year(self, column: str) -> _Cached:
        key = f"year:{column}"
        if key not in self._caches:
            self._caches[key] = _Cached(self._parse_year, column, self.problems)
        return self._caches[key]

    def number(self, column: str, kind: type) -> _Cached:
        key = f"number:{column}"
        if key not in self._caches:
            convert = _integer if kind is int else _decimal
            self._caches[key] = _Cached(convert, column, self.problems, empty_is_none=True)
        return self._caches[key]

    def _parse_year(self, text: str) -> PartialDate:
        if not text:
            raise InvalidValue("the year is empty", fix="Every SIPRI record has its years; export it again.")
        if _YEAR.match(text):
            return parse_partial_date(text, today=self.today)
        raise InvalidValue(f'"{text}" is not a year', fix="Give a four-digit year, e.g. 2018.")

    def title(self, designation: str, description: str, seller: Side, buyer: Side) -> str:
        what = f"{designation} ({description})" if description else designation
        return _fit(f"{what} — {seller.title} to {buyer.title}", "deal_title")


class _ClassicReader(_Reader):
    def deals(self, records: Iterable[tuple[int, list[str]]]) -> list[_Deal]:
        deals: list[_Deal] = []
        seen_keys: dict[str, int] = {}
        recipient_of, supplier_of = self.side("Recipient"), self.side("Supplier")
        order_year = self.year("Year of order")
        ordered_of = self.number("Number ordered", int)
        delivered_of = self.number("Number delivered", int)
        tiv_of = self.number("SIPRI TIV for total order", float)
        year_lists: dict[str, list[PartialDate] | None] = {}
        (
            recipient,
            supplier,
            year,
            year_flag,
            number_ordered,
            ordered_flag,
            designation_at,
            description_at,
            number_delivered,
            delivered_flag,
            delivery_years,
            status_at,
            comments,
        ) = map(
            self.at,
            (
                "recipient",
                "supplier",
                "year of order",
                "? year of order",
                "number ordered",
                "? number ordered",
                "weapon designation",
                "weapon description",
                "number delivered",
                "? number delivered",
                "year(s) of delivery",
                "status",
                "comments",
            ),
        )
        tiv_at = self.at("sipri tiv for total order")
        for line, record in records:
            buyer = recipient_of(record[recipient], line)
            seller = supplier_of(record[supplier], line)
            order = order_year(record[year], line)
            designation = " ".join(record[designation_at].split())
            if not designation:
                self.problems.add(
                    line,
                    "Weapon designation",
                    "",
                    "the weapon designation is empty",
                    "Every SIPRI record names its weapon; export the file again.",
                )
            ordered = ordered_of(record[number_ordered], line)
            delivered = delivered_of(record[number_delivered], line)
            tiv = tiv_of(record[tiv_at], line)
            years_text = record[delivery_years]
            years = year_lists.get(years_text, ())
            if years == ():
                years = self.delivery_years(years_text, line)
                if years is not None:
                    year_lists[years_text] = years
            if buyer is None or seller is None or order is None or not designation or years is None:
                continue
            ordered = ordered or None  # empty or 0 (open-ended licence production): not known
            if ordered is None and tiv == 0:
                tiv = None
            description = " ".join(record[description_at].split())
            key = "\x1f".join((buyer.key, seller.key, str(order.start.year), designation.casefold()))
            deal_id = f"sipri-c-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
            seen = seen_keys[deal_id] = seen_keys.get(deal_id, 0) + 1
            if seen > 1:
                deal_id = f"{deal_id}-{seen}"
            order_notes = []
            if record[year_flag] == "?":
                order_notes.append("order year uncertain (SIPRI '?')")
            if record[ordered_flag] == "?":
                order_notes.append("number ordered uncertain (SIPRI '?')")
            delivered_uncertain = record[delivered_flag] == "?"
            status = record[status_at]
            deal = _Deal(
                line=line,
                deal_id=deal_id,
                title=self.title(designation, description, seller, buyer),
                summary=_fit(record[comments], "deal_summary"),
                category=_fit(description, "category"),
                tags=["sipri", *([status] if status and status.casefold() != "new" else [])],
                quantity=ordered,
                tiv=tiv,
                external_id="",
                buyer=buyer,
                seller=seller,
                order=order,
                order_quantity=ordered,
                order_notes=order_notes,
                order_uncertain=bool(order_notes),
            )
            notes = ["number delivered uncertain (SIPRI '?')"] if delivered_uncertain else []
            single = delivered if len(years) == 1 else None
            deal.deliveries = [_Delivery(line, date, single, notes, delivered_uncertain) for date in years]
            if years and ordered and delivered is not None and delivered >= ordered:
                deal.deliveries[-1].stage = "completed"
            deals.append(deal)
        return deals

    def delivery_years(self, text: str, line: int) -> list[PartialDate] | None:
        """The distinct delivery years of "2018; 2019" or "2000;2001; 2002", in order; None on a problem."""
        parse = self.year("Year(s) of delivery")
        dates = [parse(part, line) for part in _year_list(text)]
        if None in dates:
            return None
        return sorted({d.start.year: d for d in dates}.values(), key=lambda d: d.start)


class _NewReader(_Reader):
    def deals(self, records: Iterable[tuple[int, list[str]]]) -> list[_Deal]:
        by_id: dict[str, _Deal] = {}
        delivery_year = self.year("Delivery year")
        delivered_of = self.number("Numbers delivered", int)
        tiv_of = self.number("TIV delivery values", float)
        tiv_sum: dict[str, float] = {}
        tiv_known: dict[str, bool] = {}
        for line, record in records:
            raw_id = self.get(record, "sipri at database id")
            if not raw_id.isdigit():
                self.problems.add(
                    line,
                    "SIPRI AT Database ID",
                    raw_id,
                    f'"{raw_id}" is not a SIPRI deal id',
                    "The id is a number; export the file again from SIPRI.",
                )
                continue
            sipri_id = str(int(raw_id))
            year = delivery_year(self.get(record, "delivery year"), line)
            delivered = delivered_of(self.get(record, "numbers delivered"), line)
            tiv = tiv_of(self.get(record, "tiv delivery values"), line)
            deal = by_id.get(sipri_id)
            if deal is None:
                deal = self._deal(line, sipri_id, record)
                if deal is None:
                    continue
                by_id[sipri_id] = deal
                tiv_sum[sipri_id], tiv_known[sipri_id] = 0.0, False
            if tiv is not None:
                tiv_sum[sipri_id] += tiv
                tiv_known[sipri_id] = True
            if year is None:
                continue
            notes = []
            if _yes(self.get(record, "delivery year is estimate")):
                notes.append("delivery year is a SIPRI estimate")
            if _yes(self.get(record, "numbers delivered is estimate")):
                notes.append("number delivered is a SIPRI estimate")
            same_year = next((d for d in deal.deliveries if d.date.start.year == year.start.year), None)
            if same_year is None:
                deal.deliveries.append(
                    _Delivery(line=line, date=year, quantity=delivered, notes=notes, uncertain=bool(notes))
                )
            else:  # two rows for one year (not seen in real exports): one event, quantities added
                same_year.quantity = (
                    None
                    if same_year.quantity is None or delivered is None
                    else same_year.quantity + delivered
                )
                same_year.notes = list(dict.fromkeys(same_year.notes + notes))
                same_year.uncertain = same_year.uncertain or bool(notes)
        for sipri_id, deal in by_id.items():
            deal.tiv = round(tiv_sum[sipri_id], 6) if tiv_known[sipri_id] else None
            deal.deliveries.sort(key=lambda d: d.date.start)
        return list(by_id.values())

    def _deal(self, line: int, sipri_id: str, record: list[str]) -> _Deal | None:
        buyer = self.side("Recipient")(self.get(record, "recipient"), line)
        seller = self.side("Supplier")(self.get(record, "supplier"), line)
        order = self.year("Order date")(self.get(record, "order date"), line)
        designation = " ".join(self.get(record, "designation").split())
        if not designation:
            self.problems.add(
                line,
                "Designation",
                "",
                "the designation is empty",
                "Every SIPRI record names its weapon; export the file again.",
            )
        if buyer is None or seller is None or order is None or not designation:
            return None
        description = " ".join(self.get(record, "description").split())
        status = self.get(record, "status")
        tags = ["sipri", *([status] if status and status.casefold() != "new" else [])]
        if self.get(record, "armament category"):
            tags.append(self.get(record, "armament category"))
        if _yes(self.get(record, "local production")):
            tags.append("local production")
        estimated = _yes(self.get(record, "order date is estimate"))
        order_notes = ["order year is a SIPRI estimate"] if estimated else []
        title = self.title(designation, description, seller, buyer)
        return _Deal(
            line=line,
            deal_id=f"sipri-{sipri_id}",
            title=title,
            summary="",
            category=_fit(description, "category"),
            tags=tags,
            quantity=None,
            tiv=None,
            external_id=sipri_id,
            buyer=buyer,
            seller=seller,
            order=order,
            order_quantity=None,
            order_notes=order_notes,
            order_uncertain=estimated,
        )


def _fit(text: str, column: str) -> str:
    """`text` cut to the ledger column's length (SIPRI texts are far shorter; this only guards)."""
    limit = COLUMN_BY_NAME[column].max_length or len(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _yes(text: str) -> bool:
    return text.strip().casefold() in ("yes", "y", "true", "1")


def _year_list(text: str) -> list[str]:
    """ "2018; 2019", "2000;2001; 2002" (commas too) -> ["2018", "2019"] ..."""
    return [part.strip() for part in re.split(r"[;,]", text.replace("?", "")) if part.strip()] if text else []


def _integer(text: str) -> int:
    cleaned = text.replace(" ", "")
    if cleaned.isdigit() and cleaned.isascii() and int(cleaned) <= MAX_QUANTITY:
        return int(cleaned)
    raise InvalidValue(f'"{text}" is not a whole number', fix="SIPRI gives numbers of units as digits.")


def _decimal(text: str) -> float:
    try:
        value = float(text.replace(" ", ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InvalidValue(f'"{text}" is not a SIPRI TIV', fix="SIPRI TIVs are numbers ≥ 0, e.g. 27 or 4.5.")
    return value


# --- batch rows ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Source:
    key: str
    title: str
    date: dt.date | None


def _source(snapshot: dt.date | None, data: bytes) -> _Source:
    if snapshot is not None:
        label = f"{snapshot.day} {list(_MONTHS)[snapshot.month - 1].title()} {snapshot.year}"
        return _Source(
            f"{SIPRI_URL}|data generated {snapshot.isoformat()}",
            f"SIPRI Arms Transfers Database, trade register (data generated {label})",
            snapshot,
        )
    digest = hashlib.sha256(data).hexdigest()
    return _Source(
        f"{SIPRI_URL}|undated export {digest}",
        f"SIPRI Arms Transfers Database, trade register (undated export {digest[:8]})",
        None,
    )


_EVENT_COLUMNS = (
    "line", "deal_id", "date_start", "date_end", "date_precision", "date_text", "stage", "summary", "note",
    "event_quantity", "fingerprint", "credibility",
)  # fmt: skip


_DEAL_ATTRIBUTE_COLUMNS = (
    "deal_title", "deal_summary", "category", "tags", "deal_quantity", "deal_sipri_tiv", "deal_external_ids",
    "buyers", "sellers", "party", "party_role", "party_kind", "party_country",
)  # fmt: skip


def _deal_columns(deal: _Deal, party: tuple[str, str, str, str]) -> tuple[Any, ...]:
    """The batch columns a deal's first row carries (the deal's attributes, its states, one party), in
    _DEAL_ATTRIBUTE_COLUMNS order."""
    label, role, kind, country = party
    return (
        deal.title,
        deal.summary,
        deal.category,
        ";".join(dict.fromkeys(" ".join(t.split()).lower()[:60] for t in deal.tags if t.strip())),
        deal.quantity,
        deal.tiv,
        f"{EXTERNAL_SCHEME}:{deal.external_id}" if deal.external_id else "",
        deal.buyer.code if deal.buyer.current_state else None,
        deal.seller.code if deal.seller.current_state else None,
        label,
        role,
        kind,
        country,
    )


def _batch_rows(deals: list[_Deal], source: _Source) -> pd.DataFrame:
    """One row per event (columns built as lists: this runs for 100,000 events); constants broadcast.

    Takes the deals from the list as it goes (the list is left empty): each deal's values move into the
    columns, and holding every deal to the end held them twice (47 MB of deals beside a 5 MB export's
    columns). A column is a list appended to per event, and a deal's attributes per deal: rows of tuples
    then transposed, and a dict of attributes per deal (13 entries, 0.7 KB each), were both a second
    copy of what the columns hold.
    """
    events: list[list[Any]] = [[] for _ in _EVENT_COLUMNS]
    firsts: list[int] = []  # row index of each deal row that carries the deal's attributes
    attributes: list[list[Any]] = [[] for _ in _DEAL_ATTRIBUTE_COLUMNS]
    # The texts many deals share (a category, "sipri;delivered") stored once: each deal's copy was a new
    # string (46,721 copies of two texts in a 5 MB export's tags, 2.5 MB).
    shared: dict[str, str] = {}
    deals.reverse()  # popped from the end: in file order
    while deals:
        deal = deals.pop()
        order = _event(
            deal.deal_id,
            deal.line,
            deal.order,
            "contracted",
            SUMMARY_ORDER,
            deal.order_quantity,
            deal.order_notes,
            deal.order_uncertain,
        )
        named = [
            (side, role)
            for side, role in ((deal.buyer, "buyer"), (deal.seller, "seller"))
            if not side.current_state
        ]
        parties = [(side.label, role, side.kind, side.code or "") for side, role in named]
        # One party per row: a second one (both sides non-state or former states) repeats the order row.
        for party in parties or [("", "", "", "")]:
            firsts.append(len(events[0]))
            for column, value in zip(events, order, strict=True):
                column.append(value)
            for column, value in zip(attributes, _deal_columns(deal, party), strict=True):
                column.append(shared.setdefault(value, value) if type(value) is str else value)
        for delivery in deal.deliveries:
            summary = SUMMARY_FINAL if delivery.stage == "completed" else SUMMARY_DELIVERY
            row = _event(
                deal.deal_id,
                delivery.line,
                delivery.date,
                delivery.stage,
                summary,
                delivery.quantity,
                delivery.notes,
                delivery.uncertain,
            )
            for column, value in zip(events, row, strict=True):
                column.append(value)
    count = len(events[0])
    data: dict[str, Any] = {}
    for name in _EVENT_COLUMNS:
        data[name] = _object_array(events.pop(0))  # each list let go once it is an array
    empty = empty_batch_values()
    for name in _DEAL_ATTRIBUTE_COLUMNS:
        column = [empty[name]] * count
        for index, value in zip(firsts, attributes.pop(0)):
            column[index] = value
        data[name] = _object_array(column)
    constants = {
        "source_key": source.key, "source_key_given": source.key, "source_title": source.title,
        "source_publisher": PUBLISHER, "source_url": SIPRI_URL, "source_date": source.date,
        "source_date_precision": "day" if source.date else None,
        "source_kind": "database", "reliability": RELIABILITY,
    }  # fmt: skip
    # Every other batch column (values, topic, a party's parent ...) as a row that does not give it.
    for name, value in {**empty, **constants}.items():
        if name not in data:
            data[name] = _constant(value, count)
    # One block per column, not copied: consolidating 43 columns of a SIPRI export's 90,000 events into one
    # block, then adding and reordering columns, held three copies of the batch (a 3.6 MB export: peak
    # 215 -> 140 MB, see bench/hostile_bench.py). dtype=object: pandas would infer Arrow strings.
    frame = pd.DataFrame({name: data[name] for name in BATCH_COLUMNS}, dtype=object, copy=False)
    for name in ("line", "credibility"):
        frame[name] = data[name].astype(np.int64)
    return frame


def _constant(value: Any, count: int) -> np.ndarray:
    """A read-only column of `count` rows that all hold `value`, stored once: a view with a stride of 0.

    A SIPRI export fills 24 of the batch's columns with one value (its source, grade, and the columns it
    has no data for); a full column of references for each was 17 MB of the 63 MB batch of the real
    3.6 MB export. pandas keeps the view as its block (copy=False) and copies it where it would write.
    """
    cell = np.empty(1, dtype=object)
    cell[0] = value
    return np.broadcast_to(cell, (count,))


def _object_array(values: Sequence[Any]) -> np.ndarray:
    """The values as a column of Python objects, each as it is (no type inference, no nesting)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _event(
    deal_id: str,
    line: int,
    date: PartialDate,
    stage: str,
    summary: str,
    quantity: int | None,
    notes: list[str],
    uncertain: bool,
) -> tuple[Any, ...]:
    """An event row in _EVENT_COLUMNS order."""
    return (
        line,
        deal_id,
        date.start,
        date.end,
        date.precision,
        date.text,
        stage,
        summary,
        "; ".join(notes),
        quantity,
        event_fingerprint(deal_id, date.text, stage, summary),
        CREDIBILITY_UNCERTAIN if uncertain else CREDIBILITY,
    )
