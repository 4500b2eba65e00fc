"""Small builders used across the tests: ledger CSV files, and ledgers at an older schema revision."""

from __future__ import annotations

import csv
import datetime
import io

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, select

from tracker import revisions
from tracker.columns import TEMPLATE_COLUMNS
from tracker.db import MIGRATIONS_PATH, write_transaction
from tracker.importer import import_bytes, import_rows, undo_import
from tracker.models import Event, Source

GOOD_ROW: dict[str, str] = {
    "deal_id": "test-deal",
    "deal_title": "Test deal",
    "date": "2025-07-04",
    "stage": "announced",
    "summary": "A development.",
    "buyer": "United States",
    "seller": "Ukraine",
    "source_title": "Report",
    "source_publisher": "Publisher",
    "source_url": "https://example.org/report",
    "reliability": "B",
    "credibility": "2",
}


def ledger_csv(
    *rows: dict[str, str], columns: tuple[str, ...] = TEMPLATE_COLUMNS, delimiter: str = ","
) -> bytes:
    """A UTF-8 ledger CSV with `columns` as header; missing cells are empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode()


def row(**changes: str) -> dict[str, str]:
    """GOOD_ROW with some cells changed."""
    return {**GOOD_ROW, **changes}


def many_deals(count: int) -> list[dict[str, str]]:
    """`count` one-event news deals ("deal-000"...) with titles in no particular order and of mixed case
    ("Bravo 743"), dated a day apart from 2020-01-01; buyers alternate Ukraine, Poland. The first title
    from A (deal-007, "Alpha 001") is one of the oldest deals: past the first 500 of the newest first."""
    words = ["delta", "Alpha", "charlie", "Bravo", "echo", "Foxtrot"]
    return [
        row(
            deal_id=f"deal-{i:03d}",
            deal_title=f"{words[(i * 7) % len(words)]} {(i * 43 + 700) % 1000:03d}",
            date=(datetime.date(2020, 1, 1) + datetime.timedelta(days=i)).isoformat(),
            summary=f"Deal {i} is announced.",
            buyer="Poland" if i % 2 else "Ukraine",
        )
        for i in range(count)
    ]


def titles_in_order(deals: list[dict[str, str]], *, descending: bool = False) -> list[str]:
    """The deals' titles as the Deals table sorts them: case-insensitively, ties by deal id."""
    by_id = sorted(deals, key=lambda deal: deal["deal_id"])
    return [
        deal["deal_title"]
        for deal in sorted(by_id, key=lambda deal: deal["deal_title"].lower(), reverse=descending)
    ]


def downgrade(engine: Engine, revision: str) -> None:
    """Take a ledger back to an older schema revision, keeping its rows (as an older tracker left it)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    with write_transaction(engine, schema_change=True) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def event_row(deal: str, date: str, summary: str, *, source: str, grade: str, **cells: str) -> dict[str, str]:
    """A ledger CSV row of `deal` told by `source` (its URL made from the name) with reliability `grade`."""
    return {
        "deal_id": deal,
        "date": date,
        "summary": summary,
        "source_publisher": source,
        "source_url": f"https://example.org/{source.lower().replace(' ', '-')}",
        "reliability": grade,
        "credibility": "2",
        **cells,
    }


# Three deals that filters tell apart:
# alpha: Poland buys from South Korea, tanks, contracted, sourced A;
# beta: Ukraine buys from the US, air defence, negotiating, sourced C, mentions Patriot;
# gamma: Ukraine buys from Germany, artillery, cancelled, one source graded E, Rheinmetall as manufacturer.
THREE_DEALS = [
    event_row(
        "alpha",
        "2023-05",
        "Poland announces a tank purchase.",
        source="Alpha Wire",
        grade="A",
        stage="announced",
        deal_title="Alpha tanks",
        buyer="Poland",
        seller="South Korea",
        category="tanks",
        value_low="1bn",
        value_high="2bn",
        currency="USD",
    ),
    event_row(
        "alpha",
        "2024-06-10",
        "The tank contract is signed.",
        source="Alpha Wire",
        grade="A",
        stage="contracted",
    ),
    event_row(
        "beta",
        "2025-01-15",
        "Ukraine asks for more Patriot systems.",
        source="Beta News",
        grade="C",
        stage="announced",
        deal_title="Beta air defence",
        buyer="Ukraine",
        seller="United States",
        category="air defence",
    ),
    event_row(
        "beta",
        "2025-03-01",
        "Talks on the air-defence package begin.",
        source="Beta News",
        grade="C",
        stage="negotiating",
    ),
    event_row(
        "gamma",
        "2025-02-01",
        "A shell deal is reported.",
        source="Gamma Blog",
        grade="E",
        stage="announced",
        deal_title="Gamma shells",
        buyer="Ukraine",
        seller="Germany",
        category="artillery",
        party="Rheinmetall",
        party_role="manufacturer",
        party_kind="company",
        party_country="DEU",
    ),
    event_row(
        "gamma",
        "2025-04-01",
        "The shell deal is called off.",
        source="Gamma Blog",
        grade="E",
        stage="cancelled",
    ),
]


def build_history(engine: Engine) -> None:
    """Import 1 (2 Nov, ana): deals alpha (with a signpost: contracted by October 2026) and beta.
    Import 2 (10 Nov, ana): beta negotiating, then agreed with a new source and new value and quantity claims.
    Import 3 (11 Nov): deal gamma, undone at once. Import 4 (12 Nov, ben, a form): alpha negotiating.
    Import 5 (13 Nov, ben): the agreed event of beta retracted.
    Import 6 (14 Nov, ben): its source regraded."""
    first = [
        event_row(
            "alpha",
            "2026-03-02",
            "Poland announces a tank purchase.",
            source="Alpha Wire",
            grade="A",
            stage="announced",
            deal_title="Alpha tanks",
            buyer="Poland",
            seller="South Korea",
            category="tanks",
            signpost_stage="contracted",
            signpost_by="2026-10",
            signpost_note="contract expected by October 2026",
        ),
        event_row(
            "beta",
            "2026-05-15",
            "Ukraine asks for more Patriot systems.",
            source="Beta News",
            grade="C",
            stage="announced",
            deal_title="Beta air defence",
            buyer="Ukraine",
            seller="United States",
            category="air defence",
            value_low="1bn",
            currency="USD",
        ),
    ]
    import_bytes(
        engine, ledger_csv(*first), file_name="first.csv", editor="ana", now=datetime.datetime(2026, 11, 2, 9)
    )
    second = [
        event_row(
            "beta",
            "2026-11-05",
            "Talks on the air-defence package begin.",
            source="Beta News",
            grade="C",
            stage="negotiating",
        ),
        event_row(
            "beta",
            "2026-11-06",
            "The package is agreed.",
            source="Kyiv Post",
            grade="B",
            stage="agreed",
            value_low="2bn",
            currency="USD",
            quantity="12",
        ),
    ]
    import_bytes(
        engine,
        ledger_csv(*second),
        file_name="second.csv",
        editor="ana",
        now=datetime.datetime(2026, 11, 10, 9),
    )
    third = [
        event_row(
            "gamma",
            "2026-11-10",
            "A shell deal is reported.",
            source="Gamma Blog",
            grade="E",
            stage="announced",
            deal_title="Gamma shells",
            buyer="Ukraine",
            seller="Germany",
        )
    ]
    undone = import_bytes(
        engine,
        ledger_csv(*third),
        file_name="third.csv",
        editor="ana",
        now=datetime.datetime(2026, 11, 11, 9),
    )
    undo_import(engine, undone.import_id, editor="ana")
    form = [
        event_row(
            "alpha",
            "2026-11-12",
            "Talks on the tanks begin.",
            source="Alpha Wire",
            grade="A",
            stage="negotiating",
        )
    ]
    import_rows(engine, form, label="Add event", editor="ben", now=datetime.datetime(2026, 11, 12, 15))
    with engine.connect() as connection:
        agreed = connection.execute(
            select(Event.id).where(Event.summary == "The package is agreed.")
        ).scalar_one()
        kyiv = connection.execute(select(Source.id).where(Source.publisher == "Kyiv Post")).scalar_one()
    revisions.retract_event(
        engine,
        agreed,
        reason="the report was withdrawn",
        editor="ben",
        now=datetime.datetime(2026, 11, 13, 10),
    )
    revisions.regrade_source(
        engine, kyiv, "D", reason="withdrew a report", editor="ben", now=datetime.datetime(2026, 11, 14, 10)
    )


def build_bulk_history(engine: Engine, *, bulk: int) -> None:
    """A history with imports on either side of the bulk-import threshold (`bulk`: tracker.changes'
    BULK_IMPORT_DEALS), on an empty ledger:
    Import 1 (1 Nov, ana, old.csv): deals old-1 and old-2 (Poland buys), told by Old Wire (A).
    Import 2 (20 Nov, alice, register.csv): `bulk` + 1 new deals reg-01... (announced; reg-01 bought by
    Poland, the others by Ukraine), told by Register (B), and old-1's talks (negotiating), told by Register.
    Import 3 (21 Nov, ben, a form): reg-07 agreed, told by Old Wire.
    Import 4 (25 Nov, ana, small.csv): `bulk` new deals small-01... (announced, Ukraine), told by Small
    Wire (C).
    Import 5 (26 Nov, ben): Old Wire, which backs old-1, old-2 and reg-07, regraded A -> C."""
    old = [
        event_row(f"old-{i}", "2026-09-01", f"Old deal {i} is announced.", source="Old Wire", grade="A",
                  stage="announced", deal_title=f"Old deal {i}", buyer="Poland", seller="Germany")
        for i in (1, 2)
    ]  # fmt: skip
    import_bytes(
        engine, ledger_csv(*old), file_name="old.csv", editor="ana", now=datetime.datetime(2026, 11, 1, 9)
    )
    register = [
        event_row(f"reg-{i:02d}", "2026-10-01", f"Register entry {i}.", source="Register", grade="B",
                  stage="announced", deal_title=f"Register deal {i:02d}",
                  buyer="Poland" if i == 1 else "Ukraine", seller="Germany")
        for i in range(1, bulk + 2)
    ]  # fmt: skip
    register.append(
        event_row(
            "old-1",
            "2026-11-15",
            "Talks on old deal 1 begin.",
            source="Register",
            grade="B",
            stage="negotiating",
        )
    )
    import_bytes(
        engine,
        ledger_csv(*register),
        file_name="register.csv",
        editor="alice",
        now=datetime.datetime(2026, 11, 20, 9),
    )
    form = [
        event_row(
            "reg-07", "2026-11-21", "Register deal 7 is agreed.", source="Old Wire", grade="A", stage="agreed"
        )
    ]
    import_rows(engine, form, label="Add event", editor="ben", now=datetime.datetime(2026, 11, 21, 10))
    small = [
        event_row(f"small-{i:02d}", "2026-11-24", f"Small deal {i} is announced.", source="Small Wire",
                  grade="C", stage="announced", deal_title=f"Small deal {i:02d}", buyer="Ukraine",
                  seller="Germany")
        for i in range(1, bulk + 1)
    ]  # fmt: skip
    import_bytes(
        engine,
        ledger_csv(*small),
        file_name="small.csv",
        editor="ana",
        now=datetime.datetime(2026, 11, 25, 9),
    )
    with engine.connect() as connection:
        wire = connection.execute(select(Source.id).where(Source.publisher == "Old Wire")).scalar_one()
    revisions.regrade_source(
        engine, wire, "C", reason="sold its archive", editor="ben", now=datetime.datetime(2026, 11, 26, 10)
    )


def build_conflict_history(engine: Engine) -> None:
    """Claims that come to conflict, on an empty ledger:
    Import 1 (1 Nov, ana): delta (1.2 bn USD, Reuters B), echo (500 m and 600 m USD: a conflict already),
    golf (800 m USD).
    Import 2 (10 Nov, bob): delta 900 m USD (Kyiv Post C): a new conflict; echo 600 m USD again (Kyiv Post):
    no new value.
    Import 3 (11 Nov, bob): delta 3 bn USD (Gossip Blog E), undone at once.
    Import 4 (12 Nov, ben, a form): golf 700 m USD (Kyiv Post).
    Import 5 (13 Nov, ben): that event retracted."""
    deals = {"delta": "Delta frigates", "echo": "Echo radars", "golf": "Golf drones"}
    first = [
        event_row("delta", "2026-10-01", "Delta frigates are announced.", source="Reuters", grade="B",
                  stage="announced", value_low="1.2bn", currency="USD"),
        event_row("echo", "2026-10-02", "Echo radars are announced.", source="Reuters", grade="B",
                  stage="announced", value_low="500m", currency="USD"),
        event_row("echo", "2026-10-09", "Echo radars cost more.", source="Reuters", grade="B",
                  value_low="600m", currency="USD"),
        event_row("golf", "2026-10-03", "Golf drones are announced.", source="Reuters", grade="B",
                  stage="announced", value_low="800m", currency="USD"),
    ]  # fmt: skip
    for row_ in first:
        row_.update(deal_title=deals[row_["deal_id"]], buyer="Poland", seller="Germany")
    import_bytes(
        engine,
        ledger_csv(*first),
        file_name="claims.csv",
        editor="ana",
        now=datetime.datetime(2026, 11, 1, 9),
    )
    second = [
        event_row("delta", "2026-11-05", "Delta frigates are cheaper.", source="Kyiv Post", grade="C",
                  value_low="900m", currency="USD"),
        event_row("echo", "2026-11-06", "Echo radars at 600 m.", source="Kyiv Post", grade="C",
                  value_low="600m", currency="USD"),
    ]  # fmt: skip
    import_bytes(
        engine,
        ledger_csv(*second),
        file_name="more.csv",
        editor="bob",
        now=datetime.datetime(2026, 11, 10, 9),
    )
    gossip = [
        event_row("delta", "2026-11-07", "Delta frigates at 3 bn.", source="Gossip Blog", grade="E",
                  value_low="3bn", currency="USD")
    ]  # fmt: skip
    undone = import_bytes(
        engine,
        ledger_csv(*gossip),
        file_name="gossip.csv",
        editor="bob",
        now=datetime.datetime(2026, 11, 11, 9),
    )
    undo_import(engine, undone.import_id, editor="bob")
    form = [
        event_row("golf", "2026-11-08", "Golf drones at 700 m.", source="Kyiv Post", grade="C",
                  value_low="700m", currency="USD")
    ]  # fmt: skip
    import_rows(engine, form, label="Add event", editor="ben", now=datetime.datetime(2026, 11, 12, 15))
    with engine.connect() as connection:
        golf = connection.execute(
            select(Event.id).where(Event.summary == "Golf drones at 700 m.")
        ).scalar_one()
    revisions.retract_event(
        engine, golf, reason="misread the figure", editor="ben", now=datetime.datetime(2026, 11, 13, 10)
    )


def build_stale_history(engine: Engine) -> None:
    """Deals that go stale and come back, on an empty ledger (every stage stale after 60 days, the floor:
    kilo's quick news keeps the waits at "announced" short):
    Import 1 (1 Sep, ana): hotel (negotiating, 1 Aug 2026: stale from 1 Oct), india (completed, 1 Aug 2026:
    never stale), juliet (announced, 1 Mar 2026: stale since 1 May), lima (negotiating, 1 Aug 2026), kilo
    (announced 1 Jul, news every 4 days, completed 20 Jul).
    Import 2 (20 Sep, ben, a form): juliet's news of 18 Sep: back after 201 days.
    Import 3 (30 Sep, ben, a form): lima's news of 29 Sep, before lima would have gone stale (1 Oct)."""
    first = [
        event_row(deal, date, words, source="Reuters", grade="B", stage=stage)
        for deal, date, words, stage in (
            ("hotel", "2026-08-01", "Hotel talks begin.", "negotiating"),
            ("india", "2026-08-01", "India deal completed.", "completed"),
            ("juliet", "2026-03-01", "Juliet is announced.", "announced"),
            ("lima", "2026-08-01", "Lima talks begin.", "negotiating"),
        )
    ]
    first += [
        *(
            event_row("kilo", f"2026-07-{day:02d}", f"Kilo news {day}.", source="Reuters", grade="B",
                      stage="announced" if day == 1 else "")
            for day in (1, 5, 9, 13, 17)
        ),
        event_row("kilo", "2026-07-20", "Kilo delivered.", source="Reuters", grade="B", stage="completed"),
    ]  # fmt: skip
    for row_ in first:
        row_.update(deal_title=f"{row_['deal_id'].title()} deal", buyer="Poland", seller="Germany")
    import_bytes(
        engine, ledger_csv(*first), file_name="deals.csv", editor="ana", now=datetime.datetime(2026, 9, 1, 9)
    )
    juliet = [event_row("juliet", "2026-09-18", "Juliet talks begin.", source="Kyiv Post", grade="C",
                        stage="negotiating")]  # fmt: skip
    import_rows(engine, juliet, label="Add event", editor="ben", now=datetime.datetime(2026, 9, 20, 9))
    lima = [event_row("lima", "2026-09-29", "Lima talks go on.", source="Defense News", grade="C")]
    import_rows(engine, lima, label="Add event", editor="ben", now=datetime.datetime(2026, 9, 30, 9))


# One upload the page and import-worker tests check and commit: a new deal, announced, with one new source.
EPSILON_CSV = ledger_csv(
    event_row(
        "epsilon",
        "2025-06-01",
        "Epsilon is announced.",
        source="Eps Wire",
        grade="B",
        stage="announced",
        deal_title="Epsilon radars",
        buyer="Finland",
        seller="Israel",
    )
)
# Its refused twin: two problems on line 2, the date (month 13) and the reliability grade (Q).
EPSILON_BAD_CSV = ledger_csv(
    event_row(
        "epsilon",
        "2025-13-01",
        "Bad month.",
        source="Eps Wire",
        grade="Q",
        stage="announced",
        deal_title="Epsilon radars",
    )
)
