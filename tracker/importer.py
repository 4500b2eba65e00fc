"""The one import path: every file (seed, CLI, upload page) is read, validated, planned and written here.

A file is validated completely before anything is written; the plan is then computed again inside
the write transaction (holding the ledger's write lock), so concurrent imports cannot interleave.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Integer, Table, bindparam, delete, func, insert, select, update

from tracker import formats
from tracker.countries import country_by_code, resolve_country
from tracker.db import refresh_planner_statistics, write_transaction
from tracker.errors import ImportRejected, InvalidValue, Problem, UndoRefused
from tracker.ledger_csv import Batch, party_key
from tracker.memory import cycle_collection_paused
from tracker.models import (
    Deal,
    DealChange,
    DealExternalId,
    DealParty,
    DealTag,
    Event,
    EventSource,
    Import,
    Party,
    Source,
)
from tracker.stages import deal_status

Progress = Callable[[float, str], None]
CHUNK = 5000
# The upload page's limit, the same as server.maxUploadSize in .streamlit/config.toml; the CLI has none.
UPLOAD_LIMIT_BYTES = 50_000_000
DEAL_FIELDS: dict[str, str] = {  # batch column -> deals column
    "deal_title": "title",
    "deal_summary": "summary",
    "category": "category",
    "deal_quantity": "quantity",
    "deal_sipri_tiv": "sipri_tiv",
}
VALUE_FIELD = "value"  # value_low, value_high and currency change together, as one claim


@dataclass(frozen=True, slots=True)
class DealChangeRow:
    deal_id: str
    field: str
    old: str | None
    new: str | None


@dataclass(slots=True)
class ImportReport:
    """What an import did, or (dry run) would do."""

    file_name: str
    sha256: str
    format: str
    encoding: str
    rows_read: int
    dry_run: bool
    import_id: int | None = None
    snapshot_on: dt.date | None = None
    deals_created: list[str] = field(default_factory=list)
    deals_updated: list[str] = field(default_factory=list)
    events_added: int = 0
    sources_added: int = 0
    parties_added: int = 0
    links_added: int = 0
    roles_added: int = 0
    duplicates_skipped: int = 0
    changes: list[DealChangeRow] = field(default_factory=list)
    new_events: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def nothing_new(self) -> bool:
        return not (
            self.deals_created
            or self.deals_updated
            or self.events_added
            or self.sources_added
            or self.parties_added
            or self.links_added
            or self.roles_added
            or self.changes
        )

    def describe(self) -> str:
        """One line for the CLI and the upload page."""
        verb = "would add" if self.dry_run else "added"
        if self.nothing_new:
            return f"{self.file_name}: nothing new; all {self.rows_read} rows are already in the ledger."
        head = f"Import #{self.import_id}: " if self.import_id else ""
        return (
            f"{head}{self.file_name}: {self.rows_read} rows read; {verb} {self.events_added} events, "
            f"{len(self.deals_created)} new deals, {len(self.deals_updated)} deals updated, "
            f"{self.sources_added} sources, {self.parties_added} parties; "
            f"{self.duplicates_skipped} rows already in the ledger (skipped)."
        )


@dataclass(frozen=True, slots=True)
class UndoReport:
    import_id: int
    file_name: str
    events_removed: int
    deals_removed: int
    deals_restored: int


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def import_bytes(
    engine: Engine,
    data: bytes,
    *,
    file_name: str,
    editor: str,
    dry_run: bool = False,
    max_bytes: int | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a file (ledger CSV or a SIPRI export, detected from its content) as one transaction.

    Raises ImportRejected with every problem found; the ledger is then unchanged. `now` (naive UTC)
    stamps the import and its events instead of the clock, for replaying history and for tests.
    """
    report_progress = progress or (lambda _fraction, _text: None)
    if max_bytes is not None and len(data) > max_bytes:
        raise ImportRejected(
            [
                Problem(
                    None,
                    None,
                    None,
                    f"the file is {len(data) / 1e6:.1f} MB; uploads are limited to {max_bytes / 1e6:.0f} MB",
                    "Split it into smaller files, or import it with the CLI: python -m tracker import FILE",
                )
            ]
        )
    started = now or _now()
    with cycle_collection_paused():
        report_progress(0.05, "Reading the file")
        batch, encoding = formats.read_batch(data, today=today)
        report = ImportReport(
            file_name=_safe_file_name(file_name),
            sha256=hashlib.sha256(data).hexdigest(),
            format=batch.format,
            encoding=encoding,
            rows_read=batch.rows_read,
            dry_run=dry_run,
            snapshot_on=batch.snapshot_on,
        )
        report_progress(0.3, "Checking the rows against the ledger")
        if dry_run:
            with engine.connect() as connection:
                _plan(connection, batch, report)
            return report
        with write_transaction(engine, references_resolved=True) as connection:
            plan = _plan(connection, batch, report)
            if report.nothing_new:
                return report
            report_progress(0.6, "Writing to the ledger")
            _apply(connection, plan, report, editor=_safe_editor(editor), started=started, now=now or _now())
            refresh_planner_statistics(connection)
    report_progress(1.0, "Done")
    return report


def _safe_file_name(name: str) -> str:
    """The browser sends any name it likes: keep the last path part, printable, at most 255 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return (cleaned or "upload.csv")[:255]


def _safe_editor(name: str) -> str:
    """Who imported, as recorded: printable, at most 100 characters (imports.editor; `--editor`
    takes any text)."""
    return ("".join(ch for ch in name if ch.isprintable()).strip() or "unknown")[:100]


# --- reading the ledger -------------------------------------------------------------------------------


def _select_in(
    connection: Connection, columns: Sequence[Any], key: Any, values: Iterable[Any]
) -> pd.DataFrame:
    """Rows whose `key` is among `values`, fetched in chunks (parameterised, never interpolated)."""
    values = list(values)
    names = [c.key for c in columns]
    frames = []
    statement = select(*columns).where(key.in_(bindparam("values", expanding=True)))
    for start in range(0, len(values), CHUNK):
        rows = connection.execute(statement, {"values": values[start : start + CHUNK]}).all()
        if rows:
            # As plain tuples: given Row objects, pandas probes each one with hasattr(), which costs a
            # KeyError inside SQLAlchemy per row (a second of a 28,000-deal SIPRI re-import).
            frames.append(pd.DataFrame([tuple(row) for row in rows], columns=names, dtype=object))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=names, dtype=object)


def _next_id(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


# --- planning -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    batch: Batch
    new_deals: pd.DataFrame
    deal_updates: pd.DataFrame
    changes: pd.DataFrame
    new_events: pd.DataFrame
    event_ids: dict[str, int]
    new_sources: pd.DataFrame
    source_ids: dict[str, int]
    new_links: pd.DataFrame
    new_parties: pd.DataFrame
    new_roles: pd.DataFrame
    new_tags: pd.DataFrame
    new_external_ids: pd.DataFrame
    touched_deals: list[str]


def _mapped(series: pd.Series, mapping: dict[Any, Any]) -> pd.Series:
    """`series.map(mapping)`, None where a key is missing, without pandas' re-indexing and dtype inference."""
    return pd.Series(list(map(mapping.get, series.tolist())), index=series.index, dtype=object)


class _Grouped:
    """Rows grouped by one key column, for the first value each key is given and for disagreements.

    The key is factorized once, and each column's non-empty cells are found once, for both uses.
    """

    def __init__(self, rows: pd.DataFrame, key: str) -> None:
        self.rows = rows
        self.key = key
        self.codes, self.keys = pd.factorize(rows[key].to_numpy())
        self._given: dict[str, np.ndarray] = {}

    def values(self, column: str) -> np.ndarray:
        return self.rows[column].to_numpy(dtype=object)

    def given(self, column: str) -> np.ndarray:
        """Which cells of `column` are non-empty (neither missing nor blank)."""
        if column not in self._given:
            values = self.values(column)
            self._given[column] = pd.notna(values) & (values != "")
        return self._given[column]

    def first(self, columns: Sequence[str]) -> pd.DataFrame:
        """The first non-empty value of each column per key (rows are in file order; None when no row gives
        one).

        Indexed by key, in order of first appearance.
        """
        order = np.argsort(self.codes, kind="stable")  # rows grouped by key, each group in file order
        grouped_codes = self.codes[order]
        first: dict[str, np.ndarray] = {}
        for column in columns:
            values = self.values(column)
            given = self.given(column)[order]
            at, run = order[given], grouped_codes[given]
            starts = np.flatnonzero(np.concatenate(([True], run[1:] != run[:-1]))) if len(run) else run
            first[column] = np.full(len(self.keys), None, dtype=object)
            first[column][run[starts]] = values[at[starts]]
        return pd.DataFrame(first, index=pd.Index(self.keys, name=self.key, dtype=object), dtype=object)

    def disagreements(self, columns: Sequence[str], what: str, problems: list[Problem]) -> None:
        """Rows that describe the same thing (the key) must not give it different values."""
        key, codes = self.key, self.codes
        for column in columns:
            values = self.values(column)
            given = np.flatnonzero(self.given(column))
            if not len(given):
                continue
            value_codes, distinct_values = pd.factorize(values[given])
            # Each distinct (key, value) pair once, sorted by key: a key listed twice has two different
            # values.
            pairs = np.unique(codes[given] * len(distinct_values) + value_codes)
            pair_keys = pairs // len(distinct_values)
            clashing = np.unique(pair_keys[1:][pair_keys[1:] == pair_keys[:-1]])
            if not len(clashing):
                continue
            present = self.rows.iloc[given][[key, column, "line"]]  # only these columns: rows may be wide
            for key_value in pd.unique(self.rows[key].to_numpy()[given][np.isin(codes[given], clashing)]):
                clash = present[present[key] == key_value]
                first_line, first_value = int(clash["line"].iloc[0]), clash[column].iloc[0]
                # Name the column as the analyst's file does, not as the batch does ("event_value_high").
                name = _FILE_COLUMN.get(column, column)
                for line, value in zip(clash["line"], clash[column]):
                    if value != first_value:
                        problems.append(
                            Problem(
                                int(line),
                                name,
                                _shown(value),
                                f"{what} as line {first_line}, which gives {name} {_shown(first_value)}",
                                "Make the rows agree, or give the differing claim its own summary.",
                            )
                        )


_FILE_COLUMN = {
    "event_quantity": "quantity",
    "event_value_low": "value_low",
    "event_value_high": "value_high",
    "event_currency": "currency",
    "credibility_given": "credibility",
    "kind": "party_kind",
}


def _shown(value: Any) -> str:
    """A value as an analyst would write it: 400000000, not 400000000.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _plan(connection: Connection, batch: Batch, report: ImportReport) -> _Plan:
    rows = batch.rows
    problems: list[Problem] = []

    # Deals
    deal_ids = list(dict.fromkeys(rows["deal_id"].tolist()))
    existing = _select_in(
        connection,
        [
            Deal.id,
            Deal.title,
            Deal.summary,
            Deal.category,
            Deal.quantity,
            Deal.value_low,
            Deal.value_high,
            Deal.currency,
            Deal.sipri_tiv,
        ],
        Deal.id,
        deal_ids,
    ).set_index("id")
    is_new = ~rows["deal_id"].isin(existing.index)
    titled = set(rows.loc[rows["deal_title"] != "", "deal_id"])
    untitled = rows[is_new & ~rows["deal_id"].isin(titled)].drop_duplicates("deal_id")
    for deal_id, line in zip(untitled["deal_id"], untitled["line"]):
        problems.append(
            Problem(
                int(line),
                "deal_title",
                "",
                f"deal {deal_id} is new to the ledger and has no title",
                "Give deal_title on at least one row of this deal (or check the deal_id for a typo).",
            )
        )

    changes, final_values = _attribute_changes(rows, existing)
    # A new deal's first values are its creation, not changes: only deals already in the ledger get them.
    changes = changes[changes["deal_id"].isin(existing.index)].reset_index(drop=True)

    # Events: identical rows (deal, date, stage, summary) are one event, told by one or more sources.
    event_rows = _Grouped(rows, "fingerprint")
    event_claim_columns = [
        "event_quantity",
        "event_value_low",
        "event_value_high",
        "event_currency",
        "note",
        "topic",
    ]
    event_rows.disagreements(event_claim_columns, "this row describes the same event", problems)
    # A fingerprint includes the deal, so only deals already in the ledger can have known events.
    known_deal_ids = [d for d in deal_ids if d in existing.index]
    known_events = _select_in(connection, [Event.fingerprint, Event.id], Event.deal_id, known_deal_ids)
    event_ids: dict[str, int] = dict(zip(known_events["fingerprint"], known_events["id"].astype(int)))
    first_telling = ~rows["fingerprint"].duplicated()
    if event_ids:
        first_telling &= ~rows["fingerprint"].isin(set(event_ids))
    # Only the event's own columns: taking every batch column of 100,000 rows costs a fifth of a second.
    new_events = rows.loc[
        first_telling,
        [
            "line",
            "deal_id",
            "date_start",
            "date_end",
            "date_precision",
            "date_text",
            "stage",
            "summary",
            "fingerprint",
        ],
    ]
    event_claims = event_rows.first(event_claim_columns)
    next_event = _next_id(connection, Event.__table__)
    new_events["event_id"] = range(next_event, next_event + len(new_events))
    event_ids.update(zip(new_events["fingerprint"].tolist(), new_events["event_id"].tolist()))
    claims_of_new = event_claims.reindex(pd.Index(new_events["fingerprint"].tolist(), dtype=object))
    for column in event_claims.columns:
        new_events[column] = pd.Series(claims_of_new[column].to_numpy(), index=new_events.index, dtype=object)

    # Sources
    source_rows = _Grouped(rows, "source_key")
    source_rows.disagreements(["reliability"], "this row names the same source", problems)
    keys = list(dict.fromkeys(rows["source_key"].tolist()))
    known_sources = _select_in(connection, [Source.key, Source.id, Source.reliability], Source.key, keys)
    known_grade = dict(zip(known_sources["key"], known_sources["reliability"]))
    clash = (
        rows["source_key"].isin(known_grade)
        & (rows["reliability"] != "")
        & (rows["reliability"] != _mapped(rows["source_key"], known_grade))
    )
    for line, key, grade in zip(
        rows.loc[clash, "line"], rows.loc[clash, "source_key"], rows.loc[clash, "reliability"]
    ):
        problems.append(
            Problem(
                int(line),
                "reliability",
                grade,
                f"this source is graded {known_grade[key]} in the ledger",
                f"Use {known_grade[key]}, or leave reliability empty to keep the ledger's grade.",
            )
        )
    source_ids: dict[str, int] = dict(zip(known_sources["key"], known_sources["id"].astype(int)))
    source_claims = source_rows.first(
        [
            "source_title",
            "source_publisher",
            "source_url",
            "source_date",
            "source_date_precision",
            "source_kind",
            "reliability",
        ]
    )
    new_sources = source_claims[~source_claims.index.isin(list(source_ids))].reset_index()
    next_source = _next_id(connection, Source.__table__)
    new_sources["source_id"] = range(next_source, next_source + len(new_sources))
    new_sources["reliability"] = new_sources["reliability"].fillna("F")
    source_ids.update(zip(new_sources["source_key"], new_sources["source_id"]))

    # Event-source links, with the credibility of the claim
    links = rows[["line", "fingerprint", "source_key", "credibility"]].copy()
    links["event_id"] = _mapped(links["fingerprint"], event_ids)
    links["source_id"] = _mapped(links["source_key"], source_ids)
    # One integer per (event, source) pair: cheaper to group and compare than "event:source" strings.
    pair_base = max(source_ids.values(), default=0) + 1
    links["pair"] = links["event_id"].astype("int64") * pair_base + links["source_id"].astype("int64")
    links["credibility_given"] = links["credibility"].where(links["credibility"] > 0, None)
    _Grouped(links, "pair").disagreements(
        ["credibility_given"], "this row gives the same event and source", problems
    )
    known_links = _select_in(
        connection,
        [EventSource.event_id, EventSource.source_id],
        EventSource.event_id,
        [int(i) for i in known_events["id"]],
    )
    known_pairs = set(
        known_links["event_id"].astype("int64") * pair_base + known_links["source_id"].astype("int64")
    )
    unique_links = links.drop_duplicates("pair")
    new_links = unique_links[~unique_links["pair"].isin(known_pairs)].copy()
    new_links["credibility"] = new_links["credibility"].where(new_links["credibility"] > 0, 6)

    # Parties and their roles
    new_parties, roles = _plan_parties(connection, rows, event_ids, problems)
    known_roles = _select_in(
        connection, [DealParty.deal_id, DealParty.party_id, DealParty.role], DealParty.deal_id, known_deal_ids
    )
    known_role_keys = set(_role_keys(known_roles))
    roles["key"] = pd.Series(_role_keys(roles), index=roles.index, dtype=object)
    new_roles = roles.drop_duplicates("key")
    new_roles = new_roles[~new_roles["key"].isin(known_role_keys)]

    # Tags and external ids are additive
    tag_pairs = rows.loc[rows["tags"] != "", ["deal_id", "tags"]].drop_duplicates()
    tag_pairs = tag_pairs.assign(tag=tag_pairs["tags"].str.split(";")).explode("tag")[["deal_id", "tag"]]
    tag_pairs = tag_pairs.drop_duplicates()
    known_tags = _select_in(connection, [DealTag.deal_id, DealTag.tag], DealTag.deal_id, known_deal_ids)
    new_tags = tag_pairs[
        ~(tag_pairs["deal_id"] + "|" + tag_pairs["tag"]).isin(
            set(known_tags["deal_id"] + "|" + known_tags["tag"])
        )
    ]
    new_external_ids = _plan_external_ids(connection, rows, problems)
    # A duplicate row is one that adds nothing: no new event-source link, role or attribute change.
    adding_lines = (
        set(new_links["line"].tolist()) | set(new_roles["line"].tolist()) | set(changes["line"].tolist())
    )
    # Counted in file records (lines): a SIPRI record gives several batch rows, a ledger CSV row one.
    duplicate_rows = int(rows.loc[~rows["line"].isin(adding_lines), "line"].nunique())

    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.column or ""))
        raise ImportRejected(problems)

    new_deal_ids = [d for d in deal_ids if d not in existing.index]
    new_deals = final_values.loc[new_deal_ids].reset_index()
    updated_deals = final_values.loc[[d for d in final_values.index if d in existing.index]]
    changed_deals = set(changes["deal_id"]) - set(new_deal_ids)
    deal_updates = updated_deals.loc[[d for d in updated_deals.index if d in changed_deals]].reset_index()
    touched = (
        set(new_events["deal_id"].tolist())
        | changed_deals
        | set(new_roles["deal_id"].tolist())
        | set(new_tags["deal_id"].tolist())
        | set(rows.loc[rows["fingerprint"].isin(set(new_links["fingerprint"].tolist())), "deal_id"].tolist())
    )
    report.deals_created = new_deal_ids
    created = set(new_deal_ids)
    report.deals_updated = [d for d in deal_ids if d in touched and d not in created]
    report.events_added = len(new_events)
    report.sources_added = len(new_sources)
    report.parties_added = len(new_parties)
    report.links_added = len(new_links)
    report.roles_added = len(new_roles)
    report.duplicates_skipped = duplicate_rows
    report.changes = [
        DealChangeRow(d, f, o, n)
        for d, f, o, n in zip(
            changes["deal_id"], changes["field"], changes["old_value"], changes["new_value"]
        )
    ]
    report.new_events = new_events[["line", "deal_id", "date_text", "stage", "summary"]].reset_index(
        drop=True
    )
    return _Plan(
        batch=batch,
        new_deals=new_deals,
        deal_updates=deal_updates,
        changes=changes,
        new_events=new_events,
        event_ids=event_ids,
        new_sources=new_sources,
        source_ids=source_ids,
        new_links=new_links,
        new_parties=new_parties,
        new_roles=new_roles,
        new_tags=new_tags,
        new_external_ids=new_external_ids,
        touched_deals=sorted(touched | set(new_deal_ids)),
    )


def _role_keys(roles: pd.DataFrame) -> list[str]:
    return [
        f"{deal_id}|{party_id}|{role}"
        for deal_id, party_id, role in zip(
            roles["deal_id"].tolist(), roles["party_id"].tolist(), roles["role"].tolist()
        )
    ]


def _value_text(low: Any, high: Any, currency: Any) -> str | None:
    if low is None and high is None:
        return None
    low_text = "" if low is None else repr(float(low))
    high_text = "" if high is None else repr(float(high))
    return f"{low_text}|{high_text}|{currency or ''}"


def _text_of(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _texts(values: list[Any]) -> list[str | None]:
    """`_text_of` of each value, blank cells None; computed once per distinct value."""
    distinct = {value: (_text_of(value) if value != "" else None) for value in set(values)}
    return [distinct[value] for value in values]


def _attribute_changes(rows: pd.DataFrame, existing: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The change each file makes to each deal attribute, and each deal's values after the import.

    Per deal and attribute the claim of the latest event wins (file order breaks ties), and one change
    from the ledger's value to it is recorded, or none when they are equal: re-importing a file, or the
    same claims in another order, changes nothing.
    """
    # Most rows claim no deal attribute: only those that do are read and sorted.
    valued = rows["deal_value_low"].notna() | rows["deal_value_high"].notna()
    claiming = valued.copy()
    for column in DEAL_FIELDS:
        claiming |= rows[column].notna() & (rows[column] != "")
    claimed = rows[claiming]
    # Object columns throughout: inferring Arrow strings for each new column costs more than the work here.
    claims = pd.DataFrame(
        {
            "deal_id": claimed["deal_id"].to_numpy(dtype=object),
            "date": claimed["date_start"].to_numpy(dtype=object),
            **{field_name: _texts(claimed[column].tolist()) for column, field_name in DEAL_FIELDS.items()},
            VALUE_FIELD: _value_texts(claimed, valued[claiming].tolist()),
        },
        dtype=object,
    )
    claims["line"] = claimed["line"].to_numpy()
    claims = claims.sort_values(["date", "line"], kind="stable")
    deal_ids = list(dict.fromkeys(rows["deal_id"].tolist()))
    known = existing.reindex(deal_ids)
    final = pd.DataFrame(
        {
            **{
                field_name: [_text_of(v) for v in known[field_name].tolist()]
                for field_name in DEAL_FIELDS.values()
            },
            VALUE_FIELD: [
                _value_text(_none(lo), _none(hi), _none(cur))
                for lo, hi, cur in zip(
                    known["value_low"].tolist(), known["value_high"].tolist(), known["currency"].tolist()
                )
            ],
        },
        index=pd.Index(deal_ids, name="deal_id", dtype=object),
        dtype=object,
    )
    changes = []
    for field_name in [*DEAL_FIELDS.values(), VALUE_FIELD]:
        given = claims.loc[claims[field_name].notna(), ["deal_id", "line", field_name]]
        if given.empty:
            continue
        last = given.groupby("deal_id", sort=False).last()
        old = final.loc[last.index, field_name]
        moved = last[last[field_name] != old]
        if moved.empty:
            continue
        changes.append(
            pd.DataFrame(
                {
                    "deal_id": moved.index,
                    "line": moved["line"].tolist(),
                    "field": field_name,
                    "old_value": old[moved.index].tolist(),
                    "new_value": moved[field_name].tolist(),
                }
            )
        )
        final.loc[moved.index, field_name] = moved[field_name]
    columns = ["deal_id", "line", "field", "old_value", "new_value"]
    all_changes = pd.concat(changes, ignore_index=True) if changes else pd.DataFrame(columns=columns)
    all_changes = all_changes.astype(object).where(all_changes.notna(), None)
    return all_changes.sort_values("line", kind="stable").reset_index(drop=True), final


def _value_texts(rows: pd.DataFrame, valued: list[bool]) -> list[str | None]:
    """The value claim of each row (None where it gives none), computed once per distinct claim."""
    claims = list(
        zip(rows["deal_value_low"].tolist(), rows["deal_value_high"].tolist(), rows["deal_currency"].tolist())
    )
    distinct = {claim: _value_text(*map(_none, claim)) for claim in set(claims)}
    return [distinct[claim] if has_value else None for has_value, claim in zip(valued, claims)]


def _none(value: Any) -> Any:
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return None
    return value


def _plan_external_ids(connection: Connection, rows: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    given = rows.loc[rows["external_id"] != "", ["line", "deal_id", "external_scheme", "external_id"]]
    given = given.drop_duplicates(["external_scheme", "external_id", "deal_id"])
    if given.empty:
        return given
    known = _select_in(
        connection,
        [DealExternalId.scheme, DealExternalId.external_id, DealExternalId.deal_id],
        DealExternalId.external_id,
        list(dict.fromkeys(given["external_id"])),
    )
    owner = {(s, e): d for s, e, d in zip(known["scheme"], known["external_id"], known["deal_id"])}
    fresh = []
    for line, deal_id, scheme, external in given.itertuples(index=False):
        holder = owner.get((scheme, external))
        if holder is None:
            owner[(scheme, external)] = deal_id
            fresh.append((deal_id, scheme, external))
        elif holder != deal_id:
            problems.append(
                Problem(
                    int(line),
                    "external_id",
                    external,
                    f"{scheme} id {external} already belongs to deal {holder}",
                    f"Use deal_id {holder} for this record, or correct the id.",
                )
            )
    return pd.DataFrame(fresh, columns=["deal_id", "external_scheme", "external_id"])


def _former_state(code: str) -> bool:
    """A state code that is no current ISO 3166-1 code (SUN, YUG... ; only tracker.sipri gives these)."""
    try:
        country_by_code(code)
    except KeyError:
        return True
    return False


def _plan_parties(
    connection: Connection, rows: pd.DataFrame, event_ids: dict[str, int], problems: list[Problem]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """New parties (states from buyer/seller, named parties from the party columns) and their deal roles."""
    columns = ["line", "deal_id", "fingerprint", "key", "country", "role", "name", "kind"]
    states = []
    for role, column in (("buyer", "buyers"), ("seller", "sellers")):
        given = rows.loc[
            rows[column].notna() & (rows[column] != ""), ["line", "deal_id", "fingerprint", column]
        ]
        given = given.assign(country=given[column].str.split(";")).explode("country")
        # A state's role in a deal is stated once; the first row that says so is its provenance.
        given = given.drop_duplicates(["deal_id", "country"])
        names = {code: country_by_code(code).name for code in given["country"].unique()}
        states.append(
            pd.DataFrame(
                {
                    "line": given["line"],
                    "deal_id": given["deal_id"],
                    "fingerprint": given["fingerprint"],
                    "key": "state:" + given["country"],
                    "country": given["country"],
                    "role": role,
                    "name": given["country"].map(names),
                    "kind": "state",
                },
                columns=columns,
            )
        )
    claims: list[tuple[int, str, str, str, str | None, str, str, str]] = []
    named = rows.loc[
        rows["party"] != "",
        [
            "line",
            "deal_id",
            "fingerprint",
            "party",
            "party_role",
            "party_kind",
            "party_country",
            "party_parent",
        ],
    ]
    parents: dict[str, tuple[int, str]] = {}
    for line, deal_id, fp, name, role, kind, country, parent in zip(
        *(named[c].tolist() for c in named.columns)
    ):
        if kind == "state" and country and _former_state(country):
            # A state that no longer exists (from a SIPRI export: "Soviet Union", SUN), keyed by its code.
            claims.append((int(line), deal_id, fp, f"state:{country}", country, role, name, "state"))
            continue
        if kind == "state":
            try:
                state = resolve_country(name)
            except InvalidValue as exc:
                problems.append(Problem(int(line), "party", name, exc.message, exc.fix))
                continue
            claims.append(
                (int(line), deal_id, fp, f"state:{state.code}", state.code, role, state.name, "state")
            )
            continue
        key = party_key(name, country or None)
        claims.append((int(line), deal_id, fp, key, country or None, role, name, kind))
        if parent:
            parents.setdefault(key, (int(line), parent))
    frame = pd.concat([*states, pd.DataFrame(claims, columns=columns)], ignore_index=True).astype(object)
    _Grouped(frame[frame["kind"] != ""], "key").disagreements(
        ["kind"], "this row names the same party", problems
    )

    keys = list(dict.fromkeys(frame["key"]))
    known = _select_in(
        connection, [Party.key, Party.id, Party.kind, Party.name, Party.country_code], Party.key, keys
    )
    party_ids: dict[str, int] = dict(zip(known["key"], known["id"].astype(int)))
    first = frame.drop_duplicates("key")
    defined_kind = _Grouped(frame, "key").first(["kind"])["kind"]
    fresh = first[~first["key"].isin(party_ids)].copy()
    fresh["kind"] = _mapped(fresh["key"], defined_kind.to_dict())
    for line, name in zip(fresh.loc[fresh["kind"].isna(), "line"], fresh.loc[fresh["kind"].isna(), "name"]):
        problems.append(
            Problem(
                int(line),
                "party_kind",
                "",
                f'party "{name}" is new to the ledger and has no kind',
                "Give party_kind, e.g. person, ministry, company.",
            )
        )
    # Parents: a country, or a party named in the ledger or on another row.
    fresh_states = []
    parent_ids: dict[str, Any] = {}
    next_party = _next_id(connection, Party.__table__)
    fresh["party_id"] = range(next_party, next_party + len(fresh))
    party_ids.update(zip(fresh["key"], fresh["party_id"]))
    by_name = {k.split("|")[0]: v for k, v in party_ids.items() if not k.startswith("state:")}
    for key, (line, parent) in parents.items():
        if key in set(known["key"]):
            continue  # existing parties keep their parent
        try:
            state = resolve_country(parent)
            parent_key = f"state:{state.code}"
            if parent_key not in party_ids:
                more = _select_in(connection, [Party.key, Party.id], Party.key, [parent_key])
                if more.empty:
                    fresh_states.append((parent_key, state))
                    party_ids[parent_key] = next_party + len(fresh) + len(fresh_states) - 1
                else:
                    party_ids[parent_key] = int(more["id"].iloc[0])
            parent_ids[key] = party_ids[parent_key]
            continue
        except InvalidValue:
            pass
        wanted = " ".join(parent.casefold().split())
        if wanted in by_name:
            parent_ids[key] = by_name[wanted]
            continue
        match = connection.execute(select(Party.id).where(func.lower(Party.name) == wanted).limit(1)).scalar()
        if match is None:
            problems.append(
                Problem(
                    line,
                    "party_parent",
                    parent,
                    f'parent party "{parent}" is not in the ledger',
                    "Name a country, or a party given in the party column of another row.",
                )
            )
        else:
            parent_ids[key] = int(match)
    fresh["parent_id"] = fresh["key"].map(parent_ids)
    fresh = fresh[["party_id", "key", "name", "kind", "country", "parent_id"]]
    if fresh_states:
        fresh = pd.concat(
            [
                fresh,
                pd.DataFrame(
                    [(party_ids[k], k, s.name, "state", s.code, None) for k, s in fresh_states],
                    columns=fresh.columns,
                ),
            ],
            ignore_index=True,
        )
    fresh = fresh.astype(object).where(fresh.notna(), None)
    roles = frame.assign(
        party_id=_mapped(frame["key"], party_ids), event_id=_mapped(frame["fingerprint"], event_ids)
    )
    return fresh, roles[["line", "deal_id", "party_id", "role", "event_id"]]


# --- writing ------------------------------------------------------------------------------------------


def _bulk_insert(
    connection: Connection, table: Table, frame: pd.DataFrame, mapping: dict[str, str], **constants: Any
) -> None:
    """Insert `frame` (columns renamed by `mapping`) plus constant columns: one parameterised executemany,
    or on PostgreSQL one COPY.

    Values go through each column's own SQLAlchemy bind processor, so they are stored exactly as the
    ORM would store them, while skipping the per-row overhead of Core inserts (the bulk of an import).
    """
    if frame.empty:
        return
    columns = {
        target: _values(frame[source], integer=isinstance(table.c[target].type, Integer))
        for source, target in mapping.items()
    }
    columns.update({target: [value] * len(frame) for target, value in constants.items()})
    preparer = connection.dialect.identifier_preparer
    names = f"{preparer.format_table(table)} ({', '.join(map(preparer.quote, columns))})"
    values = [_stored(connection, table.c[name], column) for name, column in columns.items()]
    if connection.dialect.name == "postgresql":
        # COPY sends the rows as data, apart from the statement, as executemany does; an executemany
        # still makes a round trip per row (2.7 of the 9 s of a 100k-event import went on one table).
        with (
            connection.connection.driver_connection.cursor() as cursor,
            cursor.copy(f"COPY {names} FROM STDIN") as copy,
        ):
            for row in zip(*values):
                copy.write_row(row)
        return
    _execute_many(
        connection, f"INSERT INTO {names} VALUES ({', '.join([_marker(connection)] * len(columns))})", values
    )


def _values(column: pd.Series, *, integer: bool = False) -> list[Any]:
    """The column as Python values, missing ones (NaN, NaT, None) as None.

    `integer`: for an integer column, which pandas turns into floats (39.0) when it has gaps; COPY into
    PostgreSQL refuses "39.0" for an integer.
    """
    if integer and column.dtype.kind == "f":
        return [None if math.isnan(value) else int(value) for value in column.tolist()]
    if not column.hasnans:
        return column.tolist()
    return column.astype(object).where(column.notna(), None).tolist()


def _bulk_update(connection: Connection, table: Table, *, key: str, columns: dict[str, list[Any]]) -> None:
    """Set `columns` of the rows whose `key` column is given in columns[key], as one executemany
    (as _bulk_insert)."""
    preparer = connection.dialect.identifier_preparer
    marker = _marker(connection)
    names = [name for name in columns if name != key]
    statement = (
        f"UPDATE {preparer.format_table(table)} "
        f"SET {', '.join(f'{preparer.quote(n)} = {marker}' for n in names)} "
        f"WHERE {preparer.quote(key)} = {marker}"
    )
    _execute_many(
        connection, statement, [_stored(connection, table.c[name], columns[name]) for name in [*names, key]]
    )


def _marker(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def _stored(connection: Connection, column: Any, values: list[Any]) -> list[Any]:
    """`values` as the driver takes them for `column` (SQLite stores dates as ISO text, for one)."""
    dialect = connection.dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    if processor is None:
        return values
    # Once per distinct value: a column of 100,000 dates holds a few thousand different days.
    stored = {value: processor(value) for value in set(values)}
    return [stored[value] for value in values]


def _execute_many(connection: Connection, statement: str, columns: list[list[Any]]) -> None:
    rows = list(zip(*columns))
    for start in range(0, len(rows), 100_000):
        connection.exec_driver_sql(statement, rows[start : start + 100_000])


def _ordered_parties(parties: pd.DataFrame) -> pd.DataFrame:
    """Parents before their children, so each insert satisfies the foreign key."""
    placed: set[Any] = set()
    order = []
    pending = list(parties.itertuples(index=False))
    ids = set(parties["party_id"])
    while pending:
        ready = [p for p in pending if p.parent_id is None or p.parent_id not in ids or p.parent_id in placed]
        if not ready:  # a cycle cannot come from input (parents resolve to earlier parties), but do not spin
            ready = pending
        order.extend(ready)
        placed.update(p.party_id for p in ready)
        pending = [p for p in pending if p.party_id not in placed]
    return pd.DataFrame(order, columns=parties.columns)


def _apply(
    connection: Connection,
    plan: _Plan,
    report: ImportReport,
    *,
    editor: str,
    started: dt.datetime,
    now: dt.datetime,
) -> None:
    import_id = _next_id(connection, Import.__table__)
    connection.execute(
        insert(Import.__table__),
        [
            {
                "id": import_id,
                "file_name": report.file_name,
                "sha256": report.sha256,
                "format": report.format,
                "encoding": report.encoding,
                "editor": editor,
                "started_at": started,
                "committed_at": now,
                "rows_read": report.rows_read,
                "deals_created": len(report.deals_created),
                "deals_updated": len(report.deals_updated),
                "events_added": report.events_added,
                "sources_added": report.sources_added,
                "parties_added": report.parties_added,
                "links_added": report.links_added,
                "duplicates_skipped": report.duplicates_skipped,
                "status": "committed",
                "snapshot_on": report.snapshot_on,
            }
        ],
    )
    report.import_id = import_id
    new_deals = plan.new_deals.copy()
    for column, kind in (("quantity", int), ("sipri_tiv", float)):
        new_deals[column] = [None if v is None else kind(float(v)) for v in new_deals[column]]
    _split_value(new_deals)
    _bulk_insert(
        connection,
        Deal.__table__,
        new_deals,
        {
            "deal_id": "id",
            "title": "title",
            "summary": "summary",
            "category": "category",
            "quantity": "quantity",
            "value_low": "value_low",
            "value_high": "value_high",
            "currency": "currency",
            "sipri_tiv": "sipri_tiv",
        },
        import_id=import_id,
        created_at=now,
        event_count=0,
    )
    if not plan.deal_updates.empty:
        updates = plan.deal_updates.copy()
        updates["quantity"] = pd.Series(
            [None if v is None else int(float(v)) for v in updates["quantity"]],
            index=updates.index,
            dtype=object,
        )
        updates["sipri_tiv"] = [None if v is None else float(v) for v in updates["sipri_tiv"]]
        _split_value(updates)
        _bulk_update(
            connection,
            Deal.__table__,
            key="id",
            columns={
                "id": updates["deal_id"].tolist(),
                **{
                    column: _values(updates[column])
                    for column in (
                        "title",
                        "summary",
                        "category",
                        "quantity",
                        "value_low",
                        "value_high",
                        "currency",
                        "sipri_tiv",
                    )
                },
            },
        )
    _bulk_insert(
        connection,
        DealExternalId.__table__,
        plan.new_external_ids,
        {"deal_id": "deal_id", "external_scheme": "scheme", "external_id": "external_id"},
        import_id=import_id,
    )
    _bulk_insert(
        connection,
        DealTag.__table__,
        plan.new_tags,
        {"deal_id": "deal_id", "tag": "tag"},
        import_id=import_id,
    )
    _bulk_insert(
        connection,
        Party.__table__,
        _ordered_parties(plan.new_parties),
        {
            "party_id": "id",
            "key": "key",
            "name": "name",
            "kind": "kind",
            "country": "country_code",
            "parent_id": "parent_id",
        },
        import_id=import_id,
    )
    _bulk_insert(
        connection,
        Event.__table__,
        plan.new_events,
        {
            "event_id": "id",
            "deal_id": "deal_id",
            "date_start": "occurred_on",
            "date_end": "occurred_until",
            "date_precision": "date_precision",
            "date_text": "date_text",
            "stage": "stage",
            "summary": "summary",
            "note": "note",
            "topic": "topic",
            "event_quantity": "quantity",
            "event_value_low": "value_low",
            "event_value_high": "value_high",
            "event_currency": "currency",
            "fingerprint": "fingerprint",
        },
        import_id=import_id,
        recorded_at=now,
    )
    _bulk_insert(
        connection,
        Source.__table__,
        plan.new_sources,
        {
            "source_id": "id",
            "source_key": "key",
            "source_publisher": "publisher",
            "source_title": "title",
            "source_url": "url",
            "source_date": "published_on",
            "source_date_precision": "published_precision",
            "source_kind": "kind",
            "reliability": "reliability",
        },
        import_id=import_id,
    )
    _bulk_insert(
        connection,
        EventSource.__table__,
        plan.new_links,
        {"event_id": "event_id", "source_id": "source_id", "credibility": "credibility"},
        import_id=import_id,
    )
    _bulk_insert(
        connection,
        DealParty.__table__,
        plan.new_roles,
        {"deal_id": "deal_id", "party_id": "party_id", "role": "role", "event_id": "event_id"},
        import_id=import_id,
    )
    changes = plan.changes.copy()
    line_event = dict(
        zip(plan.batch.rows["line"].tolist(), _mapped(plan.batch.rows["fingerprint"], plan.event_ids))
    )
    changes["event_id"] = changes["line"].map(line_event)
    next_change = _next_id(connection, DealChange.__table__)
    changes["change_id"] = range(next_change, next_change + len(changes))
    _bulk_insert(
        connection,
        DealChange.__table__,
        changes,
        {
            "change_id": "id",
            "deal_id": "deal_id",
            "field": "field",
            "old_value": "old_value",
            "new_value": "new_value",
            "event_id": "event_id",
        },
        import_id=import_id,
        recorded_at=now,
    )
    created = set(report.deals_created)
    fresh = plan.new_events[plan.new_events["deal_id"].isin(created)]
    refresh_deals(
        connection,
        plan.touched_deals,
        created_events=fresh[["deal_id", "event_id", "date_start", "stage"]]
        .rename(columns={"date_start": "occurred_on"})
        .reset_index(drop=True),
    )


def _split_value(frame: pd.DataFrame) -> None:
    """The stored value text ("low|high|currency") back into three columns."""
    parts = [(v.split("|") if isinstance(v, str) else ["", "", ""]) for v in frame["value"]]
    frame["value_low"] = [float(p[0]) if p[0] else None for p in parts]
    frame["value_high"] = [float(p[1]) if p[1] else None for p in parts]
    frame["currency"] = [p[2] or None for p in parts]


def refresh_deals(
    connection: Connection, deal_ids: Sequence[str], *, created_events: pd.DataFrame | None = None
) -> None:
    """Recompute the derived columns of these deals (stage, dates, counts, buyers, sellers) from the ledger.

    `created_events` are all the events of deals created in this transaction, which then need not be
    read back (deal_id, event_id, occurred_on, stage).
    """
    if not deal_ids:
        return
    created = set() if created_events is None else set(created_events["deal_id"].tolist())
    events = _select_in(
        connection,
        [Event.deal_id, Event.id.label("event_id"), Event.occurred_on, Event.stage],
        Event.deal_id,
        [d for d in deal_ids if d not in created],
    )
    if created:
        events = (
            pd.concat([events, created_events], ignore_index=True) if not events.empty else created_events
        )
    status = deal_status(events).set_index("deal_id").reindex(list(deal_ids)).astype(object)
    status = status.where(status.notna(), None)
    states = _deal_states(connection, deal_ids)
    joined = {
        role: [" ".join(sorted(states.codes[(deal_id, role)])) or None for deal_id in deal_ids]
        for role in ("buyer", "seller")
    }
    named = {
        role: ["; ".join(sorted(states.names[(deal_id, role)])) or None for deal_id in deal_ids]
        for role in ("buyer", "seller")
    }
    _bulk_update(
        connection,
        Deal.__table__,
        key="id",
        columns={
            "id": list(deal_ids),
            **{
                column: status[column].tolist()
                for column in ("current_stage", "stage_since", "first_event_on", "last_event_on")
            },
            "event_count": [int(count or 0) for count in status["event_count"].tolist()],
            "buyers": named["buyer"],
            "sellers": named["seller"],
            "buyer_codes": joined["buyer"],
            "seller_codes": joined["seller"],
        },
    )


@dataclass(frozen=True, slots=True)
class _DealStates:
    """The states buying and selling in each deal, by (deal_id, role)."""

    names: dict[tuple[str, str], set[str]]  # for display and text search
    codes: dict[tuple[str, str], set[str]]  # ISO codes, for the overview's counts


def _deal_states(connection: Connection, deal_ids: Sequence[str]) -> _DealStates:
    statement = (
        select(DealParty.deal_id, DealParty.role, Party.name, Party.country_code)
        .join(Party, Party.id == DealParty.party_id)
        .where(
            DealParty.role.in_(("buyer", "seller")),
            Party.kind == "state",
            DealParty.deal_id.in_(bindparam("ids", expanding=True)),
        )
    )
    states = _DealStates(defaultdict(set), defaultdict(set))
    for start in range(0, len(deal_ids), CHUNK):
        for deal_id, role, name, code in connection.execute(
            statement, {"ids": list(deal_ids[start : start + CHUNK])}
        ):
            states.names[(deal_id, role)].add(name)
            if code:
                states.codes[(deal_id, role)].add(code)
    return states


# --- undo ---------------------------------------------------------------------------------------------


def undo_import(engine: Engine, import_id: int, *, editor: str) -> UndoReport:
    """Revert an import's events and changes, if no later import depends on them."""
    with write_transaction(engine) as connection:
        record = connection.execute(
            select(Import.file_name, Import.status).where(Import.id == import_id)
        ).first()
        if record is None:
            raise UndoRefused(f"there is no import #{import_id}; `python -m tracker imports` lists them.")
        if record.status == "undone":
            raise UndoRefused(f"import #{import_id} ({record.file_name}) has already been undone.")
        blockers = _dependents(connection, import_id)
        if blockers:
            raise UndoRefused(
                f"import #{import_id} cannot be undone: {blockers}. Undo the later import first."
            )
        deals_touched = set(
            connection.execute(select(Event.deal_id).where(Event.import_id == import_id)).scalars()
        )
        deals_touched |= set(
            connection.execute(select(DealChange.deal_id).where(DealChange.import_id == import_id)).scalars()
        )
        deals_touched |= set(
            connection.execute(select(DealParty.deal_id).where(DealParty.import_id == import_id)).scalars()
        )
        deals_touched |= set(
            connection.execute(select(DealTag.deal_id).where(DealTag.import_id == import_id)).scalars()
        )
        created = set(connection.execute(select(Deal.id).where(Deal.import_id == import_id)).scalars())
        restored = _restore_attributes(connection, import_id, created)
        events_removed = connection.execute(
            select(func.count()).where(Event.import_id == import_id)
        ).scalar_one()
        for model in (EventSource, DealParty, DealTag, DealExternalId, DealChange):
            connection.execute(delete(model.__table__).where(model.__table__.c.import_id == import_id))
        connection.execute(delete(Event.__table__).where(Event.import_id == import_id))
        connection.execute(update(Party.__table__).where(Party.import_id == import_id).values(parent_id=None))
        connection.execute(delete(Party.__table__).where(Party.import_id == import_id))
        connection.execute(delete(Source.__table__).where(Source.import_id == import_id))
        connection.execute(delete(Deal.__table__).where(Deal.import_id == import_id))
        refresh_deals(connection, sorted(deals_touched - created))
        refresh_planner_statistics(connection)
        connection.execute(
            update(Import.__table__)
            .where(Import.id == import_id)
            .values(status="undone", undone_at=_now(), undone_by=_safe_editor(editor))
        )
    return UndoReport(
        import_id=import_id,
        file_name=record.file_name,
        events_removed=int(events_removed),
        deals_removed=len(created),
        deals_restored=restored,
    )


def _dependents(connection: Connection, import_id: int) -> str:
    """A description of later imports that build on this one ('' when none)."""
    mine_deals = select(Deal.id).where(Deal.import_id == import_id)
    touched_deals = (
        select(Event.deal_id)
        .where(Event.import_id == import_id)
        .union(
            select(DealChange.deal_id).where(DealChange.import_id == import_id),
            select(DealParty.deal_id).where(DealParty.import_id == import_id),
            mine_deals,
        )
    )
    checks = [
        (
            "added events to a deal it touched",
            select(Event.import_id).where(Event.import_id > import_id, Event.deal_id.in_(touched_deals)),
        ),
        (
            "changed a deal it touched",
            select(DealChange.import_id).where(
                DealChange.import_id > import_id, DealChange.deal_id.in_(touched_deals)
            ),
        ),
        (
            "cites a source it added",
            select(EventSource.import_id).where(
                EventSource.import_id > import_id,
                EventSource.source_id.in_(select(Source.id).where(Source.import_id == import_id)),
            ),
        ),
        (
            "adds a source to an event it added",
            select(EventSource.import_id).where(
                EventSource.import_id > import_id,
                EventSource.event_id.in_(select(Event.id).where(Event.import_id == import_id)),
            ),
        ),
        (
            "gives a role to a party it added",
            select(DealParty.import_id).where(
                DealParty.import_id > import_id,
                DealParty.party_id.in_(select(Party.id).where(Party.import_id == import_id)),
            ),
        ),
        (
            "adds parties to a deal it touched",
            select(DealParty.import_id).where(
                DealParty.import_id > import_id, DealParty.deal_id.in_(touched_deals)
            ),
        ),
        (
            "names a party it added as a parent",
            select(Party.import_id).where(
                Party.import_id > import_id,
                Party.parent_id.in_(select(Party.id).where(Party.import_id == import_id)),
            ),
        ),
    ]
    for reason, statement in checks:
        found = sorted(set(connection.execute(statement.limit(50)).scalars()))
        if found:
            names = ", ".join(f"#{i}" for i in found[:5])
            return f"later import {names} {reason}"
    return ""


def _restore_attributes(connection: Connection, import_id: int, created: set[str]) -> int:
    """Put back each deal attribute this import changed, from the first change it recorded."""
    rows = connection.execute(
        select(DealChange.deal_id, DealChange.field, DealChange.old_value)
        .where(DealChange.import_id == import_id)
        .order_by(DealChange.id)
    ).all()
    originals: dict[str, dict[str, str | None]] = {}
    for deal_id, field_name, old in rows:
        if deal_id in created:
            continue
        originals.setdefault(deal_id, {}).setdefault(field_name, old)
    for deal_id, fields in originals.items():
        values: dict[str, Any] = {}
        for field_name, old in fields.items():
            if field_name == VALUE_FIELD:
                parts = old.split("|") if old else ["", "", ""]
                values.update(
                    value_low=float(parts[0]) if parts[0] else None,
                    value_high=float(parts[1]) if parts[1] else None,
                    currency=parts[2] or None,
                )
            elif field_name == "quantity":
                values["quantity"] = None if old is None else int(float(old))
            elif field_name == "sipri_tiv":
                values["sipri_tiv"] = None if old is None else float(old)
            else:
                values[field_name] = old
        connection.execute(update(Deal.__table__).where(Deal.id == deal_id).values(**values))
    return len(originals)
