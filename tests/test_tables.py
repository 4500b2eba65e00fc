"""The dashboard's table declarations (tracker/views/tables.py): every table fits a 1440 px window, grids
follow their rows up to a cap, and the links to the deal page."""

from __future__ import annotations

import pandas as pd
import pytest

from tracker.views import tables
from tracker.views.common import deal_links

# Each table's width in pixels (columns, plus the checkboxes of a table with row selection).
WIDTHS = {
    "deals": 976,
    "sources": 978,
    "source events": 964,
    "source deals": 642,
    "weak deals": 706,
    "problems": 966,
    "import history": 968,
    "new events": 958,
    "attribute changes": 940,
    "deal history": 950,
    "deal events": 978,
    "deal event sources": 978,
    "value claims": 978,
    "latest events": 974,
    "signposts": 978,
    "deal signposts": 968,
    "stage moves": 900,
}


def test_every_table_is_declared_and_measured() -> None:
    assert {name: table.width for name, table in tables.TABLES.items()} == WIDTHS


@pytest.mark.parametrize("name", sorted(WIDTHS))
def test_every_table_fits_1440_px_without_scrolling_sideways(name: str) -> None:
    assert tables.TABLES[name].width <= tables.WIDTH_AT_1440


def test_a_table_shows_each_column_once() -> None:
    for table in tables.TABLES.values():
        names = [column.name for column in table.columns]
        assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("table", "rows", "height"),
    [
        (tables.DEALS, 0, 109),  # an empty grid keeps one row under its header
        (tables.DEALS, 1, 109),  # rows three lines tall: a SIPRI label is read whole
        (tables.DEALS, 3, 253),
        (tables.DEALS, 8, 613),
        (tables.DEALS, 500, 613),  # 8 rows at most, then the grid scrolls
        (tables.SOURCES, 3, 142),  # rows of one line
        (tables.SOURCES, 15, 562),
        (tables.SOURCES, 500, 562),  # 15 rows at most
        (tables.PROBLEMS, 2, 181),  # rows three lines tall, text wrapped
        (tables.PROBLEMS, 8, 613),
        (tables.PROBLEMS, 40, 613),
        (tables.IMPORT_HISTORY, 12, 387),
        (tables.DEAL_EVENTS, 14, 1045),  # the seed deal's 14 events, each three lines tall, all in view
    ],
)
def test_grids_are_as_tall_as_their_rows_up_to_a_cap(table: tables.Table, rows: int, height: int) -> None:
    assert table.height(rows) == height


def test_the_deals_table_shows_first_and_last_event() -> None:
    assert [(c.name, c.label) for c in tables.DEALS.columns] == [
        ("label", "Deal"),
        ("stage", "Stage"),
        ("first_event", "First event"),
        ("last_event", "Last event"),
        ("buyers", "Buyers"),
        ("sellers", "Sellers"),
        ("value", "Value"),
        ("sipri_tiv", "SIPRI TIV"),
        ("event_count", "Events"),
        ("page", "Deal page"),
    ]


def test_relabelled_changes_one_label() -> None:
    relabelled = tables.PROBLEMS.relabelled("line", "Row")
    assert [c.label for c in relabelled.columns] == ["Row", "Column", "Value", "Problem", "How to fix it"]
    assert tables.PROBLEMS.columns[0].label == "Line"
    assert relabelled.width == tables.PROBLEMS.width


def test_deal_links_are_relative_and_carry_the_title_after_the_hash() -> None:
    ids = pd.Series(["us-ukraine-drone-deal", "sipri-c-0010cd08f7"])
    titles = pd.Series(["US–Ukraine Drone Deal", "RM-70 #2 (MRL) 50% & more + one"])
    assert deal_links(ids).tolist() == ["deal?deal=us-ukraine-drone-deal", "deal?deal=sipri-c-0010cd08f7"]
    assert deal_links(ids, titles).tolist() == [
        "deal?deal=us-ukraine-drone-deal#US%E2%80%93Ukraine%20Drone%20Deal",
        "deal?deal=sipri-c-0010cd08f7#RM-70%20%232%20%28MRL%29%2050%25%20%26%20more%20%2B%20one",
    ]


def test_a_deal_without_a_title_links_with_an_empty_fragment() -> None:
    assert deal_links(pd.Series(["x"]), pd.Series([None])).tolist() == ["deal?deal=x#"]
