"""Exports of what the analyst found: the ledger in the upload format (CSV, or the "ledger rows" sheet of
an XLSX workbook), which imports back into the same ledger, and tables for reading.

The upload-format rows are derived from the column registry (tracker.columns): every column is written,
so importing an export of the whole ledger into an empty ledger gives the same ledger, deals with every
attribute, events, sources with their grades, credibilities, parties with kind, country and parent, and
every role; only ids and recorded times differ. Each event gets one row per source (and more rows when
more parties have a role through it than it has sources); the deal's own attributes ride on its first
row, each state's role on the first row of the event that stated it.

Every text cell that a spreadsheet would read as a formula is neutralised with a leading apostrophe
(the importer reads those cells back as they were).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from sqlalchemy import Engine, select

from tracker.attributes import DEAL_ATTRIBUTES
from tracker.columns import ALL_COLUMNS, COLUMN_BY_NAME, COLUMNS, stored_columns
from tracker.countries import country_by_code, is_former_state
from tracker.dates import canonical_date_text
from tracker.filters import SCOPE_RULE, SCOPES, Filters
from tracker.knowledge import event_is_current
from tracker.ledger_csv import FORMULA_STARTS, neutralise
from tracker.models import (
    Deal,
    DealExternalId,
    DealParty,
    DealTag,
    Event,
    EventSource,
    Party,
    Signpost,
    Source,
)
from tracker.queries import DEAL_TABLE_COLUMNS, DEAL_TABLE_DATES

__all__ = [
    "FORMULA_STARTS",
    "LEDGER_SHEET",
    "deal_parties",
    "ledger_rows",
    "ledger_workbook",
    "neutralise",
    "to_csv_bytes",
    "to_xlsx_bytes",
]

LEDGER_SHEET = "ledger rows"  # the workbook sheet in the upload format (tracker.workbook imports it)
# A date cell of each precision in a workbook: a real date, so that it sorts and filters as one, shown no
# more precisely than it was reported (a SIPRI "2023" is stored as 1 Jan 2023, and read "2023").
XLSX_DATE_FORMATS = {"day": "YYYY-MM-DD", "week": '"week of "YYYY-MM-DD', "month": "YYYY-MM", "year": "YYYY"}
_CHUNK = 5000


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [neutralise(c) for c in safe.columns]
    return safe


def _number(value: Any) -> str:
    """A number as the upload format reads it back exactly: 12, 1500000000, 0.1 (never 1e+22)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, int):
        return str(value)
    return format(Decimal(repr(float(value))), "f").removesuffix(".0")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _selected(engine: Engine, statement: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement)]


def _in_chunks(engine: Engine, statement: Any, key: Any, values: list[Any]) -> list[tuple[Any, ...]]:
    """The rows of `statement` whose `key` is among `values`, asked in chunks (parameterised)."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(values), _CHUNK):
        rows += _selected(engine, statement.where(key.in_(values[start : start + _CHUNK])))
    return rows


def ledger_rows(engine: Engine, filters: Filters) -> pd.DataFrame:
    """The filtered ledger as it is now, as upload-format rows (every column of tracker.columns),
    re-importable as is. Retracted events and removed tags are not in it (tracker.revisions)."""
    event_columns = {
        column.name: Event.__table__.c[column.stored[0].split(".", 1)[1]]
        for column in COLUMNS
        if column.lands == "event" and len(column.stored) == 1
    }
    events = _selected(
        engine,
        select(Event.id, Event.deal_id, Event.date_text, *event_columns.values())
        .join(Deal, Deal.id == Event.deal_id)
        .where(filters.deal_clause(), *filters.event_conditions(), event_is_current())
        .order_by(Event.deal_id, Event.occurred_on, Event.id),
    )
    event_ids = [row[0] for row in events]
    deal_ids = list(dict.fromkeys(row[1] for row in events))
    deals = _deal_cells(engine, deal_ids)
    sources = _source_cells(engine, event_ids)
    parties = _party_cells(engine, deal_ids, set(event_ids))
    signposts = _signpost_cells(engine, event_ids)

    out: list[dict[str, str]] = []
    seen_deals: set[str] = set()
    for event_id, deal_id, date_text, *values in events:
        cells = {"deal_id": deal_id, "date": date_text}
        cells.update(
            {name: _number(value) if isinstance(value, int | float) else _text(value)
             for name, value in zip(event_columns, values, strict=True)}
        )  # fmt: skip
        first_of_deal = deal_id not in seen_deals
        seen_deals.add(deal_id)
        by_source = sources.get(event_id, {})
        links = list(by_source.values()) or [{}]
        named = parties.named.get(event_id, [])
        if first_of_deal:
            named = named + parties.unplaced.get(deal_id, [])
        for index in range(max(len(links), len(named), 1)):
            row = dict(cells)
            row.update(links[min(index, len(links) - 1)])
            if index < len(named):
                row.update(named[index])
            if index == 0:
                row.update(parties.states.get(event_id, {}))
                if first_of_deal:
                    row.update(deals[deal_id])
                    for side, codes in parties.deal_states.get(deal_id, {}).items():
                        row[side] = ";".join(filter(None, (row.get(side, ""), codes)))
            out.append(row)
        # Each signpost on a row of its own, with the source that states it.
        for source_id, signpost in signposts.get(event_id, []):
            out.append({**cells, **by_source.get(source_id, links[0]), **signpost})
    frame = pd.DataFrame(out, columns=list(ALL_COLUMNS), dtype=object)
    return frame.fillna("")


def _deal_cells(engine: Engine, deal_ids: list[str]) -> dict[str, dict[str, str]]:
    """Each deal's own columns: title, summary, category, tags, quantity, value, TIV, external ids."""
    attribute_columns = [c for attribute in DEAL_ATTRIBUTES for c in attribute.deal_columns]
    rows = _in_chunks(
        engine, select(Deal.id, *(Deal.__table__.c[c] for c in attribute_columns)), Deal.id, deal_ids
    )
    tags: dict[str, list[str]] = defaultdict(list)
    for deal_id, tag in sorted(
        _in_chunks(
            engine,
            select(DealTag.deal_id, DealTag.tag).where(DealTag.removed_by.is_(None)),
            DealTag.deal_id,
            deal_ids,
        )
    ):
        tags[deal_id].append(tag)
    external: dict[str, list[str]] = defaultdict(list)
    for deal_id, scheme, external_id in sorted(
        _in_chunks(
            engine,
            select(DealExternalId.deal_id, DealExternalId.scheme, DealExternalId.external_id),
            DealExternalId.deal_id,
            deal_ids,
        )
    ):
        external[deal_id].append(f"{scheme}:{external_id}")
    cells: dict[str, dict[str, str]] = {}
    for deal_id, *values in rows:
        by_column = dict(zip(attribute_columns, values, strict=True))
        row: dict[str, str] = {
            "tags": ";".join(tags[deal_id]),
            "deal_external_ids": ";".join(external[deal_id]),
        }
        for attribute in DEAL_ATTRIBUTES:
            for batch_column, deal_column in zip(
                attribute.batch_columns, attribute.deal_columns, strict=True
            ):
                value = by_column[deal_column]
                row[_csv_column(batch_column)] = (
                    _number(value) if isinstance(value, int | float) else _text(value)
                )
        cells[deal_id] = row
    return cells


def _csv_column(batch_column: str) -> str:
    """The upload-format column that fills a batch column (its only one)."""
    return next(column.name for column in COLUMNS if batch_column in column.targets)


def _signpost_cells(engine: Engine, event_ids: list[int]) -> dict[int, list[tuple[int, dict[str, str]]]]:
    """Per event, its signposts' cells and the source each was stated by."""
    stored = stored_columns("signposts")
    rows = _in_chunks(
        engine,
        select(
            Signpost.event_id, Signpost.source_id, *(Signpost.__table__.c[c] for c in stored.values())
        ).order_by(Signpost.id),
        Signpost.event_id,
        event_ids,
    )
    cells: dict[int, list[tuple[int, dict[str, str]]]] = defaultdict(list)
    for event_id, source_id, *values in rows:
        by_target = dict(zip(stored, values, strict=True))
        cells[event_id].append(
            (
                source_id,
                {
                    "signpost_stage": by_target["signpost_stage"],
                    "signpost_by": by_target["signpost_text"],
                    "signpost_note": _text(by_target["signpost_note"]),
                },
            )
        )
    return cells


def _source_cells(engine: Engine, event_ids: list[int]) -> dict[int, dict[int, dict[str, str]]]:
    """Per event, one set of source cells per linked source, by source id in source order."""
    rows = _in_chunks(
        engine,
        select(
            EventSource.event_id,
            EventSource.credibility,
            EventSource.excerpt,
            Source.id,
            Source.key,
            Source.title,
            Source.publisher,
            Source.url,
            Source.published_on,
            Source.published_precision,
            Source.kind,
            Source.reliability,
        ).join(Source, Source.id == EventSource.source_id),
        EventSource.event_id,
        event_ids,
    )
    cells: dict[int, list[tuple[int, dict[str, str]]]] = defaultdict(list)
    for (
        event_id,
        credibility,
        excerpt,
        source_id,
        key,
        title,
        publisher,
        url,
        published,
        precision,
        kind,
        grade,
    ) in rows:
        cells[event_id].append(
            (
                source_id,
                {
                    "source_key": key,
                    "source_title": _text(title),
                    "source_publisher": _text(publisher),
                    "source_url": _text(url),
                    "source_date": canonical_date_text(published, precision) if published else "",
                    "source_kind": kind,
                    "reliability": grade,
                    "credibility": str(credibility),
                    "source_excerpt": _text(excerpt),
                },
            )
        )
    return {event_id: dict(sorted(links, key=lambda link: link[0])) for event_id, links in cells.items()}


class _PartyCells:
    """Where each role goes: states buying or selling on the row of the event that stated it, other
    parties on a row each; roles whose event is not exported go on the deal's first row."""

    def __init__(self) -> None:
        self.states: dict[int, dict[str, str]] = {}
        self.deal_states: dict[str, dict[str, str]] = {}  # by deal, for roles stated by events not exported
        self.named: dict[int, list[dict[str, str]]] = defaultdict(list)
        self.unplaced: dict[str, list[dict[str, str]]] = defaultdict(list)


def _party_cells(engine: Engine, deal_ids: list[str], event_ids: set[int]) -> _PartyCells:
    roles = _in_chunks(
        engine,
        select(
            DealParty.deal_id,
            DealParty.event_id,
            DealParty.role,
            Party.id,
            Party.name,
            Party.kind,
            Party.country_code,
            Party.parent_id,
        ).join(Party, Party.id == DealParty.party_id),
        DealParty.deal_id,
        deal_ids,
    )
    parent_ids = sorted({row[7] for row in roles if row[7] is not None})
    parents = {
        party_id: (name, kind, code)
        for party_id, name, kind, code in _in_chunks(
            engine, select(Party.id, Party.name, Party.kind, Party.country_code), Party.id, parent_ids
        )
    }
    placed = _PartyCells()
    states: dict[int | str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for deal_id, event_id, role, _party_id, name, kind, code, parent_id in sorted(
        roles, key=lambda r: (r[0], r[1] or 0, r[2], r[4], r[3])
    ):
        known_event = event_id in event_ids
        if kind == "state" and role in ("buyer", "seller") and code and not is_former_state(code):
            # On the row of the event that stated it; else (an event the filters leave out) the deal's first.
            states[event_id if known_event else deal_id][role].append(code)
            continue
        cells = {
            "party": name,
            "party_role": role,
            "party_kind": kind,
            "party_country": _text(code),
            "party_parent": _parent_cell(parents.get(parent_id)),
        }
        if known_event:
            placed.named[event_id].append(cells)
        else:
            placed.unplaced[deal_id].append(cells)
    for where, sides in states.items():
        cells = {"buyer": ";".join(sides["buyer"]), "seller": ";".join(sides["seller"])}
        if isinstance(where, str):
            placed.deal_states[where] = cells
        else:
            placed.states[where] = cells
    return placed


def _parent_cell(parent: tuple[str, str, str | None] | None) -> str:
    """A parent as the importer finds it again: a current state by its code, any other party by name."""
    if parent is None:
        return ""
    name, kind, code = parent
    if kind == "state" and code and not is_former_state(code):
        try:
            return country_by_code(code).code
        except KeyError:
            return name
    return name


def deal_parties(engine: Engine, filters: Filters) -> pd.DataFrame:
    statement = (
        select(
            DealParty.deal_id,
            Party.name.label("party"),
            Party.kind.label("party_kind"),
            Party.country_code.label("party_country"),
            DealParty.role.label("party_role"),
        )
        .join(Party, Party.id == DealParty.party_id)
        .join(Deal, Deal.id == DealParty.deal_id)
        .where(filters.deal_clause())
        .order_by(DealParty.deal_id, DealParty.role, Party.name)
    )
    with engine.connect() as connection:
        return pd.DataFrame(
            connection.execute(statement).all(), columns=[c.name for c in statement.selected_columns]
        )


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, so spreadsheet programs read non-ASCII names correctly."""
    return neutralise_frame(frame).to_csv(index=False).encode("utf-8-sig")


def _xlsx_safe(value: Any) -> Any:
    """Characters XML cannot hold (control characters SIPRI texts carry) shown as U+FFFD, not an error."""
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def to_xlsx_bytes(
    sheets: Mapping[str, pd.DataFrame],
    *,
    notes: Mapping[str, str] | None = None,
    number_formats: Mapping[str, Mapping[str, Sequence[str | None]]] | None = None,
) -> bytes:
    """A workbook with one sheet per frame (readable headers, frozen, with filters and fitted widths), and
    an "about" sheet listing `notes` (what the workbook holds, its filters, when it was made).

    `number_formats`: per sheet and column, a number format for each row's cell (None: the default)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe = neutralise_frame(frame).map(_xlsx_safe)
            safe.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for column, formats in (number_formats or {}).get(name, {}).items():
                letter = get_column_letter(safe.columns.get_loc(column) + 1)
                for row, number_format in enumerate(formats, start=2):
                    if number_format is not None:
                        sheet[f"{letter}{row}"].number_format = number_format
            sheet.freeze_panes = "A2"
            if len(safe.columns):
                sheet.auto_filter.ref = f"A1:{get_column_letter(len(safe.columns))}{len(safe) + 1}"
            for position, column in enumerate(safe.columns, start=1):
                longest = max([len(str(column)), *(len(str(v)) for v in safe[column].head(200))], default=8)
                sheet.column_dimensions[get_column_letter(position)].width = min(max(longest + 2, 8), 60)
        if notes:
            about = pd.DataFrame({"": list(notes), " ": [_xlsx_safe(neutralise(v)) for v in notes.values()]})
            about.to_excel(writer, sheet_name="about", index=False, header=False)
            writer.sheets["about"].column_dimensions["A"].width = 24
            writer.sheets["about"].column_dimensions["B"].width = 100
    return buffer.getvalue()


def column_notes() -> dict[str, str]:
    """What each upload-format column holds, for a workbook's "about" sheet (from the registry)."""
    return {name: COLUMN_BY_NAME[name].meaning.replace("`", "") for name in ALL_COLUMNS}


def ledger_workbook(
    engine: Engine,
    filters: Filters,
    *,
    deals: pd.DataFrame | None = None,
    rows: pd.DataFrame | None = None,
    caption: str | None = None,
    made_at: dt.datetime | None = None,
) -> bytes:
    """The XLSX export: the deals table when given (`tracker.queries.deals_table`, under the column names
    people read), the "ledger rows" sheet in the upload format (it imports back), the parties, and an
    "about" sheet: the filters, the scope, which moment of the ledger it holds, when it was made, and what
    each sheet and column holds. `rows`: the ledger rows when the caller has them already."""
    made = (made_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    sheets: dict[str, pd.DataFrame] = {}
    number_formats: dict[str, dict[str, list[str | None]]] = {}
    if deals is not None:
        sheets["deals"] = deals[list(DEAL_TABLE_COLUMNS)].rename(columns=DEAL_TABLE_COLUMNS)
        number_formats["deals"] = {
            DEAL_TABLE_COLUMNS[stored]: [
                XLSX_DATE_FORMATS[precision] if isinstance(precision, str) else None
                for precision in deals[precisions]
            ]
            for stored, precisions, _ in DEAL_TABLE_DATES
        }
    sheets[LEDGER_SHEET] = ledger_rows(engine, filters) if rows is None else rows
    sheets["parties"] = deal_parties(engine, filters)
    scope = SCOPES[filters.scope]
    notes = {
        "Workbook": "Defense-deal tracker export",
        "Filters": caption or filters.caption(),
        "Scope": f"{scope}. {SCOPE_RULE}"
        if filters.scope != "all"
        else f"{scope}: every deal in the ledger.",
        # ledger_rows reads the ledger as it is: an as-of date chosen on the dashboard does not apply here.
        "Ledger as of": "now: the ledger as it was when the workbook was made (retracted events left out)",
        "Exported": made,
        "Sheets": (
            ("deals: the deals table as shown on the Deals page; " if deals is not None else "")
            + f"{LEDGER_SHEET}: the ledger in the upload format (import this workbook, or this sheet saved "
            "as CSV, to get the same ledger); parties: every party's role in each deal; about: this sheet."
        ),
        "Formulas": "Cells that a spreadsheet would read as a formula start with an apostrophe.",
        "Dates": (
            "deals: real dates, shown as precisely as they were reported: 2023 (a year), 2025-07 (a month), "
            "week of 2025-09-22, 2025-10-17 (a day); a year or a month is stored as its first day."
        ),
        **{f"column {name}": meaning for name, meaning in column_notes().items()},
    }
    return to_xlsx_bytes(sheets, notes=notes, number_formats=number_formats)
