"""Briefs (tracker.briefs): exactly what a deal brief and a view brief say, and their HTML and DOCX files."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace

import pytest
from docx import Document
from sqlalchemy import Engine, create_engine

from tests.builders import event_row, ledger_csv, many_deals, row
from tracker import queries
from tracker.briefs import (
    BriefClaim,
    BriefEvent,
    BriefNotFound,
    BriefSignpost,
    BriefSource,
    brief_docx,
    brief_html,
    deal_brief,
    ledger_address,
    view_brief,
)
from tracker.dates import format_partial_date
from tracker.filters import Filters, view_from_query
from tracker.importer import import_bytes
from tracker.knowledge import AsOf
from tracker.signposts import signposts_of_deals

SEED_DEAL = "us-ukraine-drone-deal"
# Fixed, so "days in stage" is exact: the seed deal has negotiated since the week of 22 Sep 2025.
MADE_AT = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
DOCX_HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"


def test_the_seed_deal_brief(seeded: Engine):
    brief = deal_brief(seeded, SEED_DEAL, now=MADE_AT)
    assert (brief.kind, brief.heading, brief.title) == ("deal", "Deal brief", "US–Ukraine Drone Deal")
    assert brief.covers == (
        "The whole deal 'us-ukraine-drone-deal': a deal brief does not apply the filters.",
        "The ledger as it is now.",
        (
            "Summary: The United States would purchase drones (UAVs) directly from Ukraine; Ukraine offers "
            "to share its battlefield experience."
        ),
    )
    assert brief.made_at == MADE_AT
    assert brief.figures == (
        ("Stage", "negotiating"),
        ("In stage since", "week of 22 Sep 2025 (429 days)"),
        ("Value", "10–30 bn USD"),
        ("Events", "14"),
        ("Buyers", "United States"),
        ("Sellers", "Ukraine"),
        ("Category", "UAV"),
    )
    assert brief.stage_columns == ("Stage", "From", "To", "Days")
    assert brief.stage_rows == (
        # As precisely as reported, as the deal page shows them: not "1 Jul 2025" to "22 Sep 2025".
        ("announced", "Jul 2025", "week of 22 Sep 2025", "83"),
        ("negotiating", "week of 22 Sep 2025", "today", "429"),
    )
    assert len(brief.events) == 14
    assert brief.events[0] == BriefEvent(
        date="Jul 2025",
        deal="",
        stage="announced",
        summary='In an interview with The Post, Zelensky describes a drone "mega deal": "The people of '
        'America need this technology ... a win-win".',
        sources=(
            BriefSource("New York Post", "B3", None),
            BriefSource(
                "Devdiscourse",
                "C3",
                "https://www.devdiscourse.com/article/law-order/3508297-strategic-sky-the-us-ukrainian-drone-deal",
            ),
        ),
    )
    assert [(c.kind, c.title) for c in brief.conflicts] == [
        ("topic", '3 claims about "delegation dates" give different dates')
    ]
    assert [(claim.date, claim.sources) for claim in brief.conflicts[0].claims] == [
        ("24 Sep 2025", "Ukrainska Pravda (B3)"),
        ("29 Sep – 2 Oct 2025", "New York Post (B3); LIGA.net (B3)"),
        ("30 Sep – 3 Oct 2025", "New York Post (B3)"),
    ]
    assert brief.signposts == ()  # the seed states none
    assert len(brief.parties) == 20  # 18 parties, two of them in two roles
    assert (brief.parties[0].role, brief.parties[0].name) == ("buyer", "US Department of Defense")
    assert brief.deals == () and brief.deals_left_out == brief.events_left_out == 0


def test_a_deal_that_has_ended_gives_when_not_days_to_today(engine: Engine):
    rows = [
        event_row("sold", "2017", "Ordered.", source="Register", grade="A", stage="contracted",
                  deal_title="Sold guns", buyer="Peru", seller="Chile"),
        event_row("sold", "2018", "Delivered.", source="Register", grade="A", stage="delivering"),
        event_row("sold", "2019", "All delivered.", source="Register", grade="A", stage="completed"),
    ]  # fmt: skip
    import_bytes(engine, ledger_csv(*rows), file_name="sold.csv", editor="test")
    brief = deal_brief(engine, "sold", now=MADE_AT)
    assert brief.figures[:2] == (("Stage", "completed"), ("Completed in", "2019"))
    assert brief.stage_rows == (
        ("contracted", "2017", "2018", "365"),
        ("delivering", "2018", "2019", "365"),
        ("completed", "2019", "–", "–"),  # where the deal ended, not 2,885 days to today
    )


def test_a_deal_the_ledger_does_not_hold(seeded: Engine):
    with pytest.raises(BriefNotFound, match="the ledger did not hold a deal with id 'nope'"):
        deal_brief(seeded, "nope")
    with pytest.raises(BriefNotFound, match=r"as recorded in this ledger by 23:59 on 1 Jan 2020 \(UTC\)$"):
        deal_brief(seeded, SEED_DEAL, as_of=AsOf(dt.datetime(2020, 1, 1, 23, 59, 59), "recorded"))
    with pytest.raises(BriefNotFound, match="as publicly reported by 1 Jan 2020$"):
        deal_brief(seeded, SEED_DEAL, as_of=AsOf.end_of(dt.date(2020, 1, 1)))


def test_signposts_with_their_source_and_status(engine: Engine):
    signposted = [
        row(
            date="2025-07-04",
            signpost_stage="contracted",
            signpost_by="2026-03",
            signpost_note="The minister expects a contract by March.",
        ),
        row(
            date="2025-08-01",
            summary="Talks begin.",
            stage="negotiating",
            signpost_stage="negotiating",
            signpost_by="2025-09",
            reliability="C",
            credibility="3",
            source_url="",
            source_title="Speech",
        ),
    ]
    report = import_bytes(engine, ledger_csv(*signposted), file_name="posts.csv", editor="test")
    assert report.events_added == 2, report
    brief = deal_brief(engine, "test-deal", now=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    assert brief.signposts == (
        BriefSignpost(
            "",
            "negotiating",
            "by Sep 2025",
            "reached on 1 Aug 2025",
            "",
            BriefSource("Publisher", "C3", None),
        ),
        BriefSignpost(
            "",
            "contracted",
            "by Mar 2026",
            "expected",
            "The minister expects a contract by March.",
            BriefSource("Publisher", "B2", "https://example.org/report"),
        ),
    )
    later = deal_brief(engine, "test-deal", now=dt.datetime(2026, 4, 2, tzinfo=dt.UTC))
    assert [post.status for post in later.signposts] == ["reached on 1 Aug 2025", "overdue"]


def test_signpost_statuses_count_a_later_stage_on_the_path(engine: Engine):
    rows = [
        row(date="2025-01-10", signpost_stage="agreed", signpost_by="2025-02"),
        row(date="2025-03-05", summary="Contract signed.", stage="contracted"),
    ]
    import_bytes(engine, ledger_csv(*rows), file_name="late.csv", editor="test")
    posts = signposts_of_deals(engine, ["test-deal"], today=dt.date(2026, 1, 1))
    assert list(zip(posts["stage"], posts["status"], posts["reached_on"], posts["status_text"])) == [
        ("agreed", "reached late", dt.date(2025, 3, 5), "reached late on 5 Mar 2025")
    ]


def test_a_hostile_title_is_escaped_in_html(engine: Engine):
    hostile = row(
        deal_title='<script>alert("t")</script><img src=x onerror=alert(1)>',
        summary="<b>bold</b> & <a href='javascript:alert(2)'>click</a>",
        source_publisher='"><svg onload=alert(3)>',
    )
    import_bytes(engine, ledger_csv(hostile), file_name="hostile.csv", editor="test")
    page = brief_html(deal_brief(engine, "test-deal", now=MADE_AT)).decode()
    for raw in ("<script>alert", "<img src=x", "<b>bold", "<a href='javascript", "<svg onload"):
        assert raw not in page
    assert (
        '<h1 id="brief-title">&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;'
        "&lt;img src=x onerror=alert(1)&gt;</h1>" in page
    )
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href=&#39;javascript:alert(2)&#39;&gt;click&lt;/a&gt;" in page
    assert (
        '<a href="https://example.org/report" rel="noopener noreferrer">'
        "&#34;&gt;&lt;svg onload=alert(3)&gt; (B2)</a>" in page
    )
    # The one link in the brief is the source's http(s) address; the title is escaped in <title> too.
    assert page.count('rel="noopener noreferrer"') == 1
    assert "<title>Deal brief: &lt;script&gt;" in page


def test_the_html_brief_is_self_contained(seeded: Engine):
    page = brief_html(deal_brief(seeded, SEED_DEAL, now=MADE_AT)).decode()
    assert '<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;' in page
    # plotly.js inline (Chromium checks that nothing is fetched: tests/test_brief_browser.py).
    assert "Plotly.newPlot(" in page and len(page) > 3_000_000
    assert f"Made 2026-11-25 09:30 UTC from the ledger {ledger_address(seeded)}.</p>" in page
    assert page.count("<tr>") == 1 + 14 + 1 + 3 + 1 + 20  # events, one conflict's claims, parties
    assert "@media print" in page


def test_the_docx_brief_opens_in_python_docx(seeded: Engine):
    document = Document(io.BytesIO(brief_docx(deal_brief(seeded, SEED_DEAL, now=MADE_AT))))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings == [
        "US–Ukraine Drone Deal",
        "Headline figures",
        "Stage timeline",
        "Events (14 listed)",
        "Conflicting claims",
        '3 claims about "delegation dates" give different dates (topic)',
        "Signposts",
        "Parties",
    ]
    figures, stages, events, _, parties = document.tables
    assert [len(t.rows) for t in document.tables] == [8, 3, 15, 4, 21]
    assert [c.text for c in stages.rows[2].cells] == ["negotiating", "week of 22 Sep 2025", "today", "429"]
    assert [c.text for c in events.rows[0].cells] == ["Date", "Stage", "What happened", "Sources (grade)"]
    assert events.rows[1].cells[3].text == "New York Post (B3); Devdiscourse (C3)"
    assert [c.text for c in figures.rows[1].cells] == ["Stage", "negotiating"]
    assert [c.text for c in parties.rows[1].cells] == [
        "buyer",
        "US Department of Defense",
        "ministry",
        "United States",
    ]
    # Hyperlinks: only the sources' http(s) addresses.
    links = [r.target_ref for r in document.part.rels.values() if r.reltype == DOCX_HYPERLINK]
    assert links and all(link.startswith(("https://", "http://")) for link in links)
    assert "Signposts" in headings and document.paragraphs[-1].text != ""


def test_a_view_brief_gives_each_deals_last_event_as_precisely_as_reported(engine: Engine):
    # A SIPRI transfer's last delivery is a year: the brief said "1 Jan 2023", the Deals page "2023".
    rows = [
        event_row("year", "2023", "Delivered.", source="Register", grade="A", deal_title="Year"),
        event_row("month", "2024-03", "Talks begin.", source="Wire", grade="B", deal_title="Month"),
        event_row("week", "2024-W20", "Talks go on.", source="Wire", grade="B", deal_title="Week"),
    ]
    recorded = dt.datetime(2026, 10, 1, 9)
    import_bytes(engine, ledger_csv(*rows), file_name="dates.csv", editor="test", now=recorded)
    expected = [("Week", "week of 13 May 2024"), ("Month", "Mar 2024"), ("Year", "2023")]
    now = view_brief(engine, filters=Filters(), now=MADE_AT)
    assert [(d.label, d.last_event) for d in now.deals] == expected
    # As of a day the scope recomputes each deal's last event: the same dates.
    then = view_brief(engine, filters=Filters(), as_of=AsOf.end_of(dt.date(2026, 11, 1)), now=MADE_AT)
    assert [(d.label, d.last_event) for d in then.deals] == expected


def test_docx_drops_characters_xml_cannot_hold(seeded: Engine):
    # The importer refuses control characters; a brief keeps python-docx from failing on any that get in.
    brief = replace(deal_brief(seeded, SEED_DEAL, now=MADE_AT), title="Drone\x0b deal\x00")
    document = Document(io.BytesIO(brief_docx(brief)))
    assert document.paragraphs[0].text == "Drone deal"


def test_a_view_brief_lists_a_bounded_number_of_deals_and_says_how_many_were_left_out(engine: Engine):
    import_bytes(engine, ledger_csv(*many_deals(7)), file_name="many.csv", editor="test")
    brief = view_brief(engine, filters=Filters(countries=("POL",)), now=MADE_AT, listed=2)
    assert (brief.kind, brief.title) == ("view", "Deals with Poland as buyer or seller")
    assert brief.covers == ("Deals with Poland as buyer or seller.", "The ledger as it is now.")
    assert brief.figures == (
        ("Deals", "3"),
        ("Active deals", "3"),
        ("Events", "3"),
        ("Events this month", "0"),
        ("Stale (no news for longer than usual at their stage)", "3"),
    )
    assert [(d.label, d.last_event) for d in brief.deals] == [
        ("Foxtrot 915", "6 Jan 2020"),
        ("Bravo 829", "4 Jan 2020"),
    ]
    assert (brief.deals_left_out, brief.events_left_out) == (1, 1)
    assert [(e.date, e.deal) for e in brief.events] == [
        ("6 Jan 2020", "Foxtrot 915"),
        ("4 Jan 2020", "Bravo 829"),
    ]
    assert ("announced", "3") in brief.stage_rows
    page = brief_html(brief).decode()
    assert "… and 1 more deals, left out of this brief." in page
    assert "… and 1 more events, left out of this brief." in page
    document = Document(io.BytesIO(brief_docx(brief)))
    assert [len(t.rows) for t in document.tables] == [6, 10, 3, 3]


def test_a_view_brief_as_of_a_date(three: Engine):
    as_of = AsOf.end_of(dt.date.today(), "recorded")
    brief = view_brief(three, filters=Filters(stages=("negotiating",)), as_of=as_of, now=MADE_AT)
    assert [(d.label, d.stage) for d in brief.deals] == [("Beta air defence", "negotiating")]
    day = format_partial_date(dt.date.today(), "day")
    assert brief.covers[1] == (
        f"The ledger as recorded in this ledger by the end of {day} (UTC): events recorded later are left "
        "out, stages are recomputed from the events recorded by then, and grades and roles are those of then."
    )
    reported = view_brief(three, filters=Filters(), as_of=AsOf.end_of(dt.date.today()), now=MADE_AT)
    assert reported.covers[1].startswith(f"The ledger as publicly reported by {day}: an event shows once")


def test_a_view_brief_finds_conflicts_in_the_listed_deals(seeded: Engine):
    brief = view_brief(seeded, filters=Filters(), now=MADE_AT)
    assert [(c.deal, c.kind) for c in brief.conflicts] == [("US–Ukraine Drone Deal", "topic")]
    assert isinstance(brief.conflicts[0].claims[0], BriefClaim)


@pytest.mark.parametrize(
    ("query", "filters", "as_of", "ignored"),
    [
        ("", Filters(), None, []),
        ("?stage=negotiating&country=USA", Filters(stages=("negotiating",), countries=("USA",)), None, []),
        (
            "http://localhost:8501/deals?country=UKR&country_as=seller&q=+drones+&as_of=2025-10-01#top",
            Filters(countries=("UKR",), country_role="seller", text="drones"),
            AsOf.end_of(dt.date(2025, 10, 1)),
            [],
        ),
        (
            "as_of=2025-10-01&as_of_mode=recorded",
            Filters(),
            AsOf.end_of(dt.date(2025, 10, 1), "recorded"),
            [],
        ),
        (
            "as_of=2025-10-01&as_of_mode=published",
            Filters(),
            AsOf.end_of(dt.date(2025, 10, 1)),
            [("as_of_mode", "published", "is not a way to read the ledger as of a date")],
        ),
        (
            "stage=nope&grade=B&sort=title",
            Filters(min_reliability="B"),
            None,
            [("stage", "nope", "not an option of “Current stage”")],
        ),
        ("since=2025-13-01", Filters(), None, [("since", "2025-13-01", "is not a date")]),
    ],
)
def test_a_view_from_a_dashboard_address(seeded: Engine, query, filters, as_of, ignored):
    view = view_from_query(query, queries.filter_options(seeded), today=dt.date.today())
    assert (view.filters, view.as_of) == (filters, as_of)
    assert [(key, raw, problem.message) for key, raw, problem in view.ignored] == ignored


def test_the_ledger_address_never_shows_a_password():
    engine = create_engine(
        "postgresql+psycopg://analyst:s3cret@db.example:5432/ledger?sslpassword=x&sslmode=require"
    )
    assert ledger_address(engine) == "postgresql+psycopg://analyst@db.example:5432/ledger?sslmode=require"
