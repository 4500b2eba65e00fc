"""Reading and displaying event dates: every accepted form, every refusal, exactly."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from conftest import TODAY
from hypothesis import given
from hypothesis import strategies as st

from tracker.dates import PartialDate, Precision, format_partial_date, parse_partial_date, period_end
from tracker.errors import InvalidValue

D = datetime.date

EMPTY_FIX = "Write the date as YYYY-MM-DD, YYYY-MM or YYYY."
UNREADABLE_FIX = "Write the date as YYYY-MM-DD, YYYY-MM or YYYY (e.g. 2025-09-29, 2025-07, 2025)."
NOT_REAL_FIX = "Check the day and month; write the date as YYYY-MM-DD."
FUTURE_FIX = "The ledger records developments that have happened; put a planned date in the summary."
YEARS_FIX = "Check the year; the ledger covers 1900 to 2027."


ACCEPTED = [
    # text, start, end, precision, canonical text
    ("2025-07-04", D(2025, 7, 4), D(2025, 7, 4), "day", "2025-07-04"),
    ("  2025-07-04\t", D(2025, 7, 4), D(2025, 7, 4), "day", "2025-07-04"),
    ("2024-02-29", D(2024, 2, 29), D(2024, 2, 29), "day", "2024-02-29"),
    ("1900-01-01", D(1900, 1, 1), D(1900, 1, 1), "day", "1900-01-01"),
    ("2025/07/04", D(2025, 7, 4), D(2025, 7, 4), "day", "2025-07-04"),
    ("2025/7/4", D(2025, 7, 4), D(2025, 7, 4), "day", "2025-07-04"),
    ("2025-7-4", D(2025, 7, 4), D(2025, 7, 4), "day", "2025-07-04"),
    ("2025-07", D(2025, 7, 1), D(2025, 7, 31), "month", "2025-07"),
    ("2025-02", D(2025, 2, 1), D(2025, 2, 28), "month", "2025-02"),
    ("2024-02", D(2024, 2, 1), D(2024, 2, 29), "month", "2024-02"),
    ("2025", D(2025, 1, 1), D(2025, 12, 31), "year", "2025"),
    ("1900", D(1900, 1, 1), D(1900, 12, 31), "year", "1900"),
    ("2025-W39", D(2025, 9, 22), D(2025, 9, 28), "week", "2025-W39"),
    ("2025-w39", D(2025, 9, 22), D(2025, 9, 28), "week", "2025-W39"),
    ("2025-W01", D(2024, 12, 30), D(2025, 1, 5), "week", "2025-W01"),
    ("2020-W53", D(2020, 12, 28), D(2021, 1, 3), "week", "2020-W53"),
    # Day ranges: three separators, one canonical "/".
    ("2025-09-29/2025-10-02", D(2025, 9, 29), D(2025, 10, 2), "day", "2025-09-29/2025-10-02"),
    ("2025-09-29 / 2025-10-02", D(2025, 9, 29), D(2025, 10, 2), "day", "2025-09-29/2025-10-02"),
    ("2025-09-29 to 2025-10-02", D(2025, 9, 29), D(2025, 10, 2), "day", "2025-09-29/2025-10-02"),
    ("2025-09-29 TO 2025-10-02", D(2025, 9, 29), D(2025, 10, 2), "day", "2025-09-29/2025-10-02"),
    ("2025-09-29..2025-10-02", D(2025, 9, 29), D(2025, 10, 2), "day", "2025-09-29/2025-10-02"),
    ("2025-12-30/2026-01-02", D(2025, 12, 30), D(2026, 1, 2), "day", "2025-12-30/2026-01-02"),
    ("2025-09-29/2025-09-29", D(2025, 9, 29), D(2025, 9, 29), "day", "2025-09-29"),
    # Month names, English, any case.
    ("29 Sep 2025", D(2025, 9, 29), D(2025, 9, 29), "day", "2025-09-29"),
    ("29 September 2025", D(2025, 9, 29), D(2025, 9, 29), "day", "2025-09-29"),
    ("29 Sep, 2025", D(2025, 9, 29), D(2025, 9, 29), "day", "2025-09-29"),
    ("29 SEPT 2025", D(2025, 9, 29), D(2025, 9, 29), "day", "2025-09-29"),
    ("4 jul 2025", D(2025, 7, 4), D(2025, 7, 4), "day", "2025-07-04"),
    ("Sep 29, 2025", D(2025, 9, 29), D(2025, 9, 29), "day", "2025-09-29"),
    ("September 29 2025", D(2025, 9, 29), D(2025, 9, 29), "day", "2025-09-29"),
    ("Sept. 29, 2025", D(2025, 9, 29), D(2025, 9, 29), "day", "2025-09-29"),
    ("may 1 2025", D(2025, 5, 1), D(2025, 5, 1), "day", "2025-05-01"),
    ("Sep 2025", D(2025, 9, 1), D(2025, 9, 30), "month", "2025-09"),
    ("September 2025", D(2025, 9, 1), D(2025, 9, 30), "month", "2025-09"),
    ("feb 2024", D(2024, 2, 1), D(2024, 2, 29), "month", "2024-02"),
    # Times are dropped; the day is what the ledger keeps.
    ("2025-09-29T14:00:00", D(2025, 9, 29), D(2025, 9, 29), "day", "2025-09-29"),
    ("2025-09-29 14:00", D(2025, 9, 29), D(2025, 9, 29), "day", "2025-09-29"),
    ("2025-09-29T23:59:59.123456Z", D(2025, 9, 29), D(2025, 9, 29), "day", "2025-09-29"),
    ("2025-09-29T00:00:00+02:00", D(2025, 9, 29), D(2025, 9, 29), "day", "2025-09-29"),
    ("13 Oct 2024 2:20:11 PM", D(2024, 10, 13), D(2024, 10, 13), "day", "2024-10-13"),
    ("13 Oct 2024 12:00:00 am", D(2024, 10, 13), D(2024, 10, 13), "day", "2024-10-13"),
    ("13 Oct 2024 14:20", D(2024, 10, 13), D(2024, 10, 13), "day", "2024-10-13"),
    ("Oct 13, 2024 2:20 PM", D(2024, 10, 13), D(2024, 10, 13), "day", "2024-10-13"),
    # Numeric day/month where both orders give the same date.
    ("04/04/2025", D(2025, 4, 4), D(2025, 4, 4), "day", "2025-04-04"),
    ("4.4.2025", D(2025, 4, 4), D(2025, 4, 4), "day", "2025-04-04"),
    ("04-04-2025", D(2025, 4, 4), D(2025, 4, 4), "day", "2025-04-04"),
    # Up to max_future_days (1) ahead; a period counts from its start.
    ("2026-11-25", D(2026, 11, 25), D(2026, 11, 25), "day", "2026-11-25"),
    ("2026-11-26", D(2026, 11, 26), D(2026, 11, 26), "day", "2026-11-26"),
    ("2026-W48", D(2026, 11, 23), D(2026, 11, 29), "week", "2026-W48"),
    ("2026-11", D(2026, 11, 1), D(2026, 11, 30), "month", "2026-11"),
    ("Nov 2026", D(2026, 11, 1), D(2026, 11, 30), "month", "2026-11"),
    ("2026", D(2026, 1, 1), D(2026, 12, 31), "year", "2026"),
    ("2026-11-20/2026-12-05", D(2026, 11, 20), D(2026, 12, 5), "day", "2026-11-20/2026-12-05"),
]


@pytest.mark.parametrize(("text", "start", "end", "precision", "canonical"), ACCEPTED)
def test_accepted_forms(
    text: str, start: datetime.date, end: datetime.date, precision: Precision, canonical: str
) -> None:
    assert parse_partial_date(text, today=TODAY) == PartialDate(start, end, precision, canonical)


@pytest.mark.parametrize(("text", "start", "end", "precision", "canonical"), ACCEPTED)
def test_canonical_text_reads_back_the_same(
    text: str, start: datetime.date, end: datetime.date, precision: Precision, canonical: str
) -> None:
    assert parse_partial_date(canonical, today=TODAY) == parse_partial_date(text, today=TODAY)


@pytest.mark.parametrize(
    ("start", "precision", "end"),
    [
        (datetime.date(2025, 9, 29), "day", datetime.date(2025, 9, 29)),
        (datetime.date(2025, 12, 29), "week", datetime.date(2026, 1, 4)),  # ISO week 2026-W01
        (datetime.date(2024, 2, 1), "month", datetime.date(2024, 2, 29)),  # a leap year's February
        (datetime.date(1991, 1, 1), "year", datetime.date(1991, 12, 31)),
    ],
)
def test_a_period_ends_on_its_last_day(
    start: datetime.date, precision: Precision, end: datetime.date
) -> None:
    assert period_end(start, precision) == end


# Error rows: (text, message, fix). For a range, an error about one endpoint quotes that
# endpoint (`label`), since that is the part the analyst has to correct.


def ambiguous(text: str, first: str, second: str) -> tuple[str, str, str]:
    message = f'"{text}" is ambiguous: day and month order is unknown'
    return (text, message, f"Write it as {first} or {second}.")


def not_standard(text: str, only_reading: str) -> tuple[str, str, str]:
    message = f'"{text}" uses a day/month order that is not standard'
    return (text, message, f"Write it as {only_reading}.")


def not_real(text: str, label: str | None = None) -> tuple[str, str, str]:
    return (text, f'"{label or text}" is not a real date', NOT_REAL_FIX)


def unreadable(text: str) -> tuple[str, str, str]:
    return (text, f'"{text}" is not a date we can read', UNREADABLE_FIX)


def outside(text: str, label: str | None = None) -> tuple[str, str, str]:
    message = f'"{label or text}" is outside the years the ledger covers (1900–2027)'
    return (text, message, YEARS_FIX)


def future(text: str, label: str | None = None) -> tuple[str, str, str]:
    return (text, f'"{label or text}" is in the future', FUTURE_FIX)


REFUSED = [
    # text, message, fix
    ("", "date is empty", EMPTY_FIX),
    ("   \t ", "date is empty", EMPTY_FIX),
    ambiguous("03/04/2025", "2025-04-03", "2025-03-04"),
    ambiguous("3.4.2025", "2025-04-03", "2025-03-04"),
    ambiguous("03-04-2025", "2025-04-03", "2025-03-04"),
    ambiguous("12/11/2024", "2024-11-12", "2024-12-11"),
    not_standard("13/04/2025", "2025-04-13"),
    not_standard("04/13/2025", "2025-04-13"),
    not_standard("31.12.2025", "2025-12-31"),
    not_real("32/13/2025"),
    not_real("30/02/2025"),
    not_real("2025-02-30"),
    not_real("2025-13-01"),
    not_real("2025-00-10"),
    not_real("2025-02-29"),
    not_real("2025/02/30"),
    not_real("2025-13"),
    not_real("2025-00"),
    not_real("2025-W54"),
    not_real("2025-W53"),
    not_real("2025-W00"),
    not_real("31 Sep 2025"),
    not_real("Feb 29, 2025"),
    not_real("2025-02-30T10:00"),
    not_real("2025-02-30/2025-03-01", "2025-02-30"),
    not_real("2025-09-29/2025-09-31", "2025-09-31"),
    outside("1850"),
    outside("1899-12-31"),
    outside("0000-01-01"),
    outside("1899-W52"),
    outside("Jan 1899"),
    outside("03/04/1850"),
    outside("1850-01-01/1900-01-02", "1850-01-01"),
    outside("2026-11-20/2031-01-01", "2031-01-01"),
    future("2031-01-01"),
    future("2031"),
    future("2026-11-27"),
    future("2026-W49"),
    future("2026-12"),
    future("Dec 2026"),
    future("2027"),
    future("2 Dec 2026"),
    future("2026-11-27T00:00"),
    future("2026-11-27/2026-11-28", "2026-11-27"),
    (
        "2025-10-02/2025-09-29",
        '"2025-10-02/2025-09-29" ends before it starts',
        "Put the earlier date first: 2025-09-29/2025-10-02.",
    ),
    unreadable("next tuesday"),
    unreadable("29 Sepx 2025"),
    unreadable("29th September 2025"),
    unreadable("Q3 2025"),
    unreadable("03/04/25"),
    unreadable("20250929"),
    unreadable("2025-W9"),
    unreadable("2025-W39-1"),
    unreadable("2025.09.29"),
    unreadable("03/04-2025"),
    unreadable("2025-09-29T25:00"),
    unreadable("2025-09-29T14:60"),
    unreadable("13 Oct 2024 13:00 PM"),
    unreadable("13 Oct 2024 0:00 AM"),
    unreadable("29 September 2025 10"),
    unreadable("2025-09-29/2025-10-02/2025-10-03"),
    unreadable("29/09/2025 to 02/10/2025"),
    unreadable("٢٠٢٥"),
    unreadable("２０２５-09-29"),
]


@pytest.mark.parametrize(("text", "message", "fix"), REFUSED)
def test_refused_forms(text: str, message: str, fix: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_partial_date(text, today=TODAY)
    assert (caught.value.message, caught.value.fix) == (message, fix)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "max_future_days", "message"),
    [
        ("2026-11-26", 0, '"2026-11-26" is in the future'),
        ("2026-12-25", 30, None),
        ("2026-12-26", 30, '"2026-12-26" is in the future'),
        ("2027-01", 60, None),
        # A generous allowance (a signpost's expected date) moves the year bound with it: 1000 days
        # from 2026-11-25 is 2029-08-21.
        ("2028", 1000, None),
        ("2029-W34", 1000, None),
        ("2029-W35", 1000, '"2029-W35" is in the future'),
        ("2030", 1000, '"2030" is in the future'),
    ],
)
def test_max_future_days(text: str, max_future_days: int, message: str | None) -> None:
    if message is None:
        assert parse_partial_date(text, today=TODAY, max_future_days=max_future_days).text == text
        return
    with pytest.raises(InvalidValue) as caught:
        parse_partial_date(text, today=TODAY, max_future_days=max_future_days)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("text", "is_range"),
    [
        ("2025-09-29/2025-10-02", True),
        ("2025-09-29/2025-09-29", False),
        ("2025-09-29", False),
        ("2025-W39", False),
        ("2025-09", False),
        ("2025", False),
    ],
)
def test_is_range(text: str, is_range: bool) -> None:
    assert parse_partial_date(text, today=TODAY).is_range is is_range


def test_partial_date_is_immutable() -> None:
    parsed = parse_partial_date("2025-07-04", today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.text = "2025-07-05"  # type: ignore[misc]


FORMATTED = [
    # start, precision, end, display
    (D(2025, 7, 4), "day", None, "4 Jul 2025"),
    (D(2025, 7, 4), "day", D(2025, 7, 4), "4 Jul 2025"),
    (D(1900, 12, 31), "day", None, "31 Dec 1900"),
    (D(2025, 9, 22), "week", None, "week of 22 Sep 2025"),
    (D(2025, 9, 22), "week", D(2025, 9, 28), "week of 22 Sep 2025"),
    (D(2024, 12, 30), "week", D(2025, 1, 5), "week of 30 Dec 2024"),
    (D(2025, 7, 1), "month", None, "Jul 2025"),
    (D(2025, 7, 1), "month", D(2025, 7, 31), "Jul 2025"),
    (D(2025, 1, 1), "year", None, "2025"),
    (D(2025, 1, 1), "year", D(2025, 12, 31), "2025"),
    (D(2025, 10, 1), "day", D(2025, 10, 3), "1–3 Oct 2025"),
    (D(2025, 9, 29), "day", D(2025, 10, 2), "29 Sep – 2 Oct 2025"),
    (D(2025, 12, 30), "day", D(2026, 1, 2), "30 Dec 2025 – 2 Jan 2026"),
]


@pytest.mark.parametrize(("start", "precision", "end", "display"), FORMATTED)
def test_format_partial_date(
    start: datetime.date, precision: str, end: datetime.date | None, display: str
) -> None:
    assert format_partial_date(start, precision, end) == display


@pytest.mark.parametrize(
    ("text", "display"),
    [
        ("2025-07-04", "4 Jul 2025"),
        ("2025-W39", "week of 22 Sep 2025"),
        ("2025-07", "Jul 2025"),
        ("2025", "2025"),
        ("2025-09-29/2025-10-02", "29 Sep – 2 Oct 2025"),
        ("2025-12-30/2026-01-02", "30 Dec 2025 – 2 Jan 2026"),
    ],
)
def test_format_what_was_parsed(text: str, display: str) -> None:
    parsed = parse_partial_date(text, today=TODAY)
    assert format_partial_date(parsed.start, parsed.precision, parsed.end) == display


@pytest.mark.parametrize(
    ("start", "precision", "end", "error"),
    [
        (D(2025, 7, 4), "quarter", None, "unknown date precision 'quarter'"),
        (D(2025, 10, 3), "day", D(2025, 10, 1), "date range ends before it starts"),
    ],
)
def test_format_partial_date_refuses_bad_input(
    start: datetime.date, precision: str, end: datetime.date | None, error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        format_partial_date(start, precision, end)


@given(st.dates(min_value=D(1900, 1, 1), max_value=TODAY))
def test_displayed_days_and_months_read_back(day: datetime.date) -> None:
    assert parse_partial_date(format_partial_date(day, "day"), today=TODAY).start == day
    month = parse_partial_date(format_partial_date(day, "month"), today=TODAY)
    assert (month.start, month.precision) == (day.replace(day=1), "month")
