"""The dashboard's tables, each declared once: the columns it shows, in order, with their labels and
widths, and a grid as tall as its rows up to a cap.

Every column has a width in pixels, so a table's width is known before it is drawn: the columns that
matter fit a 1440 px window with the sidebar open, without scrolling sideways (tests/test_tables.py
checks each declaration against `WIDTH_AT_1440`; tests/test_browser.py measures the real grids). Frame
columns a declaration does not name are not shown (downloads still carry them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import pandas as pd
import streamlit as st

from tracker.display import GRADE_HELP, TIV_HELP, TIV_LABEL
from tracker.queries import DEAL_TABLE_COLUMNS

# The grid's inner width on a 1440 px window with the sidebar open (wide layout), measured in Chromium.
WIDTH_AT_1440 = 978
# An allowance for the checkbox column a table with row selection gets (the browser test measures that the
# grids fit with it).
ROW_MARKER_WIDTH = 44
ROW_HEIGHT = 35  # st.dataframe's row and header height
# Streamlit wraps long text only in rows taller than 64 px (4 rem): three lines of text.
WRAPPED_ROW_HEIGHT = 72
BORDERS = 2
MAX_ROWS = 15  # a taller grid scrolls inside itself: the page below it stays in reach
DATE_FORMAT = "D MMM YYYY"
DATETIME_FORMAT = "YYYY-MM-DD HH:mm"

Kind = Literal["text", "count", "id", "date", "datetime", "web link", "deal link", "titled deal link"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table: the frame column `name` under `label`, `width` pixels wide.

    Kinds: "count" (thousands separators), "id" (#12), "date", "datetime" (UTC), "web link" (http(s)
    only, shown as "open ↗"), "deal link" (a relative link to the deal page, shown as "open ↗") and
    "titled deal link" (one shown as the deal's title; both from `common.deal_links`).
    """

    name: str
    label: str
    width: int
    kind: Kind = "text"
    help: str | None = None

    def config(self) -> Any:
        shared: dict[str, Any] = {"width": self.width, "help": self.help}
        match self.kind:
            case "text":
                return st.column_config.TextColumn(self.label, **shared)
            case "count":
                return st.column_config.NumberColumn(self.label, format="localized", **shared)
            case "id":
                return st.column_config.NumberColumn(self.label, format="#%d", **shared)
            case "date":
                return st.column_config.DateColumn(self.label, format=DATE_FORMAT, **shared)
            case "datetime":
                return st.column_config.DatetimeColumn(self.label, format=DATETIME_FORMAT, **shared)
            case "web link":
                # LinkColumn itself accepts any scheme: only http(s) addresses become links.
                return st.column_config.LinkColumn(
                    self.label, display_text="open ↗", validate=r"^https?://", **shared
                )
            case "deal link":
                return st.column_config.LinkColumn(self.label, display_text="open ↗", **shared)
            case "titled deal link":
                # Streamlit shows the regex's group, URL-decoded: the title after the link's "#".
                return st.column_config.LinkColumn(self.label, display_text=r"#(.*)$", **shared)


@dataclass(frozen=True, slots=True)
class Table:
    """A table's columns in display order; `selection`: st.dataframe's selection modes (none: no
    selection); `wrap`: rows three lines tall, long text wrapped; `max_rows`: rows shown before the grid
    scrolls."""

    columns: tuple[Column, ...]
    selection: tuple[str, ...] = ()
    wrap: bool = False
    max_rows: int = MAX_ROWS

    @property
    def width(self) -> int:
        """Pixels the grid needs to show every column, with the selection checkboxes."""
        rows_selectable = any(mode.endswith("-row") for mode in self.selection)
        return sum(column.width for column in self.columns) + (ROW_MARKER_WIDTH if rows_selectable else 0)

    @property
    def row_height(self) -> int:
        return WRAPPED_ROW_HEIGHT if self.wrap else ROW_HEIGHT

    def height(self, rows: int) -> int:
        """The grid's height for `rows` rows: all of them up to `max_rows` (an empty table keeps one empty
        row), with the header and borders."""
        return min(max(rows, 1), self.max_rows) * self.row_height + ROW_HEIGHT + BORDERS

    def relabelled(self, name: str, label: str) -> Table:
        """This table with the column `name` under another label (the article page counts rows, not lines)."""
        return replace(
            self, columns=tuple(replace(c, label=label) if c.name == name else c for c in self.columns)
        )

    def show(self, frame: pd.DataFrame | Sequence[dict[str, Any]], *, key: str) -> Any:
        """Draw `frame` as this table; returns st.dataframe's value (the selection, for selectable tables)."""
        options: dict[str, Any] = (
            {"on_select": "rerun", "selection_mode": list(self.selection)} if self.selection else {}
        )
        return st.dataframe(
            frame,
            key=key,
            hide_index=True,
            placeholder="–",
            column_order=[column.name for column in self.columns],
            column_config={column.name: column.config() for column in self.columns},
            height=self.height(len(frame)),
            row_height=self.row_height,
            **options,
        )


# --- the tables ---------------------------------------------------------------------------------------


def _deal_column(name: str, width: int, kind: Kind = "text", **options: Any) -> Column:
    """A column of the Deals table under its name in tracker.queries.DEAL_TABLE_COLUMNS."""
    return Column(name, DEAL_TABLE_COLUMNS[name], width, kind, **options)


DATES_AS_REPORTED = "As precisely as it was reported: 2023, Sep 2025, 4 Jul 2025."
# Rows three lines tall, so that a SIPRI-recorded deal's label is read whole, up to what tells it from the
# deals of the same title (", ordered 2019, 6 units"): in the register, labels run to 96 characters for 99 %
# of deals (118 at most), and one line of 196 px cut them after about 26. The Deal column takes what the
# short columns give up (dates of 4 to 10 characters, parties and values that wrap).
DEALS = Table(
    (
        # Not pinned: Streamlit draws a pinned column's text grey, as an index, and the table fits the window.
        Column("label", "Deal", 258, help="SIPRI-recorded deals add their order year and quantity."),
        _deal_column("stage", 92),
        Column("first_event", "First event", 80, help=DATES_AS_REPORTED),
        Column("last_event", "Last event", 80, help=DATES_AS_REPORTED),
        _deal_column("buyers", 80),
        _deal_column("sellers", 80),
        _deal_column("value", 72, help="The deal's value range, in its own currency."),
        Column("sipri_tiv", "SIPRI TIV", 64, "count", help=f"{TIV_LABEL}. {TIV_HELP}"),
        _deal_column("event_count", 58, "count"),
        Column("page", "Deal page", 68, "deal link", help="Opens the deal page in a new tab."),
    ),
    # Column selection turns the headers' own sorting off: it would re-order only this page's rows.
    selection=("single-row", "single-column"),
    wrap=True,
    max_rows=8,  # three lines each: 613 px, about as tall as 15 rows of one line (562 px)
)

SOURCES = Table(
    (
        Column("publisher", "Publisher", 184),
        Column(
            "title_or_address",
            "Title or address",
            220,
            help="The source's title; for a source without one, its web address: the site and the last part.",
        ),
        Column(
            "events", "Events", 68, "count", help="Events of the matching deals that this source supports."
        ),
        Column("deals", "Deals", 60, "count", help="Matching deals with an event this source supports."),
        Column("reliability", "Grade", 58, help="NATO Admiralty source reliability, A (best) to F."),
        Column("reliability_meaning", "Reliability", 132),
        Column("published", "Published", 88, help=DATES_AS_REPORTED),
        Column("kind", "Kind", 72),
        Column("url", "Link", 52, "web link"),
    ),
    selection=("single-row",),
)

SOURCE_EVENTS = Table(
    (
        Column("date", "Date", 120, help="As the source reported it."),
        Column("page", "Deal", 220, "titled deal link", help="Opens the deal page in a new tab."),
        Column("stage", "Stage", 92, help="The stage the event moved the deal to, if it moved it."),
        Column(
            "credibility", "Cred.", 52, help="NATO Admiralty credibility of the event on this source, 1 to 6."
        ),
        Column("credibility_meaning", "Credibility", 120),
        Column("summary", "What happened", 360),
    ),
    wrap=True,  # what happened, read whole
    max_rows=8,
)

SOURCE_DEALS = Table(
    (
        Column("page", "Deal", 320, "titled deal link", help="Opens the deal page in a new tab."),
        Column("stage", "Stage", 92, help="The deal's current stage."),
        Column("events", "Events supported", 120, "count", help="Events of the deal this source supports."),
        Column("last_event", "Last event", 110, help="The deal's last event, from any source."),
    )
)

WEAK_DEALS = Table(
    (
        Column("label", "Deal", 400),
        Column("stage", "Stage", 92),
        Column("sources", "Sources", 80, "count"),
        Column("best_grade", "Best grade", 90),
    ),
    selection=("single-row",),
)

PROBLEMS = Table(
    (
        Column("line", "Line", 56, "count"),
        Column("column", "Column", 110),
        Column("value", "Value", 150),
        Column("problem", "Problem", 300),
        Column("fix", "How to fix it", 350),
    ),
    wrap=True,
    max_rows=8,
)

IMPORT_HISTORY = Table(
    (
        Column("id", "Import", 60, "id"),
        Column("file_name", "File", 184),
        Column("status", "Status", 84),
        Column("committed_at", "Committed (UTC)", 124, "datetime"),
        Column("editor", "Editor", 96),
        Column("rows_read", "Rows", 64, "count"),
        Column("events_added", "Events added", 90, "count"),
        Column("deals_created", "New deals", 76, "count"),
        Column("deals_updated", "Deals updated", 96, "count"),
        Column("duplicates_skipped", "Rows skipped", 94, "count", help="Rows already in the ledger."),
    ),
    max_rows=10,
)

NEW_EVENTS = Table(
    (
        Column("line", "Line", 56, "count"),
        Column("deal_id", "Deal", 200),
        Column("date_text", "Date", 110),
        Column("stage", "Stage", 92),
        Column("summary", "Summary", 500),
    )
)

STAGE_MOVES = Table(
    (
        Column("deal_id", "Deal id", 240),
        Column("title", "Deal", 400),
        Column("before", "Stage now", 120),
        Column("after", "After the import", 140),
    )
)

ATTRIBUTE_CHANGES = Table(
    (
        Column("deal", "Deal", 240),
        Column("attribute", "Attribute", 140),
        Column("before", "Before", 280),
        Column("after import", "After import", 280),
    )
)

DEAL_HISTORY = Table(
    (
        Column("committed_at", "When (UTC)", 124, "datetime"),
        Column("editor", "Editor", 96),
        Column("what", "What happened", 420),
        Column("reason", "Reason", 240),
        Column("import_id", "Change", 70, "id"),
    ),
    wrap=True,  # "imported from <file> on <date> by <editor>: ..." ran past the column's end
)

# A deal's story: summaries wrap (three lines a row) rather than end after a few words, and a week or a span
# of days ("29 Sep – 2 Oct 2025") is read whole.
DEAL_EVENTS = Table(
    (
        Column("date", "Date", 104, help=DATES_AS_REPORTED),
        Column("stage", "Stage", 88),
        Column("summary", "What happened", 340),
        Column("sources", "Sources (grade)", 160, help=GRADE_HELP),
        Column("source_url", "Best source", 76, "web link"),
        Column("note", "Note", 120),
        Column("topic", "Topic", 90),
    ),
    wrap=True,
)

DEAL_EVENT_SOURCES = Table(
    (
        Column("date", "Event date", 110, help=DATES_AS_REPORTED),
        Column("summary", "Event", 220),
        Column("publisher", "Publisher", 130),
        Column("title", "Title", 142),
        Column("grade", "Grade", 56, help=GRADE_HELP),
        Column("excerpt", "In the source's words", 180, help="The sentence that supports the event."),
        Column("url", "Link", 52, "web link"),
        Column("published", "Published", 88, help=DATES_AS_REPORTED),
    ),
    wrap=True,
)

LATEST_EVENTS = Table(
    (
        Column("date", "Date", 104, help=DATES_AS_REPORTED),
        Column("deal_label", "Deal", 160),
        Column("stage", "Stage", 88),
        Column("summary", "What happened", 330),
        Column("sources", "Sources (grade)", 170, help=GRADE_HELP),
        Column("source_url", "Best source", 78, "web link"),
    ),
    selection=("single-row",),
    wrap=True,
    max_rows=8,  # the newest first; the grid scrolls to the rest (as the Deals table)
)

VALUE_CLAIMS = Table(
    (
        Column("date", "Date", 104, help=DATES_AS_REPORTED),
        Column("value", "Value claimed", 120),
        Column("quantity", "Quantity", 72, "count"),
        Column("summary", "Claim", 420),
        Column("sources", "Sources (grade)", 262, help=GRADE_HELP),
    ),
    wrap=True,
)


def _signpost_columns(*, status: int, note: int, source: int) -> tuple[Column, ...]:
    """A signpost table's columns (tracker.signposts.SIGNPOST_COLUMNS), with the widths of the three whose
    text runs longest."""
    return (
        Column("stage", "Stage", 88, help="The stage the source expects the deal to reach."),
        Column("expected", "By", 80, help="At the precision the source gave."),
        Column("status_text", "Status", status),
        Column("days_overdue", "Days late", 80, "count", help="Days since the end of the expected period."),
        Column("note", "In the source's words", note),
        Column("source", "Source", source),
        Column("grade", "Grade", 56, help=GRADE_HELP),
        Column("source_url", "Link", 52, "web link"),
    )


# The overdue signposts of the matching deals (Overview, Changes): selecting a row opens its deal.
SIGNPOSTS = Table(
    (Column("deal_label", "Deal", 170), *_signpost_columns(status=122, note=176, source=110)),
    selection=("single-row",),
    wrap=True,  # the source's words and "reached late on 5 Mar 2025", read whole
    max_rows=8,
)

DEAL_SIGNPOSTS = Table(_signpost_columns(status=170, note=302, source=140), wrap=True)

# Every table, for the width check.
TABLES: dict[str, Table] = {
    "deals": DEALS,
    "sources": SOURCES,
    "source events": SOURCE_EVENTS,
    "source deals": SOURCE_DEALS,
    "weak deals": WEAK_DEALS,
    "problems": PROBLEMS,
    "import history": IMPORT_HISTORY,
    "new events": NEW_EVENTS,
    "attribute changes": ATTRIBUTE_CHANGES,
    "stage moves": STAGE_MOVES,
    "deal history": DEAL_HISTORY,
    "deal events": DEAL_EVENTS,
    "deal event sources": DEAL_EVENT_SOURCES,
    "value claims": VALUE_CLAIMS,
    "latest events": LATEST_EVENTS,
    "signposts": SIGNPOSTS,
    "deal signposts": DEAL_SIGNPOSTS,
}
