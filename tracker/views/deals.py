"""Deals: the filtered deals as a sortable table; selecting a row opens the deal page. Downloads."""

from __future__ import annotations

import streamlit as st

from tracker import queries
from tracker.export import ledger_rows, ledger_workbook, to_csv_bytes
from tracker.views import common

filters = common.current_filters()
common.page_header("Deals", filters)

if common.ledger_is_empty():
    common.show_empty_ledger()
    st.stop()

total = common.read(queries.count_deals, filters=filters)
if total == 0:
    common.show_no_match("clear-filters-deals")
    st.stop()

deals = common.read(queries.deals_table, filters=filters)
# A relative link opens the deal page of this app (in a new tab) with the deal in the URL.
deals["page"] = "deal?deal=" + deals["deal_id"]
date_format = "D MMM YYYY"
chosen = st.dataframe(
    deals,
    key="deals-table",
    hide_index=True,
    placeholder="–",
    on_select="rerun",
    selection_mode="single-row",
    column_order=(
        "title",
        "stage",
        "stage_since",
        "buyers",
        "sellers",
        "category",
        "value",
        "value_low",
        "value_high",
        "currency",
        "first_event_on",
        "last_event_on",
        "event_count",
        "page",
    ),
    column_config={
        "title": st.column_config.TextColumn("Deal", width="medium", pinned=True),
        "stage": st.column_config.TextColumn("Stage", width="small"),
        "stage_since": st.column_config.DateColumn("In stage since", format=date_format),
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
        "first_event_on": st.column_config.DateColumn("First event", format=date_format),
        "last_event_on": st.column_config.DateColumn("Last event", format=date_format),
        "event_count": st.column_config.NumberColumn("Events", width="small"),
        "page": st.column_config.LinkColumn("Deal page", display_text="open ↗", width="small"),
    },
)
shown = len(deals)
note = f"Showing the first {shown:,} of {total:,} deals" if shown < total else f"{total:,} deals"
st.caption(
    f"{note}, most recently active first; click a column header to sort. Select a row to open its deal page."
)
if chosen.selection.rows:
    common.open_deal(deals["deal_id"].iloc[chosen.selection.rows[0]])

st.subheader("Download")
st.caption(
    "All matching deals, not only the rows shown. Cells a spreadsheet would read as formulas are "
    "prefixed with an apostrophe."
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
    data=lambda: to_csv_bytes(queries.deals_table(engine, filters=filters, limit=None)),
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
        deals=queries.deals_table(engine, filters=filters, limit=None),
        caption=common.filters_caption(filters),
    ),
    help="Sheets: deals; ledger rows (the upload format: the workbook can be imported again); parties; "
    "about (what each sheet and column holds, the filters, when it was made).",
)
