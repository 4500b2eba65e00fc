"""Add from article (editors only): paste a news report, correct the rows the drafter proposes in a grid
beside the sentences they came from, then check, preview and commit them as an upload is.

The rows reach the ledger only through `tracker.importer.import_bytes`, written in the upload format by
`tracker.drafting.review`; the importer's problems name the grid's rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pandas as pd
import streamlit as st

from tracker.columns import COLUMN_BY_NAME
from tracker.display import escape_markdown
from tracker.drafting import ArticleSource, Draft, draft_article, review
from tracker.drafting.text import MAX_ARTICLE_CHARACTERS
from tracker.errors import DraftRefused, ImportRejected, Problem
from tracker.importer import UPLOAD_LIMIT_BYTES, ImportReport, import_bytes
from tracker.views import common, editors, importing
from tracker.vocab import RELIABILITY, SOURCE_KINDS

DRAFTED = "article-draft"  # the Drafted in the grid
DRAFT_NUMBER = "article-draft-number"  # counts drafts in this session: a new draft gets a new, empty grid
DRAFT_REFUSED = "article-draft-refused"  # why the last "Draft rows" drafted nothing, shown once
CHECKED = "article-checked"  # the Checked result of the last "Check rows"
COMMITTED = "article-committed"  # draft number -> Committed: drafts already imported
# The form's widgets.
TEXT, TITLE, PUBLISHER, PUBLISHED, URL, KIND = (
    f"article-{name}" for name in ("text", "title", "publisher", "published", "url", "kind")
)
# The source fields, typed once for every row: the widget labels, which the problem table uses too.
SOURCE_LABELS = {
    "source_title": "Title",
    "source_publisher": "Publisher",
    "source_date": "Published on",
    "source_url": "URL",
    "source_kind": "Kind of source",
    "reliability": "Source reliability",
}
# The form's widgets and their empty values.
FORM_FIELDS = {TEXT: "", TITLE: "", PUBLISHER: "", PUBLISHED: None, URL: "", KIND: "news"}
# New rows start with the draft's deal and its states: an added row is mostly another party or event.
ROW_DEFAULT_LANDS = frozenset({"deal", "state role"})
WIDE_COLUMNS = frozenset({review.FROM_ARTICLE, "summary", "note", "source_excerpt"})
# The cells a reviewer checks first come first; the others follow in the upload format's order.
FIRST_COLUMNS = ("date", "stage", "party", "party_role", "summary")
COLUMN_ORDER = (
    *review.READ_ONLY_COLUMNS,
    *FIRST_COLUMNS,
    *(c for c in review.GRID_COLUMNS if c not in FIRST_COLUMNS),
)
ROW_HEIGHT = 70  # twice the default row: the grid then wraps text, and a sentence shows three lines


@dataclasses.dataclass(frozen=True, slots=True)
class Drafted:
    number: int
    draft: Draft
    text: str  # the article and its date as drafted: changing them afterwards needs a new draft
    published: dt.date


@dataclasses.dataclass(frozen=True, slots=True)
class Checked:
    """A dry run of the rows whose upload-format bytes have this digest: its report or its problems."""

    sha256: str
    report: ImportReport | None = None
    problems: tuple[Problem, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Committed:
    import_id: int | None
    deals: tuple[str, ...]


def _source(published: dt.date) -> ArticleSource:
    state = st.session_state
    return ArticleSource(
        published=published,
        publisher=state.get(PUBLISHER, ""),
        title=state.get(TITLE, ""),
        url=state.get(URL, ""),
    )


def _draft() -> None:
    """Draft the article in the form (a callback, so the page that follows shows the draft at once)."""
    state = st.session_state
    text, published = state.get(TEXT, ""), state.get(PUBLISHED)
    if published is None:
        state[DRAFT_REFUSED] = (
            "Give the publication date: relative dates (“on Monday”, “last week”) are counted from it."
        )
        return
    try:
        draft = draft_article(text, source=_source(published), engine=common.ledger())
    except DraftRefused as refused:
        state[DRAFT_REFUSED] = f"Nothing drafted: {refused}."
        return
    number = state.get(DRAFT_NUMBER, 0) + 1
    state[DRAFT_NUMBER] = number
    state[DRAFTED] = Drafted(number, draft, text, published)
    state.pop(CHECKED, None)


def _located(rows: review.ReviewedRows, problems: list[Problem]) -> tuple[Problem, ...]:
    """The importer's problems by grid row, those of the source fields named as the form names them."""
    located = rows.located(problems)
    return tuple(
        dataclasses.replace(p, column=f"{SOURCE_LABELS[p.column]} (above)")
        if p.column in SOURCE_LABELS
        else p
        for p in located
    )


def _check(rows: review.ReviewedRows, *, name: str, sha256: str) -> None:
    """A dry run: nothing is written; the result is kept for these exact rows."""
    editor = editors.editor_for_write()
    try:
        report = import_bytes(
            common.ledger(),
            rows.data,
            file_name=name,
            editor=editor,
            dry_run=True,
            max_bytes=UPLOAD_LIMIT_BYTES,
        )
        st.session_state[CHECKED] = Checked(sha256, report=report)
    except ImportRejected as rejected:
        st.session_state[CHECKED] = Checked(sha256, problems=_located(rows, rejected.problems))


def _commit(
    rows: review.ReviewedRows, *, name: str, sha256: str, number: int, deals: tuple[str, ...]
) -> None:
    editor = editors.editor_for_write()
    progress = st.progress(0.0, text="Starting the import")
    try:
        report = import_bytes(
            common.ledger(),
            rows.data,
            file_name=name,
            editor=editor,
            max_bytes=UPLOAD_LIMIT_BYTES,
            progress=lambda fraction, text: progress.progress(fraction, text=text),
        )
    except ImportRejected as rejected:  # the ledger changed since the check
        st.session_state[CHECKED] = Checked(sha256, problems=_located(rows, rejected.problems))
        st.rerun()
    # Remembered so reruns never offer these rows again (the grid keeps them after the write).
    st.session_state.setdefault(COMMITTED, {})[number] = Committed(report.import_id, deals)
    del st.session_state[CHECKED]
    importing.after_write(report.describe())


def _by_row(report: ImportReport, rows: review.ReviewedRows) -> ImportReport:
    """The dry run's new events with the grid row they come from in place of the CSV line."""
    if "line" not in report.new_events:
        return report
    return dataclasses.replace(
        report, new_events=report.new_events.assign(line=rows.grid_rows(report.new_events["line"]))
    )


def _column_config(draft: Draft) -> dict[str, object]:
    first = draft.rows[0].cells if draft.rows else {}
    config: dict[str, object] = {
        "_index": st.column_config.NumberColumn("Row", help="Problems found by the check name this row."),
        review.EVENT: st.column_config.TextColumn(
            "Event", width="small", disabled=True, pinned=True, help="Rows of one drafted event share it."
        ),
        review.FROM_ARTICLE: st.column_config.TextColumn(
            "From the article",
            width="large",
            disabled=True,
            help="The sentences the row was drafted from, numbered as under “The article, sentence by "
            "sentence”.",
        ),
        review.READ_FROM: st.column_config.TextColumn(
            "Read from",
            width="medium",
            disabled=True,
            help="The words of the article each value was read from.",
        ),
    }
    for name in review.GRID_COLUMNS:
        column = COLUMN_BY_NAME[name]
        config[name] = st.column_config.TextColumn(
            name,
            width="large" if name in WIDE_COLUMNS else None,
            help=column.meaning,
            default=first.get(name) if column.lands in ROW_DEFAULT_LANDS and first.get(name) else None,
        )
    return config


def _sentences(draft: Draft) -> pd.DataFrame:
    events: dict[int, list[str]] = {}
    for row in draft.rows:
        for index in row.sentences:
            events.setdefault(index, [])
            if str(row.event + 1) not in events[index]:
                events[index].append(str(row.event + 1))
    return pd.DataFrame(
        {
            "sentence": [s.index + 1 for s in draft.sentences],
            "events": [", ".join(events.get(s.index, [])) for s in draft.sentences],
            "text": [s.text for s in draft.sentences],
        }
    )


def _start_over() -> None:
    """Empty the form for the next article (a callback: widgets take new values only before they run)."""
    for key, empty in FORM_FIELDS.items():
        st.session_state[key] = empty
    st.session_state.pop(DRAFTED, None)
    st.session_state.pop(CHECKED, None)


def _show_committed(committed: Committed) -> None:
    st.info(
        f"These rows were imported as import #{committed.import_id}; an import is undone on the Upload page.",
        icon=":material/done_all:",
    )
    st.button("Start another article", key="new-article", type="primary", on_click=_start_over)
    for deal_id in committed.deals:
        st.page_link(
            common.DEAL_PAGE,
            label=f"Open the deal page of {escape_markdown(deal_id)}",
            icon=":material/open_in_new:",
            query_params={"deal": deal_id},
        )
    st.page_link(common.UPLOAD_PAGE, label="Go to Upload (import history, undo)", icon=":material/undo:")


def _show_draft(drafted: Drafted, *, text: str, published: dt.date | None) -> None:
    """What the drafter made of the article, and what changed since."""
    draft = drafted.draft
    st.subheader("Draft rows")
    if text != drafted.text or (published is not None and published != drafted.published):
        st.warning(
            "The article text or its publication date changed since this draft. Draft again so that dates "
            "are counted from them (the edits made in the grid are then dropped).",
            icon=":material/sync_problem:",
        )
    events = len({row.event for row in draft.rows})
    if draft.rows:
        st.caption(
            escape_markdown(
                f"{len(draft.rows)} rows for {events} events; {draft.deal_reason}. Every value is a "
                "suggestion: correct any cell, delete rows with the bin, add rows with +."
            )
        )
    else:
        st.info(
            "No development of a deal found in the text: nothing drafted. Add rows by hand with + in the "
            "grid, or paste another article.",
            icon=":material/search_off:",
        )
    with st.expander("The article, sentence by sentence"):
        st.dataframe(
            _sentences(draft),
            key=f"article-sentences-{drafted.number}",
            hide_index=True,
            column_config={
                "sentence": st.column_config.NumberColumn("Sentence", width="small"),
                "events": st.column_config.TextColumn("Drafted into event", width="small"),
                "text": st.column_config.TextColumn("Text", width="large"),
            },
        )


def _reliability(drafted: Drafted) -> str:
    """The source's grade, the drafter's suggestion first (one per draft: a new draft suggests anew)."""
    suggested = drafted.draft.rows[0].cells["reliability"] if drafted.draft.rows else ""
    grades = list(RELIABILITY)
    chosen = st.selectbox(
        SOURCE_LABELS["reliability"],
        grades,
        index=grades.index(suggested) if suggested in RELIABILITY else None,
        format_func=lambda grade: f"{grade} – {RELIABILITY[grade].lower()}",
        key=f"article-reliability-{drafted.number}",
        placeholder="not judged (F for a source new to the ledger)",
        help="Suggested from the grade the ledger gives this publisher most often; the notes say so.",
        width=420,
    )
    return chosen or ""


def _check_and_commit(
    rows: review.ReviewedRows, *, source: ArticleSource, number: int, deals: tuple[str, ...]
) -> None:
    """The upload's flow for the grid: check (a dry run), then the problems or the preview and commit."""
    if not rows.rows_by_line:
        st.button("Check rows", key="check-draft", type="primary", disabled=True)
        st.caption("The grid has no rows to check: add rows with +, or draft again.")
        return
    name = review.import_name(source)
    sha256 = hashlib.sha256(rows.data).hexdigest()
    if st.button("Check rows", key="check-draft", type="primary"):
        _check(rows, name=name, sha256=sha256)
    checked: Checked | None = st.session_state.get(CHECKED)
    if checked is None:
        st.caption("Check the rows first: nothing is written until you commit.")
    elif checked.sha256 != sha256:
        st.caption("The rows or the source fields changed since the last check: check them again.")
    elif checked.report is None:
        importing.show_problems(
            list(checked.problems),
            what_next="Correct the rows named below (or the source fields above) and check again.",
            key="article-problems",
            line_label="Row",
        )
    elif checked.report.nothing_new:
        st.info(escape_markdown(checked.report.describe()), icon=":material/info:")
    else:
        importing.preview(_by_row(checked.report, rows), key="article", what="The rows", line_label="Row")
        if st.button("Commit import", key="commit-draft", type="primary"):
            _commit(rows, name=name, sha256=sha256, number=number, deals=deals)


def _review(drafted: Drafted, *, text: str, published: dt.date | None) -> None:
    _show_draft(drafted, text=text, published=published)
    reliability = _reliability(drafted)
    committed: Committed | None = st.session_state.get(COMMITTED, {}).get(drafted.number)
    grid = st.data_editor(
        review.grid_frame(drafted.draft),
        key=f"article-grid-{drafted.number}",
        num_rows="dynamic",
        hide_index=False,
        column_order=COLUMN_ORDER,
        column_config=_column_config(drafted.draft),
        row_height=ROW_HEIGHT,
        height="content",
        disabled=committed is not None,
    )
    if committed is not None:
        _show_committed(committed)
        return
    for warning in review.split_events(grid):
        st.warning(escape_markdown(warning), icon=":material/call_split:")
    source = _source(published or drafted.published)
    rows = review.reviewed_rows(
        grid, source=source, reliability=reliability, source_kind=st.session_state.get(KIND) or "news"
    )
    deals = tuple(dict.fromkeys(v for v in grid["deal_id"].map(review.cell_text) if v))
    _check_and_commit(rows, source=source, number=drafted.number, deals=deals)


common.page_header("Add from article", None)
importing.show_written_message()
importing.signed_in_editor()

st.caption(
    "Paste a news report and give its source once. The drafter proposes ledger rows from it (offline rules "
    "over the ledger's own vocabularies: see docs/drafting.md for what it reads and its limits); you "
    "correct them, check them as an upload is checked, and commit. Nothing is written until you commit."
)
text = st.text_area(
    "Article text",
    key=TEXT,
    height=260,
    max_chars=MAX_ARTICLE_CHARACTERS,
    placeholder="Paste the article's text (plain text; one article at a time).",
)
title_column, publisher_column = st.columns([3, 2])
title_column.text_input(
    SOURCE_LABELS["source_title"], key=TITLE, max_chars=COLUMN_BY_NAME["source_title"].max_length
)
publisher_column.text_input(
    SOURCE_LABELS["source_publisher"],
    key=PUBLISHER,
    max_chars=COLUMN_BY_NAME["source_publisher"].max_length,
    help="Who published it: its grade in the ledger is suggested as the reliability.",
)
date_column, url_column, kind_column = st.columns([1, 3, 1])
published = date_column.date_input(
    SOURCE_LABELS["source_date"],
    value=None,
    key=PUBLISHED,
    min_value=common.EARLIEST_DATE,
    max_value=dt.date.today(),
    format="YYYY-MM-DD",
)
url_column.text_input(
    SOURCE_LABELS["source_url"],
    key=URL,
    max_chars=COLUMN_BY_NAME["source_url"].max_length,
    placeholder="https://…",
    help="The article's http(s) address. A title or a URL is needed.",
)
kind_column.selectbox(SOURCE_LABELS["source_kind"], list(SOURCE_KINDS), key=KIND)
drafted: Drafted | None = st.session_state.get(DRAFTED)
st.button(
    "Draft again" if drafted else "Draft rows",
    key="draft-article",
    type="secondary" if drafted else "primary",
    help="Drafting again drops the edits made in the grid." if drafted else None,
    on_click=_draft,
)
if DRAFT_REFUSED in st.session_state:
    st.error(escape_markdown(st.session_state.pop(DRAFT_REFUSED)), icon=":material/error:")
if drafted is not None:
    _review(drafted, text=text, published=published)
