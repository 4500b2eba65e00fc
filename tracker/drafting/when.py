"""Dates in an article's sentences, resolved against its publication date with the precision they have.

"on Monday" is a day, "last week" an ISO week, "in July" a month, "2025-07" stays a month. A date with
no year takes the publication's year, or the year before when that would put it well after publication
in a sentence about the past. Relative dates inside quotation marks are left alone: the speaker's
"today" is not the publication day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from tracker.dates import PartialDate, Precision, partial_date
from tracker.drafting.text import Sentence, Span, inside, quoted_ranges

# A date more than this far after publication is a plan ("talks next month"), not when something happened;
# a few days' grace keeps talks "Tuesday through Friday" of the publication week.
PLANNED_AFTER_DAYS = 7

_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTH_NUMBER = {
    **{name: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3]: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    "sept": 9,
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH = r"(?-i:January|February|March|April|May|June|July|August|September|October|November|December|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept\.?|Sep\.?|Oct\.?|Nov\.?|Dec\.?)"  # noqa: E501
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_WEEKDAY = r"(?-i:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_TO = r"\s*(?:-|–|—|to|through|until|till)\s*"

# Each form: a pattern with named groups, and how precise its date is. Tried in this order; a later form
# never takes text an earlier one matched.
_FORMS: tuple[tuple[str, str], ...] = (
    (
        "iso_range",
        r"\b(?P<y1>\d{4})-(?P<m1>\d\d)-(?P<d1>\d\d)\s*(?:/|to|–|—)\s*(?P<y2>\d{4})-(?P<m2>\d\d)-(?P<d2>\d\d)\b",
    ),
    ("iso_day", r"\b(?P<y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)\b"),
    ("iso_month", r"\b(?P<y>\d{4})-(?P<m>0[1-9]|1[0-2])\b(?!-\d)"),
    (
        "month_day_range",
        rf"\b(?:from\s+|between\s+)?(?P<mon1>{_MONTH})\s+(?P<d1>{_DAY}){_TO}(?:(?P<mon2>{_MONTH})\s+)?(?P<d2>{_DAY})\b(?:,?\s+(?P<y>{_YEAR}))?",
    ),
    (
        "month_day_range",
        rf"\bbetween\s+(?P<mon1>{_MONTH})\s+(?P<d1>{_DAY})\s+and\s+(?:(?P<mon2>{_MONTH})\s+)?(?P<d2>{_DAY})\b(?:,?\s+(?P<y>{_YEAR}))?",
    ),
    (
        "day_month_range",
        rf"\b(?:from\s+|between\s+)?(?P<d1>{_DAY})(?:\s+(?P<mon1>{_MONTH}))?{_TO}(?P<d2>{_DAY})\s+(?P<mon2>{_MONTH})(?:,?\s+(?P<y>{_YEAR}))?",
    ),
    (
        "weekday_range",
        rf"\b(?:from\s+)?(?P<w1>{_WEEKDAY})\s*(?:-|–|to|through|until|till)\s*(?P<w2>{_WEEKDAY})\b",
    ),
    ("month_day", rf"\b(?:{_WEEKDAY},?\s+)?(?P<mon>{_MONTH})\s+(?P<d>{_DAY})\b(?:,?\s+(?P<y>{_YEAR}))?"),
    ("day_month", rf"\b(?:{_WEEKDAY},?\s+)?(?P<d>{_DAY})\s+(?P<mon>{_MONTH})(?:,?\s+(?P<y>{_YEAR}))?"),
    ("month_year", rf"\b(?:(?:early|mid|late)[-\s])?(?P<mon>{_MONTH})\s+(?P<y>{_YEAR})\b"),
    (
        "in_month",
        rf"\b(?:in|since|during|by|until|from)\s+(?:(?:early|mid|late)[-\s])?(?P<mon>{_MONTH})\b(?!\s+\d)",
    ),
    ("in_year", rf"\b(?:in|since|during|by|early|mid|late|from)[-\s](?P<y>{_YEAR})\b"),
    ("yesterday", r"\byesterday\b"),
    ("today", r"\b(?:today|this morning|this afternoon|tonight)\b"),
    ("weekday", rf"\b(?P<w>{_WEEKDAY})\b"),
    ("last_week", r"\b(?:last|past|previous) week\b"),
    ("this_week", r"\b(?:earlier|later) this week\b|\bthis week\b"),
    ("next_week", r"\bnext week\b"),
    ("last_month", r"\blast month\b"),
    ("this_month", r"\b(?:earlier |later )?this month\b"),
    ("next_month", r"\bnext month\b"),
    ("last_year", r"\blast year\b"),
    ("this_year", r"\b(?:earlier |later )?this year\b"),
    ("next_year", r"\bnext year\b"),
)
_PATTERNS = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _FORMS)
_RELATIVE_FORMS = frozenset(
    (
        "yesterday", "today", "weekday", "weekday_range", "last_week", "this_week", "next_week", "last_month",
        "this_month", "next_month", "last_year", "this_year", "next_year", "in_month"
    )
)  # fmt: skip
# "next week" is a plan however near it is.
_PLAN_FORMS = frozenset({"next_week", "next_month", "next_year"})
_FUTURE = re.compile(
    r"\b(?:will|shall|is to|are to|is due|are due|is set to|are set to|is expected to|are expected to|next|"
    r"upcoming)\b",
    re.IGNORECASE,
)
FUTURE_WINDOW_WORDS = 8
_PAST_BEFORE = re.compile(r"\b\w+ed\s+(?:on\s+|in\s+)?$")
_DATELINE = re.compile(r"[A-Z][A-Z .'-]{1,40}(?:,[^-—–()]{1,30})?(?:\s*\([^)]{1,40}\))?\s*(?:--|-|—|–)\s")
# A date right after a verb of saying dates the statement, not the development it reports.
_SAID_BEFORE = re.compile(r"\b(?:said|says|told|added|reported|stated|wrote)\s+(?:on\s+)?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date an article gives, resolved: `how` says how it was worked out (for the note)."""

    date: PartialDate
    span: Span
    relative: bool
    statement_date: bool
    planned: bool
    how: str


def find_dates(sentence: Sentence, *, published: dt.date) -> list[DateMention]:
    """Every date in `sentence`, in order; text that reads as a date but is none (30 February) is skipped."""
    quotes = quoted_ranges(sentence)
    # The dateline ("WASHINGTON, Aug 29 (Reuters) -") dates the report, not what it reports.
    dateline = _DATELINE.match(sentence.text)
    taken: list[tuple[int, int]] = [(0, dateline.end())] if dateline else []
    found: list[DateMention] = []
    for name, pattern in _PATTERNS:
        for match in pattern.finditer(sentence.text):
            start, end = match.span()
            if any(start < b and a < end for a, b in taken):
                continue
            relative = name in _RELATIVE_FORMS
            if relative and inside(start, quotes):
                continue
            try:
                date = _resolve(name, match, published=published, future=_future(sentence.text, start))
            except ValueError:
                taken.append((start, end))  # "30 February 2025" is no date, and no "February 2025" either
                continue
            if date is None:
                continue
            taken.append((start, end))
            span = sentence.span(start, end)
            found.append(
                DateMention(
                    date=date,
                    span=span,
                    relative=relative,
                    statement_date=bool(_SAID_BEFORE.search(sentence.text, 0, start)),
                    planned=name in _PLAN_FORMS
                    or date.start > published + dt.timedelta(days=PLANNED_AFTER_DAYS),
                    how=_explain(span.text, date, relative=relative, published=published),
                )
            )
    return sorted(found, key=lambda mention: mention.span.start)


def _future(text: str, start: int) -> bool:
    """Whether the date at `start` is told in the future tense: a future marker in the few words before it,
    and no past tense right before it ("will supply ... under a contract signed on Friday" is past)."""
    before = text[:start]
    if _PAST_BEFORE.search(before):
        return False
    return bool(_FUTURE.search(" ".join(before.split()[-FUTURE_WINDOW_WORDS:])))


def _explain(text: str, date: PartialDate, *, relative: bool, published: dt.date) -> str:
    if relative:
        return f"“{text}” counted from the publication date {published.isoformat()}: {date.text}"
    return f"“{text}”: {date.text}"


def _month(text: str) -> int:
    return _MONTH_NUMBER[text.rstrip(".").lower()]


def _day(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def _year_for(month: int, day: int, *, published: dt.date, future: bool) -> int:
    """The publication's year, or the one before when the date would fall well after publication."""
    candidate = dt.date(published.year, month, min(day, 28))
    if not future and candidate > published + dt.timedelta(days=PLANNED_AFTER_DAYS):
        return published.year - 1
    return published.year


def _weekday(name: str, *, published: dt.date, future: bool) -> dt.date:
    target = _WEEKDAYS.index(name.lower())
    if future:
        return published + dt.timedelta(days=(target - published.weekday() - 1) % 7 + 1)
    return published - dt.timedelta(days=(published.weekday() - target) % 7)


def _resolve(name: str, match: re.Match[str], *, published: dt.date, future: bool) -> PartialDate | None:
    groups = match.groupdict()

    def day(year: int, month: int, number: int) -> dt.date:
        return dt.date(year, month, number)

    if name == "iso_range":
        start = day(int(groups["y1"]), int(groups["m1"]), int(groups["d1"]))
        end = day(int(groups["y2"]), int(groups["m2"]), int(groups["d2"]))
        return partial_date(start, "day", end=end) if end >= start else None
    if name == "iso_day":
        return partial_date(day(int(groups["y"]), int(groups["m"]), int(groups["d"])), "day")
    if name == "iso_month":
        return partial_date(dt.date(int(groups["y"]), int(groups["m"]), 1), "month")
    if name in ("month_day_range", "day_month_range"):
        first_month = _month(groups["mon1"] or groups["mon2"])
        last_month = _month(groups["mon2"] or groups["mon1"])
        first_day, last_day = _day(groups["d1"]), _day(groups["d2"])
        year = (
            int(groups["y"])
            if groups["y"]
            else _year_for(first_month, first_day, published=published, future=future)
        )
        start = day(year, first_month, first_day)
        end = day(year + (1 if last_month < first_month else 0), last_month, last_day)
        return partial_date(start, "day", end=end) if end >= start else None
    if name == "weekday_range":
        start = _weekday(groups["w1"], published=published, future=future)
        end = start + dt.timedelta(days=(_WEEKDAYS.index(groups["w2"].lower()) - start.weekday()) % 7)
        return partial_date(start, "day", end=end)
    if name in ("month_day", "day_month"):
        month, number = _month(groups["mon"]), _day(groups["d"])
        year = (
            int(groups["y"]) if groups["y"] else _year_for(month, number, published=published, future=future)
        )
        return partial_date(day(year, month, number), "day")
    if name == "month_year":
        return partial_date(dt.date(int(groups["y"]), _month(groups["mon"]), 1), "month")
    if name == "in_month":
        month = _month(groups["mon"])
        # "May" is also a verb: only "in May" and its like reach this form.
        return partial_date(
            dt.date(_year_for(month, 1, published=published, future=future), month, 1), "month"
        )
    if name == "in_year":
        return partial_date(dt.date(int(groups["y"]), 1, 1), "year")
    return _relative(name, groups, published=published, future=future)


def _relative(name: str, groups: dict[str, str], *, published: dt.date, future: bool) -> PartialDate | None:
    precision: Precision
    if name == "yesterday":
        return partial_date(published - dt.timedelta(days=1), "day")
    if name == "today":
        return partial_date(published, "day")
    if name == "weekday":
        return partial_date(_weekday(groups["w"], published=published, future=future), "day")
    week = dt.timedelta(days=7)
    shifts: dict[str, tuple[Precision, int]] = {
        "last_week": ("week", -1),
        "this_week": ("week", 0),
        "next_week": ("week", 1),
        "last_month": ("month", -1),
        "this_month": ("month", 0),
        "next_month": ("month", 1),
        "last_year": ("year", -1),
        "this_year": ("year", 0),
        "next_year": ("year", 1),
    }
    if name not in shifts:
        return None
    precision, shift = shifts[name]
    if precision == "week":
        return partial_date(published + shift * week, "week")
    if precision == "month":
        months = published.year * 12 + published.month - 1 + shift
        return partial_date(dt.date(months // 12, months % 12 + 1, 1), "month")
    return partial_date(dt.date(published.year + shift, 1, 1), "year")
