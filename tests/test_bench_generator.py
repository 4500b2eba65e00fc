"""The benchmark's synthetic ledger generator: deterministic, clearly marked, realistic, and importable."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from pathlib import Path

from conftest import TODAY
from sqlalchemy import Engine, func, select

from bench.generate import LATEST, generate_rows, write_ledger
from tests.builders import ledger_csv, row
from tracker.columns import TEMPLATE_COLUMNS
from tracker.importer import import_bytes
from tracker.models import Deal, DealTag, Event, EventSource, Source
from tracker.vocab import STAGE_ORDER

COLUMN = {name: i for i, name in enumerate(TEMPLATE_COLUMNS)}

FIRST_ROW: dict[str, str] = {
    "deal_id": "synthetic-000001-phl-usa",
    "deal_title": "[SYNTHETIC] Helicopters from United States to Philippines #1",
    "date": "2016-08-08",
    "stage": "announced",
    "summary": "Officials in Philippines announce plans to buy helicopters made in United States "
    "(synthetic event 1 of deal 1).",
    "buyer": "PHL;MAR",
    "seller": "USA",
    "category": "Helicopters",
    "source_title": "Synthetic report 63: arms transfer news",
    "source_publisher": "Synthetic Aerospace Wire",
    "source_url": "https://synthetic.example/synthetic-aerospace-wire/63",
    "source_date": "2001-12-01",
    "reliability": "B",
    "credibility": "6",
    "deal_summary": "Synthetic deal for benchmarks (seed 1); not a real deal.",
    "tags": "synthetic",
    "source_kind": "news",
    "party": "Synthetic Person 945",
    "party_role": "head of state",
    "party_kind": "person",
    "party_country": "TUR",
}


def start_of(date: str) -> dt.date:
    """The first day of a date written as YYYY-MM-DD, YYYY-MM or YYYY."""
    return dt.date.fromisoformat({10: date, 7: f"{date}-01", 4: f"{date}-01-01"}[len(date)])


def event_key(row: list[str]) -> tuple[str, ...]:
    """What makes an event distinct: its deal, date, stage and summary."""
    return tuple(row[COLUMN[c]] for c in ("deal_id", "date", "stage", "summary"))


def rows_200() -> list[list[str]]:
    return list(generate_rows(200, seed=1))


def test_the_first_row_is_exact_for_seed_1():
    first = rows_200()[0]
    assert len(first) == len(TEMPLATE_COLUMNS)
    assert {name: value for name, value in zip(TEMPLATE_COLUMNS, first) if value} == FIRST_ROW


def test_exact_counts_of_events_deals_and_rows():
    rows = rows_200()
    assert len(rows) == 285  # 200 events, about 30% of them told by two or three sources
    assert len({r[COLUMN["deal_id"]] for r in rows}) == 10
    assert len({event_key(r) for r in rows}) == 200
    stages = Counter(r[COLUMN["stage"]] for r in rows)
    assert stages == {"negotiating": 85, "announced": 84, "agreed": 60, "": 56}


def test_the_same_seed_gives_the_same_rows_and_another_seed_others():
    assert list(generate_rows(200, seed=1)) == rows_200()
    assert list(generate_rows(200, seed=2)) != rows_200()


def test_event_counts_are_exact_at_other_sizes():
    for events in (1, 19, 20, 21, 999):
        rows = list(generate_rows(events, seed=3))
        assert len({event_key(r) for r in rows}) == events
        assert len({r[COLUMN["deal_id"]] for r in rows}) == max(1, events // 20)


def test_every_row_is_clearly_synthetic_and_in_the_past():
    rows = list(generate_rows(2000, seed=1))
    deals_with_title = set()
    for r in rows:
        assert r[COLUMN["deal_id"]].startswith("synthetic-")
        if r[COLUMN["deal_title"]]:
            assert r[COLUMN["deal_title"]].startswith("[SYNTHETIC] ")
            assert r[COLUMN["tags"]].split(";")[0] == "synthetic"
            deals_with_title.add(r[COLUMN["deal_id"]])
        assert r[COLUMN["source_url"]] == "" or r[COLUMN["source_url"]].startswith(
            "https://synthetic.example/"
        )
        assert r[COLUMN["source_publisher"]].startswith("Synthetic ")
        assert r[COLUMN["party"]] == "" or r[COLUMN["party"]].startswith("Synthetic ")
        assert start_of(r[COLUMN["date"]]) <= LATEST
    assert deals_with_title == {r[COLUMN["deal_id"]] for r in rows}


def test_stages_progress_in_order_with_dates_per_deal():
    rows = list(generate_rows(2000, seed=1))
    last: dict[str, tuple[str, int]] = {}
    for r in rows:
        deal, date, stage = r[COLUMN["deal_id"]], r[COLUMN["date"]], r[COLUMN["stage"]]
        start = start_of(date)
        previous_start, previous_stage = last.get(deal, (dt.date.min, 0))
        assert start >= previous_start
        position = STAGE_ORDER[stage] if stage else previous_stage
        assert position >= previous_stage
        last[deal] = (start, position)


def test_write_ledger_writes_the_upload_header_and_every_row(tmp_path: Path):
    written = write_ledger(200, seed=1, out=tmp_path / "ledger.csv")
    with (tmp_path / "ledger.csv").open(encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))
    assert records[0] == list(TEMPLATE_COLUMNS)
    assert records[1:] == rows_200()
    assert (written.events, written.deals, written.rows) == (200, 10, 285)


def test_the_ledger_imports_cleanly_with_every_event(engine: Engine):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerows(rows_200())
    report = import_bytes(
        engine, buffer.getvalue().encode(), file_name="synthetic-200.csv", editor="bench", today=TODAY
    )
    assert report.rows_read == 285
    assert report.events_added == 200
    assert len(report.deals_created) == 10
    assert report.links_added == 285
    assert report.duplicates_skipped == 0
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Event)).scalar_one() == 200
        assert connection.execute(select(func.count()).select_from(EventSource)).scalar_one() == 285
        sources = connection.execute(select(func.count()).select_from(Source)).scalar_one()
        assert sources == report.sources_added
        titles = connection.execute(select(Deal.title)).scalars().all()
        assert all(title.startswith("[SYNTHETIC] ") for title in titles)
        tagged = select(func.count()).select_from(DealTag).where(DealTag.tag == "synthetic")
        assert connection.execute(tagged).scalar_one() == 10


def test_the_import_profiler_times_the_phases_of_a_real_import(engine: Engine, monkeypatch):
    from bench import profile_import

    def wrap(owner, attribute, label):  # as profile_import._wrap, undone after the test
        monkeypatch.setattr(owner, attribute, profile_import._timed(label, getattr(owner, attribute)))

    monkeypatch.setattr(profile_import, "_wrap", wrap)
    monkeypatch.setattr(profile_import, "_timings", [])
    profile_import.instrument()
    import_bytes(engine, ledger_csv(row()), file_name="one.csv", editor="bench", today=TODAY)
    timed = {name for _, name, _ in profile_import._timings}
    assert {"read_batch", "plan_import", "plan_events", "write_plan", "refresh_deals", "statements"} <= timed
