"""The analyst's filters: one value object that builds its SQL conditions and a plain-words caption."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true

from tracker.countries import country_by_code
from tracker.knowledge import event_is_current, imports_known_by, reliability
from tracker.models import Deal, DealParty, Event, EventSource, Party, Source
from tracker.vocab import RELIABILITY, ROLES, STAGE_NAMES

CountryRole = Literal["either", "buyer", "seller"]


def like_pattern(text: str) -> str:
    """A LIKE pattern (escaped with \\) for text anywhere in a lower-cased column."""
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True, slots=True)
class Filters:
    """What the analyst has narrowed the ledger to. Empty fields do not filter."""

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
        """Conditions on `deals` rows.

        Only current events count (tracker.knowledge: retracted ones do not). `as_of` (an as-of view)
        looks only at events and roles known then, with the grades they had then, and leaves the stage
        out: those views derive each deal's stage from the events known then.
        Subqueries correlate to `deals` only, so the conditions also work in queries that join
        events, parties or sources themselves.
        """
        conditions: list[ColumnElement[bool]] = []
        roles_known = [] if as_of is None else [DealParty.import_id.in_(imports_known_by(as_of))]
        events_known = [event_is_current(as_of)]
        if self.countries:
            roles = ("buyer", "seller") if self.country_role == "either" else (self.country_role,)
            # IN (subquery) rather than a correlated EXISTS: the country's few deals are found through
            # the index once, instead of one probe per deal in the ledger.
            conditions.append(
                Deal.id.in_(
                    select(DealParty.deal_id)
                    .join(Party, Party.id == DealParty.party_id)
                    .where(
                        DealParty.role.in_(roles),
                        Party.kind == "state",
                        Party.country_code.in_(self.countries),
                        *roles_known,
                    )
                )
            )
        if self.stages and as_of is None:
            conditions.append(Deal.current_stage.in_(self.stages))
        if self.parties or self.roles:
            party_conditions = [DealParty.deal_id == Deal.id, *roles_known]
            if self.parties:
                party_conditions.append(DealParty.party_id.in_(self.parties))
            if self.roles:
                party_conditions.append(DealParty.role.in_(self.roles))
            conditions.append(exists(select(DealParty.deal_id).where(*party_conditions).correlate(Deal)))
        if self.categories:
            conditions.append(Deal.category.in_(self.categories))
        if self.since or self.until or self.min_reliability:
            conditions.append(
                exists(
                    select(Event.id)
                    .where(Event.deal_id == Deal.id, *self.event_conditions(as_of=as_of), *events_known)
                    .correlate(Deal)
                )
            )
        if self.text.strip():
            pattern = like_pattern(self.text.strip())
            conditions.append(
                or_(
                    func.lower(Deal.title).like(pattern, escape="\\"),
                    func.lower(func.coalesce(Deal.summary, "")).like(pattern, escape="\\"),
                    exists(
                        select(Event.id)
                        .where(Event.deal_id == Deal.id, self._event_text_condition(pattern), *events_known)
                        .correlate(Deal)
                    ),
                )
            )
        return conditions

    def event_conditions(self, *, as_of: dt.datetime | None = None) -> list[ColumnElement[bool]]:
        """Conditions on `events` rows: the date range and the minimum source grade (as graded at
        `as_of`)."""
        conditions: list[ColumnElement[bool]] = []
        if self.since:
            conditions.append(Event.occurred_until >= self.since)
        if self.until:
            conditions.append(Event.occurred_on <= self.until)
        if self.min_reliability:
            conditions.append(
                exists(
                    select(EventSource.event_id)
                    .join(Source, Source.id == EventSource.source_id)
                    .where(EventSource.event_id == Event.id, reliability(as_of).in_(self.grades()))
                )
            )
        return conditions

    @staticmethod
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

    def deal_clause(self, *, as_of: dt.datetime | None = None) -> ColumnElement[bool]:
        conditions = self.deal_conditions(as_of=as_of)
        return and_(*conditions) if conditions else true()

    def caption(self, *, party_names: Mapping[int, str] | Callable[[int], str] | None = None) -> str:
        """The filters in plain words, e.g. "Deals with Ukraine as seller, stage negotiating, since
        2025-07-01"."""
        parts: list[str] = []
        if self.countries:
            names = _join_or([_country_name(code) for code in self.countries])
            role = {"either": "as buyer or seller", "buyer": "as buyer", "seller": "as seller"}[
                self.country_role
            ]
            parts.append(f"with {names} {role}")
        if self.stages:
            parts.append(f"stage {_join_or(list(self.stages))}")
        if self.parties:
            lookup = party_names or {}
            resolve = lookup if callable(lookup) else (lambda i: lookup.get(i, f"party #{i}"))
            who = _join_or([resolve(i) for i in self.parties])
            parts.append(f"involving {who}" + (f" as {_join_or(list(self.roles))}" if self.roles else ""))
        elif self.roles:
            parts.append(f"with a party as {_join_or(list(self.roles))}")
        if self.categories:
            parts.append(f"category {_join_or(list(self.categories))}")
        if self.since and self.until:
            parts.append(f"with events from {self.since.isoformat()} to {self.until.isoformat()}")
        elif self.since:
            parts.append(f"since {self.since.isoformat()}")
        elif self.until:
            parts.append(f"until {self.until.isoformat()}")
        if self.text.strip():
            parts.append(f'mentioning "{self.text.strip()}"')
        if self.min_reliability:
            parts.append(f"sourced at grade {self.min_reliability} or better")
        return "All deals" if not parts else "Deals " + ", ".join(parts)


def _country_name(code: str) -> str:
    try:
        return country_by_code(code).name
    except KeyError:
        return code


def _join_or(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


# The URL query parameters of the sidebar filters (tracker.views.common binds its widgets to these keys): a
# saved view, a feed's id and a shared link hold the filters in this form.
QUERY_PARAMETERS = (
    "country",
    "country_as",
    "stage",
    "party",
    "party_role",
    "category",
    "since",
    "until",
    "q",
    "grade",
)


QUERY_FIELDS = 1000


def to_query(filters: Filters) -> str:
    """The filters as a URL query string, as the sidebar writes it ("country=UKR&stage=agreed")."""
    pairs: list[tuple[str, str]] = [("country", code) for code in filters.countries]
    if filters.country_role != "either":
        pairs.append(("country_as", filters.country_role))
    pairs += [("stage", stage) for stage in filters.stages]
    pairs += [("party", str(party)) for party in filters.parties]
    pairs += [("party_role", role) for role in filters.roles]
    pairs += [("category", category) for category in filters.categories]
    if filters.since:
        pairs.append(("since", filters.since.isoformat()))
    if filters.until:
        pairs.append(("until", filters.until.isoformat()))
    if filters.text.strip():
        pairs.append(("q", filters.text.strip()))
    if filters.min_reliability:
        pairs.append(("grade", filters.min_reliability))
    return urlencode(pairs)


def from_query(query: str) -> Filters:
    """The filters a URL query string holds. A value that cannot be read (an unknown stage, a bad date, a
    party that is not a number) is left out rather than refused: a saved or shared link outlives edits to
    the vocabulary, and showing more deals is safer than showing none. Parameters that are not filters
    (?deal=, ?as_of=) are ignored."""
    values: dict[str, list[str]] = {}
    # At most QUERY_FIELDS fields are read: a longer query is cut, not refused.
    fields = "&".join(query.lstrip("?").split("&", QUERY_FIELDS)[:QUERY_FIELDS])
    for name, value in parse_qsl(fields, keep_blank_values=False):
        if name in QUERY_PARAMETERS:
            values.setdefault(name, []).append(value[:200])

    def day(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(values.get(name, [""])[-1])
        except ValueError:
            return None

    role = values.get("country_as", ["either"])[-1]
    grade = values.get("grade", [""])[-1]
    return Filters(
        countries=tuple(c for c in values.get("country", []) if len(c) == 3 and c.isalpha() and c.isupper()),
        country_role=role if role in ("either", "buyer", "seller") else "either",  # type: ignore[arg-type]
        stages=tuple(s for s in values.get("stage", []) if s in STAGE_NAMES),
        parties=tuple(int(p) for p in values.get("party", []) if p.isdigit() and len(p) < 12),
        roles=tuple(r for r in values.get("party_role", []) if r in ROLES),
        categories=tuple(values.get("category", [])),
        since=day("since"),
        until=day("until"),
        text=values.get("q", [""])[-1].strip(),
        min_reliability=grade if grade in RELIABILITY else None,
    )
