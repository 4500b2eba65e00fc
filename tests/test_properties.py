"""Property-based tests: mutated ledger CSVs never crash the importer and never half-import.

Hypothesis mutates good ledger files (the seed file and the hostile corpus's base file): it drops,
duplicates, swaps and rewrites cells and lines, inserts random Unicode (control characters included),
re-quotes, truncates at a random byte and flips or inserts bytes. For every file the importer must
either

- raise ImportRejected, every problem saying what and how to fix it, and leave the ledger's whole
  content unchanged; or
- succeed with every row accounted for: the ledger gained exactly `events_added` events, one import
  was recorded (none when nothing was new), and importing the same bytes again finds nothing new and
  counts every one of its `rows_read` rows as already present (`duplicates_skipped == rows_read`).

Anything else raised is a crash and fails the test.

Each example of the main property gets a fresh SQLite ledger (a copy of a seeded template, made with
SQLite's backup API): function-scoped fixtures are not reset between Hypothesis examples. A second,
smaller property runs on the `engine` fixture's ledger (PostgreSQL in CI) and lets the ledger grow from
example to example, comparing each example with the state just before it.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest
from conftest import TODAY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from tests.hostile import make_corpus
from tests.ledger_snapshot import digest
from tracker.db import open_ledger, sqlite_url_for
from tracker.errors import ImportRejected
from tracker.importer import import_bytes
from tracker.models import Event, Import
from tracker.seed import SEED_DIR, seed_ledger

SEED_BYTES = (SEED_DIR / "us-ukraine-drone-deal.csv").read_bytes()
CORPUS_DIR = Path(__file__).resolve().parent / "hostile"
BASES = (
    SEED_BYTES,
    make_corpus.base_text().encode(),
    make_corpus.to_csv(
        make_corpus._html_payloads(),
        make_corpus.COLUMNS + ("deal_summary", "tags", "topic") + make_corpus.PARTY_COLUMNS,
    ).encode(),
)

# Text an analyst's file might hold, and text it should not: any code point but surrogates.
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
PLAUSIBLE = st.sampled_from(
    [
        "",
        " ",
        "2025-07",
        "2025-13-01",
        "Ukraine",
        "UK",
        "Congo",
        "announced",
        "signed",
        "B",
        "Z",
        "3",
        "0",
        "USD",
        "usd",
        "$",
        "10bn",
        "-5",
        "1e9",
        "=1+1",
        '"',
        '""',
        ",",
        ";",
        "\n",
        "\r\n",
        "\t",
        "\x00",
        "\u200b",
        "\u202e",
        "🚀",
        "https://x.org",
        "javascript:alert(1)",
        "person",
        "negotiator",
        "NA",
        "nan",
        "None",
        "null",
    ]
)
CELL = st.one_of(PLAUSIBLE, ANY_TEXT)


def _parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    table = [list(r) for r in _parse(draw(st.sampled_from(BASES)))]
    for _ in range(draw(st.integers(0, 4))):
        row = draw(st.integers(0, len(table) - 1))
        cells = table[row]
        kind = draw(
            st.sampled_from(
                [
                    "set",
                    "drop_cell",
                    "dup_cell",
                    "swap_cells",
                    "drop_line",
                    "dup_line",
                    "swap_lines",
                    "insert",
                    "header",
                ]
            )
        )
        if kind == "set" and cells:
            cells[draw(st.integers(0, len(cells) - 1))] = draw(CELL)
        elif kind == "insert" and cells:
            i = draw(st.integers(0, len(cells) - 1))
            at = draw(st.integers(0, len(cells[i])))
            cells[i] = cells[i][:at] + draw(CELL) + cells[i][at:]
        elif kind == "drop_cell" and cells:
            del cells[draw(st.integers(0, len(cells) - 1))]
        elif kind == "dup_cell" and cells:
            i = draw(st.integers(0, len(cells) - 1))
            cells.insert(i, cells[i])
        elif kind == "swap_cells" and len(cells) > 1:
            i, j = draw(st.integers(0, len(cells) - 1)), draw(st.integers(0, len(cells) - 1))
            cells[i], cells[j] = cells[j], cells[i]
        elif kind == "drop_line" and len(table) > 1:
            del table[row]
        elif kind == "dup_line":
            table.insert(row, list(cells))
        elif kind == "swap_lines":
            other = draw(st.integers(0, len(table) - 1))
            table[row], table[other] = table[other], table[row]
        elif kind == "header":
            table[0][draw(st.integers(0, len(table[0]) - 1))] = draw(
                st.sampled_from(
                    ["", "deal_id", "summary", "Deal ID", "colour", "date ", "\ufeffdeal_id", draw(ANY_TEXT)]
                )
            )
    buffer = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE]))
    writer = csv.writer(
        buffer,
        delimiter=draw(st.sampled_from([",", ",", ";", "\t"])),
        lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
        quoting=quoting,
        escapechar="\\" if quoting == csv.QUOTE_NONE else None,
    )
    writer.writerows(table)
    data = buffer.getvalue().encode(
        draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1252"])), errors="replace"
    )
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["truncate", "flip", "insert_bytes"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "truncate":
            data = data[:at]
        elif kind == "flip" and data:
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif kind == "insert_bytes":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(Event)).scalar_one(),
            connection.execute(select(func.count()).select_from(Import)).scalar_one(),
        )


def check_import_property(engine: Engine, data: bytes) -> str:
    """Import `data`; assert the all-or-nothing property; return "rejected", "added" or "nothing new"."""
    before = digest(engine)
    events, imports = _counts(engine)
    try:
        report = import_bytes(
            engine, data, file_name="mutated.csv", editor="hypothesis", max_bytes=50_000_000, today=TODAY
        )
    except ImportRejected as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.message and problem.fix
            assert problem.column is None or problem.line is not None  # a cell at fault always has its line
        assert digest(engine) == before
        return "rejected"
    assert _counts(engine) == (events + report.events_added, imports + (0 if report.nothing_new else 1))
    after = digest(engine)
    again = import_bytes(engine, data, file_name="mutated.csv", editor="hypothesis", today=TODAY)
    assert again.nothing_new
    assert again.duplicates_skipped == again.rows_read == report.rows_read
    assert digest(engine) == after
    return "nothing new" if report.nothing_new else "added"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "seeded.db"
    engine = open_ledger(sqlite_url_for(path))
    seed_ledger(engine)
    engine.dispose()
    return path


def _fresh_copy(template: Path, directory: Path) -> Engine:
    target = directory / "ledger.db"
    target.unlink(missing_ok=True)
    source = sqlite3.connect(template)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    return open_ledger(sqlite_url_for(target))


OUTCOMES: dict[str, int] = {}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=mutated_files())
def test_mutated_files_import_whole_or_not_at_all(
    template: Path, tmp_path_factory: pytest.TempPathFactory, data: bytes
):
    engine = _fresh_copy(template, tmp_path_factory.mktemp("example"))
    try:
        outcome = check_import_property(engine, data)
    finally:
        engine.dispose()
    OUTCOMES[outcome] = OUTCOMES.get(outcome, 0) + 1


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(data=mutated_files())
def test_mutated_files_on_a_growing_ledger(seeded: Engine, data: bytes):
    # Deliberately shared across examples (hence function_scoped_fixture suppressed): the ledger grows as
    # examples succeed, and each example is checked against the state just before it.
    check_import_property(seeded, data)


def test_the_mutations_reach_both_outcomes():
    """The generator is not so destructive that nothing ever imports, nor so mild that nothing is refused."""
    if not OUTCOMES:
        pytest.skip("run together with test_mutated_files_import_whole_or_not_at_all")
    assert OUTCOMES.get("rejected", 0) > 0
    assert OUTCOMES.get("added", 0) + OUTCOMES.get("nothing new", 0) > 0
