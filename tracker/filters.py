"""The analyst's filters, each declared once.

`FILTERS` is the registry, in sidebar order. One `Filter` declaration says everything about a filter: its
URL query parameter (also the sidebar widget's key), the `Filters` field it sets, how its widget looks and
where its options come from, its command-line option, its SQL condition and its fragment of the caption.
The sidebar (`tracker.views.common`), the CLI's export options and `Filters`' SQL and caption are derived
from the registry, so adding a filter is a field on `Filters` (its type and default) and one declaration.

How a filter's value travels in the URL is declared too (`Widget.url_holds`), and so is how a URL value
is checked (`Filter.from_url`): a shared address with a value the filter cannot use is reported and that
value ignored, never silently dropped.

Nothing here imports Streamlit: the widget description is plain data the views render.
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

import pandas as pd
from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select, true

from tracker.countries import country_by_code, resolve_country
from tracker.dates import parse_partial_date
from tracker.errors import InvalidValue
from tracker.knowledge import (
    DEFAULT_AS_OF_MODE,
    AsOf,
    as_of_mode,
    event_and_link_known,
    event_is_current,
    reliability,
    roles_known,
    takes_minute,
)
from tracker.models import Deal, DealParty, Event, EventSource, Party, Source
from tracker.vocab import RELIABILITY, ROLES, STAGE_NAMES, resolve_reliability, resolve_role, resolve_stage

CountryRole = Literal["either", "buyer", "seller"]
Scope = Literal["making", "recorded", "all"]
WidgetKind = Literal["multiselect", "segmented", "date", "text", "select"]
PartyNames = Callable[[int], str]

COUNTRY_SIDES: dict[str, str] = {"either": "buyer or seller", "buyer": "buyer", "seller": "seller"}
SCOPES: dict[str, str] = {"making": "In the making", "recorded": "SIPRI-recorded", "all": "All"}
EARLIEST_DATE = dt.date(1950, 1, 1)  # SIPRI's records start in 1950
DATE_INPUT_YEARS_AHEAD = 10  # the date pickers' latest date: Streamlit's default, today + 10 years
SEARCH_MAX_LENGTH = 200
DEAL_ID_MAX_LENGTH = Deal.id.type.length
MAX_LISTED = 12  # options named in a message about a bad URL value


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """What the sidebar filters can offer, from what the ledger holds (`tracker.queries.filter_options`)."""

    countries: pd.DataFrame  # code, name: states that buy or sell in some deal
    parties: pd.DataFrame  # party_id, name, kind, country_code, label (unique): non-state parties with a role
    categories: tuple[str, ...]
    scopes: frozenset[str]  # the scopes that hold deals: "making", "recorded" (see `deal_scope_condition`)


@dataclass(frozen=True, slots=True)
class Filters:
    """What the analyst has narrowed the ledger to. Empty fields do not filter.

    Each field is set by one filter of `FILTERS`; its default here is that filter's default.
    """

    scope: Scope = "all"
    countries: tuple[str, ...] = ()  # ISO alpha-3 codes
    country_role: CountryRole = "either"
    stages: tuple[str, ...] = ()
    parties: tuple[int, ...] = ()
    roles: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    text: str = ""
    min_reliability: str | None = None  # "B": at least one source graded A or B

    def grades(self) -> tuple[str, ...]:
        """The reliability grades that pass `min_reliability` (A is best)."""
        if not self.min_reliability:
            return tuple(RELIABILITY)
        return tuple(g for g in RELIABILITY if g <= self.min_reliability)

    def deal_conditions(self, *, as_of: AsOf | None = None) -> list[ColumnElement[bool]]:
        """Conditions on `deals` rows, one per filter in use.

        Only current events count (tracker.knowledge: retracted ones do not). `as_of` (an as-of view)
        looks only at the events known then (and, as recorded by a moment, the roles and grades of
        then: tracker.knowledge), and leaves the stage out: those views derive each deal's stage from
        the events known then.
        Subqueries correlate to `deals` only, so the conditions also work in queries that join
        events, parties or sources themselves. The event filters (dates, grade) make one condition
        together: a single event must pass them all.
        """
        conditions: list[ColumnElement[bool]] = []
        events_placed = False
        for spec in FILTERS:
            if spec.event_condition is not None and not events_placed:
                events_placed = True
                events = self.event_conditions(as_of=as_of)
                if events:
                    conditions.append(
                        exists(
                            select(Event.id)
                            .where(Event.deal_id == Deal.id, *events, *_events_known(as_of))
                            .correlate(Deal)
                        )
                    )
            if spec.deal_condition is not None:
                condition = spec.deal_condition(self, as_of)
                if condition is not None:
                    conditions.append(condition)
        return conditions

    def event_conditions(self, *, as_of: AsOf | None = None) -> list[ColumnElement[bool]]:
        """Conditions on `events` rows: the date range and the minimum source grade (as graded at
        `as_of`)."""
        conditions = [
            spec.event_condition(self, as_of) for spec in FILTERS if spec.event_condition is not None
        ]
        return [condition for condition in conditions if condition is not None]

    def deal_clause(self, *, as_of: AsOf | None = None) -> ColumnElement[bool]:
        conditions = self.deal_conditions(as_of=as_of)
        return and_(*conditions) if conditions else true()

    def caption(self, *, party_names: Mapping[int, str] | PartyNames | None = None) -> str:
        """The filters in plain words, e.g. "Deals with Ukraine as seller, stage negotiating, since
        2025-07-01"."""
        lookup = party_names or {}
        names = lookup if callable(lookup) else (lambda i: lookup.get(i, f"party #{i}"))
        parts = [spec.caption(self, names) for spec in FILTERS if spec.caption is not None]
        parts = [part for part in parts if part]
        return "All deals" if not parts else "Deals " + ", ".join(parts)


# --- how a filter is declared -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Widget:
    """How the sidebar shows a filter; `tracker.views.common` has one renderer per kind."""

    kind: WidgetKind
    label: str
    placeholder: str | None = None
    help: str | None = None
    # The options, in order, each with how it is shown (value -> label). None for dates and text.
    choices: Callable[[FilterOptions], Mapping[Any, str]] | None = None
    # Filters naming the same row sit side by side.
    row: str | None = None
    # What the URL holds. "label": what the widget shows, kept by Streamlit (bind="query-params").
    # "value": the value itself (a country code, not "Ukraine (UKR)"), kept by the sidebar.
    url_holds: Literal["label", "value"] = "label"
    # Typed text that is not an option, to an option's value (raises InvalidValue): a multiselect that
    # accepts names and aliases ("UK", "Türkiye") as well as its options.
    typed: Callable[[str], Any] | None = None


@dataclass(frozen=True, slots=True)
class CliOption:
    """The filter as an option of `python -m tracker export`."""

    flag: str
    help: str
    repeatable: bool = False
    # One command-line value to the field's value (or one item of it); None drops it. Raises InvalidValue.
    parse: Callable[[str], Any] = str
    choices: tuple[str, ...] | None = None

    @property
    def dest(self) -> str:
        """The argparse attribute the option is stored in."""
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True, slots=True)
class Filter:
    """One filter: everything the sidebar, the URL, the CLI, the SQL and the caption need to know."""

    key: str  # URL query parameter and sidebar widget key
    field: str  # the `Filters` attribute it sets
    widget: Widget
    cli: CliOption | None = None
    # A condition on `deals` (given the as-of view, None for now); None when the filter is not in use.
    deal_condition: Callable[[Filters, AsOf | None], ColumnElement[bool] | None] | None = None
    # A condition on `events` (all event conditions must hold for one event of the deal), given the as-of
    # view (grades as tracker.knowledge reads them in it).
    event_condition: Callable[[Filters, AsOf | None], ColumnElement[bool] | None] | None = None
    # Its words in the caption ("with Ukraine as seller"); None or "" when it adds none.
    caption: Callable[[Filters, PartyNames], str | None] | None = None
    # The sidebar's default given what the ledger holds, when it is not `default`.
    ledger_default: Callable[[FilterOptions], Any] | None = None

    @property
    def default(self) -> Any:
        """The value that does not filter: the `Filters` field's default (and the CLI's)."""
        return _FIELD_DEFAULTS[self.field]

    def sidebar_default(self, options: FilterOptions) -> Any:
        """What the sidebar starts from and "Clear filters" returns to, on this ledger."""
        return self.ledger_default(options) if self.ledger_default is not None else self.default

    def widget_default(self, options: FilterOptions) -> Any:
        """The sidebar default as the widget holds it (multiselects hold lists)."""
        default = self.sidebar_default(options)
        return list(default) if self.widget.kind == "multiselect" else default

    def from_widget(self, state: Any) -> Any:
        """The `Filters` value for what the widget holds (None before it is first drawn)."""
        kind = self.widget.kind
        if kind == "multiselect":
            return tuple(state or ())
        if kind == "text":
            # Typed or pasted control characters never reach SQL (PostgreSQL refuses NUL).
            return _without_control_characters(state or "").strip()
        if kind == "date":
            return state
        return self.default if state is None else state

    def from_cli(self, raw: str | list[str] | None) -> Any:
        """The `Filters` value for the command-line value(s); the default when the option is not given."""
        assert self.cli is not None
        if not raw:
            return self.default
        if self.cli.repeatable:
            return tuple(value for value in map(self.cli.parse, raw) if value is not None)
        return self.cli.parse(raw)

    def from_url(self, raw: str, options: FilterOptions, *, today: dt.date) -> Any:
        """The widget value for one value of the filter's URL parameter; InvalidValue when it cannot be
        used. Values the widget does not offer, dates Streamlit's date picker refuses and text with
        control characters are refused, as Streamlit itself drops (or, for text, would keep) them."""
        kind = self.widget.kind
        if kind == "date":
            return _url_date(raw, today=today)
        if kind == "text":
            return _url_text(raw, max_length=SEARCH_MAX_LENGTH)
        assert self.widget.choices is not None
        choices = self.widget.choices(options)
        by_form = {
            str(value) if self.widget.url_holds == "value" else label: value
            for value, label in choices.items()
        }
        if raw in by_form:
            return by_form[raw]
        raise InvalidValue(f"not an option of “{self.widget.label}”", fix=self._url_fix(raw, choices))

    def _url_fix(self, raw: str, choices: Mapping[Any, str]) -> str:
        if self.widget.typed is not None:
            try:
                value = self.widget.typed(raw)
            except InvalidValue as exc:
                return exc.fix
            if value in choices:
                return f"write {self.key}={value}"
            return f"no deal in this ledger involves {raw}"
        shown = [
            str(value) if self.widget.url_holds == "value" else label for value, label in choices.items()
        ]
        listed = ", ".join(shown[:MAX_LISTED]) + (", …" if len(shown) > MAX_LISTED else "")
        return f"use one of {listed}" if shown else "this ledger offers none"


def _without_control_characters(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cc")


def _url_text(raw: str, *, max_length: int) -> str:
    """Text from the URL as a search or a deal id: no control characters, bounded length."""
    if _without_control_characters(raw) != raw:
        raise InvalidValue("contains a control character", fix="remove it from the address")
    if len(raw) > max_length:
        raise InvalidValue(f"is longer than {max_length:,} characters", fix="shorten it")
    return raw


def _url_date(raw: str, *, today: dt.date, latest: dt.date | None = None) -> dt.date:
    """A date from the URL as Streamlit's date picker reads it (YYYY-MM-DD or YYYY/MM/DD), in its range."""
    for pattern in ("%Y-%m-%d", "%Y/%m/%d"):
        try:
            day = dt.datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
        break
    else:
        raise InvalidValue("is not a date", fix="write it as YYYY-MM-DD, e.g. 2025-07-01")
    latest = latest or _years_after(today, DATE_INPUT_YEARS_AHEAD)
    if not EARLIEST_DATE <= day <= latest:
        raise InvalidValue(
            "is out of range", fix=f"use a date from {EARLIEST_DATE.isoformat()} to {latest.isoformat()}"
        )
    return day


def _years_after(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (28 February for 29 February), as Streamlit's date pickers count."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def url_deal_id(raw: str) -> str:
    """A deal id from the URL (?deal=...): InvalidValue for text that cannot be one."""
    return _url_text(raw, max_length=DEAL_ID_MAX_LENGTH)


# The as-of view's URL parameters (and the sidebar's widget keys):
# ?as_of=2025-10-01&as_of_mode=recorded&as_of_time=14:05. The mode is left out at its default
# (tracker.knowledge.DEFAULT_AS_OF_MODE, as publicly reported); the minute (UTC) is there only as recorded
# (tracker.knowledge.takes_minute), and only when one was chosen: without it, the end of the day.
AS_OF_KEY, AS_OF_MODE_KEY, AS_OF_TIME_KEY = "as_of", "as_of_mode", "as_of_time"


def url_as_of(raw: str, *, today: dt.date) -> dt.date:
    """The "ledger as known on" date from the URL (?as_of=...): up to today."""
    return _url_date(raw, today=today, latest=today)


def url_as_of_time(raw: str) -> dt.time:
    """The as-of minute from the URL (?as_of_time=14:05), read as the sidebar's time picker reads it
    (HH:MM, or HH:MM:SS with the seconds dropped)."""
    for pattern in ("%H:%M:%S", "%H:%M"):
        try:
            return dt.datetime.strptime(raw, pattern).time().replace(second=0)
        except ValueError:
            continue
    raise InvalidValue("is not a time of day", fix="write it as HH:MM in UTC, e.g. 14:05")


_FIELD_DEFAULTS: dict[str, Any] = {spec.name: spec.default for spec in fields(Filters)}


MAX_QUERY_LENGTH = 100_000  # a shared address is a few hundred characters; a pasted one is cut off here


@dataclass(frozen=True, slots=True)
class UrlView:
    """A view read from a dashboard address's query string: what the sidebar would show for it."""

    filters: Filters
    as_of: AsOf | None  # the end of the day (or, as recorded, of the minute) in the address, in its mode
    ignored: tuple[tuple[str, str, InvalidValue], ...]  # (parameter, value, why): reported, not used


def view_from_query(query: str, options: FilterOptions, *, today: dt.date) -> UrlView:
    """The filters and as-of view in a query string ("country=UKR&stage=negotiating", a whole address
    too), read value by value as the sidebar reads the URL (`Filter.from_url`, `url_as_of`,
    `url_as_of_time`, the mode by `tracker.knowledge.as_of_mode`): a value the
    sidebar would refuse is ignored and listed in `ignored`, a filter not in the query takes the
    sidebar's default on this ledger, and parameters that are not filters (sort, page) are left alone."""
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidValue(
            f"the address is longer than {MAX_QUERY_LENGTH:,} characters", fix="copy it from the dashboard"
        )
    text = query.split("?", 1)[1] if "?" in query else query
    pairs = parse_qsl(text.split("#", 1)[0], keep_blank_values=False)
    ignored: list[tuple[str, str, InvalidValue]] = []

    def read(key: str, read_value: Callable[[str], Any]) -> list[Any]:
        values = []
        for name, raw in pairs:
            if name != key:
                continue
            try:
                values.append(read_value(raw))
            except InvalidValue as problem:
                ignored.append((key, raw, problem))
        return values

    chosen: dict[str, Any] = {}
    for spec in FILTERS:
        values = read(spec.key, lambda raw, spec=spec: spec.from_url(raw, options, today=today))
        if not values:
            chosen[spec.field] = spec.sidebar_default(options)
        else:
            held = list(dict.fromkeys(values)) if spec.widget.kind == "multiselect" else values[-1]
            chosen[spec.field] = spec.from_widget(held)
    days = read(AS_OF_KEY, lambda raw: url_as_of(raw, today=today))
    modes = read(AS_OF_MODE_KEY, as_of_mode)
    minutes = read(AS_OF_TIME_KEY, url_as_of_time)
    # As in the sidebar: without a date the ledger now; a minute counts only as recorded (AsOf.end_of).
    as_of = (
        AsOf.end_of(days[-1], modes[-1] if modes else DEFAULT_AS_OF_MODE, minutes[-1] if minutes else None)
        if days
        else None
    )
    return UrlView(Filters(**chosen), as_of, tuple(ignored))


# --- conditions and captions --------------------------------------------------------------------------


# Case is ignored as SQL's lower() ignores it on both databases (casefold() would turn "ß" into "ss", which
# nothing matches), with one letter more: Python lowers a word-final Σ to ς and PostgreSQL to σ, so both
# sides write ς as σ and "ΑΙΓΑΙΟΣ" is found by "αιγαιος" on either database.
_FINAL_SIGMA, _SIGMA = "ς", "σ"


def like_pattern(text: str) -> str:
    """A LIKE pattern (escaped with \\) for `text` anywhere in a column, for `matches`."""
    escaped = text.lower().replace(_FINAL_SIGMA, _SIGMA)
    escaped = escaped.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matches(column: ColumnElement[str], pattern: str) -> ColumnElement[bool]:
    """`column` contains the text of `like_pattern`, in any case (NULL as empty)."""
    return func.replace(func.lower(func.coalesce(column, "")), _FINAL_SIGMA, _SIGMA).like(
        pattern, escape="\\"
    )


def _events_known(as_of: AsOf | None) -> list[ColumnElement[bool]]:
    # Retracted events never count; as of a date, neither do those recorded or retracted later.
    return [event_is_current(as_of)]


def _join_or(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _country_name(code: str) -> str:
    try:
        return country_by_code(code).name
    except KeyError:
        return code


def _countries_condition(f: Filters, as_of: AsOf | None) -> ColumnElement[bool] | None:
    if not f.countries:
        return None
    roles = ("buyer", "seller") if f.country_role == "either" else (f.country_role,)
    # IN (subquery) rather than a correlated EXISTS: the country's few deals are found through the index
    # once, instead of one probe per deal in the ledger.
    return Deal.id.in_(
        select(DealParty.deal_id)
        .join(Party, Party.id == DealParty.party_id)
        .where(
            DealParty.role.in_(roles),
            Party.kind == "state",
            Party.country_code.in_(f.countries),
            *roles_known(as_of),
        )
    )


def _countries_caption(f: Filters, _: PartyNames) -> str | None:
    if not f.countries:
        return None
    role = {"either": "as buyer or seller", "buyer": "as buyer", "seller": "as seller"}[f.country_role]
    return f"with {_join_or([_country_name(code) for code in f.countries])} {role}"


def _stages_condition(f: Filters, as_of: AsOf | None) -> ColumnElement[bool] | None:
    # As of a date the stage is recomputed from the events known then (tracker.queries), not stored.
    return Deal.current_stage.in_(f.stages) if f.stages and as_of is None else None


def _parties_condition(f: Filters, as_of: AsOf | None) -> ColumnElement[bool] | None:
    # Party and role together: one role row must name the party *in* that role.
    if not (f.parties or f.roles):
        return None
    conditions = [DealParty.deal_id == Deal.id, *roles_known(as_of)]
    if f.parties:
        conditions.append(DealParty.party_id.in_(f.parties))
    if f.roles:
        conditions.append(DealParty.role.in_(f.roles))
    return exists(select(DealParty.deal_id).where(*conditions).correlate(Deal))


def _parties_caption(f: Filters, names: PartyNames) -> str | None:
    if f.parties:
        who = _join_or([names(i) for i in f.parties])
        return f"involving {who}" + (f" as {_join_or(list(f.roles))}" if f.roles else "")
    if f.roles:
        return f"with a party as {_join_or(list(f.roles))}"
    return None


def _since_caption(f: Filters, _: PartyNames) -> str | None:
    if f.since and f.until:
        return f"with events from {f.since.isoformat()} to {f.until.isoformat()}"
    return f"since {f.since.isoformat()}" if f.since else None


def _until_caption(f: Filters, _: PartyNames) -> str | None:
    return f"until {f.until.isoformat()}" if f.until and not f.since else None


# Words that name one thing in the ledger's sources in more than one way: a search for one finds the others.
# SIPRI calls every drone a UAV; news is written in British and American spelling. Lower case.
SEARCH_EQUIVALENTS: tuple[tuple[str, ...], ...] = (
    ("drone", "uav"),
    ("defence", "defense"),
    ("armoured", "armored"),
    ("organisation", "organization"),
    ("modernisation", "modernization"),
)
# Each variant is one more LIKE per searched column: a text holding several of the words is bounded.
MAX_SEARCH_VARIANTS = 8


def search_variants(text: str) -> tuple[str, ...]:
    """The search text in lower case, then the same text with each SEARCH_EQUIVALENTS word it holds written
    as the word's equivalents ("air defence" -> "air defense"); at most MAX_SEARCH_VARIANTS."""
    variants = [text.strip().lower()]
    for group in SEARCH_EQUIVALENTS:
        for variant in list(variants):
            for word in (word for word in group if word in variant):
                variants.extend(variant.replace(word, other) for other in group if other != word)
    return tuple(dict.fromkeys(variants))[:MAX_SEARCH_VARIANTS]


def _any_matches(columns: tuple[ColumnElement[str], ...], patterns: list[str]) -> ColumnElement[bool]:
    return or_(*(matches(column, pattern) for column in columns for pattern in patterns))


def _text_condition(f: Filters, as_of: AsOf | None) -> ColumnElement[bool] | None:
    if not f.text.strip():
        return None
    patterns = [like_pattern(variant) for variant in search_variants(f.text)]
    told = or_(
        _any_matches((Event.summary,), patterns),
        exists(
            select(EventSource.event_id)
            .join(Source, Source.id == EventSource.source_id)
            .where(EventSource.event_id == Event.id, _any_matches((Source.title, Source.publisher), patterns))
        ),
    )
    return or_(
        _any_matches((Deal.title, Deal.summary), patterns),
        exists(select(Event.id).where(Event.deal_id == Deal.id, told, *_events_known(as_of)).correlate(Deal)),
    )


def _text_caption(f: Filters, _: PartyNames) -> str | None:
    if not f.text.strip():
        return None
    also = [f'"{variant}"' for variant in search_variants(f.text)[1:]]
    return f'mentioning "{f.text.strip()}"' + (f" (or {_join_or(also)})" if also else "")


def _grade_condition(f: Filters, as_of: AsOf | None) -> ColumnElement[bool] | None:
    if not f.min_reliability:
        return None
    return exists(
        select(EventSource.event_id)
        .join(Source, Source.id == EventSource.source_id)
        .where(EventSource.event_id == Event.id, reliability(as_of).in_(f.grades()))
    )


def _same(values: Any) -> dict[Any, str]:
    """Options shown as they are."""
    return {value: value for value in values}


def _country_label(code: str, name: str) -> str:
    return f"{name} ({code})"


# A deal is SIPRI-recorded when every source behind its events is a curated database (source kind
# "database", as a SIPRI import makes), in the making when any is not (news, statements, documents).
SCOPE_RULE = (
    "In the making: deals with at least one news, official or document source. SIPRI-recorded: deals "
    "whose events come only from sources of kind “database”, such as a SIPRI trade-register import."
)


# A kind of source with fewer links than this is "few": the scope is read from its side.
SCOPE_PROBE_LINKS = 10_000


def _sources(*, database: bool) -> Select[Any]:
    return select(Source.id).where(Source.kind == "database" if database else Source.kind != "database")


def _few_links(*, database: bool) -> ColumnElement[bool]:
    """Whether the sources of a kind have fewer than SCOPE_PROBE_LINKS links: one index range per source,
    stopped at the limit (a few ms), evaluated once per query."""
    probe = (
        select(EventSource.event_id)
        .where(EventSource.source_id.in_(_sources(database=database)))
        .limit(SCOPE_PROBE_LINKS)
        .subquery()
    )
    return select(func.count()).select_from(probe).scalar_subquery() < SCOPE_PROBE_LINKS


# The scope's subqueries use Core table aliases: the queries using them join events and sources
# themselves, and ORM aliases cost about 1 ms of Python per column used (18 ms per condition built).
def deals_citing(*, database: bool, as_of: AsOf | None = None) -> Select[Any]:
    """Deals with an event backed by a source of kind "database" (or, `database` False, of another kind),
    read from the sources' side: their links through `event_sources`' source index, then the events."""
    events, links = Event.__table__.alias("cited_events"), EventSource.__table__.alias("cited_links")
    return (
        select(events.c.deal_id)
        .join(links, links.c.event_id == events.c.id)
        .where(
            links.c.source_id.in_(_sources(database=database)),
            *event_and_link_known(as_of, events=events, links=links),
        )
    )


def _cites_other_sources(deal_id: ColumnElement[str], as_of: AsOf | None) -> ColumnElement[bool]:
    """Whether the deal has an event backed by a source that is not a database, probing its own events."""
    events = Event.__table__.alias("own_events")
    links = EventSource.__table__.alias("own_links")
    sources = Source.__table__.alias("own_sources")
    return exists(
        select(events.c.id)
        .join(links, links.c.event_id == events.c.id)
        .join(sources, sources.c.id == links.c.source_id)
        .where(
            events.c.deal_id == deal_id,
            sources.c.kind != "database",
            *event_and_link_known(as_of, events=events, links=links),
        )
    )


def database_only_deals(as_of: AsOf | None = None) -> Select[Any]:
    """The SIPRI-recorded deals (SCOPE_RULE), found from the database sources' side: the deals of their
    links that cite nothing else."""
    citing = deals_citing(database=True, as_of=as_of)
    return citing.where(~_cites_other_sources(citing.selected_columns.deal_id, as_of))


@functools.lru_cache(maxsize=16)
def deal_scope_condition(scope: Scope, *, as_of: AsOf | None = None) -> ColumnElement[bool] | None:
    """The deals of a scope (None for "all"); see SCOPE_RULE.

    Which sources back a deal is not stored on the deal, and probing every deal's own links costs 230 ms
    for the seed plus a 27,951-deal SIPRI register. So the scope is read from the side of the kind of
    source with few links, which the query finds out first (`_few_links`):
    - few database links (a news ledger citing a database now and then): the SIPRI-recorded deals are
      those links' deals that cite nothing else;
    - few other links (a SIPRI register beside a few news deals): the deals in the making are those
      links' deals;
    - both many: each deal's own links are probed.
    Each side alone is fast where it is few and slow where it is many: counting the deals in the making
    from the news side takes 0.1 ms beside the register but 700 ms in 100,000 synthetic news events
    (plus the 11-deal fixture register). Chosen this way, counting either scope takes 25 to 40 ms in
    both ledgers (docs/performance.md, "Scope").

    Kept (an SQL expression is immutable): building it is a few ms of Python, for every query.
    """
    if scope == "all":
        return None
    few_database_links, few_other_links = _few_links(database=True), _few_links(database=False)
    database_only, in_making = database_only_deals(as_of), deals_citing(database=False, as_of=as_of)
    if scope == "recorded":
        return case(
            (few_database_links, Deal.id.in_(database_only)),
            (few_other_links, Deal.id.not_in(in_making)),
            else_=~_cites_other_sources(Deal.id, as_of),
        )
    # The deals in the making as a set of ids (a scan of the deal ids' own index): a query ordered by an
    # index (the Deals table, newest first) then starts from that set rather than testing every deal it
    # walks past: beside a 27,951-deal register the Deals table takes 32 ms instead of 97 ms, the Sources
    # table 30 ms instead of 179 ms. (For the SIPRI-recorded deals, most of such a ledger, the set is the
    # slower way: the overview takes 263 ms instead of 139 ms.)
    # A materialised CTE, so a statement using the set twice builds it once: the Deals page counts the
    # deals and reads its page in one statement (docs/performance.md, "Scope").
    deals = Deal.__table__.alias("scoped_deals")
    in_scope = case(
        (few_database_links, deals.c.id.not_in(database_only)),
        (few_other_links, deals.c.id.in_(in_making)),
        else_=_cites_other_sources(deals.c.id, as_of),
    )
    making = select(deals.c.id).where(in_scope).cte("deals_in_the_making").prefix_with("MATERIALIZED")
    return Deal.id.in_(select(making.c.id))


def _scope_default(options: FilterOptions) -> Scope:
    # A ledger holding both opens on the deals in the making: a SIPRI register's tens of thousands of
    # completed transfers would otherwise fill every chart.
    return "making" if {"making", "recorded"} <= options.scopes else "all"


_SCOPE_CAPTIONS = {"making": "in the making", "recorded": "recorded by SIPRI (database sources only)"}


_GRADES = "; ".join(f"{letter} {meaning.lower()}" for letter, meaning in RELIABILITY.items())


# --- the registry -------------------------------------------------------------------------------------

FILTERS: tuple[Filter, ...] = (
    Filter(
        key="scope",
        field="scope",
        widget=Widget(
            "segmented", "Scope", help=SCOPE_RULE, choices=lambda _: SCOPES, url_holds="value"
        ),  # ?scope=making
        cli=CliOption(
            "--scope", "deals in the making, SIPRI-recorded transfers or all", choices=tuple(SCOPES)
        ),
        deal_condition=lambda f, as_of: deal_scope_condition(f.scope, as_of=as_of),
        caption=lambda f, _: _SCOPE_CAPTIONS.get(f.scope),
        ledger_default=_scope_default,
    ),
    Filter(
        key="country",
        field="countries",
        # Shown by name, found by name, alias or code; the URL holds codes (?country=UKR), not names.
        widget=Widget(
            "multiselect",
            "Country",
            placeholder="any country",
            help="States buying or selling in a deal. Type a name, an alias (UK, Türkiye) or an ISO code.",
            choices=lambda options: {
                code: _country_label(code, name)
                for code, name in zip(options.countries["code"], options.countries["name"])
            },
            url_holds="value",
            typed=lambda text: resolve_country(text).code,
        ),
        cli=CliOption(
            "--country",
            "country name or ISO code (repeatable)",
            repeatable=True,
            parse=lambda text: resolve_country(text).code,
        ),
        deal_condition=_countries_condition,
        caption=_countries_caption,
    ),
    Filter(
        key="country_as",
        field="country_role",
        # Qualifies the country filter: its condition and caption are the country filter's.
        widget=Widget("segmented", "Country as", choices=lambda _: COUNTRY_SIDES),
        cli=CliOption("--role", "the country's side", choices=tuple(COUNTRY_SIDES)),
    ),
    Filter(
        key="stage",
        field="stages",
        widget=Widget(
            "multiselect", "Current stage", placeholder="any stage", choices=lambda _: _same(STAGE_NAMES)
        ),
        cli=CliOption("--stage", "current stage (repeatable)", repeatable=True, parse=resolve_stage),
        deal_condition=_stages_condition,
        caption=lambda f, _: f"stage {_join_or(list(f.stages))}" if f.stages else None,
    ),
    Filter(
        key="party",
        field="parties",
        widget=Widget(
            "multiselect",
            "Party",
            placeholder="any party",
            help="People, ministries, agencies and companies named in a deal.",
            choices=lambda options: dict(zip(options.parties["party_id"], options.parties["label"])),
        ),
        deal_condition=_parties_condition,
        caption=_parties_caption,
    ),
    Filter(
        key="party_role",
        field="roles",
        # Qualifies the party filter: its condition and caption are the party filter's.
        widget=Widget(
            "multiselect",
            "Party role",
            placeholder="any role",
            help="Deals in which some party (or the chosen party) has this role.",
            choices=lambda _: _same(ROLES),
        ),
        cli=CliOption(
            "--party-role",
            "deals with a party in this role (repeatable)",
            repeatable=True,
            parse=resolve_role,
        ),
    ),
    Filter(
        key="category",
        field="categories",
        widget=Widget(
            "multiselect",
            "Category",
            placeholder="any category",
            choices=lambda options: _same(options.categories),
        ),
        cli=CliOption("--category", "deal category (repeatable)", repeatable=True),
        deal_condition=lambda f, _: Deal.category.in_(f.categories) if f.categories else None,
        caption=lambda f, _: f"category {_join_or(list(f.categories))}" if f.categories else None,
    ),
    Filter(
        key="since",
        field="since",
        widget=Widget("date", "Events from", row="dates"),
        cli=CliOption(
            "--since",
            "events on or after this date (YYYY-MM-DD, YYYY-MM or YYYY)",
            parse=lambda text: parse_partial_date(text).start,
        ),
        event_condition=lambda f, _: Event.occurred_until >= f.since if f.since else None,
        caption=_since_caption,
    ),
    Filter(
        key="until",
        field="until",
        widget=Widget("date", "Events until", row="dates"),
        cli=CliOption(
            "--until", "events on or before this date", parse=lambda text: parse_partial_date(text).end
        ),
        event_condition=lambda f, _: Event.occurred_on <= f.until if f.until else None,
        caption=_until_caption,
    ),
    Filter(
        key="q",
        field="text",
        widget=Widget(
            "text",
            "Search",
            placeholder="titles, summaries, sources",
            help=(
                "Words in deal titles and summaries, event summaries, source titles and publishers. "
                "“drone” also finds SIPRI's “UAV”, and British and American spellings find each other "
                "(defence, defense)."
            ),
            url_holds="value",  # checked here: Streamlit would keep a NUL byte, which PostgreSQL refuses
        ),
        cli=CliOption("--search", "text in titles, summaries or sources"),
        deal_condition=_text_condition,
        caption=_text_caption,
    ),
    Filter(
        key="grade",
        field="min_reliability",
        widget=Widget(
            "select",
            "Minimum source grade",
            placeholder="any grade",
            help=f"Keeps deals with an event backed by a source graded this or better: {_GRADES}.",
            choices=lambda _: _same(RELIABILITY),
        ),
        cli=CliOption("--min-grade", "minimum source reliability, A-F", parse=resolve_reliability),
        event_condition=_grade_condition,
        caption=lambda f, _: f"sourced at grade {f.min_reliability} or better" if f.min_reliability else None,
    ),
)
FILTER_BY_KEY: dict[str, Filter] = {spec.key: spec for spec in FILTERS}


# --- a view's filters as a URL query string -------------------------------------------------------------


def to_query(filters: Filters, options: FilterOptions, *, as_of: AsOf | None = None) -> str:
    """The filters as the sidebar writes them in its URL ("country=UKR&stage=agreed"), for a saved view or
    a feed's id: the filters at their sidebar default on this ledger are left out, as the sidebar does.
    With `as_of`, its day, (when not the default) its mode and (as recorded, when not the end of the day)
    its minute follow, as the sidebar writes them and `view_from_query` reads them."""
    pairs: list[tuple[str, str]] = []
    for spec in FILTERS:
        value = getattr(filters, spec.field)
        if value == spec.sidebar_default(options) or value in (None, "", ()):
            continue
        labels = spec.widget.choices(options) if spec.widget.choices is not None else {}
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, dt.date):
                pairs.append((spec.key, item.isoformat()))
            elif spec.widget.url_holds == "label" and item in labels:
                pairs.append((spec.key, labels[item]))
            else:
                pairs.append((spec.key, str(item)))
    if as_of is not None:
        pairs.append((AS_OF_KEY, as_of.day.isoformat()))
        if as_of.mode != DEFAULT_AS_OF_MODE:
            pairs.append((AS_OF_MODE_KEY, as_of.mode))
        if takes_minute(as_of.mode) and as_of.moment.time() != dt.time.max:
            pairs.append((AS_OF_TIME_KEY, f"{as_of.moment:%H:%M}"))
    return urlencode(pairs)


def widget_values(filters: Filters) -> dict[str, Any]:
    """The sidebar's widget values (by filter key) that show these filters, e.g. to open a saved view."""
    values = {spec.key: getattr(filters, spec.field) for spec in FILTERS}
    return {
        spec.key: list(values[spec.key]) if spec.widget.kind == "multiselect" else values[spec.key]
        for spec in FILTERS
    }
