"""Claims that disagree, found in one deal's events so the deal page can flag them instead of hiding them.

Three kinds:
- topic: events an analyst marked as being about the same thing (`topic`) give different dates,
  stages or values;
- value: the deal's events claim different values;
- stage order: by date, the deal moves backwards on the main path (e.g. contracted, then negotiating).

Pure pandas over the frames `tracker.queries.deal_events` and `deal_event_sources` return.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal

import pandas as pd

from tracker.dates import format_partial_date
from tracker.display import grade, markdown_link, value_range_text
from tracker.vocab import STAGE_BY_NAME, STAGE_ORDER

ConflictKind = Literal["topic", "value", "stage order"]
CONFLICT_KINDS: tuple[ConflictKind, ...] = ("topic", "value", "stage order")
CLAIM_COLUMNS = ("event_id", "date", "stage", "value", "summary", "sources")
# What each kind of conflict compares between its claims (columns of CLAIM_COLUMNS): a value conflict is
# about the values, whenever they were claimed.
COMPARED: dict[ConflictKind, tuple[str, ...]] = {
    "topic": ("date", "stage", "value"),
    "value": ("value",),
    "stage order": ("date", "stage"),
}


@dataclass(frozen=True, slots=True)
class Conflict:
    """Claims that cannot all be true, with the sources behind each one."""

    kind: ConflictKind
    title: str
    claims: pd.DataFrame  # CLAIM_COLUMNS, one row per event

    def said(self) -> dict[int, tuple[str, ...]]:
        """Per event, what its claim says in what this kind of conflict compares (COMPARED)."""
        compared = self.claims[list(COMPARED[self.kind])]
        return {
            int(event_id): tuple("" if pd.isna(v) else str(v) for v in row)
            for event_id, row in zip(self.claims["event_id"], compared.itertuples(index=False))
        }

    @property
    def key(self) -> tuple[str, frozenset[tuple[str, ...]]]:
        """What the claims disagree about, the same whichever events say it: an event that repeats a claim
        already in the conflict does not make it another conflict (the changes digest compares these)."""
        return self.kind, frozenset(self.said().values())

    def line(self) -> str:
        """The conflict in one line: its title, then each claim with its sources, e.g. "2 events claim 2
        different values: 15 May 2026 · at least 1 bn USD (Beta News (C2)) against ..."."""
        shown = dict.fromkeys(("date", *COMPARED[self.kind]))
        claims = [
            " · ".join(row[c] for c in shown if isinstance(row[c], str) and row[c])
            + (f" ({row['sources']})" if row["sources"] else "")
            for _, row in self.claims.iterrows()
        ]
        return f"{self.title}: {' against '.join(claims)}"


def dates_as_reported(events: pd.DataFrame) -> list[str]:
    """`event_date_text` of each event, without a Series per row (iterrows was most of the cost of a
    deal's conflicts in the changes digest)."""
    return [
        format_partial_date(on, precision, until)
        for on, precision, until in zip(
            events["occurred_on"], events["date_precision"], events["occurred_until"]
        )
    ]


def event_date_text(row: pd.Series) -> str:
    """The event's date as reported: "4 Jul 2025", "week of 22 Sep 2025", "29 Sep – 2 Oct 2025"."""
    return format_partial_date(row["occurred_on"], row["date_precision"], row["occurred_until"])


def source_list(sources: pd.DataFrame) -> pd.Series:
    """Per event: its sources with their grades, best first, e.g. "LIGA.net (B3); Devdiscourse (C3)"."""
    if sources.empty:
        return pd.Series(dtype=object)
    # Plain Python: a pandas sort and groupby-join took 130 ms a call under load, and the changes digest
    # calls this once per conflict found.
    columns = ("event_id", "reliability", "credibility", "source_id", "publisher", "title")
    labels: dict[int, list[str]] = {}
    for event_id, reliability, credibility, _, publisher, title in sorted(
        zip(*(sources[c] for c in columns)), key=lambda row: row[:4]
    ):
        named = isinstance(publisher, str) and publisher != ""
        name = publisher if named else (title if pd.notna(title) else "unnamed source")
        labels.setdefault(event_id, []).append(f"{name} ({grade(reliability, credibility)})")
    return pd.Series({event_id: "; ".join(items) for event_id, items in labels.items()}, dtype=object)


def linked_sources(sources: pd.DataFrame) -> dict[int, str]:
    """Per event: its sources as escaped markdown, linked when they have an http(s) URL, best grade first,
    e.g. "[LIGA.net (B3)](<https://...>); Devdiscourse (C3)"."""
    if sources.empty:
        return {}
    ordered = sources.sort_values(["event_id", "reliability", "credibility", "source_id"])
    links: dict[int, list[str]] = {}
    columns = ("event_id", "publisher", "title", "url", "reliability", "credibility")
    for event_id, publisher, title, url, reliability, credibility in zip(*(ordered[c] for c in columns)):
        name = next((n for n in (publisher, title) if isinstance(n, str) and n), "unnamed source")
        label = f"{name} ({grade(reliability, credibility)})"
        links.setdefault(int(event_id), []).append(markdown_link(label, url))
    return {event_id: "; ".join(items) for event_id, items in links.items()}


def value_claims(events: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """Every event that states a value (or quantity), side by side with its sources, in date order."""
    stated = events[events["value_low"].notna() | events["value_high"].notna() | events["quantity"].notna()]
    return _claims(stated, sources).drop(columns="stage")


def _claims(events: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    if events.empty:
        return pd.DataFrame(columns=list(CLAIM_COLUMNS) + ["quantity"])
    ordered = events.sort_values(["occurred_on", "event_id"], kind="stable")
    listed = source_list(sources)
    return pd.DataFrame(
        {
            "event_id": ordered["event_id"].to_numpy(),
            "date": dates_as_reported(ordered),
            "stage": ordered["stage"].to_numpy(),
            "value": [
                value_range_text(lo, hi, cur)
                for lo, hi, cur in zip(ordered["value_low"], ordered["value_high"], ordered["currency"])
            ],
            "quantity": ordered["quantity"].to_numpy(),
            "summary": ordered["summary"].to_numpy(),
            "sources": [listed.get(event_id, "") for event_id in ordered["event_id"]],
        }
    )


def _value_key(events: pd.DataFrame) -> pd.Series:
    """The value claim of each event as one comparable text ("" for none)."""
    return pd.Series(
        [
            value_range_text(lo, hi, cur)
            for lo, hi, cur in zip(events["value_low"], events["value_high"], events["currency"])
        ],
        index=events.index,
    )


def topic_conflicts(events: pd.DataFrame, sources: pd.DataFrame) -> list[Conflict]:
    """Events sharing a topic whose dates, stages or values differ."""
    conflicts = []
    has_topic = events["topic"].notna() & (events["topic"] != "")
    if has_topic.sum() < 2:  # the common case, without a groupby
        return []
    topical = events[has_topic]
    for topic, group in topical.groupby("topic", sort=True):
        if len(group) < 2:
            continue
        differs = []
        if group["date_text"].nunique() > 1:
            differs.append("date")
        if group["stage"].dropna().nunique() > 1:
            differs.append("stage")
        values = _value_key(group)
        if values[values != ""].nunique() > 1:
            differs.append("value")
        if differs:
            what = " and ".join(differs)
            conflicts.append(
                Conflict(
                    "topic",
                    f'{len(group)} claims about "{topic}" give different {what}s',
                    _claims(group, sources)[list(CLAIM_COLUMNS)],
                )
            )
    return conflicts


def value_conflicts(events: pd.DataFrame, sources: pd.DataFrame) -> list[Conflict]:
    """The deal's events claim more than one value."""
    values = _value_key(events)
    distinct = values[values != ""].nunique()
    if distinct < 2:
        return []
    stated = events[values != ""]
    return [
        Conflict(
            "value",
            f"{len(stated)} events claim {distinct} different values",
            _claims(stated, sources)[list(CLAIM_COLUMNS)],
        )
    ]


def stage_order_conflicts(events: pd.DataFrame, sources: pd.DataFrame) -> list[Conflict]:
    """Events that, by date, put the deal back to an earlier stage of the main path.

    Stalled and cancelled are off the path, so moving there (or back from there) is not a conflict.
    Events are taken in the order `tracker.stages` uses: date, then stage position, then ledger order.
    """
    path = [isinstance(s, str) and STAGE_BY_NAME[s].on_path for s in events["stage"]]
    # The common case, no step back, found in plain Python: the frame work below is 10-100 ms a deal.
    steps = sorted(
        (on, STAGE_ORDER[stage], event_id)
        for on, stage, event_id, kept in zip(events["occurred_on"], events["stage"], events["event_id"], path)
        if kept
    )
    if all(
        position >= furthest
        for furthest, (_, position, _) in zip(accumulate((s[1] for s in steps), max), steps[1:])
    ):
        return []
    on_path = events[path].copy()
    on_path["position"] = on_path["stage"].map(STAGE_ORDER)
    on_path = on_path.sort_values(["occurred_on", "position", "event_id"], kind="stable")
    conflicts = []
    furthest: pd.Series | None = None
    for _, event in on_path.iterrows():
        if furthest is not None and event["position"] < furthest["position"]:
            pair = events[events["event_id"].isin([furthest["event_id"], event["event_id"]])]
            conflicts.append(
                Conflict(
                    "stage order",
                    f"the deal goes back from {furthest['stage']} ({event_date_text(furthest)}) "
                    f"to {event['stage']} ({event_date_text(event)})",
                    _claims(pair, sources)[list(CLAIM_COLUMNS)],
                )
            )
        elif furthest is None or event["position"] > furthest["position"]:
            furthest = event
    return conflicts


def claim_kinds(events: pd.DataFrame) -> list[set[ConflictKind]]:
    """Per event, the kinds of conflict it can be a claim of: value when it states a value, topic when it
    has a topic, stage order when its stage is on the main path. The changes digest searches a deal only
    for the kinds its new events can take part in: `find_conflicts` costs 30-300 ms a deal under load
    (pandas' cost per call, most of it building the claims of the conflicts found)."""
    return [
        {
            kind
            for kind, can in (
                ("value", value != ""),
                ("topic", isinstance(topic, str) and topic != ""),
                ("stage order", isinstance(stage, str) and STAGE_BY_NAME[stage].on_path),
            )
            if can
        }
        for value, topic, stage in zip(_value_key(events), events["topic"], events["stage"])
    ]


def find_conflicts(
    events: pd.DataFrame, sources: pd.DataFrame, *, kinds: Collection[ConflictKind] = CONFLICT_KINDS
) -> list[Conflict]:
    """All conflicts in one deal's events (of `kinds`): by topic, by value, then by stage order."""
    if events.empty:
        return []
    return [
        conflict
        for kind, search in (
            ("topic", topic_conflicts), ("value", value_conflicts), ("stage order", stage_order_conflicts)
        )
        if kind in kinds
        for conflict in search(events, sources)
    ]  # fmt: skip
