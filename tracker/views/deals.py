"""Deals: the filtered deals as a table, sorted and paged in the database (the sort and the page in the URL:
?sort=title&dir=asc&page=2); selecting a row opens the deal page. Downloads."""

from __future__ import annotations

import streamlit as st

from tracker import queries
from tracker.display import TIV_HELP, TIV_LABEL, counted
from tracker.errors import InvalidValue
from tracker.export import ledger_rows, ledger_workbook, to_csv_bytes
from tracker.views import common
from tracker.views.brief_downloads import brief_buttons

DIRECTIONS = {"asc": "ascending", "desc": "descending"}
PAGE_SIZE = queries.DEALS_TABLE_LIMIT
# Each column in its natural direction first (latest, largest first; names from A), then the other way.
ORDERS = [
    (sort, direction)
    for sort, column in queries.DEAL_SORTS.items()
    for direction in (("desc", "asc") if column.descending else ("asc", "desc"))
]


def _natural_direction(sort: str) -> str:
    return "desc" if queries.DEAL_SORTS[sort].descending else "asc"


def _order_label(order: tuple[str, str]) -> str:
    sort, direction = order
    return f"{queries.DEAL_SORTS[sort].label}, {DIRECTIONS[direction]}"


def _read_sort(raw: str) -> str:
    if raw not in queries.DEAL_SORTS:
        raise InvalidValue(
            "not a column the table sorts by", fix="use one of " + ", ".join(queries.DEAL_SORTS)
        )
    return raw


def _read_direction(raw: str) -> str:
    if raw not in DIRECTIONS:
        raise InvalidValue("not a direction", fix="use asc or desc")
    return raw


def _read_page(raw: str) -> int:
    # At most 9 digits: the row offset stays an integer the database takes.
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw[:10]) < 10**9:
        raise InvalidValue("not a page of this table", fix="use a page number from 1")
    return int(raw)


def _order_changed() -> None:
    st.session_state["page"] = 1  # a new order starts on its first page


filters = common.current_filters()
# The order widget holds (column, direction); the URL holds them apart: ?sort=title&dir=asc.
if st.session_state.get("order") is None:
    sorts = common.read_url("sort", _read_sort)
    sort = sorts[-1] if sorts else queries.DEFAULT_DEAL_SORT
    directions = common.read_url("dir", _read_direction)
    st.session_state["order"] = (sort, directions[-1] if directions else _natural_direction(sort))
page_from_url = st.session_state.get("page") is None
common.seed_from_url("page", _read_page, default=1)
# Other filters, other rows: back to the first page.
if st.session_state.get("deals-page-filters", filters) != filters:
    st.session_state["page"] = 1
st.session_state["deals-page-filters"] = filters
sort, direction = st.session_state["order"]


def _read_deals(page: int) -> queries.DealsPage:
    return common.read(
        queries.deals_page,
        filters=filters,
        sort=sort,
        descending=direction == "desc",
        page=page,
        page_size=PAGE_SIZE,
    )


found = _read_deals(st.session_state["page"])
if found.page != st.session_state["page"]:
    if page_from_url:  # an address naming a page the table does not have: the first page, and why
        common.ignore_url_value(
            "page",
            str(st.session_state["page"]),
            InvalidValue("not a page of this table", fix=f"use a page from 1 to {found.pages:,}"),
        )
        found = _read_deals(1)
    st.session_state["page"] = found.page  # never past the last page (the ledger can shrink)

common.page_header("Deals", filters)

if common.ledger_is_empty():
    common.show_empty_ledger()
    st.stop()

if found.total == 0:
    common.show_no_match("clear-filters-deals")
    st.stop()

total, pages = found.total, found.pages
order_column, page_column = st.columns([4, 1], vertical_alignment="bottom")
sort, direction = order_column.selectbox(
    "Sort by",
    ORDERS,
    key="order",
    format_func=_order_label,
    on_change=_order_changed,
    help="Sorts every matching deal, in the database (ties by deal id); the column headers do not sort.",
)
# A page control only when there is more than one page.
page = (
    page_column.number_input("Page", min_value=1, max_value=pages, step=1, key="page", help=f"of {pages:,}")
    if pages > 1
    else 1
)
common.write_url("sort", [] if sort == queries.DEFAULT_DEAL_SORT else [sort])
common.write_url("dir", [] if direction == _natural_direction(sort) else [direction])
common.write_url("page", [] if page == 1 else [str(page)])

offset = (page - 1) * PAGE_SIZE
deals = found.rows
# A relative link opens the deal page of this app (in a new tab) with the deal in the URL.
deals["page"] = "deal?deal=" + deals["deal_id"]
chosen = st.dataframe(
    deals,
    key="deals-table",
    hide_index=True,
    placeholder="–",
    on_select="rerun",
    # Column selection turns the headers' own sorting off: it would re-order only this page's rows.
    selection_mode=["single-row", "single-column"],
    column_order=(
        "label",
        "stage",
        "first_event",
        "last_event",
        "buyers",
        "sellers",
        "category",
        "value",
        "sipri_tiv",
        "event_count",
        "in_stage_since",
        "value_low",
        "value_high",
        "currency",
        "page",
    ),
    column_config={
        "label": st.column_config.TextColumn("Deal", width="medium", pinned=True),
        "stage": st.column_config.TextColumn("Stage", width="small"),
        # Dates as precisely as they were reported: "2023", "Sep 2025", "4 Jul 2025".
        "in_stage_since": st.column_config.TextColumn("In stage since", width="small"),
        "buyers": st.column_config.TextColumn("Buyers"),
        "sellers": st.column_config.TextColumn("Sellers"),
        "category": st.column_config.TextColumn("Category", width="small"),
        "value": st.column_config.TextColumn("Value range"),
        "value_low": st.column_config.NumberColumn(
            "Value from", format="compact", help="Lower end of the deal's value, in its currency."
        ),
        "value_high": st.column_config.NumberColumn(
            "Value to", format="compact", help="Upper end of the deal's value, in its currency."
        ),
        "currency": st.column_config.TextColumn("Cur.", width="small"),
        "first_event": st.column_config.TextColumn("First event", width="small"),
        "last_event": st.column_config.TextColumn("Last event", width="small"),
        "sipri_tiv": st.column_config.NumberColumn(
            "SIPRI TIV", format="localized", help=f"{TIV_LABEL}. {TIV_HELP}"
        ),
        "event_count": st.column_config.NumberColumn("Events", width="small"),
        "page": st.column_config.LinkColumn("Deal page", display_text="open ↗", width="small"),
    },
)
order = f"sorted by {queries.DEAL_SORTS[sort].label.lower()}, {DIRECTIONS[direction]}"
note = (
    f"Deals {offset + 1:,}–{offset + len(deals):,} of {total:,} (page {page:,} of {pages:,})"
    if pages > 1
    else counted(total, "deal")
)
st.caption(
    f"{note}, {order}. Sort and page with the controls above: they order every matching deal; the column "
    "headers do not sort. Select a row to open its deal page."
)
if chosen.selection.rows:
    common.open_deal(deals["deal_id"].iloc[chosen.selection.rows[0]])

st.subheader("Download")
st.caption(
    "All matching deals in the table's order, not only the rows shown. Cells a spreadsheet would read as "
    "formulas are prefixed with an apostrophe."
)
engine = common.ledger()
# Files are built when the button is clicked, not on every rerun.
csv_column, rows_column, xlsx_column = st.columns(3)
csv_column.download_button(
    "Deals table (CSV)",
    key="download-deals-csv",
    icon=":material/download:",
    mime="text/csv",
    file_name="deals.csv",
    on_click="ignore",
    data=lambda: to_csv_bytes(
        queries.deals_table(engine, filters=filters, sort=sort, descending=direction == "desc", limit=None)
    ),
)
rows_column.download_button(
    "Ledger rows (CSV, upload format)",
    key="download-ledger-csv",
    icon=":material/download:",
    mime="text/csv",
    file_name="ledger-export.csv",
    on_click="ignore",
    data=lambda: to_csv_bytes(ledger_rows(engine, filters)),
    help="One row per event and source, in the upload format: it can be imported again.",
)
xlsx_column.download_button(
    "Workbook (XLSX)",
    key="download-xlsx",
    icon=":material/download:",
    file_name="deals.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    on_click="ignore",
    data=lambda: ledger_workbook(
        engine,
        filters,
        deals=queries.deals_table(
            engine, filters=filters, sort=sort, descending=direction == "desc", limit=None
        ),
        caption=common.filters_caption(filters),
    ),
    help="Sheets: deals; ledger rows (the upload format: the workbook can be imported again); parties; "
    "about (what each sheet and column holds, the filters, when it was made).",
)
st.caption("A brief of this view, to hand over: figures, deals by stage, the latest deals and events.")
brief_buttons(key="view-brief", filters=filters)
