"""A draft as the analyst reviews it (the dashboard's "Add from article" page): a grid of its rows beside
the sentences and spans each was read from, and the reviewed grid written back in the upload format with
the source typed once, each CSV line mapped to the grid row it holds so that the importer's problems name
the row the analyst sees.

The importer stays the only judge of the rows: nothing here checks a cell.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import pandas as pd

from tracker.columns import COLUMN_BY_NAME
from tracker.drafting.draft import DRAFT_COLUMNS, ArticleSource, Draft, DraftRow, records_csv
from tracker.errors import Problem
from tracker.ledger_csv import EVENT_IDENTITY

# The article's own cells, typed once for every row: the columns that land on the source.
SOURCE_COLUMNS: tuple[str, ...] = tuple(c for c in DRAFT_COLUMNS if COLUMN_BY_NAME[c].lands == "source")
GRID_COLUMNS: tuple[str, ...] = tuple(c for c in DRAFT_COLUMNS if c not in SOURCE_COLUMNS)
# Read-only columns beside the cells: the drafted event a row belongs to (numbered from 1), the
# sentences it came from ("[3] text", numbered from 1 as the article is shown), and per field the words
# of the article it was read from.
EVENT = "event"
FROM_ARTICLE = "from the article"
READ_FROM = "read from"
READ_ONLY_COLUMNS: tuple[str, ...] = (EVENT, FROM_ARTICLE, READ_FROM)
ROW = "row"  # the grid's index: row labels from 1 that stay with a row when others are deleted
SPANS_SHOWN = 3  # per field in READ_FROM; a side named ten times needs no ten quotes
IMPORT_NAME_LENGTH = 200


def sentence_label(index: int, text: str) -> str:
    return f"[{index + 1}] {text}"


def _read_from(row: DraftRow) -> str:
    fields = []
    # What tells an event's rows apart (the party) first; the states, the same on every row, last.
    order = sorted(row.evidence, key=lambda field: (field != "party", field in ("buyer", "seller")))
    for field in order:
        spans = row.evidence[field]
        quoted = list(dict.fromkeys(span.text for span in spans))[:SPANS_SHOWN]
        if quoted:
            fields.append(f"{field}: " + ", ".join(f"“{text}”" for text in quoted))
    return "; ".join(fields)


def grid_frame(draft: Draft) -> pd.DataFrame:
    """The draft's rows as the grid shows them: READ_ONLY_COLUMNS, then GRID_COLUMNS, all text, indexed
    by ROW from 1."""
    records = [
        {
            EVENT: str(row.event + 1),
            FROM_ARTICLE: " ".join(sentence_label(i, draft.sentences[i].text) for i in row.sentences),
            READ_FROM: _read_from(row),
            **{column: row.cells[column] for column in GRID_COLUMNS},
        }
        for row in draft.rows
    ]
    index = pd.RangeIndex(1, len(records) + 1, name=ROW)
    return pd.DataFrame(records, columns=[*READ_ONLY_COLUMNS, *GRID_COLUMNS], index=index, dtype=str)


def cell_text(value: object) -> str:
    """A grid cell as text: an added row's untouched cells are None or NaN."""
    if value is None or pd.isna(value):
        return ""
    return str(value)


@dataclass(frozen=True, slots=True)
class ReviewedRows:
    """The grid written in the upload format, and which grid row each CSV line holds."""

    data: bytes
    rows_by_line: dict[int, int]

    def located(self, problems: Sequence[Problem]) -> list[Problem]:
        """The importer's problems with the grid row in place of the CSV line (None for the whole file).

        The source's cells are typed once and the same on every row: each of their problems is given
        once, with no row."""
        located: dict[tuple[object, ...], Problem] = {}
        for problem in problems:
            if problem.column in SOURCE_COLUMNS:
                located.setdefault((problem.column, problem.message), dataclasses.replace(problem, line=None))
            else:
                row = self.rows_by_line.get(problem.line or 0)
                located[(id(problem),)] = dataclasses.replace(problem, line=row)
        return list(located.values())

    def grid_rows(self, lines: pd.Series) -> pd.Series:
        """CSV lines (a dry run's `new_events["line"]`) as grid rows."""
        return lines.map(self.rows_by_line)


def reviewed_rows(
    grid: pd.DataFrame, *, source: ArticleSource, reliability: str = "", source_kind: str = "news"
) -> ReviewedRows:
    """The grid's rows in the upload format, with the article's cells (SOURCE_COLUMNS) the same on every
    row. Rows left blank (added and never filled) are skipped, as the importer skips blank lines."""
    source_cells = {
        "source_title": source.title.strip(),
        "source_publisher": source.publisher.strip(),
        "source_url": source.url.strip(),
        "source_date": source.published.isoformat(),
        "reliability": reliability,
        "source_kind": source_kind,
    }
    records, labels = [], []
    for label, row in zip(grid.index, grid.to_dict("records")):
        cells = {column: cell_text(row.get(column)) for column in GRID_COLUMNS}
        if any(value.strip() for value in cells.values()):
            records.append({**cells, **source_cells})
            labels.append(int(label))
    data, starts = records_csv(records, columns=DRAFT_COLUMNS)
    return ReviewedRows(data, dict(zip(starts, labels)))


def split_events(grid: pd.DataFrame) -> list[str]:
    """Drafted events whose rows no longer agree on the cells that make an event (EVENT_IDENTITY): the
    importer would take them as separate events, which an edit to one row of several rarely means."""
    warnings = []
    drafted = grid[grid[EVENT].map(cell_text) != ""]
    for event, rows in drafted.groupby(EVENT, sort=False):
        differing = [
            column
            for column in EVENT_IDENTITY
            if rows[column].map(lambda value: " ".join(cell_text(value).casefold().split())).nunique() > 1
        ]
        if differing:
            labels = ", ".join(str(label) for label in rows.index)
            cells = " and ".join(differing)
            warnings.append(
                f"Rows {labels} came from event {event} but now differ in {cells}: they will be imported as "
                f"separate events. To keep one event, give its rows the same {cells}."
            )
    return warnings


def import_name(source: ArticleSource) -> str:
    """The name the import is recorded under (the import history, undo): the article, not a file."""
    host = urlsplit(source.url.strip()).hostname or ""
    what = source.title.strip() or host or "untitled"
    by = ", ".join(part for part in (source.publisher.strip(), source.published.isoformat()) if part)
    # The importer keeps a file name's last path part only: a "/" in a title would cut it.
    name = f"Article: {what} ({by})".replace("/", "-").replace("\\", "-")
    return " ".join(name.split())[:IMPORT_NAME_LENGTH]
