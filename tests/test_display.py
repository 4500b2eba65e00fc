"""tracker.display: how deals are named on the pages, SIPRI's TIV for people, and a title-less source's
short address."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from tracker.display import deal_label, short_address, tiv_text

TITLE = "JDAM (guided bomb) — United States to Israel"


@pytest.mark.parametrize(
    ("recorded", "ordered_on", "precision", "quantity", "label"),
    [
        (True, dt.date(2019, 1, 1), "year", 12, f"{TITLE}, ordered 2019, 12 units"),
        (True, dt.date(2019, 1, 1), "year", 1, f"{TITLE}, ordered 2019, 1 unit"),
        (True, dt.date(2019, 1, 1), "year", 1500, f"{TITLE}, ordered 2019, 1,500 units"),
        (True, dt.date(2025, 9, 1), "month", None, f"{TITLE}, ordered Sep 2025"),
        (True, None, None, 4, f"{TITLE}, 4 units"),
        (True, None, None, None, TITLE),
        (True, dt.date(2019, 1, 1), "year", math.nan, f"{TITLE}, ordered 2019"),  # pandas' empty cell
        # A deal told by news keeps its title: its first event is no order.
        (False, dt.date(2019, 1, 1), "year", 12, TITLE),
    ],
)
def test_deal_labels(
    recorded: bool, ordered_on: dt.date | None, precision: str | None, quantity: float | None, label: str
) -> None:
    assert (
        deal_label(
            TITLE,
            sipri_recorded=recorded,
            ordered_on=ordered_on,
            ordered_precision=precision,
            quantity=quantity,  # type: ignore[arg-type]
        )
        == label
    )


@pytest.mark.parametrize(
    ("tiv", "text"),
    [
        (27.0, "27"),
        (4.5, "4.5"),
        (0.04, "0.04"),
        (1234.5, "1,234.5"),
        (10.0, "10"),
        (None, ""),
        (math.nan, ""),
    ],
)
def test_tiv_text(tiv: float | None, text: str) -> None:
    assert tiv_text(tiv) == text


@pytest.mark.parametrize(
    ("url", "short"),
    [
        ("https://news.liga.net/en/politics/news/talks-on-drones", "news.liga.net/…/talks-on-drones"),
        ("https://www.pravda.com.ua/eng/news/2025/09/24/7532305/", "www.pravda.com.ua/…/7532305"),
        ("https://unn.ua/drones", "unn.ua/drones"),
        ("https://example.org/news/item.php?id=17&lang=en", "example.org/…/item.php?id=17&lang=en"),
        ("https://example.org/?id=17", "example.org/?id=17"),
        ("http://example.org:8080/", "example.org:8080"),
        ("HTTPS://Example.org/A", "Example.org/A"),
        ("ftp://example.org/file", None),
        ("javascript:alert(1)", None),
        ("", None),
        (None, None),
    ],
)
def test_short_address(url: str | None, short: str | None) -> None:
    assert short_address(url) == short
