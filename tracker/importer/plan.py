"""Planning an import: what a validated batch adds to the ledger, entity by entity, with the checks that
need the ledger (a new deal needs a title, a source keeps its grade, rows that describe the same thing
agree, an external id belongs to one deal, a party's parent exists).

The plan is computed inside the write transaction (holding the ledger's write lock), so what it reads
is what the writer writes against. Each `plan_*` function plans one entity; new rows get their ids
here (max id + 1), so the writer only writes. Every problem is collected before the import is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, bindparam, func, select

from tracker import sipri
from tracker.attributes import ATTRIBUTE_COLUMNS, DEAL_ATTRIBUTES
from tracker.columns import stored_columns
from tracker.countries import country_by_code, is_former_state, resolve_country
from tracker.errors import InvalidValue, Problem, Problems
from tracker.ledger_csv import Batch, party_key, signpost_fingerprint
from tracker.models import (
    Deal,
    DealChange,
    DealExternalId,
    DealParty,
    DealTag,
    Event,
    EventSource,
    Party,
    Signpost,
    Source,
)

CHUNK = 5000
# The batch columns an event's rows must agree on, and those a source's rows must agree on.
EVENT_CLAIMS = ("event_quantity", "event_value_low", "event_value_high", "event_currency", "note", "topic")
SOURCE_CLAIMS = (
    "source_title", "source_publisher", "source_url", "source_date", "source_date_precision", "source_kind",
    "reliability",
)  # fmt: skip
# Problems name the column as the analyst's file does, not as the batch does ("event_value_high").
_FILE_COLUMN = {
    "event_quantity": "quantity",
    "event_value_low": "value_low",
    "event_value_high": "value_high",
    "event_currency": "currency",
    "credibility_given": "credibility",
    "kind": "party_kind",
}


@dataclass(slots=True)
class Plan:
    """Everything an import adds or changes, as frames ready to write (ids assigned)."""

    batch: Batch
    deals_created: list[str]  # in file order
    deals_updated: list[str]  # deals already in the ledger that gain something, in file order
    new_deals: pd.DataFrame  # deal_id and each attribute's recorded text (tracker.attributes)
    deal_updates: pd.DataFrame  # the same, for deals whose attributes change
    changes: pd.DataFrame  # change_id, deal_id, line, field, old_value, new_value, event_id
    new_events: pd.DataFrame
    new_sources: pd.DataFrame
    new_links: pd.DataFrame
    new_parties: pd.DataFrame  # parents before their children
    new_roles: pd.DataFrame
    new_tags: pd.DataFrame
    new_external_ids: pd.DataFrame
    new_signposts: pd.DataFrame
    duplicates_skipped: int  # file records that add nothing
    touched_deals: list[str]  # every deal whose derived columns must be recomputed
    warnings: list[str]  # what the analyst must know before importing it (the import itself is sound)

    def release_rows(self) -> None:
        """Let the planned rows go once written (as Batch.release_rows): the deals' refresh that follows
        reads what it needs from the ledger, and holding the plan's frames through it was 62 MB of the
        peak of the real 3.6 MB SIPRI export's import. Each frame keeps its columns, no rows."""
        for name in _PLANNED_ROWS:
            setattr(self, name, getattr(self, name).iloc[:0].copy())  # a copy: a slice keeps the columns

    @property
    def nothing_new(self) -> bool:
        return not (
            self.deals_created
            or self.deals_updated
            or len(self.new_events)
            or len(self.new_sources)
            or len(self.new_parties)
            or len(self.new_links)
            or len(self.new_roles)
            or len(self.new_signposts)
            or len(self.changes)
        )


_PLANNED_ROWS = (
    "new_deals", "deal_updates", "changes", "new_events", "new_sources", "new_links", "new_parties",
    "new_roles", "new_tags", "new_external_ids", "new_signposts",
)  # fmt: skip


# --- reading the ledger -------------------------------------------------------------------------------


def select_in(
    connection: Connection,
    columns: Sequence[Any],
    key: Any,
    values: Iterable[Any],
    *,
    where: Sequence[Any] = (),
) -> pd.DataFrame:
    """Rows whose `key` is among `values` (and that meet `where`), fetched in chunks (parameterised, never
    interpolated)."""
    values = list(values)
    names = [c.key for c in columns]
    frames = []
    statement = select(*columns).where(key.in_(bindparam("values", expanding=True)), *where)
    for start in range(0, len(values), CHUNK):
        rows = connection.execute(statement, {"values": values[start : start + CHUNK]}).all()
        if rows:
            # As plain tuples: given Row objects, pandas probes each one with hasattr(), which costs a
            # KeyError inside SQLAlchemy per row (a second of a 28,000-deal SIPRI re-import).
            frames.append(pd.DataFrame([tuple(row) for row in rows], columns=names, dtype=object))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=names, dtype=object)


def is_in(series: pd.Series, values: AbstractSet[Any]) -> np.ndarray:
    """`series.isin(values)` for a column of the batch, as a loop that other threads can interrupt.

    Series.isin copies the set into an array and hashes both in C calls that hold the interpreter lock
    throughout, so every other session of the dashboard waits: over the 319,000 rows of a 20 MB file of
    minimal rows it held the lock for 0.34 s of CPU (2.1 s on the loaded benchmark machine; the longest
    stall, bench/stall_bench.py). Testing each value in Python lets other threads run every few
    milliseconds, and takes less CPU (0.11 s against 0.27 s for those 319,000 fingerprints).
    """
    return np.array([value in values for value in series.tolist()], dtype=bool)


def next_id(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


def _mapped(series: pd.Series, mapping: dict[Any, Any]) -> pd.Series:
    """`series.map(mapping)`, None where a key is missing, without pandas' re-indexing and dtype inference.

    A comprehension, not list(map(mapping.get, ...)), as in is_in: that one C call held the interpreter
    lock for 0.2 s of CPU over a 20 MB file of 319,000 minimal rows.
    """
    return pd.Series([mapping.get(value) for value in series.tolist()], index=series.index, dtype=object)


def _shown(value: Any) -> str:
    """A value as an analyst would write it: 400000000, not 400000000.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
        """The first non-empty value of each column per key (rows are in file order; None when no row
        gives one). Indexed by key, in order of first appearance."""
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

    def disagreements(self, columns: Sequence[str], what: str, problems: Problems) -> None:
        """Rows that describe the same thing (the key) must not give it different values.

        Linear in the rows: the rows of all clashing keys are taken once and grouped once (looking up
        each clashing key's rows separately made a file of disagreeing duplicates quadratic).
        """
        codes = self.codes
        for column in columns:
            values = self.values(column)
            given = np.flatnonzero(self.given(column))
            if not len(given):
                continue
            value_codes, distinct_values = pd.factorize(values[given])
            # Each distinct (key, value) pair once, sorted by key: a key listed twice has two values.
            pairs = np.unique(codes[given] * len(distinct_values) + value_codes)
            pair_keys = pairs // len(distinct_values)
            clashing = np.unique(pair_keys[1:][pair_keys[1:] == pair_keys[:-1]])
            if not len(clashing):
                continue
            rows = given[np.isin(codes[given], clashing)]  # file order
            lines = self.rows["line"].to_numpy()[rows]
            cells = values[rows]
            name = _FILE_COLUMN.get(column, column)
            first_of: dict[int, tuple[int, Any]] = {}
            for code, line, value in zip(codes[rows].tolist(), lines.tolist(), cells.tolist()):
                first = first_of.setdefault(code, (int(line), value))
                if value != first[1]:
                    problems.add(
                        Problem(
                            int(line),
                            name,
                            _shown(value),
                            f"{what} as line {first[0]}, which gives {name} {_shown(first[1])}",
                            "Make the rows agree, or give the differing claim its own summary.",
                        )
                    )


# --- one function per entity --------------------------------------------------------------------------


def plan_deals(
    connection: Connection, rows: pd.DataFrame, problems: Problems
) -> tuple[list[str], pd.DataFrame]:
    """The batch's deals in file order, and those already in the ledger (their attribute columns, by id).
    A deal new to the ledger needs a title on some row."""
    deal_ids = list(dict.fromkeys(rows["deal_id"].tolist()))
    existing = select_in(
        connection, [Deal.id, *(Deal.__table__.c[c] for c in ATTRIBUTE_COLUMNS)], Deal.id, deal_ids
    ).set_index("id")
    is_new = ~is_in(rows["deal_id"], set(existing.index))
    titled = set(rows.loc[rows["deal_title"] != "", "deal_id"])
    untitled = rows[is_new & ~is_in(rows["deal_id"], titled)].drop_duplicates("deal_id")
    for deal_id, line in zip(untitled["deal_id"], untitled["line"]):
        problems.add(
            Problem(
                int(line),
                "deal_title",
                "",
                f"deal {deal_id} is new to the ledger and has no title",
                "Give deal_title on at least one row of this deal (or check the deal_id for a typo).",
            )
        )
    return deal_ids, existing


def plan_attribute_changes(
    connection: Connection, rows: pd.DataFrame, deal_ids: list[str], existing: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The change the file makes to each deal attribute, and each deal's attribute texts after the import.

    Per deal and attribute the claim of the latest event wins (file order breaks ties), and one change
    from the ledger's value to it is recorded, or none when they are equal: re-importing a file, or the
    same claims in another order, changes nothing. A new deal's first values are its creation, not
    changes: only deals already in the ledger get changes.
    """
    given: dict[str, np.ndarray] = {}
    claiming = np.zeros(len(rows), dtype=bool)
    for attribute in DEAL_ATTRIBUTES:
        for column in attribute.batch_columns:
            if column not in given:
                values = rows[column].to_numpy(dtype=object)
                given[column] = pd.notna(values) & (values != "")
            claiming |= given[column]
    # Most rows claim no deal attribute: only those that do are read and sorted, and only their columns
    # that claims are made of (taking every batch column of them was the peak of a SIPRI import).
    claimed = rows.loc[claiming, ["deal_id", "date_start", "line", *given]]
    # Object columns throughout: inferring Arrow strings for each new column costs more than the work here.
    claims = pd.DataFrame(
        {
            "deal_id": claimed["deal_id"].to_numpy(dtype=object),
            "date": claimed["date_start"].to_numpy(dtype=object),
            **{attribute.name: _claim_texts(claimed, attribute) for attribute in DEAL_ATTRIBUTES},
        },
        dtype=object,
    )
    claims["line"] = claimed["line"].to_numpy()
    claims = claims.sort_values(["date", "line"], kind="stable")
    known = existing.reindex(deal_ids).astype(object)
    known = known.where(known.notna(), None)
    final = pd.DataFrame(
        {
            attribute.name: [
                attribute.encode(values)
                for values in zip(*(known[c].tolist() for c in attribute.deal_columns), strict=True)
            ]
            for attribute in DEAL_ATTRIBUTES
        },
        index=pd.Index(deal_ids, name="deal_id", dtype=object),
        dtype=object,
    )
    changes = []
    for attribute in DEAL_ATTRIBUTES:
        stated = claims.loc[claims[attribute.name].notna(), ["deal_id", "line", attribute.name]]
        if stated.empty:
            continue
        last = stated.groupby("deal_id", sort=False).last()
        old = final.loc[last.index, attribute.name]
        moved = last[last[attribute.name] != old]
        if moved.empty:
            continue
        changed = moved[moved.index.isin(existing.index)]  # a new deal's values are its creation
        if not changed.empty:
            changes.append(
                pd.DataFrame(
                    {
                        "deal_id": changed.index,
                        "line": changed["line"].tolist(),
                        "field": attribute.name,
                        "old_value": old[changed.index].tolist(),
                        "new_value": changed[attribute.name].tolist(),
                    }
                )
            )
        final.loc[moved.index, attribute.name] = moved[attribute.name]
    columns = ["deal_id", "line", "field", "old_value", "new_value"]
    all_changes = pd.concat(changes, ignore_index=True) if changes else pd.DataFrame(columns=columns)
    all_changes = all_changes.astype(object).where(all_changes.notna(), None)
    all_changes = all_changes.sort_values("line", kind="stable").reset_index(drop=True)
    first_change = next_id(connection, DealChange.__table__)
    all_changes["change_id"] = range(first_change, first_change + len(all_changes))
    return all_changes, final


def _claim_texts(rows: pd.DataFrame, attribute: Any) -> list[str | None]:
    """The recorded text each row claims for the attribute (None where it claims none), encoded once per
    distinct claim."""
    claims = list(zip(*(rows[column].tolist() for column in attribute.batch_columns), strict=True))
    distinct = {claim: attribute.encode(claim) for claim in set(claims)}
    return [distinct[claim] for claim in claims]


def plan_events(
    connection: Connection, rows: pd.DataFrame, known_deal_ids: list[str], problems: Problems
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """New events (identical deal, date, stage and summary make one event, told by one or more rows),
    the ledger's events of the batch's deals, and every event's id by fingerprint."""
    event_rows = _Grouped(rows, "fingerprint")
    event_rows.disagreements(EVENT_CLAIMS, "this row describes the same event", problems)
    # A fingerprint includes the deal, so only deals already in the ledger can have known events.
    known_events = select_in(connection, [Event.fingerprint, Event.id], Event.deal_id, known_deal_ids)
    event_ids: dict[str, int] = dict(zip(known_events["fingerprint"], known_events["id"].astype(int)))
    first_telling = ~rows["fingerprint"].duplicated()
    if event_ids:
        first_telling &= ~is_in(rows["fingerprint"], event_ids.keys())
    # Only the event's own columns: taking every batch column of 100,000 rows costs a fifth of a second.
    new_events = rows.loc[
        first_telling,
        ["line", "deal_id", "date_start", "date_end", "date_precision", "date_text", "stage", "summary",
         "fingerprint"],
    ]  # fmt: skip
    event_claims = event_rows.first(EVENT_CLAIMS)
    first_event = next_id(connection, Event.__table__)
    new_events["event_id"] = range(first_event, first_event + len(new_events))
    # A loop, not event_ids.update(zip(...)): as in is_in, that one C call held the interpreter lock for
    # 0.21 s of CPU over the 319,000 events of a 20 MB file of minimal rows.
    for fingerprint, event_id in zip(new_events["fingerprint"].tolist(), new_events["event_id"].tolist()):
        event_ids[fingerprint] = event_id
    claims_of_new = event_claims.reindex(pd.Index(new_events["fingerprint"].tolist(), dtype=object))
    for column in event_claims.columns:
        new_events[column] = pd.Series(claims_of_new[column].to_numpy(), index=new_events.index, dtype=object)
    return new_events, known_events, event_ids


def plan_sources(
    connection: Connection, rows: pd.DataFrame, problems: Problems
) -> tuple[pd.DataFrame, dict[str, int]]:
    """New sources (one per key), and every source's id by key. A source keeps the grade the ledger has."""
    source_rows = _Grouped(rows, "source_key")
    source_rows.disagreements(["reliability"], "this row names the same source", problems)
    keys = list(dict.fromkeys(rows["source_key"].tolist()))
    known_sources = select_in(connection, [Source.key, Source.id, Source.reliability], Source.key, keys)
    known_grade = dict(zip(known_sources["key"], known_sources["reliability"]))
    clash = (
        is_in(rows["source_key"], known_grade.keys())
        & (rows["reliability"] != "")
        & (rows["reliability"] != _mapped(rows["source_key"], known_grade))
    )
    for line, key, grade in zip(
        rows.loc[clash, "line"], rows.loc[clash, "source_key"], rows.loc[clash, "reliability"]
    ):
        problems.add(
            Problem(
                int(line),
                "reliability",
                grade,
                f"this source is graded {known_grade[key]} in the ledger",
                f"Use {known_grade[key]}, or leave reliability empty to keep the ledger's grade.",
            )
        )
    source_ids: dict[str, int] = dict(zip(known_sources["key"], known_sources["id"].astype(int)))
    source_claims = source_rows.first(SOURCE_CLAIMS)
    new_sources = source_claims[~source_claims.index.isin(list(source_ids))].reset_index()
    first_source = next_id(connection, Source.__table__)
    new_sources["source_id"] = range(first_source, first_source + len(new_sources))
    new_sources["reliability"] = new_sources["reliability"].fillna("F")
    source_ids.update(zip(new_sources["source_key"], new_sources["source_id"]))
    return new_sources, source_ids


def plan_links(
    connection: Connection,
    rows: pd.DataFrame,
    event_ids: dict[str, int],
    source_ids: dict[str, int],
    known_events: pd.DataFrame,
    problems: Problems,
) -> pd.DataFrame:
    """New event–source links, with the credibility of the claim (6, "cannot be judged", when not given) and
    the source's own words for it (the first row that quotes them)."""
    links = rows[["line", "fingerprint", "source_key", "credibility", "source_excerpt"]].copy()
    links["event_id"] = _mapped(links["fingerprint"], event_ids)
    links["source_id"] = _mapped(links["source_key"], source_ids)
    # One integer per (event, source) pair: cheaper to group and compare than "event:source" strings.
    pair_base = max(source_ids.values(), default=0) + 1
    links["pair"] = links["event_id"].astype("int64") * pair_base + links["source_id"].astype("int64")
    links["credibility_given"] = links["credibility"].where(links["credibility"] > 0, None)
    pairs = _Grouped(links, "pair")
    pairs.disagreements(
        ["credibility_given", "source_excerpt"], "this row gives the same event and source", problems
    )
    known_links = select_in(
        connection,
        [EventSource.event_id, EventSource.source_id],
        EventSource.event_id,
        [int(i) for i in known_events["id"]],
    )
    # Only links to the batch's sources can be among its pairs; a known event's link to another source
    # (an id past pair_base) would give the number of a new pair and drop that pair's link.
    known_links = known_links[known_links["source_id"].isin(set(source_ids.values()))]
    known_pairs = set(
        known_links["event_id"].astype("int64") * pair_base + known_links["source_id"].astype("int64")
    )
    # One mask, one copy: drop_duplicates then a filter held a second copy of every link's columns.
    new_links = links[~links["pair"].duplicated() & ~links["pair"].isin(known_pairs)]
    new_links["credibility"] = new_links["credibility"].where(new_links["credibility"] > 0, 6)
    quoted = pairs.first(["source_excerpt"])["source_excerpt"]
    new_links["source_excerpt"] = _mapped(new_links["pair"], quoted.to_dict())
    return new_links


def plan_parties(
    connection: Connection, rows: pd.DataFrame, event_ids: dict[str, int], problems: Problems
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """New parties (states from buyer/seller, named parties from the party columns, states named only as
    parents) in insert order, and every role claim of the batch (line, deal, party id, role, event)."""
    claims = _party_claims(rows, problems)
    _Grouped(claims[claims["kind"] != ""], "key").disagreements(
        ["kind"], "this row names the same party", problems
    )
    keys = list(dict.fromkeys(claims["key"]))
    known = select_in(connection, [Party.key, Party.id], Party.key, keys)
    known_keys = set(known["key"])
    party_ids: dict[str, int] = dict(zip(known["key"], known["id"].astype(int)))
    fresh = claims.drop_duplicates("key")
    fresh = fresh[~fresh["key"].isin(known_keys)].copy()
    fresh["kind"] = _mapped(fresh["key"], _Grouped(claims, "key").first(["kind"])["kind"].to_dict())
    for line, name in zip(fresh.loc[fresh["kind"].isna(), "line"], fresh.loc[fresh["kind"].isna(), "name"]):
        problems.add(
            Problem(
                int(line),
                "party_kind",
                "",
                f'party "{name}" is new to the ledger and has no kind',
                "Give party_kind, e.g. person, ministry, company.",
            )
        )
    first_party = next_id(connection, Party.__table__)
    fresh["party_id"] = range(first_party, first_party + len(fresh))
    party_ids.update(zip(fresh["key"], fresh["party_id"]))
    parents = _party_parents(connection, claims, fresh, party_ids, known_keys, problems)
    fresh = pd.concat(
        [fresh[["party_id", "key", "name", "kind", "country"]], parents.states], ignore_index=True
    )
    fresh["parent_id"] = fresh["key"].map(parents.ids)
    fresh = fresh.astype(object).where(fresh.notna(), None)
    roles = claims.assign(
        party_id=_mapped(claims["key"], party_ids), event_id=_mapped(claims["fingerprint"], event_ids)
    )
    return _parents_first(fresh), roles[["line", "deal_id", "party_id", "role", "event_id"]]


_CLAIM_COLUMNS = ["line", "deal_id", "fingerprint", "key", "country", "role", "name", "kind", "parent"]


def _party_claims(rows: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """One row per party named in a role: states from buyers/sellers, then the party columns."""
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
                    "parent": "",
                },
                columns=_CLAIM_COLUMNS,
                # Object columns: pandas would infer its string dtype for the constants (role, kind) and
                # the astype(object) below then made a new string per row (claims held 22 -> 13 MB on the
                # real 3.6 MB SIPRI export).
                dtype=object,
            )
        )
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
    claims: list[tuple[Any, ...]] = []
    for line, deal_id, fingerprint, name, role, kind, country, parent in zip(
        *(named[c].tolist() for c in named.columns)
    ):
        if kind == "state" and country and is_former_state(country):
            # A state that no longer exists (from a SIPRI export: "Soviet Union", SUN), keyed by its code.
            claims.append(
                (int(line), deal_id, fingerprint, f"state:{country}", country, role, name, "state", "")
            )
        elif kind == "state":
            try:
                state = resolve_country(name)
            except InvalidValue as exc:
                problems.add(Problem(int(line), "party", name, exc.message, exc.fix))
                continue
            claims.append(
                (
                    int(line),
                    deal_id,
                    fingerprint,
                    f"state:{state.code}",
                    state.code,
                    role,
                    state.name,
                    "state",
                    "",
                )
            )
        else:
            key = party_key(name, country or None)
            claims.append((int(line), deal_id, fingerprint, key, country or None, role, name, kind, parent))
    return pd.concat(
        [*states, pd.DataFrame(claims, columns=_CLAIM_COLUMNS, dtype=object)], ignore_index=True
    ).astype(object)


@dataclass(frozen=True, slots=True)
class _Parents:
    ids: dict[str, int]  # a new party's key -> its parent's id
    states: pd.DataFrame  # states named only as parents, new to the ledger


def _party_parents(
    connection: Connection,
    claims: pd.DataFrame,
    fresh: pd.DataFrame,
    party_ids: dict[str, int],
    known_keys: set[str],
    problems: Problems,
) -> _Parents:
    """Each new party's parent: a country, or a party named in the ledger or on another row. Parties
    already in the ledger keep theirs; the first row naming a parent for a party is the one used."""
    named = claims[claims["parent"] != ""].drop_duplicates("key")
    ids: dict[str, int] = {}
    states: list[tuple[Any, ...]] = []
    next_party = int(fresh["party_id"].max()) + 1 if len(fresh) else next_id(connection, Party.__table__)
    by_name = {k.split("|")[0]: v for k, v in party_ids.items() if not k.startswith("state:")}
    for key, line, parent in zip(named["key"], named["line"], named["parent"]):
        if key in known_keys:
            continue
        try:
            state = resolve_country(parent)
        except InvalidValue:
            state = None
        if state is not None:
            parent_key = f"state:{state.code}"
            if parent_key not in party_ids:
                more = select_in(connection, [Party.key, Party.id], Party.key, [parent_key])
                if more.empty:
                    states.append((next_party, parent_key, state.name, "state", state.code))
                    party_ids[parent_key] = next_party
                    next_party += 1
                else:
                    party_ids[parent_key] = int(more["id"].iloc[0])
            ids[key] = party_ids[parent_key]
            continue
        wanted = " ".join(parent.casefold().split())
        if wanted in by_name:
            ids[key] = by_name[wanted]
            continue
        match = connection.execute(select(Party.id).where(func.lower(Party.name) == wanted).limit(1)).scalar()
        if match is None:
            problems.add(
                Problem(
                    int(line),
                    "party_parent",
                    parent,
                    f'parent party "{parent}" is not in the ledger',
                    "Name a country, or a party given in the party column of another row.",
                )
            )
        else:
            ids[key] = int(match)
    return _Parents(ids, pd.DataFrame(states, columns=["party_id", "key", "name", "kind", "country"]))


def _parents_first(parties: pd.DataFrame) -> pd.DataFrame:
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


def plan_roles(connection: Connection, roles: pd.DataFrame, known_deal_ids: list[str]) -> pd.DataFrame:
    """Role claims the ledger does not hold yet (deal, party, role), each with its first row's event."""
    known = select_in(
        connection, [DealParty.deal_id, DealParty.party_id, DealParty.role], DealParty.deal_id, known_deal_ids
    )
    known_keys = set(_role_keys(known))
    roles = roles.assign(key=pd.Series(_role_keys(roles), index=roles.index, dtype=object))
    new_roles = roles.drop_duplicates("key")
    # The keys only find the new claims: kept in the plan to its write, they were 93,442 strings (5.6 MB)
    # of a 5 MB SIPRI export's import peak.
    return new_roles[~new_roles["key"].isin(known_keys)].drop(columns="key")


def _role_keys(roles: pd.DataFrame) -> list[str]:
    return [
        f"{deal_id}|{party_id}|{role}"
        for deal_id, party_id, role in zip(
            roles["deal_id"].tolist(), roles["party_id"].tolist(), roles["role"].tolist()
        )
    ]


def plan_tags(connection: Connection, rows: pd.DataFrame, known_deal_ids: list[str]) -> pd.DataFrame:
    """Tags the ledger's deals do not have yet (tags are only ever added)."""
    tag_pairs = rows.loc[rows["tags"] != "", ["deal_id", "tags"]].drop_duplicates()
    tag_pairs = tag_pairs.assign(tag=tag_pairs["tags"].str.split(";")).explode("tag")[["deal_id", "tag"]]
    tag_pairs = tag_pairs.drop_duplicates()
    known = select_in(connection, [DealTag.deal_id, DealTag.tag], DealTag.deal_id, known_deal_ids)
    return tag_pairs[
        ~(tag_pairs["deal_id"] + "|" + tag_pairs["tag"]).isin(set(known["deal_id"] + "|" + known["tag"]))
    ]


def plan_external_ids(connection: Connection, rows: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """External ids new to the ledger; an id already held by another deal is a problem."""
    given = rows.loc[rows["deal_external_ids"] != "", ["line", "deal_id", "deal_external_ids"]]
    given = given.assign(pair=given["deal_external_ids"].str.split(";")).explode("pair")
    given = given.drop_duplicates(["pair", "deal_id"])
    if given.empty:
        return pd.DataFrame(columns=["deal_id", "scheme", "external_id"])
    split = given["pair"].str.split(":", n=1)
    given = given.assign(scheme=split.str[0], external_id=split.str[1])
    known = select_in(
        connection,
        [DealExternalId.scheme, DealExternalId.external_id, DealExternalId.deal_id],
        DealExternalId.external_id,
        list(dict.fromkeys(given["external_id"])),
    )
    owner = {(s, e): d for s, e, d in zip(known["scheme"], known["external_id"], known["deal_id"])}
    fresh = []
    for line, deal_id, scheme, external in zip(
        given["line"], given["deal_id"], given["scheme"], given["external_id"]
    ):
        holder = owner.get((scheme, external))
        if holder is None:
            owner[(scheme, external)] = deal_id
            fresh.append((deal_id, scheme, external))
        elif holder != deal_id:
            problems.add(
                Problem(
                    int(line),
                    "deal_external_ids",
                    f"{scheme}:{external}",
                    f"{scheme} id {external} already belongs to deal {holder}",
                    f"Use deal_id {holder} for this record, or correct the id.",
                )
            )
    return pd.DataFrame(fresh, columns=["deal_id", "scheme", "external_id"])


def plan_signposts(
    connection: Connection, rows: pd.DataFrame, event_ids: dict[str, int], source_ids: dict[str, int]
) -> pd.DataFrame:
    """Signposts the ledger does not hold yet, each with the event and source of the first row stating it."""
    stated = rows.loc[rows["signpost_stage"].notna() & (rows["signpost_stage"] != "")]
    columns = [
        "line",
        "deal_id",
        "fingerprint",
        "signpost_id",
        "event_id",
        "source_id",
        *stored_columns("signposts"),
    ]
    if stated.empty:
        return pd.DataFrame(columns=columns)
    fingerprints = [
        signpost_fingerprint(deal, stage, text, note)
        for deal, stage, text, note in zip(
            stated["deal_id"], stated["signpost_stage"], stated["signpost_text"], stated["signpost_note"]
        )
    ]
    signposts = stated[["line", "deal_id", *stored_columns("signposts")]].assign(
        fingerprint=fingerprints,
        event_id=_mapped(stated["fingerprint"], event_ids),
        source_id=_mapped(stated["source_key"], source_ids),
    )
    signposts = signposts.drop_duplicates("fingerprint")
    known = select_in(
        connection, [Signpost.fingerprint], Signpost.fingerprint, signposts["fingerprint"].tolist()
    )
    signposts = signposts[~signposts["fingerprint"].isin(set(known["fingerprint"]))].copy()
    first = next_id(connection, Signpost.__table__)
    signposts["signpost_id"] = range(first, first + len(signposts))
    return signposts[columns]


def plan_import(connection: Connection, batch: Batch) -> Plan:
    """The whole plan of a batch against the ledger; ImportRejected with every problem found."""
    rows = batch.rows
    problems = Problems()
    deal_ids, existing = plan_deals(connection, rows, problems)
    known_deal_ids = [d for d in deal_ids if d in existing.index]
    changes, final_values = plan_attribute_changes(connection, rows, deal_ids, existing)
    new_events, known_events, event_ids = plan_events(connection, rows, known_deal_ids, problems)
    new_sources, source_ids = plan_sources(connection, rows, problems)
    new_links = plan_links(connection, rows, event_ids, source_ids, known_events, problems)
    new_parties, roles = plan_parties(connection, rows, event_ids, problems)
    new_roles = plan_roles(connection, roles, known_deal_ids)
    new_tags = plan_tags(connection, rows, known_deal_ids)
    new_external_ids = plan_external_ids(connection, rows, problems)
    new_signposts = plan_signposts(connection, rows, event_ids, source_ids)
    problems.raise_if_any()

    # Each change is tied to the event of the row that made it. Comprehensions over the rows' columns as
    # lists, as in is_in: dict(zip(...)) of every row and rows.loc[mask, column] were long C calls.
    # Only the lines that made a change are kept, and the rows' lines are compared as integer arrays, not
    # sets and dicts of every row: those were 20 MB, the peak of planning the real 3.6 MB SIPRI export.
    changed_lines = set(changes["line"].tolist())
    line_event = (
        {
            line: event_ids.get(fingerprint)
            for line, fingerprint in zip(rows["line"].tolist(), rows["fingerprint"].tolist())
            if line in changed_lines
        }
        if changed_lines
        else {}
    )
    changes["event_id"] = changes["line"].map(line_event)
    created = [d for d in deal_ids if d not in existing.index]
    changed = set(changes["deal_id"])
    touched = (
        set(new_events["deal_id"].tolist())
        | changed
        | set(new_roles["deal_id"].tolist())
        | set(new_tags["deal_id"].tolist())
        | set(new_signposts["deal_id"].tolist())
        # A new link's row names its event's deal (the links keep the rows' index; every row of an event
        # names the same deal, the fingerprint includes it).
        | set(rows.loc[new_links.index, "deal_id"].tolist())
    )
    # A duplicate row is one that adds nothing: no new event-source link, role or attribute change.
    adding_lines = np.concatenate(
        [frame["line"].to_numpy(dtype=np.int64) for frame in (new_links, new_roles, changes, new_signposts)]
    )
    # Counted in file records (lines): a SIPRI record gives several batch rows, a ledger CSV row one.
    file_lines = np.unique(rows["line"].to_numpy(dtype=np.int64))
    duplicates = int(len(file_lines) - np.isin(file_lines, adding_lines).sum())
    return Plan(
        batch=batch,
        deals_created=created,
        deals_updated=[d for d in deal_ids if d in touched and d in existing.index],
        new_deals=final_values.loc[created].reset_index(),
        deal_updates=final_values.loc[[d for d in known_deal_ids if d in changed]].reset_index(),
        changes=changes,
        new_events=new_events,
        new_sources=new_sources,
        new_links=new_links,
        new_parties=new_parties,
        new_roles=new_roles,
        new_tags=new_tags,
        new_external_ids=new_external_ids,
        new_signposts=new_signposts,
        duplicates_skipped=duplicates,
        touched_deals=sorted(touched | set(created)),
        warnings=[w for w in (sipri.mixed_layout_warning(connection, batch.format),) if w],
    )
