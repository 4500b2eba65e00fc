"""Read-side queries: every figure and table the dashboard and the CLI show comes from here.

Aggregation happens in SQL; functions return small pandas DataFrames ready to render, capped at
what a page shows. Options are keyword-only; `filters` is the analyst's `Filters` value.

As-of views (`as_of`: the end of a day, naive UTC like `recorded_at`) show the ledger as it was known
then: events recorded later, and roles, sources and attribute changes from later imports, are left
out, and each deal's stage is recomputed by `tracker.stages.deal_status` from the events known then
(the same derivation the importer stores). Grouping by that recomputed stage happens in pandas, over
one row per deal, because the stage is not in the database.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, Select, and_, case, distinct, exists, func, select
from sqlalchemy.orm import aliased

from tracker.conflicts import event_date_text, source_list
from tracker.countries import country_by_code
from tracker.display import grade, value_range_text, web_url_or_none
from tracker.filters import Filters
from tracker.models import Deal, DealChange, DealParty, Event, EventSource, Import, Party, Source, StageRow
from tracker.stages import deal_status, stage_intervals
from tracker.vocab import ACTIVE_STAGES, RELIABILITY, ROLES, STAGE_NAMES, STAGE_ORDER

STALE_AFTER_DAYS = 60
DEALS_TABLE_LIMIT = 500
CARDS_PER_STAGE = 12
LATEST_EVENTS = 20
TOP_FLOWS = 30
MATRIX_COUNTRIES = 40
SOURCES_TABLE_LIMIT = 500
HISTORY_LIMIT = 200
TRADE_ROLES = ("buyer", "seller")


def _frame(engine: Engine, statement: Select[Any]) -> pd.DataFrame:
    with engine.connect() as connection:
        result = connection.execute(statement)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def _state_names(engine: Engine) -> dict[str, str]:
    """Display names of the states in the ledger by code; former states (SUN, YUG from SIPRI) keep the
    ledger's name, since they have no current ISO code."""
    states = _frame(engine, select(Party.country_code, Party.name)
                    .where(Party.kind == "state", Party.country_code.is_not(None)))
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


def _imports_known_by(as_of: dt.datetime) -> Select[Any]:
    return select(Import.id).where(Import.committed_at <= as_of)


# --- the ledger as a whole ----------------------------------------------------------------------------


def ledger_counts(engine: Engine) -> dict[str, int]:
    """How many deals, events, sources, parties and committed imports the ledger holds."""
    with engine.connect() as connection:
        return {
            name: int(connection.execute(select(func.count()).select_from(model)).scalar_one())
            for name, model in (("deals", Deal), ("events", Event), ("sources", Source), ("parties", Party),
                                ("source links", EventSource))
        } | {"imports": int(connection.execute(
            select(func.count()).select_from(Import).where(Import.status == "committed")).scalar_one())}


def ledger_version(engine: Engine) -> str:
    """Changes whenever an import is committed or undone (from any process): a cache key for ledger data."""
    statement = select(func.count(Import.id), func.max(Import.id), func.max(Import.undone_at),
                       func.count(Import.undone_at))
    with engine.connect() as connection:
        count, last, undone_at, undone = connection.execute(statement).one()
    return f"{count}:{last}:{undone}:{undone_at}"


def import_history(engine: Engine, *, limit: int | None = None) -> pd.DataFrame:
    """Imports, newest first (at most `limit`)."""
    statement = select(
        Import.id, Import.file_name, Import.format, Import.editor, Import.committed_at, Import.rows_read,
        Import.events_added, Import.deals_created, Import.deals_updated, Import.duplicates_skipped, Import.status,
        Import.undone_at, Import.undone_by,
    ).order_by(Import.id.desc()).limit(limit)
    return _frame(engine, statement)


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """What the sidebar filters can offer, from what the ledger holds."""

    countries: pd.DataFrame  # code, name: states that buy or sell in some deal
    parties: pd.DataFrame  # party_id, name, kind, country_code, label (unique): non-state parties with a role
    categories: tuple[str, ...]


def filter_options(engine: Engine) -> FilterOptions:
    names = _state_names(engine)
    # EXISTS per state rather than DISTINCT over every buyer and seller row: a few hundred index probes.
    codes = _frame(engine, select(Party.country_code.label("code"))
                   .where(Party.kind == "state", Party.country_code.is_not(None),
                          exists(select(DealParty.party_id).where(DealParty.party_id == Party.id,
                                                                  DealParty.role.in_(TRADE_ROLES)))))
    states = pd.DataFrame({"code": codes["code"].tolist(), "name": [names.get(c, c) for c in codes["code"]]})
    parties = _frame(engine, select(Party.id.label("party_id"), Party.name, Party.kind, Party.country_code)
                     .where(Party.kind != "state",
                            exists(select(DealParty.party_id).where(DealParty.party_id == Party.id)))
                     .order_by(Party.name, Party.id))
    labels = [f"{name} ({code})" if code else name
              for name, code in zip(parties["name"], parties["country_code"])]
    # Two parties can share a name and country (different kinds): the id keeps their labels apart.
    repeated = {label for label, count in Counter(labels).items() if count > 1}
    parties["label"] = [f"{label} #{party_id}" if label in repeated else label
                        for label, party_id in zip(labels, parties["party_id"])]
    categories = _frame(engine, select(Deal.category).distinct()
                        .where(Deal.category.is_not(None)).order_by(Deal.category))
    return FilterOptions(countries=states.sort_values("name").reset_index(drop=True), parties=parties,
                         categories=tuple(categories["category"]))


# --- which deals a view covers ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scope:
    """Conditions on `deals` selecting the filtered deals; as of a date, also their recomputed status."""

    conditions: list[ColumnElement[bool]]
    statuses: pd.DataFrame | None  # tracker.stages.STATUS_COLUMNS, one row per deal (as-of views only)


def _scope(engine: Engine, filters: Filters, as_of: dt.datetime | None) -> _Scope:
    if as_of is None:
        return _Scope([filters.deal_clause()], None)
    # A deal is in an as-of view when an event known then matches the date and grade filters.
    conditions = [filters.deal_clause(as_of=as_of), exists(select(Event.id).where(
        Event.deal_id == Deal.id, Event.recorded_at <= as_of, *filters.event_conditions()).correlate(Deal))]
    events = _frame(engine, select(Event.deal_id, Event.id.label("event_id"), Event.occurred_on, Event.stage)
                    .join(Deal, Deal.id == Event.deal_id).where(Event.recorded_at <= as_of, *conditions))
    statuses = deal_status(events)
    if filters.stages:
        statuses = statuses[statuses["current_stage"].isin(filters.stages)].reset_index(drop=True)
        conditions = [Deal.id.in_(list(statuses["deal_id"]))]
    return _Scope(conditions, statuses)


def _event_conditions(filters: Filters, as_of: dt.datetime | None) -> list[ColumnElement[bool]]:
    known = [Event.recorded_at <= as_of] if as_of is not None else []
    return [*filters.event_conditions(), *known]


def _role_known(as_of: dt.datetime | None) -> list[ColumnElement[bool]]:
    return [DealParty.import_id.in_(_imports_known_by(as_of))] if as_of is not None else []


def count_deals(engine: Engine, *, filters: Filters) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count(Deal.id)).where(filters.deal_clause())).scalar_one())


# --- overview -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeadlineFigures:
    deals: int
    active_deals: int  # stage in tracker.vocab.ACTIVE_STAGES
    events_this_month: int  # events whose date starts in today's calendar month
    stale_deals: int  # active deals with no event for more than STALE_AFTER_DAYS days


def headline_figures(engine: Engine, *, filters: Filters, today: dt.date,
                     as_of: dt.datetime | None = None) -> HeadlineFigures:
    scope = _scope(engine, filters, as_of)
    stale_before = today - dt.timedelta(days=STALE_AFTER_DAYS)
    if scope.statuses is None:
        active = Deal.current_stage.in_(ACTIVE_STAGES)
        statement = select(
            func.count(Deal.id),
            func.coalesce(func.sum(case((active, 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(active, Deal.last_event_on < stale_before), 1), else_=0)), 0),
        ).where(*scope.conditions)
        with engine.connect() as connection:
            deals, active_deals, stale = (int(v) for v in connection.execute(statement).one())
    else:
        statuses = scope.statuses
        is_active = statuses["current_stage"].isin(ACTIVE_STAGES)
        deals, active_deals = len(statuses), int(is_active.sum())
        stale = int((is_active & (statuses["last_event_on"] < stale_before)).sum())
    month_start = today.replace(day=1)
    next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
    events = select(func.count(Event.id)).join(Deal, Deal.id == Event.deal_id).where(
        *scope.conditions, Event.occurred_on >= month_start, Event.occurred_on < next_month,
        *_event_conditions(filters, as_of))
    with engine.connect() as connection:
        events_this_month = int(connection.execute(events).scalar_one())
    return HeadlineFigures(deals=deals, active_deals=active_deals, events_this_month=events_this_month,
                           stale_deals=stale)


def deals_by_stage(engine: Engine, *, filters: Filters | None = None,
                   as_of: dt.datetime | None = None) -> pd.DataFrame:
    """Every stage in order with its number of deals (zero included); deals with no stage are not counted."""
    filters = filters or Filters()
    scope = _scope(engine, filters, as_of)
    if scope.statuses is not None:
        counts = scope.statuses["current_stage"].value_counts()
        return pd.DataFrame({"stage": list(STAGE_NAMES),
                             "deals": [int(counts.get(stage, 0)) for stage in STAGE_NAMES]})
    statement = (
        select(StageRow.name.label("stage"), func.count(Deal.id).label("deals"))
        .select_from(StageRow)
        .outerjoin(Deal, and_(Deal.current_stage == StageRow.name, *scope.conditions))
        .group_by(StageRow.name, StageRow.position)
        .order_by(StageRow.position)
    )
    return _frame(engine, statement)


def _country_roles(filters: Filters) -> tuple[str, ...]:
    return TRADE_ROLES if filters.country_role == "either" else (filters.country_role,)


def stage_country_matrix(engine: Engine, *, filters: Filters, as_of: dt.datetime | None = None,
                         max_countries: int = MATRIX_COUNTRIES) -> pd.DataFrame:
    """Deals per country and current stage (long form: country_code, country, stage, deals).

    A country counts when it is a buyer or seller of the deal, or only the side the country filter
    names; the `max_countries` countries with most deals are kept.
    """
    scope = _scope(engine, filters, as_of)
    base = (select(Party.country_code, Deal.id.label("deal_id"))
            .join(DealParty, DealParty.deal_id == Deal.id).join(Party, Party.id == DealParty.party_id)
            .where(*scope.conditions, Party.kind == "state", DealParty.role.in_(_country_roles(filters)),
                   *_role_known(as_of)))
    if scope.statuses is None:
        pairs = (base.add_columns(Deal.current_stage.label("stage"))
                 .where(Deal.current_stage.is_not(None)).subquery())
        matrix = _frame(engine, select(pairs.c.country_code, pairs.c.stage,
                                       func.count(distinct(pairs.c.deal_id)).label("deals"))
                        .group_by(pairs.c.country_code, pairs.c.stage))
    else:
        stages = scope.statuses[["deal_id", "current_stage"]].rename(columns={"current_stage": "stage"})
        pairs = _frame(engine, base.distinct()).merge(stages, on="deal_id")
        pairs = pairs[pairs["stage"].notna()]
        matrix = pairs.groupby(["country_code", "stage"], as_index=False).agg(deals=("deal_id", "nunique"))
    if matrix.empty:
        return pd.DataFrame(columns=["country_code", "country", "stage", "deals"])
    names = _state_names(engine)
    matrix["deals"] = matrix["deals"].astype(int)
    matrix["country"] = matrix["country_code"].map(lambda code: names.get(code, code))
    totals = matrix.groupby("country_code")["deals"].sum()
    ranked = sorted(totals.index, key=lambda code: (-totals[code], names.get(code, code)))[:max_countries]
    matrix = matrix[matrix["country_code"].isin(ranked)].copy()
    matrix["rank"] = matrix["country_code"].map({code: i for i, code in enumerate(ranked)})
    matrix["position"] = matrix["stage"].map(STAGE_ORDER)
    return (matrix.sort_values(["rank", "position"])[["country_code", "country", "stage", "deals"]]
            .reset_index(drop=True))


def country_deal_counts(engine: Engine, *, filters: Filters,
                        as_of: dt.datetime | None = None) -> pd.DataFrame:
    """Per state: deals it buys in, deals it sells in, and `deals` = the two added (the map's value)."""
    scope = _scope(engine, filters, as_of)
    statement = (
        select(Party.country_code,
               func.count(distinct(case((DealParty.role == "buyer", Deal.id)))).label("as_buyer"),
               func.count(distinct(case((DealParty.role == "seller", Deal.id)))).label("as_seller"))
        .join(DealParty, DealParty.deal_id == Deal.id).join(Party, Party.id == DealParty.party_id)
        .where(*scope.conditions, Party.kind == "state", DealParty.role.in_(TRADE_ROLES),
               Party.country_code.is_not(None), *_role_known(as_of))
        .group_by(Party.country_code)
        .order_by(Party.country_code)
    )
    counts = _frame(engine, statement)
    names = _state_names(engine)
    counts["country"] = [names.get(code, code) for code in counts["country_code"]]
    counts["deals"] = counts["as_buyer"] + counts["as_seller"]
    return counts[["country_code", "country", "as_buyer", "as_seller", "deals"]]


def deal_flows(engine: Engine, *, filters: Filters, as_of: dt.datetime | None = None,
               limit: int = TOP_FLOWS) -> pd.DataFrame:
    """Buyer state -> seller state pairs with their number of deals, the `limit` largest."""
    buyer_role, seller_role = aliased(DealParty), aliased(DealParty)
    buyer, seller = aliased(Party), aliased(Party)
    known = [] if as_of is None else [buyer_role.import_id.in_(_imports_known_by(as_of)),
                                      seller_role.import_id.in_(_imports_known_by(as_of))]
    scope = _scope(engine, filters, as_of)
    deals = func.count(distinct(Deal.id)).label("deals")
    statement = (
        select(buyer.country_code.label("buyer_code"), seller.country_code.label("seller_code"), deals)
        .join(buyer_role, and_(buyer_role.deal_id == Deal.id, buyer_role.role == "buyer"))
        .join(buyer, and_(buyer.id == buyer_role.party_id, buyer.kind == "state"))
        .join(seller_role, and_(seller_role.deal_id == Deal.id, seller_role.role == "seller"))
        .join(seller, and_(seller.id == seller_role.party_id, seller.kind == "state"))
        .where(*scope.conditions, *known)
        .group_by(buyer.country_code, seller.country_code)
        .order_by(deals.desc(), buyer.country_code, seller.country_code)
        .limit(limit)
    )
    flows = _frame(engine, statement)
    names = _state_names(engine)
    flows["buyer"] = [names.get(code, code) for code in flows["buyer_code"]]
    flows["seller"] = [names.get(code, code) for code in flows["seller_code"]]
    return flows[["buyer_code", "buyer", "seller_code", "seller", "deals"]]


def _event_sources(engine: Engine, event_ids: list[int], as_of: dt.datetime | None) -> pd.DataFrame:
    known = [EventSource.import_id.in_(_imports_known_by(as_of))] if as_of is not None else []
    statement = (
        select(EventSource.event_id, Source.id.label("source_id"), Source.publisher, Source.title, Source.url,
               Source.published_on, Source.kind, Source.reliability, EventSource.credibility)
        .join(Source, Source.id == EventSource.source_id)
        .where(EventSource.event_id.in_(event_ids), *known)
        .order_by(EventSource.event_id, Source.reliability, EventSource.credibility, Source.id)
    )
    sources = _frame(engine, statement)
    sources["grade"] = [grade(r, c) for r, c in zip(sources["reliability"], sources["credibility"])]
    sources["url"] = sources["url"].map(web_url_or_none)
    return sources


def _with_sources(events: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """Adds `date` (as reported), `sources` ("LIGA.net (B3); ...") and `source_url` (the best linked
    source)."""
    events = events.copy()
    events["date"] = [event_date_text(row) for _, row in events.iterrows()] if not events.empty else []
    listed = source_list(sources)
    events["sources"] = events["event_id"].map(lambda i: listed.get(i, ""))
    linked = sources[sources["url"].notna()].drop_duplicates("event_id").set_index("event_id")["url"]
    events["source_url"] = events["event_id"].map(lambda i: linked.get(i))
    return events


def latest_events(engine: Engine, *, filters: Filters, as_of: dt.datetime | None = None,
                  limit: int = LATEST_EVENTS) -> pd.DataFrame:
    """The most recent events (by date) of the filtered deals, with their sources and grades."""
    scope = _scope(engine, filters, as_of)
    statement = (
        select(Event.id.label("event_id"), Event.deal_id, Deal.title.label("deal_title"), Event.occurred_on,
               Event.occurred_until, Event.date_precision, Event.stage, Event.summary)
        .join(Deal, Deal.id == Event.deal_id)
        .where(*scope.conditions, *_event_conditions(filters, as_of))
        .order_by(Event.occurred_on.desc(), Event.id.desc())
        .limit(limit)
    )
    events = _frame(engine, statement)
    return _with_sources(events, _event_sources(engine, [int(i) for i in events["event_id"]], as_of))


# --- pipeline and deals table -------------------------------------------------------------------------


def pipeline_cards(engine: Engine, *, filters: Filters, today: dt.date,
                   per_stage: int = CARDS_PER_STAGE) -> pd.DataFrame:
    """The most recently active deals of each stage (at most `per_stage`), as cards for the board.

    `latest_grade` is the best grade among the sources of the deal's latest event.
    """
    rank = func.row_number().over(partition_by=Deal.current_stage,
                                  order_by=(Deal.last_event_on.desc(), Deal.id)).label("rank")
    ranked = (select(Deal.id.label("deal_id"), Deal.title, Deal.current_stage.label("stage"),
                     Deal.stage_since, Deal.last_event_on, Deal.buyers, Deal.sellers, Deal.value_low,
                     Deal.value_high, Deal.currency, rank)
              .where(filters.deal_clause(), Deal.current_stage.is_not(None)).subquery())
    cards = _frame(engine, select(ranked).where(ranked.c.rank <= per_stage)
                   .order_by(ranked.c.stage, ranked.c.rank))
    cards["position"] = cards["stage"].map(STAGE_ORDER)
    cards = cards.sort_values(["position", "rank"]).drop(columns=["position", "rank"]).reset_index(drop=True)
    cards["days_in_stage"] = [(today - since).days if since is not None else None
                              for since in cards["stage_since"]]
    grades = _frame(engine, select(Event.deal_id, Event.id.label("event_id"), Event.occurred_on,
                                   Source.reliability, EventSource.credibility)
                    .join(EventSource, EventSource.event_id == Event.id)
                    .join(Source, Source.id == EventSource.source_id)
                    .where(Event.deal_id.in_(list(cards["deal_id"]))))
    if grades.empty:
        cards["latest_grade"] = ""
        return cards
    latest = grades.sort_values(["deal_id", "occurred_on", "event_id"]).groupby("deal_id")["event_id"].last()
    best = (grades[grades["event_id"].isin(latest)].sort_values(["reliability", "credibility"])
            .groupby("deal_id").first())
    cards["latest_grade"] = cards["deal_id"].map(
        {deal: grade(row["reliability"], row["credibility"]) for deal, row in best.iterrows()}).fillna("")
    return cards


def deals_table(engine: Engine, *, filters: Filters, limit: int | None = DEALS_TABLE_LIMIT) -> pd.DataFrame:
    """The filtered deals, most recently active first: at most `limit` rows for the page (see
    `count_deals`), all of them (None) for a download. `value` is the range as text, "10–30 bn USD"."""
    statement = (
        select(Deal.id.label("deal_id"), Deal.title, Deal.current_stage.label("stage"), Deal.stage_since,
               Deal.buyers, Deal.sellers, Deal.category, Deal.value_low, Deal.value_high, Deal.currency,
               Deal.first_event_on, Deal.last_event_on, Deal.event_count)
        .where(filters.deal_clause())
        .order_by(Deal.last_event_on.desc().nulls_last(), Deal.id)
        .limit(limit)
    )
    deals = _frame(engine, statement)
    deals.insert(7, "value", [value_range_text(low, high, currency) for low, high, currency in
                              zip(deals["value_low"], deals["value_high"], deals["currency"])])
    return deals


# --- one deal -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DealHeader:
    deal_id: str
    title: str
    summary: str | None
    category: str | None
    quantity: int | None
    value_low: float | None
    value_high: float | None
    currency: str | None
    stage: str | None
    stage_since: dt.date | None
    first_event_on: dt.date | None
    last_event_on: dt.date | None
    event_count: int
    buyers: str | None
    sellers: str | None


_ATTRIBUTES = ("title", "summary", "category", "quantity", "value_low", "value_high", "currency")


def deal_header(engine: Engine, deal_id: str, *, as_of: dt.datetime | None = None) -> DealHeader | None:
    """The deal's attributes and status; None when the ledger does not hold it (or did not yet, as of)."""
    with engine.connect() as connection:
        row = connection.execute(select(Deal.__table__).where(Deal.id == deal_id)).mappings().first()
        if row is None:
            return None
        row = dict(row)
        if as_of is None:
            return DealHeader(deal_id=deal_id, stage=row["current_stage"], **{
                key: row[key] for key in (*_ATTRIBUTES, "stage_since", "first_event_on", "last_event_on",
                                          "event_count", "buyers", "sellers")})
        if row["created_at"] > as_of:
            return None
        # Attributes changed later are read back from the first later change's old value.
        later = connection.execute(select(DealChange.field, DealChange.old_value)
                                   .where(DealChange.deal_id == deal_id, DealChange.recorded_at > as_of)
                                   .order_by(DealChange.id)).all()
    restored: dict[str, Any] = {}
    for field, old in later:
        if field in restored:
            continue
        restored[field] = old
    for field, old in restored.items():
        if field == "value":
            low, high, currency = old.split("|") if old else ("", "", "")
            row.update(value_low=float(low) if low else None, value_high=float(high) if high else None,
                       currency=currency or None)
        elif field == "quantity":
            row["quantity"] = None if old is None else int(float(old))
        elif field in row:
            row[field] = old
    events = deal_events(engine, deal_id, as_of=as_of)
    status = deal_status(events[["event_id", "occurred_on", "stage"]].assign(deal_id=deal_id))
    known = status.iloc[0] if not status.empty else None
    roles = deal_roles(engine, deal_id, as_of=as_of)
    states = roles[roles["kind"] == "state"]
    return DealHeader(
        deal_id=deal_id, **{key: row[key] for key in _ATTRIBUTES},
        stage=None if known is None else known["current_stage"],
        stage_since=None if known is None else known["stage_since"],
        first_event_on=None if known is None else known["first_event_on"],
        last_event_on=None if known is None else known["last_event_on"],
        event_count=0 if known is None else int(known["event_count"]),
        buyers="; ".join(sorted(states.loc[states["role"] == "buyer", "party"])) or None,
        sellers="; ".join(sorted(states.loc[states["role"] == "seller", "party"])) or None,
    )


def deal_events(engine: Engine, deal_id: str, *, as_of: dt.datetime | None = None) -> pd.DataFrame:
    """The deal's events in date order, each with its reported date text and its sources with grades."""
    known = [Event.recorded_at <= as_of] if as_of is not None else []
    statement = (
        select(Event.id.label("event_id"), Event.occurred_on, Event.occurred_until, Event.date_precision,
               Event.date_text, Event.stage, Event.summary, Event.note, Event.topic, Event.quantity,
               Event.value_low, Event.value_high, Event.currency, Event.recorded_at, Event.import_id)
        .where(Event.deal_id == deal_id, *known)
        .order_by(Event.occurred_on, Event.id)
    )
    events = _frame(engine, statement)
    return _with_sources(events, deal_event_sources(engine, deal_id, as_of=as_of))


def deal_event_sources(engine: Engine, deal_id: str, *, as_of: dt.datetime | None = None) -> pd.DataFrame:
    """One row per event and source: publisher, title, http(s) url or None, reliability, credibility,
    grade."""
    known = [Event.recorded_at <= as_of] if as_of is not None else []
    event_ids = select(Event.id).where(Event.deal_id == deal_id, *known)
    with engine.connect() as connection:
        ids = [int(i) for i in connection.execute(event_ids).scalars()]
    return _event_sources(engine, ids, as_of)


def deal_stage_intervals(engine: Engine, deal_id: str, *, today: dt.date,
                         as_of: dt.datetime | None = None) -> pd.DataFrame:
    """The deal's stages as intervals (tracker.stages.stage_intervals); the current one runs to today,
    or to the as-of date."""
    events = deal_events(engine, deal_id, as_of=as_of)[["event_id", "occurred_on", "stage"]]
    events = events.assign(deal_id=deal_id)
    return stage_intervals(events, until=as_of.date() if as_of is not None else today)


def time_in_stage(intervals: pd.DataFrame) -> pd.DataFrame:
    """Days spent in each stage (a stage entered twice adds up), in stage order."""
    if intervals.empty:
        return pd.DataFrame(columns=["stage", "days", "since", "ongoing"])
    totals = intervals.groupby("stage", as_index=False).agg(days=("days", "sum"), since=("start", "min"),
                                                             ongoing=("ongoing", "any"))
    totals["position"] = totals["stage"].map(STAGE_ORDER)
    return totals.sort_values("position").drop(columns="position").reset_index(drop=True)


def deal_roles(engine: Engine, deal_id: str, *, as_of: dt.datetime | None = None) -> pd.DataFrame:
    """The deal's parties with their roles (role order as in tracker.vocab.ROLES), known as of the date."""
    statement = (
        select(DealParty.role, Party.id.label("party_id"), Party.name.label("party"), Party.kind,
               Party.country_code)
        .join(Party, Party.id == DealParty.party_id)
        .where(DealParty.deal_id == deal_id, *_role_known(as_of))
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
        select(Source.id.label("source_id"), Source.publisher, Source.title, Source.url, Source.published_on,
               Source.kind, Source.reliability, events, func.count(distinct(Event.deal_id)).label("deals"))
        .join(EventSource, EventSource.source_id == Source.id)
        .join(Event, Event.id == EventSource.event_id)
        .join(Deal, Deal.id == Event.deal_id)
        .where(filters.deal_clause(), *filters.event_conditions())
        .group_by(Source.id, Source.publisher, Source.title, Source.url, Source.published_on, Source.kind,
                  Source.reliability)
    )


def sources_table(engine: Engine, *, filters: Filters, limit: int = SOURCES_TABLE_LIMIT) -> pd.DataFrame:
    """Sources behind the filtered deals' events, with how many events and deals each supports;
    most-used first, at most `limit` (see `count_sources`)."""
    usage = _source_usage(filters).subquery()
    sources = _frame(engine, select(usage).order_by(usage.c.events.desc(), usage.c.reliability,
                                                    usage.c.publisher, usage.c.source_id).limit(limit))
    sources["url"] = sources["url"].map(web_url_or_none)
    sources.insert(sources.columns.get_loc("reliability") + 1, "reliability_meaning",
                   sources["reliability"].map(RELIABILITY))
    return sources


def count_sources(engine: Engine, *, filters: Filters) -> int:
    usage = _source_usage(filters).subquery()
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(usage)).scalar_one())


def weakly_sourced_deals(engine: Engine, *, filters: Filters) -> pd.DataFrame:
    """Deals resting on low-grade sources: no event of the deal has a source graded A, B or C.

    `sources` is how many distinct sources the deal rests on (1: a single low-grade source).
    """
    sources = func.count(distinct(Source.id)).label("sources")
    best = func.min(Source.reliability).label("best_grade")
    statement = (
        select(Deal.id.label("deal_id"), Deal.title, Deal.current_stage.label("stage"), sources, best)
        .join(Event, Event.deal_id == Deal.id)
        .join(EventSource, EventSource.event_id == Event.id)
        .join(Source, Source.id == EventSource.source_id)
        .where(filters.deal_clause())
        .group_by(Deal.id, Deal.title, Deal.current_stage)
        .having(func.min(Source.reliability) >= "D")
        .order_by(sources, Deal.id)
    )
    return _frame(engine, statement)
