"""Synthetic ledgers for the benchmarks: seeded, realistic in shape, and clearly marked as synthetic.

    python -m bench.generate --events 100000 --seed 1 --out bench/out/ledger-100000.csv

The file is a ledger CSV in the upload format (header `tracker.columns.TEMPLATE_COLUMNS`) that imports
cleanly through `python -m tracker import`. Its shape follows the real ledger:

- about events/20 deals; the number of events per deal is skewed (most deals have a handful, a few
  have hundreds), and the events of a deal are dated in increasing order;
- 80 countries as buyers and sellers (ISO alpha-3 codes, and some names), sellers skewed to the large
  exporters; about 5% of deals have two buyers;
- a skewed stage mix: most deals end announced or negotiating, fewer contracted or delivering, some
  stalled or cancelled; each deal's stages progress in order over its events, some events leave the
  stage empty (no change);
- date precision mostly day, some month, a few year;
- about 30% of events are told by 2 or 3 sources (one CSV row per source), so rows > events;
- a pool of up to 3,000 sources with fixed reliability grades A-F skewed to B/C, a popularity skew
  (a few sources are cited often), claim credibility 1-6;
- a named party (party/party_role/party_kind/party_country[/party_parent]) on about 10% of rows;
- values (low, sometimes high; USD or EUR) on about 20% of events, quantities on about 10%;
- categories from a list of 15.

Marking: deal ids start with `synthetic-`, titles with "[SYNTHETIC]", every deal has the tag `synthetic`,
publishers and parties are named "Synthetic ...", and URLs are under https://synthetic.example/.
All dates are on or before 2026-11-01.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import ledger_path
from tracker.columns import TEMPLATE_COLUMNS

LATEST = dt.date(2026, 11, 1)
EARLIEST = dt.date(1995, 1, 1)
EVENTS_PER_DEAL = 20
MAX_SOURCES = 3000

# (code, name as analysts write it, weight as a seller). Names are ones tracker.countries resolves.
COUNTRIES: tuple[tuple[str, str, int], ...] = (
    ("USA", "United States", 40), ("RUS", "Russia", 20), ("FRA", "France", 12), ("CHN", "China", 10),
    ("DEU", "Germany", 8), ("ITA", "Italy", 6), ("GBR", "United Kingdom", 6), ("ESP", "Spain", 4),
    ("ISR", "Israel", 4), ("KOR", "South Korea", 4), ("TUR", "Turkey", 3), ("UKR", "Ukraine", 3),
    ("NLD", "Netherlands", 2), ("SWE", "Sweden", 2), ("CHE", "Switzerland", 1), ("NOR", "Norway", 1),
    ("POL", "Poland", 1), ("CZE", "Czech Republic", 1), ("BRA", "Brazil", 1), ("IND", "India", 1),
    ("JPN", "Japan", 1), ("AUS", "Australia", 1), ("CAN", "Canada", 1), ("ZAF", "South Africa", 1),
    ("ARE", "UAE", 1), ("BEL", "Belgium", 1), ("AUT", "Austria", 1), ("FIN", "Finland", 1),
    ("PAK", "Pakistan", 0), ("SAU", "Saudi Arabia", 0), ("EGY", "Egypt", 0), ("QAT", "Qatar", 0),
    ("IDN", "Indonesia", 0), ("VNM", "Vietnam", 0), ("THA", "Thailand", 0), ("PHL", "Philippines", 0),
    ("MYS", "Malaysia", 0), ("SGP", "Singapore", 0), ("DZA", "Algeria", 0), ("MAR", "Morocco", 0),
    ("NGA", "Nigeria", 0), ("KEN", "Kenya", 0), ("ETH", "Ethiopia", 0), ("AGO", "Angola", 0),
    ("IRQ", "Iraq", 0), ("IRN", "Iran", 0), ("SYR", "Syria", 0), ("JOR", "Jordan", 0),
    ("KWT", "Kuwait", 0), ("OMN", "Oman", 0), ("BHR", "Bahrain", 0), ("GRC", "Greece", 0),
    ("PRT", "Portugal", 0), ("ROU", "Romania", 0), ("BGR", "Bulgaria", 0), ("HUN", "Hungary", 0),
    ("SVK", "Slovakia", 0), ("LTU", "Lithuania", 0), ("LVA", "Latvia", 0), ("EST", "Estonia", 0),
    ("DNK", "Denmark", 0), ("IRL", "Ireland", 0), ("SRB", "Serbia", 0), ("HRV", "Croatia", 0),
    ("MEX", "Mexico", 0), ("COL", "Colombia", 0), ("CHL", "Chile", 0), ("PER", "Peru", 0),
    ("ARG", "Argentina", 0), ("VEN", "Venezuela", 0), ("BGD", "Bangladesh", 0), ("MMR", "Myanmar", 0),
    ("LKA", "Sri Lanka", 0), ("NZL", "New Zealand", 0), ("KAZ", "Kazakhstan", 0), ("AZE", "Azerbaijan", 0),
    ("ARM", "Armenia", 0), ("GEO", "Georgia", 0), ("TWN", "Taiwan", 0), ("MDA", "Moldova", 0),
)  # fmt: skip
CATEGORIES: tuple[str, ...] = (
    "UAV", "Aircraft", "Helicopters", "Air defence systems", "Armoured vehicles", "Artillery", "Missiles",
    "Ships", "Submarines", "Small arms", "Ammunition", "Sensors", "Engines", "Electronic warfare",
    "Satellites",
)  # fmt: skip
# Each deal's furthest stage (weights in percent). Stalled and cancelled deals stop part-way along the path.
FINAL_STAGES: tuple[tuple[str, int], ...] = (
    ("announced", 32), ("negotiating", 26), ("agreed", 9), ("approved", 5), ("contracted", 10),
    ("delivering", 7), ("completed", 3), ("stalled", 5), ("cancelled", 3),
)  # fmt: skip
PATH: tuple[str, ...] = (
    "announced",
    "negotiating",
    "agreed",
    "approved",
    "contracted",
    "delivering",
    "completed",
)
RELIABILITY_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("A", 5),
    ("B", 36),
    ("C", 34),
    ("D", 12),
    ("E", 5),
    ("F", 8),
)
CREDIBILITY_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("1", 10),
    ("2", 30),
    ("3", 35),
    ("4", 10),
    ("5", 5),
    ("6", 10),
)
SOURCE_KINDS: tuple[tuple[str, int], ...] = (
    ("news", 80),
    ("official statement", 12),
    ("government document", 6),
    ("database", 2),
)
PUBLISHER_WORDS = (
    "Defence",
    "Security",
    "Military",
    "Strategic",
    "Aerospace",
    "Naval",
    "Global",
    "Eastern",
    "Western",
    "Northern",
    "Southern",
    "Daily",
    "Weekly",
    "Arms",
    "Policy",
)
PUBLISHER_NOUNS = (
    "Wire",
    "Review",
    "Monitor",
    "Journal",
    "Observer",
    "Gazette",
    "Times",
    "Herald",
    "Digest",
    "Bulletin",
    "Insider",
    "Post",
)
COMPANY_WORDS = (
    "Aero",
    "Dyna",
    "Arma",
    "Vector",
    "Orbital",
    "Falcon",
    "Titan",
    "Nordic",
    "Atlas",
    "Helix",
    "Sentinel",
    "Kestrel",
    "Aegis",
    "Polar",
    "Granite",
)
COMPANY_NOUNS = (
    "Systems",
    "Industries",
    "Dynamics",
    "Works",
    "Technologies",
    "Defence",
    "Munitions",
    "Aviation",
)
PERSON_ROLES = ("spokesperson", "official", "negotiator", "head of state")
STAGE_PHRASES: dict[str, tuple[str, ...]] = {
    "announced": (
        "{buyer} says it intends to acquire {category} from {seller}",
        "Officials in {buyer} announce plans to buy {category} made in {seller}",
    ),
    "negotiating": (
        "Delegations of {buyer} and {seller} hold talks on the {category} purchase",
        "Technical groups from {seller} and {buyer} continue negotiating terms for {category}",
    ),
    "agreed": ("{buyer} and {seller} sign an agreement on the supply of {category}",),
    "approved": ("The {seller} government approves the export of {category} to {buyer}",),
    "contracted": ("A contract for {category} is signed between {buyer} and suppliers in {seller}",),
    "delivering": ("The first {category} from {seller} are reported delivered to {buyer}",),
    "completed": ("Deliveries of {category} from {seller} to {buyer} are reported complete",),
    "stalled": ("Talks between {buyer} and {seller} on {category} are reported stalled",),
    "cancelled": ("{buyer} is reported to have cancelled the {category} deal with {seller}",),
    "": (
        "Media in {buyer} discuss the financing of the {category} deal with {seller}",
        "Analysts comment on the {category} deal between {buyer} and {seller}",
    ),
}


@dataclass(frozen=True, slots=True)
class _Source:
    title: str
    publisher: str
    url: str
    date: str
    reliability: str
    kind: str


@dataclass(frozen=True, slots=True)
class _Party:
    name: str
    kind: str
    country: str
    parent: str
    roles: tuple[str, ...]


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _date_text(rng: random.Random, day: dt.date, previous: dt.date | None) -> tuple[str, dt.date]:
    """The date as the CSV gives it (mostly a day, some months or years) and the day it starts on.

    A coarser date is used only when its start is not before the previous event's start, so the
    events of a deal stay in order.
    """
    roll = rng.random()
    if roll < 0.04:
        start = dt.date(day.year, 1, 1)
        if previous is None or start >= previous:
            return f"{day.year:04d}", start
    elif roll < 0.15:
        start = day.replace(day=1)
        if previous is None or start >= previous:
            return f"{day.year:04d}-{day.month:02d}", start
    return day.isoformat(), day


def _value_text(rng: random.Random, amount: float) -> tuple[str, float]:
    """An amount as analysts write it (1.5bn, 250m or digits) and the exact value that text stands for."""
    style = rng.random()
    if style < 0.4 and amount >= 1e9:
        text = f"{amount / 1e9:.1f}bn"
        return text, float(text[:-2]) * 1e9
    if style < 0.8 and amount >= 1e6:
        text = f"{amount / 1e6:.0f}m"
        return text, float(text[:-1]) * 1e6
    return f"{amount:.0f}", float(f"{amount:.0f}")


def _events_per_deal(rng: random.Random, events: int, deals: int) -> list[int]:
    """`events` split over `deals` (each at least one), skewed: a few deals get many events."""
    weights = [min(rng.paretovariate(1.2), 60.0) for _ in range(deals)]
    spare = events - deals
    total = sum(weights)
    counts = [1 + int(spare * w / total) for w in weights]
    left = events - sum(counts)
    for i in range(left):
        counts[i % deals] += 1
    return counts


def _source_pool(rng: random.Random, size: int) -> list[_Source]:
    publishers = [f"Synthetic {w} {n}" for w in PUBLISHER_WORDS for n in PUBLISHER_NOUNS][:60]
    kinds = {p: _weighted(rng, SOURCE_KINDS) for p in publishers}
    span = (LATEST - EARLIEST).days
    pool = []
    for j in range(size):
        publisher = publishers[rng.randrange(len(publishers))]
        title = f"Synthetic report {j + 1}: arms transfer news"
        url = f"https://synthetic.example/{_slug(publisher)}/{j + 1}" if rng.random() < 0.85 else ""
        date = (EARLIEST + dt.timedelta(days=rng.randrange(span))).isoformat() if rng.random() < 0.85 else ""
        grade = _weighted(rng, RELIABILITY_WEIGHTS)
        pool.append(_Source(title, publisher, url, date, grade, kinds[publisher]))
    return pool


def _party_pool(rng: random.Random) -> list[_Party]:
    parties = []
    for code, name, _ in COUNTRIES:
        parties.append(
            _Party(
                f"Synthetic Ministry of Defence of {name}",
                "ministry",
                code,
                code,
                ("buyer", "seller", "negotiator"),
            )
        )
        parties.append(
            _Party(f"Synthetic Armed Forces of {name}", "armed service", code, code, ("buyer", "participant"))
        )
    for n in range(600):
        code = rng.choice(COUNTRIES)[0]
        company = f"Synthetic {rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_NOUNS)} {n + 1}"
        parties.append(_Party(company, "company", code, "", ("manufacturer", "seller", "intermediary")))
    for n in range(1200):
        code = rng.choice(COUNTRIES)[0]
        parties.append(_Party(f"Synthetic Person {n + 1}", "person", code, "", PERSON_ROLES))
    return parties


def _stage_plan(rng: random.Random, count: int) -> list[str]:
    """The stage of each of a deal's `count` events, in order ('' where an event does not change it)."""
    final = _weighted(rng, FINAL_STAGES)
    if final in PATH:
        stages = list(PATH[: PATH.index(final) + 1])
    else:
        stages = [*PATH[: rng.randint(1, 5)], final]
    if count < len(stages):  # few events: reports skip intermediate stages
        stages = stages[: count - 1] + [stages[-1]] if count > 1 else [stages[-1]]
    # Stage changes at the first event and at sorted random positions after it.
    changes = sorted(rng.sample(range(1, count), len(stages) - 1)) if len(stages) > 1 else []
    plan, current, next_change = [], 0, 0
    for k in range(count):
        if next_change < len(changes) and changes[next_change] == k:
            current += 1
            next_change += 1
            plan.append(stages[current])
        elif k == 0:
            plan.append(stages[0])
        else:
            plan.append("" if rng.random() < 0.2 else stages[current])
    return plan


def generate_rows(events: int, *, seed: int) -> Iterator[list[str]]:
    """The data rows (no header), in TEMPLATE_COLUMNS order, of a synthetic ledger of exactly `events`
    events."""
    if events < 1:
        raise ValueError("events must be at least 1")
    rng = random.Random(seed)
    deals = max(1, events // EVENTS_PER_DEAL)
    counts = _events_per_deal(rng, events, deals)
    sources = _source_pool(rng, min(MAX_SOURCES, max(50, events // 3)))
    parties = _party_pool(rng)
    sellers = [c for c in COUNTRIES if c[2] > 0]
    seller_weights = [c[2] for c in sellers]
    index = {name: i for i, name in enumerate(TEMPLATE_COLUMNS)}
    width = len(TEMPLATE_COLUMNS)

    for deal_number, count in enumerate(counts, start=1):
        seller = rng.choices(sellers, weights=seller_weights)[0]
        buyer = rng.choice(COUNTRIES)
        while buyer[0] == seller[0]:
            buyer = rng.choice(COUNTRIES)
        second_buyer = rng.choice(COUNTRIES) if rng.random() < 0.05 else None
        if second_buyer is not None and second_buyer[0] in (buyer[0], seller[0]):
            second_buyer = None
        category = rng.choice(CATEGORIES)
        deal_id = f"synthetic-{deal_number:06d}-{buyer[0].lower()}-{seller[0].lower()}"
        title = f"[SYNTHETIC] {category} from {seller[1]} to {buyer[1]} #{deal_number}"
        # Dates: `count` days in order within a span that ends on or before LATEST.
        span = rng.randint(30, 3650) + count
        start = EARLIEST + dt.timedelta(days=rng.randrange((LATEST - EARLIEST).days - span))
        days = sorted(start + dt.timedelta(days=rng.randrange(span)) for _ in range(count))
        stages = _stage_plan(rng, count)
        previous: dt.date | None = None
        words = {"buyer": buyer[1], "seller": seller[1], "category": category.lower()}
        for k in range(count):
            date_text, previous = _date_text(rng, days[k], previous)
            stage = stages[k]
            phrase = rng.choice(STAGE_PHRASES[stage]).format(**words)
            summary = f"{phrase} (synthetic event {k + 1} of deal {deal_number})."
            cited = 1 if rng.random() >= 0.3 else rng.choice((2, 2, 3))
            chosen: list[_Source] = []
            while len(chosen) < cited:
                source = sources[int(len(sources) * rng.random() ** 2)]
                if source not in chosen:
                    chosen.append(source)
            # Event-level claims, given once (on the event's first row).
            claims: dict[str, str] = {}
            if rng.random() < 0.2:
                low = round(rng.lognormvariate(18.5, 1.6), -5) or 1e5
                claims["value_low"], low = _value_text(rng, low)
                if rng.random() < 0.5:  # from the value as written, so that high >= low after rounding
                    high = low * rng.uniform(1.2, 3.0)
                    claims["value_high"], written = _value_text(rng, high)
                    if written < low:  # "1m" for 1.3 million above a low of 1100000: give the digits
                        claims["value_high"] = f"{high:.0f}"
                claims["currency"] = "USD" if rng.random() < 0.7 else "EUR"
            if rng.random() < 0.1:
                claims["quantity"] = str(rng.randint(1, 500))
            if rng.random() < 0.08:
                claims["note"] = "Synthetic note: the figure is an estimate reported by one side only."
            if rng.random() < 0.03:
                claims["topic"] = f"topic-{rng.randint(1, 5)}"
            for position, source in enumerate(chosen):
                row = [""] * width
                row[index["deal_id"]] = deal_id
                row[index["date"]] = date_text
                row[index["stage"]] = stage
                row[index["summary"]] = summary
                if k == 0 and position == 0:
                    row[index["deal_title"]] = title
                    row[index["category"]] = category
                    extra_tag = "" if rng.random() < 0.7 else f";{rng.choice(CATEGORIES)}"
                    row[index["tags"]] = f"synthetic{extra_tag}"
                    row[index["buyer"]] = buyer[0] if rng.random() < 0.7 else buyer[1]
                    if second_buyer is not None:
                        row[index["buyer"]] += f";{second_buyer[0]}"
                    row[index["seller"]] = seller[0] if rng.random() < 0.7 else seller[1]
                    if rng.random() < 0.5:
                        row[index["deal_summary"]] = (
                            f"Synthetic deal for benchmarks (seed {seed}); not a real deal."
                        )
                if position == 0:
                    for column, value in claims.items():
                        row[index[column]] = value
                row[index["source_title"]] = source.title
                row[index["source_publisher"]] = source.publisher
                row[index["source_url"]] = source.url
                row[index["source_date"]] = source.date
                row[index["reliability"]] = source.reliability
                row[index["source_kind"]] = source.kind
                row[index["credibility"]] = _weighted(rng, CREDIBILITY_WEIGHTS)
                if rng.random() < 0.1:
                    party = parties[rng.randrange(len(parties))]
                    row[index["party"]] = party.name
                    row[index["party_role"]] = rng.choice(party.roles)
                    row[index["party_kind"]] = party.kind
                    row[index["party_country"]] = party.country
                    row[index["party_parent"]] = party.parent
                yield row


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    events: int
    deals: int
    rows: int
    bytes: int
    seconds: float


def write_ledger(events: int, *, seed: int, out: Path) -> Written:
    """Write the synthetic ledger CSV (header and rows) to `out`."""
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    deals: set[str] = set()
    partial = out.with_suffix(out.suffix + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TEMPLATE_COLUMNS)
        for row in generate_rows(events, seed=seed):
            writer.writerow(row)
            deals.add(row[0])
            rows += 1
    partial.replace(out)
    return Written(out, events, len(deals), rows, out.stat().st_size, time.perf_counter() - started)


def ensure_ledger(events: int, *, seed: int = 1) -> Path:
    """The synthetic ledger CSV for `events`, generated on first use and reused after."""
    path = ledger_path(events, seed)
    if not path.exists():
        written = write_ledger(events, seed=seed, out=path)
        print(f"generated {path} ({written.rows:,} rows, {written.seconds:.1f} s)", file=sys.stderr)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, required=True, help="number of distinct events")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="CSV file to write (default: bench/out/ledger-N.csv)")
    args = parser.parse_args(argv)
    written = write_ledger(args.events, seed=args.seed, out=args.out or ledger_path(args.events, args.seed))
    print(
        f"{written.path}: {written.events:,} events, {written.deals:,} deals, {written.rows:,} rows, "
        f"{written.bytes / 1e6:.1f} MB in {written.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
