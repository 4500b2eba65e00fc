"""Read-side queries: every figure and table the dashboard and the CLI show comes from here.

Aggregation happens in SQL; functions return small pandas DataFrames ready to render, capped at
what a page shows. Options are keyword-only; `filters` is the analyst's `Filters` value. The overview's
charts are summed in Python from one GROUP BY per filter (see `_deal_mix`).

Retracted events are left out of every view (tracker.knowledge). As-of views (`as_of`, a
`tracker.knowledge.AsOf`) show the ledger as publicly reported by a day, or as recorded in it by a
moment: events not known then are left out (as recorded: also roles, sources and attribute changes from
later imports, with grades as they were then), and each deal's stage is recomputed by
`tracker.stages.deal_status` from the events known then (the same derivation the importer stores).
Grouping by that recomputed stage happens in Python, over one row per deal, because the stage is not in
the database.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    String,
    case,
    cast,
    distinct,
    exists,
    false,
    func,
    literal,
    select,
)

from tracker import signposts
from tracker.attributes import ATTRIBUTE_BY_NAME, ATTRIBUTE_COLUMNS, DealAttribute, restored, shown_change
from tracker.conflicts import dates_as_reported, source_list
from tracker.countries import country_by_code
from tracker.dates import format_partial_date
from tracker.display import deal_label, grade, short_address, value_range_text, web_url_or_none
from tracker.filters import (
    FilterOptions,
    Filters,
    database_only_deals,
    deals_citing,
    like_pattern,
    matches,
)
from tracker.knowledge import (
    AsOf,
    AsOfMode,
    FirstKnown,
    credibility,
    event_is_current,
    first_published,
    first_recorded,
    first_undated,
    links_known,
    reliability,
    roles_known,
)
from tracker.labels import deal_labels, frame_labels, label_columns
from tracker.labels import sipri_recorded as sipri_recorded_column
from tracker.memory import cycle_collection_paused
from tracker.models import (
    Deal,
    DealChange,
    DealParty,
    DealTag,
    Event,
    EventSource,
    GradeChange,
    Import,
    Party,
    Retraction,
    Signpost,
    Source,
)
from tracker.revisions import KINDS
from tracker.stages import EVENT_COLUMNS, STATUS_COLUMNS, deal_status, gaps_by_stage, stage_intervals
from tracker.staleness import StageThresholds, can_be_stale, is_stale, news_is_old, stage_thresholds
from tracker.vocab import ACTIVE_STAGES, CREDIBILITY, RELIABILITY, ROLES, STAGE_NAMES, STAGE_ORDER

DEALS_TABLE_LIMIT = 500
CARDS_PER_STAGE = 12
LATEST_EVENTS = 20
SOURCES_TABLE_LIMIT = 500
SOURCE_SUPPORT_LIMIT = 200
HISTORY_LIMIT = 200
TRADE_ROLES = ("buyer", "seller")


def _frame(engine: Engine, statement: Select[Any]) -> pd.DataFrame:
    with engine.connect() as connection:
        result = connection.execute(statement)
        keys = list(result.keys())
        rows = result.all()
    # Built column-wise: given Row objects, pandas probes each one for namedtuple fields (an exception per
    # row).
    columns = list(zip(*rows)) if rows else [()] * len(keys)
    return pd.DataFrame({key: list(column) for key, column in zip(keys, columns)}, columns=keys)


def _state_names(engine: Engine) -> dict[str, str]:
    """Display names of the states in the ledger by code; former states (SUN, YUG from SIPRI) keep the
    ledger's name, since they have no current ISO code."""
    states = _frame(
        engine,
        select(Party.country_code, Party.name).where(Party.kind == "state", Party.country_code.is_not(None)),
    )
    names = {}
    for code, name in zip(states["country_code"], states["name"]):
        try:
            names[code] = country_by_code(code).name
        except KeyError:
            names[code] = name
    return names


def _country_name(code: str | None, states: dict[str, str]) -> str:
    """A country code as a name: the ledger's state name, else the ISO name, else the code itself."""
    if not code:
        return ""
    if code in states:
        return states[code]
    try:
        return country_by_code(code).name
    except KeyError:
        return code


# --- the ledger as a whole ----------------------------------------------------------------------------


def ledger_counts(engine: Engine) -> dict[str, int]:
    """How many deals, current events, sources, parties, links of current events and committed imports the
    ledger holds."""
    # Events and links count only what the current views show: retracted events are not.
    counted = {
        "deals": select(func.count()).select_from(Deal),
        "events": select(func.count()).select_from(Event).where(event_is_current()),
        "sources": select(func.count()).select_from(Source),
        "parties": select(func.count()).select_from(Party),
        "source links": select(func.count())
        .select_from(EventSource)
        .join(Event, Event.id == EventSource.event_id)
        .where(event_is_current()),
    }
    with engine.connect() as connection:
        return {
            name: int(connection.execute(statement).scalar_one()) for name, statement in counted.items()
        } | {
            "imports": int(
                connection.execute(
                    select(func.count()).select_from(Import).where(Import.status == "committed")
                ).scalar_one()
            )
        }


def has_deals(engine: Engine) -> bool:
    """Whether the ledger holds any deal (without counting a large one)."""
    with engine.connect() as connection:
        return connection.execute(select(Deal.id).limit(1)).first() is not None


def first_known(engine: Engine, *, mode: AsOfMode) -> FirstKnown | None:
    """When an as-of view in `mode` first shows anything (None for a ledger without current events): as
    reported, the end of the earliest period a source of a current event was published in, or, for a
    source without a date, when its link was recorded; as recorded, when the first current event was."""
    current = event_is_current()
    with engine.connect() as connection:
        if mode == "recorded":
            recorded_at = connection.execute(select(func.min(Event.recorded_at)).where(current)).scalar()
            return None if recorded_at is None else first_recorded(recorded_at)
        precision = func.coalesce(Source.published_precision, "day")
        linked = (
            select(precision, func.min(Source.published_on))
            .join(EventSource, EventSource.source_id == Source.id)
            .join(Event, Event.id == EventSource.event_id)
            .where(current)
        )
        dated = connection.execute(linked.where(Source.published_on.is_not(None)).group_by(precision)).all()
        undated = connection.execute(
            select(func.min(Import.committed_at))
            .select_from(EventSource)
            .join(Source, Source.id == EventSource.source_id)
            .join(Import, Import.id == EventSource.import_id)
            .join(Event, Event.id == EventSource.event_id)
            .where(current, Source.published_on.is_(None))
        ).scalar()
    firsts = [first_published(start, name) for name, start in dated]
    if undated is not None:
        firsts.append(first_undated(undated))
    return min(firsts, key=lambda first: first.moment, default=None)


def ledger_version(engine: Engine) -> str:
    """Changes whenever an import is committed or undone (from any process): a cache key for ledger data."""
    statement = select(
        func.count(Import.id), func.max(Import.id), func.max(Import.undone_at), func.count(Import.undone_at)
    )
    with engine.connect() as connection:
        count, last, undone_at, undone = connection.execute(statement).one()
    return f"{count}:{last}:{undone}:{undone_at}"


def import_history(engine: Engine, *, limit: int | None = None) -> pd.DataFrame:
    """Imports, newest first (at most `limit`)."""
    statement = (
        select(
            Import.id,
            Import.file_name,
            Import.format,
            Import.editor,
            Import.committed_at,
            Import.rows_read,
            Import.events_added,
            Import.deals_created,
            Import.deals_updated,
            Import.duplicates_skipped,
            Import.status,
            Import.undone_at,
            Import.undone_by,
        )
        .order_by(Import.id.desc())
        .limit(limit)
    )
    return _frame(engine, statement)


def filter_options(engine: Engine) -> FilterOptions:
    """What the sidebar filters can offer, from what the ledger holds."""
    names = _state_names(engine)
    # EXISTS per state rather than DISTINCT over every buyer and seller row: a few hundred index probes.
    codes = _frame(
        engine,
        select(Party.country_code.label("code")).where(
            Party.kind == "state",
            Party.country_code.is_not(None),
            exists(
                select(DealParty.party_id).where(
                    DealParty.party_id == Party.id, DealParty.role.in_(TRADE_ROLES)
                )
            ),
        ),
    )
    states = pd.DataFrame({"code": codes["code"].tolist(), "name": [names.get(c, c) for c in codes["code"]]})
    parties = _frame(
        engine,
        select(Party.id.label("party_id"), Party.name, Party.kind, Party.country_code)
        .where(
            Party.kind != "state", exists(select(DealParty.party_id).where(DealParty.party_id == Party.id))
        )
        .order_by(Party.name, Party.id),
    )
    labels = [
        # A party with no country reads NaN from the frame: no "(nan)" in its label.
        f"{name} ({code})" if isinstance(code, str) else name
        for name, code in zip(parties["name"], parties["country_code"])
    ]
    # Two parties can share a name and country (different kinds): the id keeps their labels apart.
    repeated = {label for label, count in Counter(labels).items() if count > 1}
    parties["label"] = [
        f"{label} #{party_id}" if label in repeated else label
        for label, party_id in zip(labels, parties["party_id"])
    ]
    categories = _frame(
        engine, select(Deal.category).distinct().where(Deal.category.is_not(None)).order_by(Deal.category)
    )
    return FilterOptions(
        countries=states.sort_values("name").reset_index(drop=True),
        parties=parties,
        categories=tuple(categories["category"]),
        scopes=ledger_scopes(engine),
    )


def ledger_scopes(engine: Engine) -> frozenset[str]:
    """Which scopes hold deals: "making" (a deal with a source that is not a database) and "recorded"
    (a deal whose sources are all databases, e.g. a SIPRI import); see tracker.filters.SCOPE_RULE.

    Each is one EXISTS that stops at its first hit, reached from the sources of a kind through the links'
    source index: no pass over every deal.
    """
    statement = select(exists(deals_citing(database=False)), exists(database_only_deals()))
    with engine.connect() as connection:
        making, recorded = connection.execute(statement).one()
    return frozenset(name for name, present in (("making", making), ("recorded", recorded)) if present)


# --- which deals a view covers ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scope:
    """Conditions on `deals` selecting the filtered deals; as of a date, also their recomputed status."""

    conditions: list[ColumnElement[bool]]
    statuses: pd.DataFrame | None  # tracker.stages.STATUS_COLUMNS, one row per deal (as-of views only)


def _scope(engine: Engine, filters: Filters, as_of: AsOf | None) -> _Scope:
    if as_of is None:
        return _Scope([filters.deal_clause()], None)
    # A deal is in an as-of view when an event known then matches the date and grade filters.
    conditions = [
        filters.deal_clause(as_of=as_of),
        exists(
            select(Event.id)
            .where(Event.deal_id == Deal.id, *_event_conditions(filters, as_of))
            .correlate(Deal)
        ),
    ]
    events = _frame(
        engine,
        select(
            Event.deal_id,
            Event.id.label("event_id"),
            Event.occurred_on,
            Event.occurred_until,
            Event.date_precision,
            Event.stage,
        )
        .join(Deal, Deal.id == Event.deal_id)
        .where(event_is_current(as_of), *conditions),
    )
    statuses = deal_status(events)
    if filters.stages:
        statuses = statuses[statuses["current_stage"].isin(filters.stages)].reset_index(drop=True)
        conditions = [Deal.id.in_(list(statuses["deal_id"]))]
    return _Scope(conditions, statuses)


def _event_conditions(filters: Filters, as_of: AsOf | None) -> list[ColumnElement[bool]]:
    return [*filters.event_conditions(as_of=as_of), event_is_current(as_of)]


def count_deals(engine: Engine, *, filters: Filters) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count(Deal.id)).where(filters.deal_clause())).scalar_one())


# --- overview -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeadlineFigures:
    deals: int
    active_deals: int  # stage in tracker.vocab.ACTIVE_STAGES
    events_this_month: int  # events whose date starts in today's calendar month
    stale_deals: int  # tracker.staleness


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the overview charts, from one pass over the filtered deals."""

    figures: HeadlineFigures
    by_stage: pd.DataFrame  # see deals_by_stage
    country_counts: pd.DataFrame  # country_code, country, as_buyer, as_seller, deals (the map's value)
    # Every country and every pair, most deals first: the charts keep the top ones and add up the rest
    # (tracker.charts), so their "others" are exact. A few thousand rows for a whole SIPRI register.
    matrix: pd.DataFrame  # country_code, country, stage, deals
    flows: pd.DataFrame  # buyer_code, buyer, seller_code, seller, deals


class _MixRow(NamedTuple):
    """Filtered deals sharing a current stage, state buyers and state sellers."""

    stage: str | None  # None: no event gives a stage yet
    buyers: tuple[str, ...]  # ISO codes
    sellers: tuple[str, ...]
    deals: int
    stale: int  # stale deals on the day counted from (tracker.staleness)


def _deal_mix(
    engine: Engine,
    filters: Filters,
    as_of: AsOf | None,
    *,
    today: dt.date | None = None,
    scope: _Scope | None = None,
    thresholds: StageThresholds | None = None,
) -> list[_MixRow]:
    """The filtered deals counted per combination of current stage, state buyers and state sellers.

    Every overview chart is a sum over these rows, so the deals are read once per filter however many
    charts there are, and what Python loops over is bounded by the combinations that occur (about 13,000
    for 50,000 synthetic deals), not by the number of deals.
    """
    scope = scope or _scope(engine, filters, as_of)
    if scope.statuses is None:
        # Counted for every group; only the stages that can be stale keep the count (below): testing the
        # stage per row in SQL costs a third of this query at 1M events.
        stale = (
            func.count(case((news_is_old(today, thresholds=thresholds), 1)))
            if today is not None
            else literal(0)
        )
        statement = (
            select(Deal.current_stage, Deal.buyer_codes, Deal.seller_codes, func.count(), stale)
            .where(*scope.conditions)
            .group_by(Deal.current_stage, Deal.buyer_codes, Deal.seller_codes)
        )
        with engine.connect() as connection:
            rows = connection.execute(statement).all()
        codes: dict[str | None, tuple[str, ...]] = {None: ()}
        for _, buyer_codes, seller_codes, _, _ in rows:
            for text in (buyer_codes, seller_codes):
                if text not in codes:
                    codes[text] = tuple(text.split(" "))
        return [
            _MixRow(stage, codes[buyers], codes[sellers], deals, stale_deals if can_be_stale(stage) else 0)
            for stage, buyers, sellers, deals, stale_deals in rows
        ]
    # As of a date: the stage recomputed from the events known then, the roles recorded by then.
    statuses = scope.statuses
    roles = _frame(
        engine,
        select(DealParty.deal_id, DealParty.role, Party.country_code)
        .join(Party, Party.id == DealParty.party_id)
        .join(Deal, Deal.id == DealParty.deal_id)
        .where(
            *scope.conditions,
            Party.kind == "state",
            Party.country_code.is_not(None),
            DealParty.role.in_(TRADE_ROLES),
            *roles_known(as_of),
        )
        .distinct(),
    )
    sides: dict[tuple[str, str], list[str]] = defaultdict(list)
    for deal_id, role, code in zip(roles["deal_id"], roles["role"], roles["country_code"]):
        sides[(deal_id, role)].append(code)
    mix: Counter[tuple[str | None, tuple[str, ...], tuple[str, ...]]] = Counter()
    stale_mix: Counter[tuple[str | None, tuple[str, ...], tuple[str, ...]]] = Counter()
    for deal_id, stage, last_event_until, precision in zip(
        statuses["deal_id"],
        statuses["current_stage"],
        statuses["last_event_until"],
        statuses["last_event_precision"],
    ):
        stage = stage if isinstance(stage, str) else None
        key = (stage, tuple(sorted(sides[(deal_id, "buyer")])), tuple(sorted(sides[(deal_id, "seller")])))
        mix[key] += 1
        stale_mix[key] += int(
            today is not None
            and is_stale(stage, last_event_until, precision, today=today, thresholds=thresholds)
        )
    return [_MixRow(*key, deals, stale_mix[key]) for key, deals in mix.items()]


@dataclass(frozen=True, slots=True)
class _Tally:
    """The sums every overview chart is drawn from, made in one pass over a deal mix."""

    deals: int
    active: int
    stale: int
    by_stage: Counter[str]
    as_buyer: Counter[str]
    as_seller: Counter[str]
    cells: Counter[tuple[str, str]]  # (country, stage): deals with the country on the counted sides
    flows: Counter[tuple[str, str]]  # (buyer, seller)


def _tally(mix: list[_MixRow], *, roles: tuple[str, ...] = TRADE_ROLES) -> _Tally:
    deals_total = active = stale = 0
    # defaultdicts while summing (a Counter's missing key is a Python-level call: a quarter of the loop).
    by_stage: defaultdict[str, int] = defaultdict(int)
    as_buyer: defaultdict[str, int] = defaultdict(int)
    as_seller: defaultdict[str, int] = defaultdict(int)
    cells: defaultdict[tuple[str, str], int] = defaultdict(int)
    flows: defaultdict[tuple[str, str], int] = defaultdict(int)
    buyer_side, seller_side = "buyer" in roles, "seller" in roles
    for stage, buyers, sellers, deals, stale_deals in mix:
        deals_total += deals
        stale += stale_deals
        for code in buyers:
            as_buyer[code] += deals
        for code in sellers:
            as_seller[code] += deals
        for pair in product(buyers, sellers):
            flows[pair] += deals
        if stage is None:
            continue
        by_stage[stage] += deals
        if stage in ACTIVE_STAGES:
            active += deals
        # A country on both sides of a deal counts once for it.
        for code in dict.fromkeys((buyers if buyer_side else ()) + (sellers if seller_side else ())):
            cells[(code, stage)] += deals
    return _Tally(
        deals_total,
        active,
        stale,
        Counter(by_stage),
        Counter(as_buyer),
        Counter(as_seller),
        Counter(cells),
        Counter(flows),
    )


def _events_this_month(
    engine: Engine,
    filters: Filters,
    today: dt.date,
    as_of: AsOf | None,
    *,
    scope: _Scope | None = None,
) -> int:
    month_start = today.replace(day=1)
    next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
    # The month's events first (a range of the date index), then their deals: asked the other way round,
    # SQLite seeks the month in each filtered deal's events (15,000 seeks for the USA at 1M events).
    in_month = (
        select(Event.id, Event.deal_id)
        .where(
            Event.occurred_on >= month_start,
            Event.occurred_on < next_month,
            *_event_conditions(filters, as_of),
        )
        .cte("in_month")
        .prefix_with("MATERIALIZED")
    )
    events = (
        select(func.count(in_month.c.id))
        .join(Deal, Deal.id == in_month.c.deal_id)
        .where(*(scope or _scope(engine, filters, as_of)).conditions)
    )
    with engine.connect() as connection:
        return int(connection.execute(events).scalar_one())


def _headline(tally: _Tally, events_this_month: int) -> HeadlineFigures:
    return HeadlineFigures(
        deals=tally.deals,
        active_deals=tally.active,
        events_this_month=events_this_month,
        stale_deals=tally.stale,
    )


def _by_stage_frame(tally: _Tally) -> pd.DataFrame:
    return pd.DataFrame(
        {"stage": list(STAGE_NAMES), "deals": [tally.by_stage[stage] for stage in STAGE_NAMES]}
    )


def _counts_frame(tally: _Tally, names: dict[str, str]) -> pd.DataFrame:
    codes = sorted(tally.as_buyer.keys() | tally.as_seller.keys())
    as_buyer = [tally.as_buyer[code] for code in codes]
    as_seller = [tally.as_seller[code] for code in codes]
    return pd.DataFrame(
        {
            "country_code": codes,
            "country": [names.get(code, code) for code in codes],
            "as_buyer": as_buyer,
            "as_seller": as_seller,
            "deals": [b + s for b, s in zip(as_buyer, as_seller)],
        },
        columns=["country_code", "country", "as_buyer", "as_seller", "deals"],
    )


def _matrix_frame(tally: _Tally, names: dict[str, str]) -> pd.DataFrame:
    totals: Counter[str] = Counter()
    for (code, _), deals in tally.cells.items():
        totals[code] += deals
    ranked = sorted(totals, key=lambda code: (-totals[code], names.get(code, code)))
    rank = {code: i for i, code in enumerate(ranked)}
    kept = sorted(tally.cells, key=lambda key: (rank[key[0]], STAGE_ORDER[key[1]]))
    return pd.DataFrame(
        {
            "country_code": [code for code, _ in kept],
            "country": [names.get(code, code) for code, _ in kept],
            "stage": [stage for _, stage in kept],
            "deals": [tally.cells[key] for key in kept],
        },
        columns=["country_code", "country", "stage", "deals"],
    )


def _flows_frame(tally: _Tally, names: dict[str, str]) -> pd.DataFrame:
    top = sorted(tally.flows.items(), key=lambda item: (-item[1], item[0]))
    return pd.DataFrame(
        {
            "buyer_code": [b for (b, _), _ in top],
            "buyer": [names.get(b, b) for (b, _), _ in top],
            "seller_code": [s for (_, s), _ in top],
            "seller": [names.get(s, s) for (_, s), _ in top],
            "deals": [deals for _, deals in top],
        },
        columns=["buyer_code", "buyer", "seller_code", "seller", "deals"],
    )


def overview(
    engine: Engine,
    *,
    filters: Filters,
    today: dt.date,
    as_of: AsOf | None = None,
    thresholds: StageThresholds | None = None,
) -> Overview:
    """The overview's figures and charts; the same values as the single-chart functions below.
    `thresholds`: days without news before a deal in each stage is stale (`stale_thresholds`)."""
    # One scope for both queries: as of a date it recomputes every deal's stage, worth doing once.
    scope = _scope(engine, filters, as_of)
    with cycle_collection_paused():
        tally = _tally(
            _deal_mix(engine, filters, as_of, today=today, scope=scope, thresholds=thresholds),
            roles=_country_roles(filters),
        )
    names = _state_names(engine)
    return Overview(
        figures=_headline(tally, _events_this_month(engine, filters, today, as_of, scope=scope)),
        by_stage=_by_stage_frame(tally),
        country_counts=_counts_frame(tally, names),
        matrix=_matrix_frame(tally, names),
        flows=_flows_frame(tally, names),
    )


def deals_by_stage(
    engine: Engine, *, filters: Filters | None = None, as_of: AsOf | None = None
) -> pd.DataFrame:
    """Every stage in order with its number of deals (zero included); deals with no stage are not counted."""
    return _by_stage_frame(_tally(_deal_mix(engine, filters or Filters(), as_of)))


def _country_roles(filters: Filters) -> tuple[str, ...]:
    return TRADE_ROLES if filters.country_role == "either" else (filters.country_role,)


def _event_sources(engine: Engine, event_ids: list[int], as_of: AsOf | None) -> pd.DataFrame:
    """The sources of these events with their grades (as graded at `as_of`)."""
    known = links_known(as_of)
    graded = reliability(as_of).label("reliability")
    rated = credibility(as_of).label("credibility")
    statement = (
        select(
            EventSource.event_id,
            Source.id.label("source_id"),
            Source.publisher,
            Source.title,
            Source.url,
            Source.published_on,
            Source.published_precision,
            Source.kind,
            graded,
            rated,
            EventSource.excerpt,
        )
        .join(Source, Source.id == EventSource.source_id)
        .where(EventSource.event_id.in_(event_ids), *known)
        .order_by(EventSource.event_id, graded, rated, Source.id)
    )
    sources = _frame(engine, statement)
    sources["grade"] = [grade(r, c) for r, c in zip(sources["reliability"], sources["credibility"])]
    sources["url"] = sources["url"].map(web_url_or_none)
    sources["published"] = _shown_dates(sources["published_on"], sources["published_precision"])
    return sources


def _with_sources(events: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """Adds `date` (as reported), `sources` ("LIGA.net (B3); ...") and `source_url` (the best linked
    source)."""
    events = events.copy()
    events["date"] = dates_as_reported(events)
    listed = source_list(sources)
    events["sources"] = events["event_id"].map(lambda i: listed.get(i, ""))
    linked = sources[sources["url"].notna()].drop_duplicates("event_id").set_index("event_id")["url"]
    events["source_url"] = events["event_id"].map(lambda i: linked.get(i))
    return events


def latest_events(
    engine: Engine, *, filters: Filters, as_of: AsOf | None = None, limit: int = LATEST_EVENTS
) -> pd.DataFrame:
    """The most recent events (by date) of the filtered deals, with their sources and grades, and their
    deals' labels (`deal_label`, tracker.display.deal_label)."""
    return _latest_events(engine, _scope(engine, filters, as_of), filters, as_of, limit)


def _latest_events(
    engine: Engine, scope: _Scope, filters: Filters, as_of: AsOf | None, limit: int
) -> pd.DataFrame:
    statement = (
        select(
            Event.id.label("event_id"),
            Event.deal_id,
            Deal.title.label("deal_title"),
            Event.occurred_on,
            Event.occurred_until,
            Event.date_precision,
            Event.stage,
            Event.summary,
        )
        .join(Deal, Deal.id == Event.deal_id)
        .where(*scope.conditions, *_event_conditions(filters, as_of))
        .order_by(Event.occurred_on.desc(), Event.id.desc())
        .limit(limit)
    )
    events = _frame(engine, statement)
    events["deal_label"] = events["deal_id"].map(deal_labels(engine, list(events["deal_id"])))
    return _with_sources(events, _event_sources(engine, [int(i) for i in events["event_id"]], as_of))


# --- pipeline and deals table -------------------------------------------------------------------------


def pipeline_cards(
    engine: Engine,
    *,
    filters: Filters,
    today: dt.date,
    per_stage: int = CARDS_PER_STAGE,
    thresholds: StageThresholds | None = None,
) -> pd.DataFrame:
    """The most recently active deals of each stage (at most `per_stage`), as cards for the board.

    `label` is the deal's name as the pages show it (tracker.display.deal_label); `latest_grade` the best
    grade among the sources of the deal's latest event; `last_event` the latest event's date as precisely
    as it was reported ("2023", "Sep 2025"); `stale` per
    tracker.staleness with `thresholds`; `days_in_stage` only for stages a deal can still move on from;
    `overdue_signposts` how many of its signposts are overdue (tracker.signposts).
    """
    rank = (
        func.row_number()
        .over(partition_by=Deal.current_stage, order_by=(Deal.last_event_on.desc(), Deal.id))
        .label("rank")
    )
    ranked = (
        select(
            Deal.id.label("deal_id"),
            Deal.title,
            Deal.current_stage.label("stage"),
            Deal.stage_since,
            Deal.last_event_on,
            Deal.last_event_precision,
            Deal.last_event_until,
            Deal.buyers,
            Deal.sellers,
            Deal.value_low,
            Deal.value_high,
            Deal.currency,
            rank,
        )
        .where(filters.deal_clause(), Deal.current_stage.is_not(None))
        .subquery()
    )
    cards = _frame(
        engine, select(ranked).where(ranked.c.rank <= per_stage).order_by(ranked.c.stage, ranked.c.rank)
    )
    cards["label"] = cards["deal_id"].map(deal_labels(engine, list(cards["deal_id"])))
    cards["position"] = cards["stage"].map(STAGE_ORDER)
    cards = cards.sort_values(["position", "rank"]).drop(columns=["position", "rank"]).reset_index(drop=True)
    cards["days_in_stage"] = [
        (today - since).days if since is not None and can_be_stale(stage) else None
        for stage, since in zip(cards["stage"], cards["stage_since"])
    ]
    cards["last_event"] = _shown_dates(cards["last_event_on"], cards["last_event_precision"])
    cards["stale"] = [
        is_stale(stage, until, precision, today=today, thresholds=thresholds)
        for stage, until, precision in zip(
            cards["stage"], cards["last_event_until"], cards["last_event_precision"]
        )
    ]
    overdue = _frame(
        engine,
        select(Signpost.deal_id, func.count().label("signposts"))
        .join(Deal, Deal.id == Signpost.deal_id)
        .where(Signpost.deal_id.in_(list(cards["deal_id"])), *signposts.overdue(today=today))
        .group_by(Signpost.deal_id),
    )
    cards["overdue_signposts"] = [
        int(n) for n in cards["deal_id"].map(dict(zip(overdue["deal_id"], overdue["signposts"]))).fillna(0)
    ]
    grades = _frame(
        engine,
        select(
            Event.deal_id,
            Event.id.label("event_id"),
            Event.occurred_on,
            Source.reliability,
            EventSource.credibility,
        )
        .join(EventSource, EventSource.event_id == Event.id)
        .join(Source, Source.id == EventSource.source_id)
        .where(Event.deal_id.in_(list(cards["deal_id"])), event_is_current()),
    )
    if grades.empty:
        cards["latest_grade"] = ""
        return cards
    latest = grades.sort_values(["deal_id", "occurred_on", "event_id"]).groupby("deal_id")["event_id"].last()
    best = (
        grades[grades["event_id"].isin(latest)]
        .sort_values(["reliability", "credibility"])
        .groupby("deal_id")
        .first()
    )
    cards["latest_grade"] = (
        cards["deal_id"]
        .map({deal: grade(row["reliability"], row["credibility"]) for deal, row in best.iterrows()})
        .fillna("")
    )
    return cards


@dataclass(frozen=True, slots=True)
class DealSort:
    """A column the Deals table can be sorted by, in the database over every matching deal."""

    label: str
    order: ColumnElement[Any]
    descending: bool  # its natural direction: latest, largest first; names from A


# Names sort case-insensitively; empty values come last either way; ties are broken by deal id.
DEAL_SORTS: dict[str, DealSort] = {
    "last_event": DealSort("Last event", Deal.last_event_on, descending=True),
    "first_event": DealSort("First event", Deal.first_event_on, descending=True),
    "title": DealSort("Deal", func.lower(Deal.title), descending=False),
    "stage": DealSort("Stage", case(STAGE_ORDER, value=Deal.current_stage), descending=False),
    "stage_since": DealSort("In stage since", Deal.stage_since, descending=True),
    "buyers": DealSort("Buyers", func.lower(Deal.buyers), descending=False),
    "sellers": DealSort("Sellers", func.lower(Deal.sellers), descending=False),
    "category": DealSort("Category", func.lower(Deal.category), descending=False),
    "value": DealSort(
        "Value (upper end, in the deal's own currency)",
        func.coalesce(Deal.value_high, Deal.value_low),
        descending=True,
    ),
    "events": DealSort("Events", Deal.event_count, descending=True),
    "sipri_tiv": DealSort("SIPRI TIV", Deal.sipri_tiv, descending=True),
}
DEFAULT_DEAL_SORT = "last_event"


# The dates of `deals_table`: each stored date, the column saying how precisely it was reported, and the
# column showing it so ("2023", "week of 22 Sep 2025").
DEAL_TABLE_DATES: tuple[tuple[str, str, str], ...] = (
    ("first_event_on", "first_event_precision", "first_event"),
    ("last_event_on", "last_event_precision", "last_event"),
    ("stage_since", "stage_since_precision", "in_stage_since"),
)

# The columns of `deals_table`, in order, with the names people read (the Deals page, the workbook's
# "deals" sheet).
DEAL_TABLE_COLUMNS: dict[str, str] = {
    "deal_id": "Deal id",
    "title": "Deal",
    "stage": "Stage",
    "stage_since": "In stage since",
    "buyers": "Buyers",
    "sellers": "Sellers",
    "category": "Category",
    "value": "Value",
    "value_low": "Value from",
    "value_high": "Value to",
    "currency": "Currency",
    "first_event_on": "First event",
    "last_event_on": "Last event",
    "event_count": "Events",
}


def _deals_statement(filters: Filters, sort: str, descending: bool | None) -> Select[Any]:
    chosen = DEAL_SORTS[sort]
    order = chosen.order.desc() if (chosen.descending if descending is None else descending) else chosen.order
    return (
        select(
            Deal.id.label("deal_id"),
            Deal.title,
            Deal.current_stage.label("stage"),
            Deal.stage_since,
            Deal.buyers,
            Deal.sellers,
            Deal.category,
            Deal.value_low,
            Deal.value_high,
            Deal.currency,
            Deal.first_event_on,
            Deal.last_event_on,
            Deal.event_count,
            Deal.sipri_tiv,
            Deal.stage_since_precision,
            Deal.first_event_precision,
            Deal.last_event_precision,
            *label_columns(),
        )
        .where(filters.deal_clause())
        .order_by(order.nulls_last(), Deal.id)
    )


def _shown_dates(days: pd.Series, precisions: pd.Series, untils: pd.Series | None = None) -> list[str | None]:
    """Dates as precisely as they were reported: "2023", "Sep 2025", "4 Jul 2025" (with `untils`, the
    periods' ends: "29 Sep – 2 Oct 2025"); None where a frame has no date."""
    ends = untils if untils is not None else [None] * len(days)
    return [
        format_partial_date(day, precision, until) if day is not None and isinstance(precision, str) else None
        for day, precision, until in zip(days, precisions, ends)
    ]


def _deals_frame(engine: Engine, statement: Select[Any]) -> pd.DataFrame:
    deals = _frame(engine, statement)
    deals.insert(
        7,
        "value",
        [
            value_range_text(low, high, currency)
            for low, high, currency in zip(deals["value_low"], deals["value_high"], deals["currency"])
        ],
    )
    deals["label"] = frame_labels(deals["title"], deals)
    for stored, precision, shown in DEAL_TABLE_DATES:
        deals[shown] = _shown_dates(deals[stored], deals[precision])
    return deals.drop(columns=[column.name for column in label_columns()])


def deals_table(
    engine: Engine,
    *,
    filters: Filters,
    sort: str = DEFAULT_DEAL_SORT,
    descending: bool | None = None,
    offset: int = 0,
    limit: int | None = DEALS_TABLE_LIMIT,
) -> pd.DataFrame:
    """The filtered deals in the order of `DEAL_SORTS[sort]` (`descending` None: its natural direction),
    then by deal id, so pages never overlap: rows `offset` to `offset + limit` (the Deals page reads
    its pages with `deals_page`), all of them (limit None) for a download. `value` is the range as text,
    "10–30 bn USD"; `label` the deal's name as the pages show it (tracker.display.deal_label);
    `first_event`, `last_event` and `in_stage_since` the dates as precisely as they were reported ("2023",
    "Sep 2025"); `sipri_tiv` SIPRI's volume index in millions, never money."""
    return _deals_frame(engine, _deals_statement(filters, sort, descending).offset(offset).limit(limit))


@dataclass(frozen=True, slots=True)
class DealsPage:
    """One page of the Deals table and where it lies among the filtered deals."""

    rows: pd.DataFrame  # as `deals_table`
    total: int  # filtered deals
    page: int  # 1-based; the last page when the one asked for lies beyond it
    pages: int  # at least 1


def deals_page(
    engine: Engine,
    *,
    filters: Filters,
    sort: str = DEFAULT_DEAL_SORT,
    descending: bool | None = None,
    page: int = 1,
    page_size: int = DEALS_TABLE_LIMIT,
) -> DealsPage:
    """The `page`-th `page_size` rows of `deals_table` (pages never overlap: ties are ordered by deal id),
    with how many deals match. A page past the last gives the last.

    The rows and the count come from one statement: the filters' subqueries (the scope's set of deals
    above all) are built once for both.
    """
    statement = _deals_statement(filters, sort, descending)
    total = select(func.count()).select_from(Deal).where(filters.deal_clause()).scalar_subquery()
    page = max(1, page)
    rows = _deals_frame(
        engine, statement.add_columns(total.label("total")).offset((page - 1) * page_size).limit(page_size)
    )
    if not rows.empty:
        count = int(rows["total"].iloc[0])
    elif page == 1:
        count = 0
    else:  # past the last page: count, then read the last
        with engine.connect() as connection:
            count = int(connection.execute(select(total)).scalar_one())
        last = max(1, math.ceil(count / page_size))
        if last != page:
            return deals_page(
                engine, filters=filters, sort=sort, descending=descending, page=last, page_size=page_size
            )
    return DealsPage(rows.drop(columns="total"), count, page, max(1, math.ceil(count / page_size)))


# --- one deal -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DealHeader:
    """A deal's attributes (tracker.attributes: `values` by `deals` column, also readable as attributes,
    e.g. `header.title`) and its status."""

    deal_id: str
    values: Mapping[str, Any]
    stage: str | None
    stage_since: dt.date | None
    first_event_on: dt.date | None
    last_event_on: dt.date | None
    event_count: int
    buyers: str | None
    sellers: str | None
    # tracker.stages.STATUS_COLUMNS: how precisely the dates above were reported; the last event's end.
    stage_since_precision: str | None = None
    first_event_precision: str | None = None
    last_event_precision: str | None = None
    last_event_until: dt.date | None = None
    sipri_recorded: bool = False  # tracker.filters.SCOPE_RULE

    @property
    def label(self) -> str:
        """The deal's name as the pages show it (tracker.display.deal_label)."""
        return deal_label(
            self.values["title"],
            sipri_recorded=self.sipri_recorded,
            ordered_on=self.first_event_on,
            ordered_precision=self.first_event_precision,
            quantity=self.values.get("quantity"),
        )

    def __getattr__(self, name: str) -> Any:
        if name == "values":  # not set yet (while unpickling from the page cache)
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def text(self, attribute: DealAttribute) -> str | None:
        """The attribute as recorded text (see DealAttribute.show)."""
        return attribute.of(self.values)


def deal_header(engine: Engine, deal_id: str, *, as_of: AsOf | None = None) -> DealHeader | None:
    """The deal's attributes and status; None when the ledger does not hold it (or did not yet, as of)."""
    with engine.connect() as connection:
        row = (
            connection.execute(select(Deal.__table__, sipri_recorded_column()).where(Deal.id == deal_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        sipri_recorded = bool(row["label_sipri_recorded"])
        values = {column: row[column] for column in ATTRIBUTE_COLUMNS}
        if as_of is None:
            return DealHeader(
                deal_id=deal_id,
                values=values,
                stage=row["current_stage"],
                buyers=row["buyers"],
                sellers=row["sellers"],
                sipri_recorded=sipri_recorded,
                **{key: row[key] for key in STATUS_COLUMNS if key not in ("deal_id", "current_stage")},
            )
        later: list[Any] = []
        if not as_of.reported:
            if row["created_at"] > as_of.moment:
                return None
            # Attributes changed later are read back from the first later change's old value.
            later = list(
                connection.execute(
                    select(DealChange.field, DealChange.old_value)
                    .where(DealChange.deal_id == deal_id, DealChange.recorded_at > as_of.moment)
                    .order_by(DealChange.id)
                )
            )
    values.update(restored([(field, old) for field, old in later]))
    events = deal_events(engine, deal_id, as_of=as_of)
    if as_of.reported and events.empty:
        return None  # nothing about the deal had been published yet
    status = deal_status(events.assign(deal_id=deal_id)[list(EVENT_COLUMNS)])
    known = status.iloc[0] if not status.empty else None
    roles = deal_roles(engine, deal_id, as_of=as_of)
    states = roles[roles["kind"] == "state"]
    dates = {
        key: None if known is None else known[key]
        for key in STATUS_COLUMNS
        if key not in ("deal_id", "current_stage", "event_count")
    }
    return DealHeader(
        deal_id=deal_id,
        values=values,
        stage=None if known is None else known["current_stage"],
        event_count=0 if known is None else int(known["event_count"]),
        buyers="; ".join(sorted(states.loc[states["role"] == "buyer", "party"])) or None,
        sellers="; ".join(sorted(states.loc[states["role"] == "seller", "party"])) or None,
        sipri_recorded=sipri_recorded,
        **dates,
    )


def stale_thresholds(engine: Engine) -> dict[str, int]:
    """Days without news before a deal in each active stage is stale, from the waits between events in
    the whole ledger (tracker.staleness.stage_thresholds): what is usual here, whatever the filters."""
    # Dates as ISO text, parsed by pandas in one vectorised call, and columns built from tuples: turning
    # 87,122 events (seed plus the SIPRI register) into date objects and rows took 8.5 s under this
    # machine's load, this takes 3.6 s (cached per ledger version by the pages).
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Event.deal_id,
                Event.id,
                cast(Event.occurred_on, String),
                cast(Event.occurred_until, String),
                Event.date_precision,
                Event.stage,
            ).where(event_is_current())
        ).all()
    columns = list(zip(*rows)) if rows else [()] * len(EVENT_COLUMNS)
    events = pd.DataFrame(
        {
            "deal_id": columns[0],
            "event_id": columns[1],
            "occurred_on": pd.to_datetime(pd.Series(columns[2], dtype=object), format="%Y-%m-%d"),
            "occurred_until": pd.to_datetime(pd.Series(columns[3], dtype=object), format="%Y-%m-%d"),
            "date_precision": columns[4],
            "stage": columns[5],
        },
        columns=list(EVENT_COLUMNS),
    )
    return stage_thresholds(gaps_by_stage(events))


def deal_events(engine: Engine, deal_id: str, *, as_of: AsOf | None = None) -> pd.DataFrame:
    """The deal's events in date order, each with its reported date text and its sources with grades."""
    statement = (
        select(
            Event.id.label("event_id"),
            Event.occurred_on,
            Event.occurred_until,
            Event.date_precision,
            Event.date_text,
            Event.stage,
            Event.summary,
            Event.note,
            Event.topic,
            Event.quantity,
            Event.value_low,
            Event.value_high,
            Event.currency,
            Event.recorded_at,
            Event.import_id,
        )
        .where(Event.deal_id == deal_id, event_is_current(as_of))
        .order_by(Event.occurred_on, Event.id)
    )
    events = _frame(engine, statement)
    return _with_sources(events, deal_event_sources(engine, deal_id, as_of=as_of))


def deal_event_sources(engine: Engine, deal_id: str, *, as_of: AsOf | None = None) -> pd.DataFrame:
    """One row per event and source: publisher, title, http(s) url or None, reliability, credibility,
    grade, and the source's words that support the event (excerpt)."""
    event_ids = select(Event.id).where(Event.deal_id == deal_id, event_is_current(as_of))
    with engine.connect() as connection:
        ids = [int(i) for i in connection.execute(event_ids).scalars()]
    return _event_sources(engine, ids, as_of)


def deal_stage_intervals(
    engine: Engine, deal_id: str, *, today: dt.date, as_of: AsOf | None = None
) -> pd.DataFrame:
    """The deal's stages as intervals (tracker.stages.stage_intervals); the current one runs to today,
    or to the as-of date."""
    return events_stage_intervals(
        deal_id, deal_events(engine, deal_id, as_of=as_of), today=today, as_of=as_of
    )


def events_stage_intervals(
    deal_id: str, events: pd.DataFrame, *, today: dt.date, as_of: AsOf | None = None
) -> pd.DataFrame:
    """`deal_stage_intervals` from the deal's events as `deal_events` read them (a page that has them
    already need not read them again)."""
    return stage_intervals(
        events.assign(deal_id=deal_id)[list(EVENT_COLUMNS)],
        until=as_of.day if as_of is not None else today,
    )


def time_in_stage(intervals: pd.DataFrame) -> pd.DataFrame:
    """Days spent in each stage (a stage entered twice adds up), in stage order; `first_entered` the
    first start as precisely as it was reported ("2017", "Sep 2025"). A deal's final stage (completed or
    cancelled, still current) has no days: it is where the deal ended, not a wait."""
    if intervals.empty:
        return pd.DataFrame(columns=["stage", "days", "since", "first_entered", "ongoing"])
    first = intervals.sort_values("start", kind="stable").drop_duplicates("stage").set_index("stage")
    totals = intervals.groupby("stage", as_index=False).agg(
        days=("days", "sum"), since=("start", "min"), ongoing=("ongoing", "any"), final=("final", "any")
    )
    totals["days"] = pd.array(
        [None if final else int(days) for days, final in zip(totals["days"], totals["final"])], dtype="Int64"
    )
    totals["first_entered"] = _shown_dates(
        totals["stage"].map(first["start"]), totals["stage"].map(first["start_precision"])
    )
    totals["position"] = totals["stage"].map(STAGE_ORDER)
    return totals.sort_values("position").drop(columns=["position", "final"]).reset_index(drop=True)


def deal_roles(engine: Engine, deal_id: str, *, as_of: AsOf | None = None) -> pd.DataFrame:
    """The deal's parties with their roles (role order as in tracker.vocab.ROLES), known as of the date."""
    statement = (
        select(
            DealParty.role,
            Party.id.label("party_id"),
            Party.name.label("party"),
            Party.kind,
            Party.country_code,
        )
        .join(Party, Party.id == DealParty.party_id)
        .where(DealParty.deal_id == deal_id, *roles_known(as_of))
    )
    roles = _frame(engine, statement)
    names = _state_names(engine)
    roles["country"] = [_country_name(code, names) for code in roles["country_code"]]
    order = {role: i for i, role in enumerate(ROLES)}
    roles["order"] = roles["role"].map(order)
    return roles.sort_values(["order", "party"]).drop(columns="order").reset_index(drop=True)


# --- sources ------------------------------------------------------------------------------------------


def _source_usage(filters: Filters) -> Select[Any]:
    events = func.count(distinct(Event.id)).label("events")
    return (
        select(
            Source.id.label("source_id"),
            Source.publisher,
            Source.title,
            Source.url,
            Source.published_on,
            Source.published_precision,
            Source.kind,
            Source.reliability,
            events,
            func.count(distinct(Event.deal_id)).label("deals"),
        )
        .join(EventSource, EventSource.source_id == Source.id)
        .join(Event, Event.id == EventSource.event_id)
        .join(Deal, Deal.id == Event.deal_id)
        .where(filters.deal_clause(), *filters.event_conditions(), event_is_current())
        .group_by(
            Source.id,
            Source.publisher,
            Source.title,
            Source.url,
            Source.published_on,
            Source.published_precision,
            Source.kind,
            Source.reliability,
        )
    )


def sources_table(engine: Engine, *, filters: Filters, limit: int = SOURCES_TABLE_LIMIT) -> pd.DataFrame:
    """Sources behind the filtered deals' events, with how many events and deals each supports;
    most-used first, at most `limit` (see `count_sources`)."""
    usage = _source_usage(filters).subquery()
    sources = _frame(
        engine,
        select(usage)
        .order_by(usage.c.events.desc(), usage.c.reliability, usage.c.publisher, usage.c.source_id)
        .limit(limit),
    )
    sources["url"] = sources["url"].map(web_url_or_none)
    sources["published"] = _shown_dates(sources["published_on"], sources["published_precision"])
    sources["title_or_address"] = [
        title if isinstance(title, str) and title else short_address(url)
        for title, url in zip(sources["title"], sources["url"], strict=True)
    ]
    sources.insert(
        sources.columns.get_loc("reliability") + 1,
        "reliability_meaning",
        sources["reliability"].map(RELIABILITY),
    )
    return sources


def count_sources(engine: Engine, *, filters: Filters) -> int:
    usage = _source_usage(filters).subquery()
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(usage)).scalar_one())


@dataclass(frozen=True, slots=True)
class SourceSupport:
    """What one source supports among the filtered deals: its events, latest first, and their deals, most
    recently supported first (each at most the limit asked for), with how many there are in all."""

    events: pd.DataFrame  # SOURCE_EVENT_COLUMNS
    deals: pd.DataFrame  # SOURCE_DEAL_COLUMNS
    event_count: int
    deal_count: int


SOURCE_EVENT_COLUMNS = (
    "event_id",
    "deal_id",
    "deal_title",
    "deal_label",  # the deal's name as the pages show it (tracker.labels)
    "date",  # as reported: "4 Jul 2025", "Sep 2025", "2023"
    "stage",  # the stage the event moved the deal to, or None
    "credibility",  # 1-6: how credible this source makes the event
    "credibility_meaning",
    "summary",
)
SOURCE_DEAL_COLUMNS = ("deal_id", "title", "label", "stage", "events", "last_event")  # label: tracker.labels


def source_support(
    engine: Engine, source_id: int, *, filters: Filters, limit: int = SOURCE_SUPPORT_LIMIT
) -> SourceSupport:
    """The events and deals `source_id` supports, counted as the Sources table counts them (`sources_table`:
    current events of the filtered deals that match the event filters). `last_event` is the deal's last
    event (by any source) at its reported precision."""
    supported = (
        select(Event.id)
        .join(EventSource, EventSource.event_id == Event.id)
        .join(Deal, Deal.id == Event.deal_id)
        .where(
            EventSource.source_id == source_id,
            filters.deal_clause(),
            *filters.event_conditions(),
            event_is_current(),
        )
    )
    events = _frame(
        engine,
        supported.with_only_columns(
            Event.id.label("event_id"),
            Event.deal_id,
            Deal.title.label("deal_title"),
            Event.occurred_on,
            Event.occurred_until,
            Event.date_precision,
            Event.stage,
            EventSource.credibility,
            Event.summary,
        )
        .order_by(Event.occurred_on.desc(), Event.id.desc())
        .limit(limit),
    )
    events["date"] = _shown_dates(events["occurred_on"], events["date_precision"], events["occurred_until"])
    events["credibility_meaning"] = events["credibility"].map(CREDIBILITY)
    events["deal_label"] = events["deal_id"].map(deal_labels(engine, list(events["deal_id"])))
    # Grouped by deal id alone, then joined to the deals: grouping by the deals' columns took 2.0 s on the
    # SIPRI register's source (87,108 events, 27,951 deals), this takes 0.7 s.
    per_deal = (
        supported.with_only_columns(
            Event.deal_id, func.count(Event.id).label("events"), func.max(Event.occurred_on).label("latest")
        )
        .group_by(Event.deal_id)
        .subquery()
    )
    deals = _frame(
        engine,
        select(
            Deal.id.label("deal_id"),
            Deal.title,
            Deal.current_stage.label("stage"),
            per_deal.c.events,
            Deal.last_event_on,
            Deal.last_event_precision,
            Deal.last_event_until,
            *label_columns(),
        )
        .join(per_deal, per_deal.c.deal_id == Deal.id)
        .order_by(per_deal.c.latest.desc(), Deal.id)
        .limit(limit),
    )
    deals["last_event"] = _shown_dates(
        deals["last_event_on"], deals["last_event_precision"], deals["last_event_until"]
    )
    deals["label"] = frame_labels(deals["title"], deals)
    counted = supported.with_only_columns(func.count(Event.id), func.count(distinct(Event.deal_id)))
    with engine.connect() as connection:
        event_count, deal_count = connection.execute(counted).one()
    return SourceSupport(
        events[list(SOURCE_EVENT_COLUMNS)],
        deals[list(SOURCE_DEAL_COLUMNS)],
        int(event_count),
        int(deal_count),
    )


def weakly_sourced_deals(engine: Engine, *, filters: Filters) -> pd.DataFrame:
    """Deals resting on low-grade sources: no event of the deal has a source graded A, B or C.

    `sources` is how many distinct sources the deal rests on (1: a single low-grade source); `label` the
    deal's name as the pages show it (tracker.labels).
    """
    sources = func.count(distinct(Source.id)).label("sources")
    best = func.min(Source.reliability).label("best_grade")
    statement = (
        select(Deal.id.label("deal_id"), Deal.title, Deal.current_stage.label("stage"), sources, best)
        .join(Event, Event.deal_id == Deal.id)
        .join(EventSource, EventSource.event_id == Event.id)
        .join(Source, Source.id == EventSource.source_id)
        .where(filters.deal_clause(), event_is_current())
        .group_by(Deal.id, Deal.title, Deal.current_stage)
        .having(func.min(Source.reliability) >= "D")
        .order_by(sources, Deal.id)
    )
    weak = _frame(engine, statement)
    weak.insert(2, "label", weak["deal_id"].map(deal_labels(engine, list(weak["deal_id"]))))
    return weak


# --- a deal's history ---------------------------------------------------------------------------------

HISTORY_COLUMNS = ("import_id", "committed_at", "editor", "kind", "what", "reason")


def event_text(event: Any) -> str:
    """An event in a line: "4 Jul 2025 · announced · Talks begin. · 10–30 bn USD"."""
    parts = [format_partial_date(event.occurred_on, event.date_precision, event.occurred_until)]
    if event.stage:
        parts.append(event.stage)
    parts.append(event.summary)
    value = value_range_text(event.value_low, event.value_high, event.currency)
    if value:
        parts.append(value)
    if event.quantity is not None:
        parts.append(f"{event.quantity:,} units")
    return " · ".join(parts)


def _listed(items: list[str], *, limit: int = 3) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f"; and {len(items) - limit} more" if len(items) > limit else "")


def deal_history(engine: Engine, deal_id: str, *, limit: int = HISTORY_LIMIT) -> pd.DataFrame:
    """Every committed import that touched the deal, newest first (at most `limit`): file imports, form
    entries, retractions, corrections, regrades and edits (tracker.revisions), each with its editor, time,
    kind, what it did to this deal in words, and the editor's reason. Undone imports have left nothing."""
    deal_events = select(Event.id).where(Event.deal_id == deal_id)
    with engine.connect() as connection:
        created_by = connection.execute(select(Deal.import_id).where(Deal.id == deal_id)).scalar()
        if created_by is None:
            return pd.DataFrame(columns=list(HISTORY_COLUMNS))
        events = {
            row.id: row
            for row in connection.execute(
                select(
                    Event.id, Event.import_id, Event.occurred_on, Event.occurred_until, Event.date_precision,
                    Event.stage, Event.summary, Event.value_low, Event.value_high, Event.currency,
                    Event.quantity,
                ).where(Event.deal_id == deal_id)
            )
        }  # fmt: skip
        retractions = connection.execute(
            select(Retraction.event_id, Retraction.replacement_id, Retraction.import_id).where(
                Retraction.event_id.in_(deal_events)
            )
        ).all()
        changes = connection.execute(
            select(DealChange.import_id, DealChange.field, DealChange.old_value, DealChange.new_value)
            .where(DealChange.deal_id == deal_id)
            .order_by(DealChange.id)
        ).all()
        roles = connection.execute(
            select(DealParty.import_id, DealParty.role, Party.name)
            .join(Party, Party.id == DealParty.party_id)
            .where(DealParty.deal_id == deal_id)
            .order_by(Party.name)
        ).all()
        tags = connection.execute(
            select(DealTag.tag, DealTag.import_id, DealTag.removed_by).where(DealTag.deal_id == deal_id)
        ).all()
        # Regrades of the sources behind the deal's events, and re-ratings of its events' claims.
        grades = connection.execute(
            select(
                GradeChange.import_id,
                GradeChange.grade,
                GradeChange.event_id,
                GradeChange.old_value,
                GradeChange.new_value,
                func.coalesce(Source.publisher, Source.title, Source.url).label("source"),
            )
            .join(Source, Source.id == GradeChange.source_id)
            .where(
                GradeChange.event_id.in_(deal_events)
                | (
                    GradeChange.event_id.is_(None)
                    & GradeChange.source_id.in_(
                        select(EventSource.source_id).where(EventSource.event_id.in_(deal_events))
                    )
                )
            )
            .order_by(GradeChange.id)
        ).all()
        said: defaultdict[int, list[str]] = defaultdict(list)
        said[created_by].append("created the deal")
        replacements = {row.replacement_id for row in retractions if row.replacement_id is not None}
        added = defaultdict(list)
        for event in events.values():
            if event.id not in replacements:
                added[event.import_id].append(event_text(event))
        for import_id, texts in added.items():
            said[import_id].append(f"added {'an event' if len(texts) == 1 else f'{len(texts)} events'}: "
                                   + _listed(texts))  # fmt: skip
        for event_id, replacement_id, import_id in retractions:
            old = event_text(events[event_id])
            if replacement_id is None:
                said[import_id].append(old)
            else:
                said[import_id].append(f"was {old}, now {event_text(events[replacement_id])}")
        for import_id, field, old, new in changes:
            label = ATTRIBUTE_BY_NAME[field].label.lower() if field in ATTRIBUTE_BY_NAME else field
            said[import_id].append(f"{label} was {shown_change(field, old)}, now {shown_change(field, new)}")
        named = defaultdict(list)
        for import_id, role, name in roles:
            named[import_id].append(f"{name} as {role}")
        for import_id, texts in named.items():
            said[import_id].append("named " + _listed(texts))
        for tag, import_id, removed_by in sorted(tags):
            said[import_id].append(f"tagged {tag}")
            if removed_by is not None:
                said[removed_by].append(f"took tag {tag} off")
        for import_id, grade_name, event_id, old, new, source in grades:
            if event_id is None:
                said[import_id].append(f"reliability of {source} was {old}, now {new}")
            else:
                when = event_text(events[event_id])
                said[import_id].append(f"credibility of {source} for {when} was {old}, now {new}")
        imports = connection.execute(
            select(
                Import.id, Import.committed_at, Import.editor, Import.format, Import.file_name, Import.reason
            )
            .where(Import.id.in_(list(said)), Import.status == "committed")
            .order_by(Import.committed_at.desc(), Import.id.desc())
            .limit(limit)
        ).all()
    rows = []
    for import_id, committed_at, editor, kind, file_name, reason in imports:
        verb = KINDS.get(kind, f"imported from {file_name}")
        rows.append(
            (import_id, committed_at, editor, kind,
             f"{verb} on {committed_at:%Y-%m-%d %H:%M} by {editor}: {'; '.join(said[import_id])}", reason)
        )  # fmt: skip
    return pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))


# --- pickers of the capture forms ---------------------------------------------------------------------

PICKER_LIMIT = 50


def find_sources(
    engine: Engine, *, text: str = "", deal_id: str | None = None, limit: int = PICKER_LIMIT
) -> pd.DataFrame:
    """Sources whose title, publisher or URL contains `text` (any case), at most `limit`; with no text, every
    source of the deal's current events, then the `limit` newest. source_id, key, publisher, title, url,
    reliability."""
    columns = (Source.id.label("source_id"), Source.key, Source.publisher, Source.title, Source.url,
               Source.reliability)  # fmt: skip
    if text.strip():
        pattern = like_pattern(text.strip())
        statement = (
            select(*columns)
            .where(
                matches(Source.title, pattern)
                | matches(Source.publisher, pattern)
                | matches(Source.url, pattern)
            )
            .order_by(Source.id.desc())
            .limit(limit)
        )
        return _frame(engine, statement)
    cited = (
        select(*columns)
        .join(EventSource, EventSource.source_id == Source.id)
        .join(Event, Event.id == EventSource.event_id)
        .where(Event.deal_id == deal_id, event_is_current())
        .distinct()
    )
    found = _frame(engine, cited) if deal_id else _frame(engine, select(*columns).where(false()))
    newest = _frame(engine, select(*columns).order_by(Source.id.desc()).limit(limit))
    both = pd.concat([found.sort_values("source_id", ascending=False), newest], ignore_index=True)
    return both.drop_duplicates("source_id").reset_index(drop=True)


def find_parties(engine: Engine, *, text: str = "", limit: int = PICKER_LIMIT) -> pd.DataFrame:
    """Parties whose name contains `text` (any case), at most `limit`, by name; with no text, the parties
    with most roles. party_id, name, kind, country_code."""
    columns = (Party.id.label("party_id"), Party.name, Party.kind, Party.country_code)
    if text.strip():
        statement = (
            select(*columns)
            .where(matches(Party.name, like_pattern(text.strip())))
            .order_by(Party.name, Party.id)
            .limit(limit)
        )
    else:
        roles = func.count(DealParty.party_id)
        statement = (
            select(*columns)
            .join(DealParty, DealParty.party_id == Party.id)
            .group_by(Party.id, Party.name, Party.kind, Party.country_code)
            .order_by(roles.desc(), Party.name)
            .limit(limit)
        )
    return _frame(engine, statement)


def deal_tags(engine: Engine, deal_id: str) -> list[str]:
    """The deal's tags, in order (tags an edit took off are not)."""
    statement = (
        select(DealTag.tag)
        .where(DealTag.deal_id == deal_id, DealTag.removed_by.is_(None))
        .order_by(DealTag.tag)
    )
    with engine.connect() as connection:
        return list(connection.execute(statement).scalars())


# --- briefs (tracker.briefs) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ViewRows:
    """The deals and events a view brief lists (the first `limit` of each) and how many match in all."""

    deals: pd.DataFrame  # deal_id, title, label (tracker.labels), stage, buyers, sellers, category, value,
    # last_event_on, last_event (as precisely as reported: "2023", "17 Oct 2025")
    deal_total: int
    events: pd.DataFrame  # as latest_events
    event_sources: pd.DataFrame  # one row per listed event and source, as deal_event_sources
    event_total: int


def view_rows(
    engine: Engine, *, filters: Filters, as_of: AsOf | None = None, deal_limit: int, event_limit: int
) -> ViewRows:
    """The filtered deals (latest event first) and their latest events, each capped, with the totals."""
    scope = _scope(engine, filters, as_of)
    columns = (
        Deal.id.label("deal_id"),
        Deal.title,
        Deal.current_stage.label("stage"),
        Deal.buyers,
        Deal.sellers,
        Deal.category,
        Deal.value_low,
        Deal.value_high,
        Deal.currency,
        Deal.last_event_on,
        Deal.last_event_precision,
        *label_columns(),
    )
    if scope.statuses is None:
        deals = _frame(
            engine,
            select(*columns)
            .where(*scope.conditions)
            .order_by(Deal.last_event_on.desc().nulls_last(), Deal.id)
            .limit(deal_limit),
        )
        deal_total = count_deals(engine, filters=filters)
    else:
        # As of a date, the stage and the last event are those known then (the scope recomputed them).
        statuses = scope.statuses.sort_values(["last_event_on", "deal_id"], ascending=[False, True])
        deal_total = len(statuses)
        shown = statuses.head(deal_limit)
        deals = _frame(engine, select(*columns).where(Deal.id.in_(list(shown["deal_id"]))))
        known = shown.set_index("deal_id")
        deals["stage"] = deals["deal_id"].map(known["current_stage"])
        deals["last_event_on"] = deals["deal_id"].map(known["last_event_on"])
        deals["last_event_precision"] = deals["deal_id"].map(known["last_event_precision"])
        order = {deal_id: i for i, deal_id in enumerate(shown["deal_id"])}
        deals = deals.sort_values("deal_id", key=lambda ids: ids.map(order)).reset_index(drop=True)
    deals["value"] = [
        value_range_text(low, high, currency)
        for low, high, currency in zip(deals["value_low"], deals["value_high"], deals["currency"])
    ]
    deals["last_event"] = _shown_dates(deals["last_event_on"], deals["last_event_precision"])
    deals.insert(2, "label", frame_labels(deals["title"], deals))
    deals = deals.drop(
        columns=[
            "value_low",
            "value_high",
            "currency",
            "last_event_precision",
            *(c.name for c in label_columns()),
        ]
    )
    event_conditions = [*scope.conditions, *_event_conditions(filters, as_of)]
    with engine.connect() as connection:
        event_total = int(
            connection.execute(
                select(func.count(Event.id)).join(Deal, Deal.id == Event.deal_id).where(*event_conditions)
            ).scalar_one()
        )
    # The scope once for deals and events: as of a date it recomputes every deal's stage.
    events = _latest_events(engine, scope, filters, as_of, event_limit)
    return ViewRows(
        deals=deals,
        deal_total=deal_total,
        events=events,
        event_sources=_event_sources(engine, [int(i) for i in events["event_id"]], as_of),
        event_total=event_total,
    )


def events_of_deals(
    engine: Engine, deal_ids: list[str], *, as_of: AsOf | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The events of several deals (as `deal_events`, plus deal_id) and their sources (as
    `deal_event_sources`), for finding conflicting claims."""
    known = [event_is_current(as_of)] if as_of is not None else []
    statement = (
        select(
            Event.id.label("event_id"),
            Event.deal_id,
            Event.occurred_on,
            Event.occurred_until,
            Event.date_precision,
            Event.date_text,
            Event.stage,
            Event.summary,
            Event.topic,
            Event.quantity,
            Event.value_low,
            Event.value_high,
            Event.currency,
        )
        .where(Event.deal_id.in_(deal_ids), *known)
        .order_by(Event.deal_id, Event.occurred_on, Event.id)
    )
    events = _frame(engine, statement)
    sources = _event_sources(engine, [int(i) for i in events["event_id"]], as_of)
    return _with_sources(events, sources), sources
