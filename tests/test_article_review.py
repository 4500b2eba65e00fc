"""A draft as the "Add from article" page reviews it (tracker.drafting.review): the grid beside the article,
the grid written back in the upload format with the source typed once, and the importer's problems and
new events mapped back to the grid's rows."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
import pytest
from sqlalchemy import Engine

from tracker.drafting import ArticleSource, draft_article
from tracker.drafting.draft import records_csv
from tracker.drafting.review import (
    GRID_COLUMNS,
    READ_ONLY_COLUMNS,
    SOURCE_COLUMNS,
    grid_frame,
    import_name,
    reviewed_rows,
    split_events,
)
from tracker.errors import ImportRejected, Problem
from tracker.importer import import_bytes

SOURCE = ArticleSource(published=dt.date(2025, 10, 28), publisher="Reuters", title="Poland orders howitzers")
ARTICLE = (
    "Poland signed a contract on Monday to buy 96 K9 howitzers from South Korea, said Jan Nowak. "
    "In July, the two signed a preliminary deal for 40, according to Hanwha Aerospace."
)
FIRST = "Poland signed a contract on Monday to buy 96 K9 howitzers from South Korea, said Jan Nowak."
SECOND = "In July, the two signed a preliminary deal for 40, according to Hanwha Aerospace."


def grid() -> pd.DataFrame:
    return grid_frame(draft_article(ARTICLE, source=SOURCE))


def written(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def problems_of(engine: Engine, data: bytes) -> list[Problem]:
    with pytest.raises(ImportRejected) as rejected:
        import_bytes(engine, data, file_name="grid.csv", editor="test", dry_run=True)
    return rejected.value.problems


def test_the_source_is_typed_once_and_the_rest_is_in_the_grid() -> None:
    assert SOURCE_COLUMNS == (
        "source_title", "source_publisher", "source_url", "source_date", "reliability", "source_kind"
    )  # fmt: skip
    assert GRID_COLUMNS[:5] == ("deal_id", "deal_title", "date", "stage", "summary")
    assert not set(SOURCE_COLUMNS) & set(GRID_COLUMNS)
    assert list(grid().columns) == [*READ_ONLY_COLUMNS, *GRID_COLUMNS]


def test_each_grid_row_is_beside_its_sentence_and_the_words_it_was_read_from() -> None:
    frame = grid()
    assert frame.index.tolist() == [1, 2]
    assert frame.index.name == "row"
    assert frame[["event", "from the article", "read from"]].to_dict("index") == {
        1: {
            "event": "1",
            "from the article": f"[1] {FIRST}",
            "read from": "party: “Jan Nowak”; date: “Monday”; stage: “signed a contract”; quantity: “96 K9 "
            "howitzers”; buyer: “Poland”; seller: “South Korea”",
        },
        2: {
            "event": "2",
            "from the article": f"[2] {SECOND}",
            "read from": "party: “Hanwha Aerospace”; date: “In July”; stage: “signed a preliminary deal”; "
            "quantity: “40”; buyer: “Poland”; seller: “South Korea”",
        },
    }
    assert frame[["date", "stage", "quantity", "party", "party_role", "source_excerpt"]].values.tolist() == [
        ["2025-10-27", "contracted", "96", "Jan Nowak", "spokesperson", FIRST],
        ["2025-07", "agreed", "40", "Hanwha Aerospace", "manufacturer", SECOND],
    ]


def test_the_grid_is_written_with_the_source_on_every_row_and_blank_rows_left_out() -> None:
    frame = grid()
    frame.loc[3] = {**{c: None for c in frame.columns}, "deal_id": frame.loc[1, "deal_id"], "party": "MON"}
    frame.loc[4] = {c: None for c in frame.columns}  # added with + and never filled
    frame.loc[5] = {c: float("nan") for c in frame.columns}
    rows = reviewed_rows(frame, source=SOURCE, reliability="B", source_kind="official statement")
    records = written(rows.data)
    assert [(r["party"], r["stage"]) for r in records] == [
        ("Jan Nowak", "contracted"),
        ("Hanwha Aerospace", "agreed"),
        ("MON", ""),
    ]
    assert {tuple(r[c] for c in SOURCE_COLUMNS) for r in records} == {
        ("Poland orders howitzers", "Reuters", "", "2025-10-28", "B", "official statement")
    }
    assert rows.rows_by_line == {2: 1, 3: 2, 4: 3}


@pytest.mark.parametrize(
    ("summaries", "starts"),
    [
        (["one", "two", "three"], [2, 3, 4]),
        (["one\ntwo", "three", "four"], [2, 4, 5]),
        (["one\r\ntwo\r\nthree", "four", "five"], [2, 5, 6]),
        (["one\rtwo", "three\n\nfour", "five"], [2, 4, 7]),
    ],
)
def test_records_csv_numbers_lines_as_the_importer_does(
    engine: Engine, summaries: list[str], starts: list[int]
) -> None:
    columns = ("deal_id", "date", "summary", "source_title")
    records = [
        {"deal_id": "x", "date": "2025-13-01", "summary": summary, "source_title": "Wire"}
        for summary in summaries
    ]
    data, lines = records_csv(records, columns=columns)
    assert lines == starts
    # Every row has a bad month: the importer names the same lines.
    assert [p.line for p in problems_of(engine, data) if p.column == "date"] == starts


def test_problems_name_the_grid_row_and_a_source_problem_comes_once(engine: Engine) -> None:
    frame = grid().drop(index=1)  # deleted rows keep the others' labels
    frame.loc[2, "summary"] = "A summary\nover two lines."
    frame.loc[3] = {**frame.loc[2].to_dict(), "party": "MON", "party_kind": "robot"}
    rows = reviewed_rows(frame, source=ArticleSource(published=dt.date(2025, 10, 28)))
    assert rows.rows_by_line == {2: 2, 4: 3}
    located = rows.located(problems_of(engine, rows.data))
    assert [(p.line, p.column, p.value, p.message) for p in located] == [
        (None, "source_title", "", "the row has no source"),
        (3, "party_kind", "robot", 'unknown party kind "robot"'),
    ]


def test_new_events_of_a_dry_run_are_given_by_grid_row(engine: Engine) -> None:
    frame = grid().drop(index=1)
    frame.loc[2, "summary"] = "=1+2 is not a formula here"
    rows = reviewed_rows(frame, source=SOURCE)
    report = import_bytes(engine, rows.data, file_name="grid.csv", editor="test", dry_run=True)
    assert rows.grid_rows(report.new_events["line"]).tolist() == [2]
    assert report.new_events["summary"].tolist() == ["=1+2 is not a formula here"]


@pytest.mark.parametrize(
    ("edits", "warnings"),
    [
        ({}, []),
        ({(2, "party"): "someone else"}, []),  # not a cell of the event's identity
        ({(2, "summary"): "  In July,   the two SIGNED a preliminary deal for 40, according to Hanwha "
                          "Aerospace."}, []),  # case and spacing aside, as the importer compares
        ({(4, "stage"): "contracted"},
         [("Rows 2, 4 came from event 2 but now differ in stage: they will be imported as separate events. "
           "To keep one event, give its rows the same stage.")]),
        ({(4, "date"): "2025-08", (4, "deal_id"): "other"},
         [("Rows 2, 4 came from event 2 but now differ in deal_id and date: they will be imported as "
           "separate events. To keep one event, give its rows the same deal_id and date.")]),
        ({(4, "event"): None, (4, "stage"): "contracted"}, []),  # an added row belongs to no drafted event
    ],
)  # fmt: skip
def test_split_events(edits: dict[tuple[int, str], str | None], warnings: list[str]) -> None:
    frame = grid()
    frame.loc[4] = frame.loc[2]  # a second party of event 2
    for (row, column), value in edits.items():
        frame.loc[row, column] = value
    assert split_events(frame) == warnings


@pytest.mark.parametrize(
    ("source", "name"),
    [
        (SOURCE, "Article: Poland orders howitzers (Reuters, 2025-10-28)"),
        (ArticleSource(dt.date(2025, 9, 29), title="US/Ukraine drone\\deal  talks\n"),
         "Article: US-Ukraine drone-deal talks (2025-09-29)"),
        (ArticleSource(dt.date(2025, 9, 29), url="https://www.example.com/news/1"),
         "Article: www.example.com (2025-09-29)"),
        (ArticleSource(dt.date(2025, 9, 29)), "Article: untitled (2025-09-29)"),
        (ArticleSource(dt.date(2025, 9, 29), title="x" * 300), "Article: " + "x" * 191),
    ],
)  # fmt: skip
def test_import_name(source: ArticleSource, name: str) -> None:
    assert import_name(source) == name
