"""What the ledger already knows that a draft should use: deals between the article's states, parties it
names, and how the ledger grades the article's publisher. Read with parameterised queries, bounded."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine, and_, func, or_, select

from tracker.models import Deal, Event, Party, Source

# A draft names a handful of states and parties: these bound what one draft reads from a large ledger.
MAX_DEALS = 500
MAX_PARTY_WORDS = 100
_SIDES = (Deal.buyer_codes, Deal.seller_codes)


@dataclass(frozen=True, slots=True)
class LedgerDeal:
    id: str
    title: str
    category: str
    buyers: frozenset[str]
    sellers: frozenset[str]
    # (date, stage) of the deal's events that set a stage, oldest first.
    stages: tuple[tuple[dt.date, str], ...] = ()


@dataclass(frozen=True, slots=True)
class LedgerParty:
    name: str
    kind: str
    country: str | None


@dataclass(frozen=True, slots=True)
class LedgerKnowledge:
    """The part of the ledger a draft is matched against; empty when there is no ledger."""

    deals: tuple[LedgerDeal, ...] = ()
    parties: tuple[LedgerParty, ...] = ()
    publisher_grades: dict[str, int] = field(default_factory=dict)
    # Ids in the ledger that a new deal's id must not take: its slug and the slug numbered ("-2", ...).
    taken_ids: frozenset[str] = frozenset()

    def suggested_reliability(self) -> tuple[str, str]:
        """The grade the ledger gives this publisher most often (ties: the lower grade), and why."""
        if not self.publisher_grades:
            return "", ""
        grade = max(sorted(self.publisher_grades, reverse=True), key=self.publisher_grades.__getitem__)
        counts = ", ".join(f"{g} {n}×" for g, n in sorted(self.publisher_grades.items()))
        return grade, f"reliability {grade}: the ledger's grade for this publisher ({counts})"


def read_knowledge(
    engine: Engine,
    *,
    countries: Iterable[str],
    buyers: Iterable[str] = (),
    sellers: Iterable[str] = (),
    names: Iterable[str],
    surnames: Iterable[str],
    publisher: str,
    new_deal_id: str = "",
) -> LedgerKnowledge:
    """The deals a draft could be about, the non-state parties called `names` (any case) or whose name ends
    in one of `surnames`, bodies of `countries`, the grades of `publisher`'s sources, and the ids a new
    deal called `new_deal_id` must avoid.

    The deals: with `buyers` or `sellers` (as the article states them), those with one of the buyers among
    theirs and one of the sellers among theirs; else those involving any of `countries`. At most
    MAX_DEALS, the most recently active first: an article is news, and a SIPRI register holds thousands of
    deals of the states in most articles (by id, the seed's deal came after 500 of the United States').
    """
    codes = sorted(set(countries))
    wanted = sorted({n.casefold() for n in names})[:MAX_PARTY_WORDS]
    endings = sorted({s.casefold() for s in surnames})[:MAX_PARTY_WORDS]
    sides = [
        or_(*(side.contains(code) for code in sorted(set(stated))))
        for side, stated in zip(_SIDES, (buyers, sellers), strict=True)
        if stated
    ]
    with engine.connect() as connection:
        deals: list[LedgerDeal] = []
        if sides or codes:
            rows = connection.execute(
                select(Deal.id, Deal.title, Deal.category, Deal.buyer_codes, Deal.seller_codes)
                .where(and_(*sides) if sides else or_(*(side.contains(c) for c in codes for side in _SIDES)))
                .order_by(Deal.last_event_on.desc().nulls_last(), Deal.id)
                .limit(MAX_DEALS)
            ).all()  # fmt: skip
            history: dict[str, list[tuple[dt.date, str]]] = {}
            if rows:
                for deal_id, occurred_on, stage in connection.execute(
                    select(Event.deal_id, Event.occurred_on, Event.stage)
                    .where(Event.deal_id.in_([r.id for r in rows]), Event.stage.is_not(None))
                    .order_by(Event.occurred_on, Event.id)
                ):
                    history.setdefault(deal_id, []).append((occurred_on, stage))
            deals = [
                LedgerDeal(
                    id=r.id,
                    title=r.title,
                    category=r.category or "",
                    buyers=frozenset((r.buyer_codes or "").split()),
                    sellers=frozenset((r.seller_codes or "").split()),
                    stages=tuple(history.get(r.id, ())),
                )
                for r in rows
            ]
        conditions = []
        if wanted:
            conditions.append(func.lower(Party.name).in_(wanted))
        conditions.extend(func.lower(Party.name).like(f"% {_escape_like(e)}", escape="\\") for e in endings)
        if codes:
            conditions.append(
                Party.country_code.in_(codes)
                & Party.kind.in_(("ministry", "agency", "armed service", "legislature"))
            )
        parties: list[LedgerParty] = []
        if conditions:
            parties = [
                LedgerParty(name, kind, country)
                for name, kind, country in connection.execute(
                    select(Party.name, Party.kind, Party.country_code)
                    .where(Party.kind != "state", or_(*conditions))
                    .order_by(Party.id)
                    .limit(MAX_DEALS)
                )
            ]
        grades: Counter[str] = Counter()
        if publisher.strip():
            for grade, count in connection.execute(
                select(Source.reliability, func.count())
                .where(func.lower(Source.publisher) == publisher.strip().casefold())
                .group_by(Source.reliability)
            ):
                grades[grade] = count
        taken: set[str] = set()
        if new_deal_id:
            taken.update(
                connection.execute(
                    select(Deal.id).where(
                        or_(
                            Deal.id == new_deal_id,
                            Deal.id.like(f"{_escape_like(new_deal_id)}-%", escape="\\"),
                        )
                    )
                ).scalars()
            )
    return LedgerKnowledge(
        deals=tuple(deals), parties=tuple(parties), publisher_grades=dict(grades), taken_ids=frozenset(taken)
    )


def _escape_like(text: str) -> str:
    """`text` matched literally by LIKE: a surname read from an article may hold "_"."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
