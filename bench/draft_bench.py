"""Article-drafting benchmark: per-field accuracy over the evaluation set, and time per article.

    python -m bench.draft_bench [--runs 5]

The evaluation set is tests/fixtures/articles/ (short reports written for the tests; see its README).
Reports marked held_out were written after the rules and first drafted unchanged (figures in
docs/drafting.md); the rules were then corrected for what they missed, so today every report in the set
has been seen by the rules.
Each expected event is paired with the drafted event of the same date (else the same stage, else the
next one in order); a field is right when the drafted value equals the expected one exactly (countries
and parties as sets; parties as (name, role) pairs). Unpaired expected events count as wrong in every
field; drafted events nobody expected are counted apart. Time per article is the median of --runs
drafts of it (ledger matching included, from the evaluation's own ledger held in memory).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import PROJECT_ROOT
from tracker.drafting import ArticleSource, Draft, LedgerDeal, LedgerKnowledge, LedgerParty, draft_article

ARTICLES = PROJECT_ROOT / "tests" / "fixtures" / "articles"
FIELDS = ("deal", "date", "buyer", "seller", "stage", "value", "quantity", "parties")
TARGET_ACCURACY = 0.85
TARGET_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Case:
    file: Path
    source: ArticleSource
    deal: str
    events: list[dict[str, Any]]
    held_out: bool


def load_cases() -> tuple[list[Case], dict[str, Any]]:
    """The evaluation set's articles with their expected events, and the evaluation ledger."""
    expected = json.loads((ARTICLES / "expected.json").read_text(encoding="utf-8"))
    cases = [
        Case(
            file=ARTICLES / article["file"],
            source=ArticleSource(
                published=dt.date.fromisoformat(article["published"]),
                publisher=article["publisher"],
                title=article["title"],
            ),
            deal=article["deal"],
            events=article["events"],
            held_out=article.get("held_out", False),
        )
        for article in expected["articles"]
    ]
    return cases, expected["ledger"]


def knowledge_for(ledger: dict[str, Any], publisher: str) -> LedgerKnowledge:
    """The evaluation ledger as the drafter would read it for an article of `publisher`."""
    return LedgerKnowledge(
        deals=tuple(
            LedgerDeal(
                id=d["id"],
                title=d["title"],
                category=d["category"],
                buyers=frozenset(d["buyers"]),
                sellers=frozenset(d["sellers"]),
                stages=tuple((dt.date.fromisoformat(on), stage) for on, stage in d["stages"]),
            )
            for d in ledger["deals"]
        ),
        parties=tuple(LedgerParty(p["name"], p["kind"], p["country"]) for p in ledger["parties"]),
        publisher_grades=dict(ledger["publisher_grades"].get(publisher, {})),
    )


def draft_case(case: Case, ledger: dict[str, Any]) -> Draft:
    return draft_article(
        case.file.read_text(encoding="utf-8"),
        source=case.source,
        knowledge=knowledge_for(ledger, case.source.publisher),
    )


def drafted_events(draft: Draft) -> list[dict[str, Any]]:
    """The draft's events in the expected events' shape."""
    events: dict[int, dict[str, Any]] = {}
    for row in draft.rows:
        cells = row.cells
        event = events.setdefault(
            row.event,
            {
                "deal": cells["deal_id"],
                "date": cells["date"],
                "stage": cells["stage"],
                "buyer": sorted(filter(None, cells["buyer"].split(";"))),
                "seller": sorted(filter(None, cells["seller"].split(";"))),
                "value": {
                    "low": cells["value_low"],
                    "high": cells["value_high"],
                    "currency": cells["currency"],
                },
                "quantity": cells["quantity"],
                "parties": [],
                "credibility": cells["credibility"],
            },
        )
        if cells["party"]:
            event["parties"].append([cells["party"], cells["party_role"]])
    return list(events.values())


def pair_events(expected: list[dict[str, Any]], drafted: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """For each expected event, the drafted event it is compared with (None when none is left)."""
    unused = list(range(len(drafted)))
    pairs: list[dict[str, Any] | None] = []
    for wanted in expected:
        choice = next((i for i in unused if drafted[i]["date"] == wanted["date"]), None)
        if choice is None:
            choice = next((i for i in unused if drafted[i]["stage"] == wanted["stage"]), None)
        if choice is None and unused:
            choice = unused[0]
        if choice is not None:
            unused.remove(choice)
        pairs.append(drafted[choice] if choice is not None else None)
    return pairs


def field_right(name: str, wanted: dict[str, Any], got: dict[str, Any] | None, *, deal: str) -> bool:
    if got is None:
        return False
    if name == "deal":
        return got["deal"] == deal
    if name in ("buyer", "seller"):
        return sorted(wanted[name]) == got[name]
    if name == "parties":
        return sorted(map(tuple, wanted["parties"])) == sorted(map(tuple, got["parties"]))
    return wanted[name] == got[name]


def evaluate(*, runs: int = 1) -> dict[str, Any]:
    """Per-field accuracy, the misses behind it, extra events, and seconds per article."""
    cases, ledger = load_cases()
    right: dict[str, int] = defaultdict(int)
    held_right: dict[str, int] = defaultdict(int)
    misses: list[str] = []
    total = extra = held_total = 0
    seconds: list[float] = []
    for case in cases:
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            draft = draft_case(case, ledger)
            timings.append(time.perf_counter() - started)
        seconds.append(statistics.median(timings))
        drafted = drafted_events(draft)
        pairs = pair_events(case.events, drafted)
        extra += max(0, len(drafted) - len(case.events))
        for wanted, got in zip(case.events, pairs, strict=True):
            total += 1
            held_total += case.held_out
            for name in FIELDS:
                if field_right(name, wanted, got, deal=case.deal):
                    right[name] += 1
                    held_right[name] += case.held_out
                else:
                    shown = None if got is None else got["deal"] if name == "deal" else got[name]
                    expected = case.deal if name == "deal" else wanted[name]
                    misses.append(
                        f"{case.file.name} {wanted['date']} {name}: expected {expected!r}, got {shown!r}"
                    )
    return {
        "articles": len(cases),
        "events": total,
        "extra_events": extra,
        "accuracy": {name: right[name] / total for name in FIELDS},
        "held_out_events": held_total,
        "held_out_accuracy": {name: held_right[name] / held_total for name in FIELDS} if held_total else {},
        "misses": misses,
        "seconds_median": statistics.median(seconds),
        "seconds_max": max(seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="drafts per article for the timing (median)")
    args = parser.parse_args()
    result = evaluate(runs=args.runs)
    print(
        f"{result['articles']} articles, {result['events']} expected events, "
        f"{result['extra_events']} extra drafted"
    )
    held = result["held_out_accuracy"]
    print(f"  {'field':<9} {'all':>6}  {'the ' + str(result['held_out_events']) + ' held-out events':>22}")
    for name, share in result["accuracy"].items():
        mark = "ok" if share >= TARGET_ACCURACY else f"below {TARGET_ACCURACY:.0%}"
        print(f"  {name:<9} {share:6.1%}  {held.get(name, 0):22.1%}  {mark}")
    print(
        f"time per article: median {result['seconds_median'] * 1000:.1f} ms, "
        f"slowest {result['seconds_max'] * 1000:.1f} ms (target < {TARGET_SECONDS:.0f} s)"
    )
    for miss in result["misses"]:
        print(f"  miss: {miss}")


if __name__ == "__main__":
    main()
