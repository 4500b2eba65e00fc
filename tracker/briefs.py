"""Briefs to hand over: one deal, or a filtered view, as a document an analyst can pass on.

`deal_brief` and `view_brief` assemble a `Brief` from `tracker.queries` (the same reads as the pages);
`brief_html` and `brief_docx` render it. The HTML file is self-contained: the chart's plotly.js is
embedded from the installed plotly package and a Content-Security-Policy forbids any request beyond
the file itself, so it opens and prints offline. Ledger text is escaped everywhere (Jinja2's
autoescape) and only http(s) source addresses become links, in HTML and in DOCX alike.

A view brief is bounded: it lists at most `LISTED` deals and `LISTED` events (the latest first) and says
how many it left out, so a view of 30,000 deals makes a brief of the same size as one of 300.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
import plotly.graph_objects as go
from docx import Document
from docx.document import Document as WordDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from tracker import charts, queries, signposts
from tracker.attributes import DEAL_ATTRIBUTES
from tracker.conflicts import find_conflicts
from tracker.dates import format_partial_date
from tracker.display import is_web_url, value_range_text
from tracker.errors import TrackerError
from tracker.filters import Filters
from tracker.knowledge import AsOf
from tracker.stages import TimeInStage

BriefKind = Literal["deal", "view"]
BriefFormat = Literal["html", "docx"]
FORMATS: dict[str, str] = {
    "html": "text/html",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
LISTED = 200  # deals and events a view brief lists; the rest are counted, not listed
TEMPLATES = Path(__file__).resolve().parent / "templates"
# Query parameters of a database URL that can carry a secret (PostgreSQL's sslpassword, a token).
_SECRET_PARAMETER = re.compile(r"pass|secret|token|key", re.IGNORECASE)
# Characters XML 1.0 cannot hold (python-docx refuses them): C0 controls but tab and line breaks.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class BriefNotFound(TrackerError):
    """The ledger holds no deal with that id (or did not yet, as of the date)."""


@dataclass(frozen=True, slots=True)
class BriefSource:
    name: str  # publisher, else title
    grade: str  # e.g. "B3"
    url: str | None  # http(s) only


@dataclass(frozen=True, slots=True)
class BriefEvent:
    date: str  # as reported: "4 Jul 2025", "Jul 2025"
    deal: str  # the deal's label, tracker.labels (view briefs; "" in a deal brief)
    stage: str
    summary: str
    sources: tuple[BriefSource, ...]  # best grade first


@dataclass(frozen=True, slots=True)
class BriefClaim:
    date: str
    stage: str
    value: str
    summary: str
    sources: str  # "LIGA.net (B3); Devdiscourse (C3)"


@dataclass(frozen=True, slots=True)
class BriefConflict:
    deal: str
    kind: str  # tracker.conflicts.ConflictKind
    title: str
    claims: tuple[BriefClaim, ...]


@dataclass(frozen=True, slots=True)
class BriefSignpost:
    deal: str
    stage: str
    expected: str  # "by Mar 2026"
    status: str  # the deal page's words too: "reached late on 5 Mar 2025" (tracker.signposts)
    note: str
    source: BriefSource


@dataclass(frozen=True, slots=True)
class BriefParty:
    role: str
    name: str
    kind: str
    country: str


@dataclass(frozen=True, slots=True)
class BriefDeal:
    label: str  # the deal's name as the pages show it (tracker.labels)
    stage: str
    buyers: str
    sellers: str
    value: str
    last_event: str


@dataclass(frozen=True, slots=True)
class Brief:
    """Everything a brief says, as plain text and one chart; renderers add no facts of their own."""

    kind: BriefKind
    title: str
    covers: tuple[str, ...]  # which deals, the scope and the as-of date, in words
    made_at: dt.datetime  # UTC
    ledger: str  # the ledger's address without any password
    figures: tuple[tuple[str, str], ...]  # headline figures: label, value
    chart: go.Figure  # the timeline (deal) or deals by stage (view)
    stage_columns: tuple[str, ...]  # the chart's data as a table (DOCX has no interactive chart)
    stage_rows: tuple[tuple[str, ...], ...]
    deals: tuple[BriefDeal, ...]  # view briefs
    deals_left_out: int
    events: tuple[BriefEvent, ...]
    events_left_out: int
    conflicts: tuple[BriefConflict, ...]
    signposts: tuple[BriefSignpost, ...]
    parties: tuple[BriefParty, ...]  # deal briefs

    @property
    def heading(self) -> str:
        return "Deal brief" if self.kind == "deal" else "View brief"


# --- assembling -----------------------------------------------------------------------------------------


def ledger_address(engine: Engine) -> str:
    """The ledger's URL with its password, and any query parameter that may hold a secret, removed."""
    # URL.set ignores None, so the password is cleared with the named tuple's _replace.
    url = make_url(engine.url.render_as_string(hide_password=False))._replace(password=None)
    kept = {name: value for name, value in url.query.items() if not _SECRET_PARAMETER.search(name)}
    return url.set(query=kept).render_as_string(hide_password=False)


def _as_of_words(as_of: AsOf | None) -> str:
    return "The ledger as it is now." if as_of is None else as_of.explained()


def _day(day: dt.date | None) -> str:
    return format_partial_date(day, "day") if day is not None and not pd.isna(day) else ""


def _reported(day: dt.date, precision: str | None) -> str:
    """A date as precisely as it was reported ("week of 22 Sep 2025", "2023"), as the pages show it."""
    return format_partial_date(day, precision or "day")


def _stage_rows(intervals: pd.DataFrame) -> tuple[tuple[str, str, str, str], ...]:
    """Each run of a stage: from and to as precisely as reported (a run ends where the next one starts:
    "Jul 2025" to "week of 22 Sep 2025", not 1 Jul to 22 Sep), the current one to today; a completed or
    cancelled deal's last stage has neither an end nor days (as the deal page's time in each stage)."""
    runs = list(intervals.itertuples(index=False))
    rows = []
    for run, following in zip(runs, [*runs[1:], None], strict=True):
        if run.final:
            rows.append((run.stage, _reported(run.start, run.start_precision), "–", "–"))
            continue
        if run.ongoing:
            end = "today"
        elif following is not None and following.start == run.end:
            end = _reported(following.start, following.start_precision)
        elif run.end == run.start:
            end = _reported(run.start, run.start_precision)
        else:
            end = _day(run.end)
        rows.append((run.stage, _reported(run.start, run.start_precision), end, str(run.days)))
    return tuple(rows)


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _sources_by_event(sources: pd.DataFrame) -> dict[int, tuple[BriefSource, ...]]:
    """Each event's sources, best grade first (the order `queries` returns them in)."""
    listed: dict[int, list[BriefSource]] = {}
    columns = ("event_id", "publisher", "title", "grade", "url")
    for event_id, publisher, title, grade, url in zip(*(sources[c] for c in columns)):
        name = next((n for n in (publisher, title) if isinstance(n, str) and n), "unnamed source")
        listed.setdefault(int(event_id), []).append(
            BriefSource(name, grade, url if is_web_url(url) else None)
        )
    return {event_id: tuple(items) for event_id, items in listed.items()}


def _events(events: pd.DataFrame, sources: pd.DataFrame, *, with_deal: bool) -> tuple[BriefEvent, ...]:
    by_event = _sources_by_event(sources)
    return tuple(
        BriefEvent(
            date=_text(row.date),
            deal=_text(row.deal_label) if with_deal else "",
            stage=_text(row.stage),
            summary=_text(row.summary),
            sources=by_event.get(int(row.event_id), ()),
        )
        for row in events.itertuples(index=False)
    )


def _conflicts(events: pd.DataFrame, sources: pd.DataFrame, deal: str) -> list[BriefConflict]:
    return [
        BriefConflict(
            deal=deal,
            kind=conflict.kind,
            title=conflict.title,
            claims=tuple(
                BriefClaim(_text(c.date), _text(c.stage), _text(c.value), _text(c.summary), _text(c.sources))
                for c in conflict.claims.itertuples(index=False)
            ),
        )
        for conflict in find_conflicts(events, sources)
    ]


def _signposts(
    engine: Engine, deal_ids: list[str], *, today: dt.date, as_of: AsOf | None, with_deal: bool
) -> tuple[BriefSignpost, ...]:
    posts = signposts.signposts_of_deals(engine, deal_ids, today=today, as_of=as_of)
    return tuple(
        BriefSignpost(
            deal=_text(row.deal_label) if with_deal else "",
            stage=row.stage,
            expected=f"by {row.expected}",
            status=row.status_text,
            note=_text(row.note),
            source=BriefSource(row.source, row.grade, row.source_url if is_web_url(row.source_url) else None),
        )
        for row in posts.itertuples(index=False)
    )


def _made_at(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)


def deal_brief(
    engine: Engine, deal_id: str, *, as_of: AsOf | None = None, now: dt.datetime | None = None
) -> Brief:
    """The brief of one deal, as its page shows it (as of the end of a day, if given). BriefNotFound when
    the ledger does not hold the deal."""
    made_at = _made_at(now)
    header = queries.deal_header(engine, deal_id, as_of=as_of)
    if header is None:
        when = f" {as_of.words()}" if as_of is not None else ""
        raise BriefNotFound(f"the ledger did not hold a deal with id {deal_id!r}{when}")
    today = as_of.day if as_of is not None else made_at.date()
    events = queries.deal_events(engine, deal_id, as_of=as_of)
    sources = queries.deal_event_sources(engine, deal_id, as_of=as_of)
    intervals = queries.deal_stage_intervals(engine, deal_id, today=today, as_of=as_of)
    roles = queries.deal_roles(engine, deal_id, as_of=as_of)
    tenure = TimeInStage.of(header.stage, header.stage_since, header.stage_since_precision, today=today)
    since = (tenure.label, tenure.since if tenure.days is None else f"{tenure.since} ({tenure.days:,} days)")
    figures = [
        ("Stage", header.stage or "none stated"),
        since,
        ("Value", value_range_text(header.value_low, header.value_high, header.currency) or "not stated"),
        ("Events", str(header.event_count)),
        ("Buyers", header.buyers or "not stated"),
        ("Sellers", header.sellers or "not stated"),
        *(
            (attribute.label, attribute.show(header.text(attribute)))
            for attribute in DEAL_ATTRIBUTES
            if attribute.in_facts and header.text(attribute) is not None
        ),
    ]
    covers = (f"The whole deal {deal_id!r}: a deal brief does not apply the filters.", _as_of_words(as_of))
    if header.summary:
        covers = (*covers, f"Summary: {header.summary}")
    return Brief(
        kind="deal",
        title=header.label,
        covers=covers,
        made_at=made_at,
        ledger=ledger_address(engine),
        figures=tuple(figures),
        chart=charts.stage_timeline(intervals, title="Stages over time"),
        stage_columns=("Stage", "From", "To", "Days"),
        stage_rows=_stage_rows(intervals),
        deals=(),
        deals_left_out=0,
        events=_events(events, sources, with_deal=False),
        events_left_out=0,
        conflicts=tuple(_conflicts(events, sources, "")),
        signposts=_signposts(engine, [deal_id], today=today, as_of=as_of, with_deal=False),
        parties=tuple(
            BriefParty(_text(r.role), _text(r.party), _text(r.kind), _text(r.country))
            for r in roles.itertuples(index=False)
        ),
    )


def view_brief(
    engine: Engine,
    *,
    filters: Filters,
    as_of: AsOf | None = None,
    now: dt.datetime | None = None,
    listed: int = LISTED,
) -> Brief:
    """The brief of a filtered view: figures and deals by stage as the overview shows them, then the
    first `listed` deals and events (latest first) with the conflicts and signposts of those deals."""
    made_at = _made_at(now)
    today = as_of.day if as_of is not None else made_at.date()
    thresholds = queries.stale_thresholds(engine)
    overview = queries.overview(engine, filters=filters, today=today, as_of=as_of, thresholds=thresholds)
    rows = queries.view_rows(engine, filters=filters, as_of=as_of, deal_limit=listed, event_limit=listed)
    deal_ids = [str(i) for i in rows.deals["deal_id"]]
    names = dict(zip(rows.deals["deal_id"], rows.deals["label"]))
    all_events, sources = queries.events_of_deals(engine, deal_ids, as_of=as_of)
    # Every kind of conflict takes two events: deals with one (most SIPRI transfers) are not searched,
    # which took a view brief of 30,000 one-event deals from 16 s to 3.3 s (pandas' cost per call).
    conflicts = [
        conflict
        for deal_id, events in all_events.groupby("deal_id", sort=False)
        if len(events) > 1
        for conflict in _conflicts(
            events.reset_index(drop=True),
            sources[sources["event_id"].isin(events["event_id"])],
            names[deal_id],
        )
    ]
    options = queries.filter_options(engine)
    names = dict(zip(options.parties["party_id"], options.parties["label"]))
    caption = filters.caption(party_names=lambda party_id: names.get(party_id, f"party #{party_id}"))
    figures = overview.figures
    return Brief(
        kind="view",
        title=caption,
        covers=(f"{caption}.", _as_of_words(as_of)),
        made_at=made_at,
        ledger=ledger_address(engine),
        figures=(
            ("Deals", f"{figures.deals:,}"),
            ("Active deals", f"{figures.active_deals:,}"),
            ("Events", f"{rows.event_total:,}"),
            ("Events this month", f"{figures.events_this_month:,}"),
            ("Stale (no news for longer than usual at their stage)", f"{figures.stale_deals:,}"),
        ),
        chart=charts.stage_bar(overview.by_stage),
        stage_columns=("Stage", "Deals"),
        stage_rows=tuple((row.stage, str(row.deals)) for row in overview.by_stage.itertuples(index=False)),
        deals=tuple(
            BriefDeal(
                _text(r.label),
                _text(r.stage),
                _text(r.buyers),
                _text(r.sellers),
                r.value,
                _text(r.last_event),
            )
            for r in rows.deals.itertuples(index=False)
        ),
        deals_left_out=rows.deal_total - len(rows.deals),
        events=_events(rows.events, rows.event_sources, with_deal=True),
        events_left_out=rows.event_total - len(rows.events),
        conflicts=tuple(conflicts),
        signposts=_signposts(engine, deal_ids, today=today, as_of=as_of, with_deal=True),
        parties=(),
    )


# --- HTML -----------------------------------------------------------------------------------------------

# The file may load nothing but itself: inline scripts and styles (plotly.js and its figure), data: images.
# Even a crafted string that escaped the escaping could not make the browser fetch anything.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
    "font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'"
)
_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True
)


def brief_html(brief: Brief) -> bytes:
    """The brief as one self-contained HTML file (UTF-8)."""
    chart = brief.chart.to_html(
        full_html=False,
        include_plotlyjs=True,  # plotly.js from the installed package, inline: no CDN
        config={"displaylogo": False, "responsive": True},
        default_width="100%",
    )
    page = _ENVIRONMENT.get_template("brief.html.j2").render(
        brief=brief,
        # plotly's output escapes "</" in the figure's JSON, so ledger text in it cannot close the script.
        chart=Markup(chart),
        made_at=f"{brief.made_at:%Y-%m-%d %H:%M} UTC",
        policy=CONTENT_SECURITY_POLICY,
    )
    return page.encode("utf-8")


# --- DOCX -----------------------------------------------------------------------------------------------

_LINK_COLOUR = RGBColor(0x05, 0x63, 0xC1)


def _docx_text(value: object) -> str:
    """Ledger text as XML can hold it (python-docx refuses control characters)."""
    return _NOT_XML.sub("", _text(value))


def _add_link(paragraph: Paragraph, text: str, url: str) -> None:
    """An external hyperlink run; only called with http(s) addresses (`BriefSource.url`)."""
    relationship = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), relationship)
    run = paragraph.add_run(_docx_text(text))
    run.font.color.rgb = _LINK_COLOUR
    run.font.underline = True
    link.append(run._r)
    paragraph._p.append(link)


def _sources_cell(paragraph: Paragraph, sources: tuple[BriefSource, ...]) -> None:
    for i, source in enumerate(sources):
        if i:
            paragraph.add_run("; ")
        label = f"{source.name} ({source.grade})"
        if source.url is not None and is_web_url(source.url):
            _add_link(paragraph, label, source.url)
        else:
            paragraph.add_run(_docx_text(label))


def _table(document: WordDocument, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> Table:
    """A table with a bold header row; cells holding BriefSource tuples become source lists."""
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, columns):
        cell.paragraphs[0].add_run(name).bold = True
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values):
            if isinstance(value, tuple):
                _sources_cell(cell.paragraphs[0], value)
            else:
                cell.paragraphs[0].add_run(_docx_text(value))
    return table


def _left_out(document: WordDocument, count: int, what: str) -> None:
    if count > 0:
        document.add_paragraph().add_run(
            f"… and {count:,} more {what}, left out of this brief."
        ).italic = True


def brief_docx(brief: Brief) -> bytes:
    """The brief as an editable Word document: headings, tables of figures, stages, events (with their
    sources, linked when http(s), and grades), conflicts, signposts and parties. The chart is given as
    the table of its data (see the README: no offline chart image renderer is installed)."""
    document = Document()
    document.styles["Normal"].font.size = Pt(10)
    document.add_heading(_docx_text(brief.title), level=0)
    document.add_paragraph(brief.heading).runs[0].bold = True
    for line in brief.covers:
        document.add_paragraph(_docx_text(line))
    document.add_paragraph(
        f"Made {brief.made_at:%Y-%m-%d %H:%M} UTC from the ledger {_docx_text(brief.ledger)}"
    )
    document.add_heading("Headline figures", level=1)
    _table(document, ("Figure", "Value"), list(brief.figures))
    document.add_heading("Stage timeline" if brief.kind == "deal" else "Deals by stage", level=1)
    _table(document, brief.stage_columns, list(brief.stage_rows))
    if brief.kind == "view":
        document.add_heading(f"Deals ({len(brief.deals):,} listed)", level=1)
        _table(
            document,
            ("Deal", "Stage", "Buyers", "Sellers", "Value", "Last event"),
            [(d.label, d.stage, d.buyers, d.sellers, d.value, d.last_event) for d in brief.deals],
        )
        _left_out(document, brief.deals_left_out, "deals")
    document.add_heading(f"Events ({len(brief.events):,} listed)", level=1)
    columns = ("Deal", "Date", "Stage", "What happened", "Sources (grade)")
    rows = [(e.deal, e.date, e.stage, e.summary, e.sources) for e in brief.events]
    skip = 1 if brief.kind == "deal" else 0
    _table(document, columns[skip:], [row[skip:] for row in rows])
    _left_out(document, brief.events_left_out, "events")
    document.add_heading("Conflicting claims", level=1)
    if not brief.conflicts:
        document.add_paragraph("None found.")
    for conflict in brief.conflicts:
        where = f"{conflict.deal}: " if conflict.deal else ""
        document.add_heading(_docx_text(f"{where}{conflict.title} ({conflict.kind})"), level=2)
        _table(
            document,
            ("Date", "Stage", "Value", "Claim", "Sources (grade)"),
            [(c.date, c.stage, c.value, c.summary, c.sources) for c in conflict.claims],
        )
    document.add_heading("Signposts", level=1)
    if not brief.signposts:
        document.add_paragraph("None recorded.")
    else:
        columns = ("Deal", "Expected stage", "When", "Status", "Note", "Source (grade)")
        rows = [(s.deal, s.stage, s.expected, s.status, s.note, (s.source,)) for s in brief.signposts]
        skip = 1 if brief.kind == "deal" else 0  # a deal brief is about one deal
        _table(document, columns[skip:], [row[skip:] for row in rows])
    if brief.kind == "deal":
        document.add_heading("Parties", level=1)
        _table(
            document,
            ("Role", "Party", "Kind", "Country"),
            [(p.role, p.name, p.kind, p.country) for p in brief.parties],
        )
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def render(brief: Brief, format: BriefFormat) -> bytes:
    return brief_html(brief) if format == "html" else brief_docx(brief)
