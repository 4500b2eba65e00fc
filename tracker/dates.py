"""Event dates that keep the precision they were reported with.

Sources say "in September 2025" or "week 39" as often as they give a day, and the ledger must
not invent a day it was never told. Parsing is strict on purpose: a value that could mean two
dates is refused with a suggestion rather than guessed, so no import silently shifts an event.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tracker.errors import InvalidValue

__all__ = ["PartialDate", "Precision", "format_partial_date", "parse_partial_date", "partial_date"]

Precision = Literal["day", "week", "month", "year"]

FIRST_YEAR = 1900

# Spelled out rather than taken from calendar/strftime, which follow the process locale.
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTHS: dict[str, int] = {
    **{name.lower(): number for number, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3].lower(): number for number, name in enumerate(_MONTH_NAMES, start=1)},
    "sept": 9,
}

_EMPTY_FIX = "Write the date as YYYY-MM-DD, YYYY-MM or YYYY."
_UNREADABLE_FIX = "Write the date as YYYY-MM-DD, YYYY-MM or YYYY (e.g. 2025-09-29, 2025-07, 2025)."
_NOT_REAL_FIX = "Check the day and month; write the date as YYYY-MM-DD."
_FUTURE_FIX = "The ledger records developments that have happened; put a planned date in the summary."


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A reported date: the days it covers, how precisely it was known, and its canonical text."""

    start: datetime.date
    end: datetime.date
    precision: Precision
    text: str

    @property
    def is_range(self) -> bool:
        """Whether this is an explicit span of days ("2025-09-29/2025-10-02")."""
        return self.precision == "day" and self.end != self.start


@dataclass(frozen=True, slots=True)
class _Limits:
    """The latest start and last year a date may have, fixed once per call."""

    latest: datetime.date
    last_year: int


def _outside(label: str, limits: _Limits) -> InvalidValue:
    span = f"{FIRST_YEAR}–{limits.last_year}"
    return InvalidValue(
        f'"{label}" is outside the years the ledger covers ({span})',
        fix=f"Check the year; the ledger covers {FIRST_YEAR} to {limits.last_year}.",
    )


def _not_real(label: str) -> InvalidValue:
    return InvalidValue(f'"{label}" is not a real date', fix=_NOT_REAL_FIX)


def _unreadable(label: str) -> InvalidValue:
    return InvalidValue(f'"{label}" is not a date we can read', fix=_UNREADABLE_FIX)


def _check_first_year(label: str, year: int, limits: _Limits) -> None:
    # Checked before building the date so that year 0 reads as "outside", not "not real".
    if year < FIRST_YEAR:
        raise _outside(label, limits)


def _day(label: str, year: int, month: int, day: int, limits: _Limits) -> datetime.date:
    _check_first_year(label, year, limits)
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise _not_real(label) from None


def canonical_date_text(start: datetime.date, precision: Precision) -> str:
    """How a date of this precision is written: 2025-09-29, 2025-W39, 2025-09, 2025."""
    if precision == "day":
        return start.isoformat()
    if precision == "week":
        iso = start.isocalendar()
        return f"{iso.year:04d}-W{iso.week:02d}"
    if precision == "month":
        return f"{start.year:04d}-{start.month:02d}"
    return f"{start.year:04d}"


def period_end(start: datetime.date, precision: Precision) -> datetime.date:
    """The last day of the period that a date of this precision starting on `start` names."""
    if precision == "year":
        return datetime.date(start.year, 12, 31)
    if precision == "month":
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    if precision == "week":
        return start + datetime.timedelta(days=6)
    return start


def _accept(
    label: str,
    start: datetime.date,
    end: datetime.date,
    precision: Precision,
    limits: _Limits,
) -> PartialDate:
    # The future check comes before the last-year check: "2031-01-01" is best explained as
    # being in the future; the year bound then only matters for a generous max_future_days.
    if start > limits.latest:
        raise InvalidValue(f'"{label}" is in the future', fix=_FUTURE_FIX)
    # A week belongs to its ISO year, which can differ from the calendar year of its Monday.
    year = start.isocalendar().year if precision == "week" else start.year
    if year > limits.last_year:
        raise _outside(label, limits)
    return PartialDate(start, end, precision, canonical_date_text(start, precision))


def _accept_day(label: str, year: int, month: int, day: int, limits: _Limits) -> PartialDate:
    start = _day(label, year, month, day, limits)
    return _accept(label, start, period_end(start, "day"), "day", limits)


def _accept_month(label: str, year: int, month: int, limits: _Limits) -> PartialDate:
    start = _day(label, year, month, 1, limits)
    return _accept(label, start, period_end(start, "month"), "month", limits)


def _month_number(name: str, label: str) -> int:
    try:
        return _MONTHS[name.lower()]
    except KeyError:
        raise _unreadable(label) from None


def _time_is_valid(match: re.Match[str]) -> bool:
    # The time is dropped, but a nonsense time means the cell is not what we think it is.
    hour, minute = int(match["hour"]), int(match["minute"])
    second = int(match["second"] or 0)
    hour_ok = 1 <= hour <= 12 if match.groupdict().get("meridiem") else hour <= 23
    return hour_ok and minute <= 59 and second <= 59


def _year_first(match: re.Match[str], label: str, limits: _Limits) -> PartialDate:
    return _accept_day(label, int(match["year"]), int(match["month"]), int(match["day"]), limits)


def _iso_month(match: re.Match[str], label: str, limits: _Limits) -> PartialDate:
    return _accept_month(label, int(match["year"]), int(match["month"]), limits)


def _iso_year(match: re.Match[str], label: str, limits: _Limits) -> PartialDate:
    year = int(match["year"])
    _check_first_year(label, year, limits)
    start = datetime.date(year, 1, 1)
    return _accept(label, start, period_end(start, "year"), "year", limits)


def _iso_week(match: re.Match[str], label: str, limits: _Limits) -> PartialDate:
    year = int(match["year"])
    _check_first_year(label, year, limits)
    try:
        start = datetime.date.fromisocalendar(year, int(match["week"]), 1)
    except ValueError:
        raise _not_real(label) from None
    return _accept(label, start, period_end(start, "week"), "week", limits)


def _day_range(match: re.Match[str], label: str, limits: _Limits) -> PartialDate:
    # Errors about one endpoint quote that endpoint: it is the part the analyst has to fix.
    first, last = match["first"], match["last"]
    start = _day(first, int(first[:4]), int(first[5:7]), int(first[8:]), limits)
    end = _day(last, int(last[:4]), int(last[5:7]), int(last[8:]), limits)
    if end < start:
        raise InvalidValue(
            f'"{label}" ends before it starts',
            fix=f"Put the earlier date first: {end.isoformat()}/{start.isoformat()}.",
        )
    # Only the start must have happened: an exercise still running today is a fact already.
    single = _accept(first, start, start, "day", limits)
    if end.year > limits.last_year:
        raise _outside(last, limits)
    if end == start:
        return single
    return PartialDate(start, end, "day", f"{single.text}/{end.isoformat()}")


def _iso_datetime(match: re.Match[str], label: str, limits: _Limits) -> PartialDate:
    if not _time_is_valid(match):
        raise _unreadable(label)
    return _year_first(match, label, limits)


def _numeric(match: re.Match[str], label: str, limits: _Limits) -> PartialDate:
    year, first, second = int(match["year"]), int(match["first"]), int(match["second"])
    _check_first_year(label, year, limits)
    readings: list[datetime.date] = []
    for day, month in ((first, second), (second, first)):  # the day-first reading is listed first
        try:
            readings.append(datetime.date(year, month, day))
        except ValueError:
            pass
    if not readings:
        raise _not_real(label)
    if len(readings) == 1:
        # Only one order works, but accepting it would let the other order slip through elsewhere.
        raise InvalidValue(
            f'"{label}" uses a day/month order that is not standard',
            fix=f"Write it as {readings[0].isoformat()}.",
        )
    if readings[0] != readings[1]:
        raise InvalidValue(
            f'"{label}" is ambiguous: day and month order is unknown',
            fix=f"Write it as {readings[0].isoformat()} or {readings[1].isoformat()}.",
        )
    return _accept(label, readings[0], readings[0], "day", limits)


def _named_day(match: re.Match[str], label: str, limits: _Limits) -> PartialDate:
    if match["hour"] is not None and not _time_is_valid(match):
        raise _unreadable(label)
    month = _month_number(match["name"], label)
    return _accept_day(label, int(match["year"]), month, int(match["day"]), limits)


def _named_month(match: re.Match[str], label: str, limits: _Limits) -> PartialDate:
    return _accept_month(label, int(match["year"]), _month_number(match["name"], label), limits)


_Form = Callable[[re.Match[str], str, _Limits], PartialDate]
_FLAGS = re.ASCII | re.IGNORECASE  # ASCII: int() would otherwise accept digits from other scripts
_ISO_DAY = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})", re.ASCII)
_NAME = r"(?P<name>[a-z]+)\.?"
_CLOCK = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
_TIME_SUFFIX = rf"(?:\s+{_CLOCK}(?:\s*(?P<meridiem>[ap]m))?)?"
_DAY_RANGE = r"(?P<first>\d{4}-\d{2}-\d{2})\s*(?:/|\.\.|\s+to\s+)\s*(?P<last>\d{4}-\d{2}-\d{2})"
_ISO_DATETIME = (
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[T ]"
    + _CLOCK
    + r"(?:\.\d{1,6})?(?:Z|[+-]\d{2}:?\d{2})?"  # the zone is dropped with the time
)
_NAMED_DAY = rf"(?P<day>\d{{1,2}})\s+{_NAME},?\s+(?P<year>\d{{4}}){_TIME_SUFFIX}"
_NAMED_DAY_MONTH_FIRST = rf"{_NAME}\s+(?P<day>\d{{1,2}}),?\s+(?P<year>\d{{4}}){_TIME_SUFFIX}"
_YEAR_FIRST = r"(?P<year>\d{4})(?P<sep>[-/])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})"
_NUMERIC = r"(?P<first>\d{1,2})(?P<sep>[/.-])(?P<second>\d{1,2})(?P=sep)(?P<year>\d{4})"
# Tried in order after the fast path; each pattern must match the whole value.
_FORMS: tuple[tuple[re.Pattern[str], _Form], ...] = (
    (re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})", _FLAGS), _iso_month),
    (re.compile(r"(?P<year>\d{4})", _FLAGS), _iso_year),
    (re.compile(r"(?P<year>\d{4})-W(?P<week>\d{2})", _FLAGS), _iso_week),
    (re.compile(_DAY_RANGE, _FLAGS), _day_range),
    (re.compile(_YEAR_FIRST, _FLAGS), _year_first),
    (re.compile(_ISO_DATETIME, _FLAGS), _iso_datetime),
    (re.compile(_NUMERIC, _FLAGS), _numeric),
    (re.compile(_NAMED_DAY, _FLAGS), _named_day),
    (re.compile(_NAMED_DAY_MONTH_FIRST, _FLAGS), _named_day),
    (re.compile(rf"{_NAME}\s+(?P<year>\d{{4}})", _FLAGS), _named_month),
)


def parse_partial_date(
    text: str,
    *,
    today: datetime.date | None = None,
    max_future_days: int = 1,
) -> PartialDate:
    """Read an analyst's date, keeping its precision; InvalidValue says what to write instead.

    `max_future_days` allows for time zones and late entry; a period is judged by its start.
    """
    label = text.strip()
    if not label:
        raise InvalidValue("date is empty", fix=_EMPTY_FIX)
    today = today or datetime.date.today()
    latest = today + datetime.timedelta(days=max_future_days)
    limits = _Limits(latest=latest, last_year=max(today.year + 1, latest.year))
    # Fast path for the overwhelmingly common form: one regex and one constructor.
    match = _ISO_DAY.fullmatch(label)
    if match:
        return _year_first(match, label, limits)
    for pattern, form in _FORMS:
        match = pattern.fullmatch(label)
        if match:
            return form(match, label, limits)
    raise _unreadable(label)


def partial_date(
    start: datetime.date, precision: Precision, *, end: datetime.date | None = None
) -> PartialDate:
    """The reported date that starts on `start` with `precision`: its end and canonical text follow.

    For dates worked out rather than read (the article drafter resolves "last week" to a week); `end`
    makes a span of days and matters only for day precision.
    """
    if precision == "day":
        last = end or start
        if last < start:
            raise ValueError(f"date range ends before it starts: {start} to {last}")
        text = start.isoformat() if last == start else f"{start.isoformat()}/{last.isoformat()}"
        return PartialDate(start, last, "day", text)
    if precision == "week":
        start = start - datetime.timedelta(days=start.weekday())
        return PartialDate(
            start, start + datetime.timedelta(days=6), "week", canonical_date_text(start, "week")
        )
    if precision == "month":
        start = start.replace(day=1)
        last_day = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        return PartialDate(start, last_day, "month", canonical_date_text(start, "month"))
    if precision == "year":
        start = datetime.date(start.year, 1, 1)
        return PartialDate(
            start, datetime.date(start.year, 12, 31), "year", canonical_date_text(start, "year")
        )
    raise ValueError(f"unknown date precision {precision!r}")


def _day_label(day: datetime.date) -> str:
    return f"{day.day} {_MONTH_NAMES[day.month - 1][:3]} {day.year}"


def format_partial_date(
    start: datetime.date,
    precision: str,
    end: datetime.date | None = None,
) -> str:
    """Display text for a stored date: "4 Jul 2025", "week of 22 Sep 2025", "Jul 2025", "2025".

    A day range reads "1–3 Oct 2025", "29 Sep – 2 Oct 2025" or "30 Dec 2025 – 2 Jan 2026".

    `end` matters only for day precision; the other precisions imply their own end.
    """
    if precision == "day":
        if end is None or end == start:
            return _day_label(start)
        if end < start:
            raise ValueError(f"date range ends before it starts: {start} to {end}")
        if end.year != start.year:
            return f"{_day_label(start)} – {_day_label(end)}"
        if end.month != start.month:
            return f"{start.day} {_MONTH_NAMES[start.month - 1][:3]} – {_day_label(end)}"
        return f"{start.day}–{_day_label(end)}"
    if precision == "week":
        return f"week of {_day_label(start)}"
    if precision == "month":
        return f"{_MONTH_NAMES[start.month - 1][:3]} {start.year}"
    if precision == "year":
        return str(start.year)
    raise ValueError(f"unknown date precision {precision!r}")
