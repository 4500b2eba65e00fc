"""The analyst's filters, each declared once.

`FILTERS` is the registry, in sidebar order. One `Filter` declaration says everything about a filter: its
URL query parameter (also the sidebar widget's key), the `Filters` field it sets, how its widget looks and
where its options come from, its command-line option, its SQL condition and its fragment of the caption.
The sidebar (`tracker.views.common`), the CLI's export options and `Filters`' SQL and caption are derived
from the registry, so adding a filter is a field on `Filters` (its type and default) and one declaration.

Nothing here imports Streamlit: the widget description is plain data the views render.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

import pandas as pd
from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true

from tracker.countries import country_by_code, resolve_country
from tracker.dates import parse_partial_date
from tracker.models import Deal, DealParty, Event, EventSource, Import, Party, Source
from tracker.vocab import RELIABILITY, ROLES, STAGE_NAMES, resolve_reliability, resolve_role, resolve_stage

CountryRole = Literal["either", "buyer", "seller"]
WidgetKind = Literal["multiselect", "segmented", "date", "text", "select"]
PartyNames = Callable[[int], str]

COUNTRY_SIDES: dict[str, str] = {"either": "buyer or seller", "buyer": "buyer", "seller": "seller"}
EARLIEST_DATE = dt.date(1950, 1, 1)  # SIPRI's records start in 1950


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """What the sidebar filters can offer, from what the ledger holds (`tracker.queries.filter_options`)."""

    countries: pd.DataFrame  # code, name: states that buy or sell in some deal
    parties: pd.DataFrame  # party_id, name, kind, country_code, label (unique): non-state parties with a role
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Filters:
    """What the analyst has narrowed the ledger to. Empty fields do not filter.

    Each field is set by one filter of `FILTERS`; its default here is that filter's default.
    """

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

    @property
    def is_empty(self) -> bool:
        return self == Filters()

    def grades(self) -> tuple[str, ...]:
        """The reliability grades that pass `min_reliability` (A is best)."""
        if not self.min_reliability:
            return tuple(RELIABILITY)
        return tuple(g for g in RELIABILITY if g <= self.min_reliability)

    def deal_conditions(self, *, as_of: dt.datetime | None = None) -> list[ColumnElement[bool]]:
        """Conditions on `deals` rows, one per filter in use.

        `as_of` (an as-of view) looks only at events and roles recorded by then, and leaves the stage
        out: those views derive each deal's stage from the events known then.
        Subqueries correlate to `deals` only, so the conditions also work in queries that join
        events, parties or sources themselves. The event filters (dates, grade) make one condition
        together: a single event must pass them all.
        """
        conditions: list[ColumnElement[bool]] = []
        events_placed = False
        for spec in FILTERS:
            if spec.event_condition is not None and not events_placed:
                events_placed = True
                events = self.event_conditions()
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

    def event_conditions(self) -> list[ColumnElement[bool]]:
        """Conditions on `events` rows: the date range and the minimum source grade."""
        conditions = [spec.event_condition(self) for spec in FILTERS if spec.event_condition is not None]
        return [condition for condition in conditions if condition is not None]

    def deal_clause(self, *, as_of: dt.datetime | None = None) -> ColumnElement[bool]:
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
    help: str | Callable[[FilterOptions], str] | None = None
    # The options, in order, each with how it is shown (value -> label). None for dates and text.
    choices: Callable[[FilterOptions], Mapping[Any, str]] | None = None
    # Filters naming the same row sit side by side.
    row: str | None = None


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
    # A condition on `deals` (given the as-of time, None for now); None when the filter is not in use.
    deal_condition: Callable[[Filters, dt.datetime | None], ColumnElement[bool] | None] | None = None
    # A condition on `events` (all event conditions must hold for one event of the deal).
    event_condition: Callable[[Filters], ColumnElement[bool] | None] | None = None
    # Its words in the caption ("with Ukraine as seller"); None or "" when it adds none.
    caption: Callable[[Filters, PartyNames], str | None] | None = None

    @property
    def default(self) -> Any:
        """The value that does not filter: the `Filters` field's default."""
        return _FIELD_DEFAULTS[self.field]

    def widget_default(self) -> Any:
        """The default as the widget holds it (multiselects hold lists)."""
        return list(self.default) if self.widget.kind == "multiselect" else self.default

    def from_widget(self, state: Any) -> Any:
        """The `Filters` value for what the widget holds (None before it is first drawn)."""
        kind = self.widget.kind
        if kind == "multiselect":
            return tuple(state or ())
        if kind == "text":
            return (state or "").strip()
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


_FIELD_DEFAULTS: dict[str, Any] = {spec.name: spec.default for spec in fields(Filters)}


# --- conditions and captions --------------------------------------------------------------------------


def _like_pattern(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _roles_known(as_of: dt.datetime | None) -> list[ColumnElement[bool]]:
    if as_of is None:
        return []
    return [DealParty.import_id.in_(select(Import.id).where(Import.committed_at <= as_of))]


def _events_known(as_of: dt.datetime | None) -> list[ColumnElement[bool]]:
    return [] if as_of is None else [Event.recorded_at <= as_of]


def _join_or(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _country_name(code: str) -> str:
    try:
        return country_by_code(code).name
    except KeyError:
        return code


def _countries_condition(f: Filters, as_of: dt.datetime | None) -> ColumnElement[bool] | None:
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
            *_roles_known(as_of),
        )
    )


def _countries_caption(f: Filters, _: PartyNames) -> str | None:
    if not f.countries:
        return None
    role = {"either": "as buyer or seller", "buyer": "as buyer", "seller": "as seller"}[f.country_role]
    return f"with {_join_or([_country_name(code) for code in f.countries])} {role}"


def _stages_condition(f: Filters, as_of: dt.datetime | None) -> ColumnElement[bool] | None:
    # As of a date the stage is recomputed from the events known then (tracker.queries), not stored.
    return Deal.current_stage.in_(f.stages) if f.stages and as_of is None else None


def _parties_condition(f: Filters, as_of: dt.datetime | None) -> ColumnElement[bool] | None:
    # Party and role together: one role row must name the party *in* that role.
    if not (f.parties or f.roles):
        return None
    conditions = [DealParty.deal_id == Deal.id, *_roles_known(as_of)]
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


def _event_text_condition(pattern: str) -> ColumnElement[bool]:
    return or_(
        func.lower(Event.summary).like(pattern, escape="\\"),
        exists(
            select(EventSource.event_id)
            .join(Source, Source.id == EventSource.source_id)
            .where(
                EventSource.event_id == Event.id,
                or_(
                    func.lower(func.coalesce(Source.title, "")).like(pattern, escape="\\"),
                    func.lower(func.coalesce(Source.publisher, "")).like(pattern, escape="\\"),
                ),
            )
        ),
    )


def _text_condition(f: Filters, as_of: dt.datetime | None) -> ColumnElement[bool] | None:
    if not f.text.strip():
        return None
    pattern = _like_pattern(f.text.strip())
    return or_(
        func.lower(Deal.title).like(pattern, escape="\\"),
        func.lower(func.coalesce(Deal.summary, "")).like(pattern, escape="\\"),
        exists(
            select(Event.id)
            .where(Event.deal_id == Deal.id, _event_text_condition(pattern), *_events_known(as_of))
            .correlate(Deal)
        ),
    )


def _grade_condition(f: Filters) -> ColumnElement[bool] | None:
    if not f.min_reliability:
        return None
    return exists(
        select(EventSource.event_id)
        .join(Source, Source.id == EventSource.source_id)
        .where(EventSource.event_id == Event.id, Source.reliability.in_(f.grades()))
    )


def _same(values: Any) -> dict[Any, str]:
    """Options shown as they are."""
    return {value: value for value in values}


def _country_help(options: FilterOptions) -> str:
    return "States buying or selling in a deal, by ISO 3166 alpha-3 code: " + ", ".join(
        f"{code} {name}" for code, name in zip(options.countries["code"], options.countries["name"])
    )


_GRADES = "; ".join(f"{letter} {meaning.lower()}" for letter, meaning in RELIABILITY.items())


# --- the registry -------------------------------------------------------------------------------------

FILTERS: tuple[Filter, ...] = (
    Filter(
        key="country",
        field="countries",
        # Options are ISO codes so the URL holds codes (?country=UKR), not names that may be reworded.
        widget=Widget(
            "multiselect",
            "Country (ISO code)",
            placeholder="any country",
            help=_country_help,
            choices=lambda options: _same(options.countries["code"]),
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
        event_condition=lambda f: Event.occurred_until >= f.since if f.since else None,
        caption=_since_caption,
    ),
    Filter(
        key="until",
        field="until",
        widget=Widget("date", "Events until", row="dates"),
        cli=CliOption(
            "--until", "events on or before this date", parse=lambda text: parse_partial_date(text).end
        ),
        event_condition=lambda f: Event.occurred_on <= f.until if f.until else None,
        caption=_until_caption,
    ),
    Filter(
        key="q",
        field="text",
        widget=Widget(
            "text",
            "Search",
            placeholder="titles, summaries, sources",
            help="Words in deal titles and summaries, event summaries, source titles and publishers.",
        ),
        cli=CliOption("--search", "text in titles, summaries or sources"),
        deal_condition=_text_condition,
        caption=lambda f, _: f'mentioning "{f.text.strip()}"' if f.text.strip() else None,
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
