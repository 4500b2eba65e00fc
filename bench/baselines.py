"""The two reference imports the import benchmark races our importer against.

    python -m bench.baselines pandas DATABASE_URL FILE   # (a) pandas.read_csv + DataFrame.to_sql
    python -m bench.baselines raw DATABASE_URL FILE      # (b) csv + sqlite3/psycopg executemany

Both write the same rows into the same (already migrated, empty) tables of the ledger schema, in one
transaction, and do NO validation: they trust the file to be a well-formed synthetic ledger (dates as
YYYY-MM-DD, YYYY-MM or YYYY; values as digits with an optional m/bn suffix; countries, stages, grades
and credibility already canonical). What each writes:

- imports: one row (id 1), because every ledger row names its import;
- deals: id, title, summary (deal_summary), category: the first non-empty value per deal_id;
  event_count; created_at, import_id. The derived columns (current_stage, stage_since, first/last
  event dates, buyers, sellers) stay NULL;
- events: one per distinct (deal_id, date, stage, summary), with id, deal_id, occurred_on/occurred_until
  (from the date text), date_precision, date_text, stage, summary, note, topic, quantity, value_low,
  value_high, currency (from the event's first row), fingerprint (sha256 of the four key fields),
  recorded_at, import_id;
- sources: one per key (the URL, else "publisher|title", lower-cased): publisher, title, url,
  published_on, published_precision, kind, reliability;
- event_sources: one per distinct (event, source) pair, with the row's credibility.

Our importer additionally writes parties, deal_parties (buyer and seller states and named parties),
deal_tags and deal_changes, derives each deal's stage and dates, and checks every cell.

This module's imports are deliberately light (`raw` does not import pandas or SQLAlchemy) because the
benchmark times each import as a whole process, interpreter start included.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import hashlib
import sys

_SCALE = {"": 1.0, "k": 1e3, "m": 1e6, "bn": 1e9}
_NOW = dt.datetime(2026, 11, 25, 0, 0, 0)
EVENT_COLUMNS = (
    "id",
    "deal_id",
    "occurred_on",
    "occurred_until",
    "date_precision",
    "date_text",
    "stage",
    "summary",
    "note",
    "topic",
    "quantity",
    "value_low",
    "value_high",
    "currency",
    "fingerprint",
    "import_id",
    "recorded_at",
)
SOURCE_COLUMNS = (
    "id",
    "key",
    "publisher",
    "title",
    "url",
    "published_on",
    "published_precision",
    "kind",
    "reliability",
    "import_id",
)


def _amount(text: str) -> float | None:
    if not text:
        return None
    digits = text.rstrip("kmbn")
    return float(digits) * _SCALE[text[len(digits) :]]


def _span(text: str) -> tuple[dt.date, dt.date, str]:
    if len(text) == 10:
        day = dt.date.fromisoformat(text)
        return day, day, "day"
    year = int(text[:4])
    if len(text) == 7:
        month = int(text[5:7])
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1]), "month"
    return dt.date(year, 1, 1), dt.date(year, 12, 31), "year"


def _import_record(file_name: str, rows: int) -> dict:
    counts = dict.fromkeys(
        (
            "deals_created",
            "deals_updated",
            "events_added",
            "sources_added",
            "parties_added",
            "links_added",
            "duplicates_skipped",
        ),
        0,
    )
    return {
        "id": 1,
        "file_name": file_name,
        "sha256": "0" * 64,
        "format": "baseline",
        "encoding": "utf-8",
        "editor": "bench",
        "started_at": _NOW,
        "committed_at": _NOW,
        "rows_read": rows,
        **counts,
        "status": "committed",
    }


# --- (b) csv + executemany --------------------------------------------------------------------------------


def raw_tables(path: str) -> dict[str, tuple[list[str], list[tuple]]]:
    """The rows of each table, built with the csv module and dicts only."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        at = {name: i for i, name in enumerate(header)}
        deals: dict[str, list] = {}
        events: dict[tuple, list] = {}
        sources: dict[str, list] = {}
        links: dict[tuple[int, int], tuple] = {}
        rows = 0
        (
            i_deal,
            i_title,
            i_dsum,
            i_cat,
            i_date,
            i_stage,
            i_sum,
            i_note,
            i_topic,
            i_qty,
            i_low,
            i_high,
            i_cur,
            i_stitle,
            i_pub,
            i_url,
            i_sdate,
            i_rel,
            i_cred,
            i_kind,
        ) = (
            at[c]
            for c in (
                "deal_id",
                "deal_title",
                "deal_summary",
                "category",
                "date",
                "stage",
                "summary",
                "note",
                "topic",
                "quantity",
                "value_low",
                "value_high",
                "currency",
                "source_title",
                "source_publisher",
                "source_url",
                "source_date",
                "reliability",
                "credibility",
                "source_kind",
            )
        )
        for row in reader:
            rows += 1
            deal_id = row[i_deal]
            deal = deals.get(deal_id)
            if deal is None:
                deal = deals[deal_id] = [deal_id, None, None, None, 0, 1, _NOW]
            for slot, index in ((1, i_title), (2, i_dsum), (3, i_cat)):
                if deal[slot] is None and row[index]:
                    deal[slot] = row[index]
            key = (deal_id, row[i_date], row[i_stage], row[i_sum])
            event = events.get(key)
            if event is None:
                start, end, precision = _span(row[i_date])
                fingerprint = hashlib.sha256("\x1f".join(key).encode()).hexdigest()[:32]
                event = events[key] = [
                    len(events) + 1,
                    deal_id,
                    start,
                    end,
                    precision,
                    row[i_date],
                    row[i_stage] or None,
                    row[i_sum],
                    row[i_note] or None,
                    row[i_topic] or None,
                    int(row[i_qty]) if row[i_qty] else None,
                    _amount(row[i_low]),
                    _amount(row[i_high]),
                    row[i_cur] or None,
                    fingerprint,
                    1,
                    _NOW,
                ]
                deal[4] += 1
            url = row[i_url]
            source_key = url.lower() if url else f"{row[i_pub].lower()}|{row[i_stitle].lower()}"
            source = sources.get(source_key)
            if source is None:
                published = dt.date.fromisoformat(row[i_sdate]) if row[i_sdate] else None
                source = sources[source_key] = [
                    len(sources) + 1,
                    source_key,
                    row[i_pub] or None,
                    row[i_stitle] or None,
                    url or None,
                    published,
                    "day" if published else None,
                    row[i_kind] or "news",
                    row[i_rel] or "F",
                    1,
                ]
            pair = (event[0], source[0])
            if pair not in links:
                links[pair] = (event[0], source[0], int(row[i_cred] or 6), 1)
    return {
        "imports": (list(_import_record(path, rows)), [tuple(_import_record(path, rows).values())]),
        "deals": (
            ["id", "title", "summary", "category", "event_count", "import_id", "created_at"],
            [tuple(d) for d in deals.values()],
        ),
        "events": (list(EVENT_COLUMNS), [tuple(e) for e in events.values()]),
        "sources": (list(SOURCE_COLUMNS), [tuple(s) for s in sources.values()]),
        "event_sources": (["event_id", "source_id", "credibility", "import_id"], list(links.values())),
    }


def _sqlite_value(value: object) -> object:
    """Dates and times as SQLAlchemy stores them in SQLite (ISO text)."""
    if isinstance(value, dt.datetime):
        return value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def raw_import(url: str, path: str) -> None:
    tables = raw_tables(path)
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("BEGIN IMMEDIATE")
        for table, (columns, rows) in tables.items():
            connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [tuple(map(_sqlite_value, row)) for row in rows],
            )
        connection.execute("COMMIT")
        connection.close()
        return
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        for table, (columns, rows) in tables.items():
            markers = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({markers})", rows)


# --- (a) pandas read_csv + to_sql ---------------------------------------------------------------------------


def pandas_import(url: str, path: str) -> None:
    import pandas as pd
    from sqlalchemy import create_engine

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = len(frame)

    def first_non_empty(key: list[str], columns: list[str]) -> pd.DataFrame:
        part = frame[key + columns].replace("", None)
        return part.groupby(key, sort=False, dropna=False).first()

    keys = ["deal_id", "date", "stage", "summary"]
    deals = first_non_empty(["deal_id"], ["deal_title", "deal_summary", "category"]).reset_index()
    deals.columns = ["id", "title", "summary", "category"]

    events = frame.drop_duplicates(keys).copy()
    events["id"] = range(1, len(events) + 1)
    deals["event_count"] = deals["id"].map(events.groupby("deal_id").size())
    deals["import_id"], deals["created_at"] = 1, _NOW
    text = events["date"]
    length = text.str.len()
    start = pd.to_datetime(
        text.where(length == 10, text.where(length == 7, text + "-01") + "-01"), format="%Y-%m-%d"
    )
    month_or_year_end = (start + pd.offsets.MonthEnd(0)).where(length == 7, start + pd.offsets.YearEnd(0))
    end = start.where(length == 10, month_or_year_end)
    events["occurred_on"], events["occurred_until"] = start.dt.date, end.dt.date
    events["date_precision"] = length.map({10: "day", 7: "month", 4: "year"})
    for column in ("value_low", "value_high"):
        parts = events[column].str.extract(r"^([\d.]+)(k|m|bn)?$")
        events[column] = pd.to_numeric(parts[0]) * parts[1].map({"k": 1e3, "m": 1e6, "bn": 1e9}).fillna(1.0)
    events["quantity"] = pd.to_numeric(events["quantity"].replace("", None)).astype("Int64")
    frame["event_key"] = (
        frame["deal_id"] + "\x1f" + frame["date"] + "\x1f" + frame["stage"] + "\x1f" + frame["summary"]
    )
    events["fingerprint"] = [
        hashlib.sha256(key.encode()).hexdigest()[:32] for key in frame.loc[events.index, "event_key"]
    ]
    event_ids = dict(zip(frame.loc[events.index, "event_key"], events["id"]))
    events = events.rename(columns={"date": "date_text"}).replace(
        {column: {"": None} for column in ("stage", "note", "topic", "currency")}
    )
    events["import_id"], events["recorded_at"] = 1, _NOW

    without_url = frame["source_publisher"].str.lower() + "|" + frame["source_title"].str.lower()
    frame["source_key"] = frame["source_url"].str.lower().where(frame["source_url"] != "", without_url)
    sources = frame.drop_duplicates("source_key").copy()
    sources["id"] = range(1, len(sources) + 1)
    published = pd.to_datetime(sources["source_date"].replace("", None), format="%Y-%m-%d")
    sources["published_on"] = published.dt.date.astype(object).where(published.notna(), None)
    sources["published_precision"] = published.notna().map({True: "day", False: None})
    sources = sources.rename(
        columns={
            "source_key": "key",
            "source_publisher": "publisher",
            "source_title": "title",
            "source_url": "url",
            "source_kind": "kind",
        }
    )
    sources["url"] = sources["url"].replace("", None)
    sources["import_id"] = 1

    links = frame[["event_key", "source_key", "credibility"]].copy()
    links["event_id"] = links["event_key"].map(event_ids)
    links["source_id"] = links["source_key"].map(sources.set_index("key")["id"])
    links = links.drop_duplicates(["event_id", "source_id"])
    links["credibility"] = links["credibility"].replace("", "6").astype(int)
    links["import_id"] = 1

    engine = create_engine(url)
    with engine.begin() as connection:
        append = {"con": connection, "if_exists": "append", "index": False}
        pd.DataFrame([_import_record(path, rows)]).to_sql("imports", **append)
        deals.to_sql("deals", **append)
        events[list(EVENT_COLUMNS)].to_sql("events", **append)
        sources[list(SOURCE_COLUMNS)].to_sql("sources", **append)
        links[["event_id", "source_id", "credibility", "import_id"]].to_sql("event_sources", **append)
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] not in ("pandas", "raw"):
        print("usage: python -m bench.baselines {pandas|raw} DATABASE_URL FILE", file=sys.stderr)
        return 2
    kind, url, path = args
    (pandas_import if kind == "pandas" else raw_import)(url, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
