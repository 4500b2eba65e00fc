"""The capture forms (editors only): log an event (on a deal page, or with a new deal), correct or retract an
event, regrade a source or re-rate a claim, and edit a deal's attributes and tags.

The event forms only gather cells: they build upload-format rows (dicts keyed by tracker.columns names) and
hand them to the importer as a file's rows would be (tracker.importer.import_rows), so the importer's
problems are what the analyst sees, next to the fields they concern, and a dry run's preview comes first.
Corrections, retractions, regrades and edits are tracker.revisions calls. Every write checks the editor
where it writes (tracker.views.editors.editor_for_write); the forms are shown only to editors.

Widget keys are "<form>-<generation>-<field>": saving a form starts a new generation, so the next run
shows it empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from tracker import queries, revisions
from tracker.attributes import shown_change
from tracker.columns import COLUMNS
from tracker.countries import all_countries
from tracker.display import escape_markdown
from tracker.errors import CorrectionRefused, ImportRejected, Problem
from tracker.importer import ImportReport, import_rows, rows_digest
from tracker.views import common, editors, importing
from tracker.vocab import CREDIBILITY, PARTY_KINDS, RELIABILITY, ROLES, SOURCE_KINDS, STAGE_NAMES

MAX_SOURCES = 10
MAX_PARTIES = 10
EXISTING, NEW = "existing", "new"
DATE_HELP = (
    "Any precision the upload format takes: 2025-09-29, 2025-09 (a month), 2025 (a year), 2025-W39 (a week), "
    "2025-09-29/2025-10-02 (a span), 29 Sep 2025."
)
ADDED_COUNTRIES = "Countries this event adds to the deal; the deal's buyers and sellers stay as they are."
VALUE_HELP = (
    "An amount, optionally with a unit: 250000000, 250m, 1.5bn. Give the low end, the high end, or both."
)
COUNTRY_NAMES = {country.code: country.name for country in all_countries()}
SIGNPOST_COLUMNS = frozenset(column.name for column in COLUMNS if column.lands == "signpost")


# --- the editor and the form's state ---------------------------------------------------------------------


def editor_here() -> str | None:
    """The editor signed in in this session, who may see the forms; None for anyone else."""
    return importing.allowed_editor()


def _generation(form: str) -> int:
    return int(st.session_state.get(f"{form}-generation", 0))


def _key(form: str, name: str) -> str:
    return f"{form}-{_generation(form)}-{name}"


def _start_over(form: str) -> None:
    """The next run shows the form empty (new widget keys) and forgets its last check."""
    st.session_state[f"{form}-generation"] = _generation(form) + 1
    st.session_state.pop(f"{form}-checked", None)


# --- the writes: each checks the editor where it writes ---------------------------------------------------
# A request that reaches one of these without editor rights (a forged one, or rights that ended meanwhile)
# writes nothing: editor_for_write sends it back to the login.


def log_rows(rows: list[dict[str, str]], *, label: str) -> ImportReport:
    """Import the rows a form built, for the signed-in editor."""
    editor = editors.editor_for_write()
    return import_rows(common.ledger(), rows, label=label, editor=editor)


def retract(event_id: int, *, reason: str) -> revisions.Revision:
    editor = editors.editor_for_write()
    return revisions.retract_event(common.ledger(), event_id, reason=reason, editor=editor)


def correct(event_id: int, rows: list[dict[str, str]], *, reason: str) -> revisions.Correction:
    editor = editors.editor_for_write()
    return revisions.correct_event(common.ledger(), event_id, rows, reason=reason, editor=editor)


def regrade(source_id: int, grade: str, *, reason: str) -> revisions.Revision:
    editor = editors.editor_for_write()
    return revisions.regrade_source(common.ledger(), source_id, grade, reason=reason, editor=editor)


def rerate(event_id: int, source_id: int, credibility: int, *, reason: str) -> revisions.Revision:
    editor = editors.editor_for_write()
    return revisions.rerate_claim(
        common.ledger(), event_id, source_id, credibility, reason=reason, editor=editor
    )


def edit(deal_id: str, cells: dict[str, str], *, reason: str) -> revisions.DealEdit:
    editor = editors.editor_for_write()
    return revisions.edit_deal(common.ledger(), deal_id, cells, editor=editor, reason=reason)


# --- problems next to the fields -------------------------------------------------------------------------


@dataclass
class _Problems:
    """The importer's problems of the last check, shown at the fields they concern.

    Rows are numbered from 1; row i holds source min(i, sources) - 1 and party i - 1 (see `_rows`).
    """

    problems: list[Problem]
    sources: int
    shown: set[int] = field(default_factory=set)

    def at(
        self, columns: tuple[str, ...] | str, *, source: int | None = None, party: int | None = None
    ) -> None:
        names = (columns,) if isinstance(columns, str) else columns
        seen_here: set[tuple[str | None, str]] = set()
        for number, problem in enumerate(self.problems):
            if problem.column not in names or number in self.shown:
                continue
            row = (problem.line or 1) - 1
            if source is not None and min(row, self.sources - 1) != source:
                continue
            if party is not None and row != party:
                continue
            self.shown.add(number)
            if (problem.column, problem.message) in seen_here:  # the same problem repeated on every row
                continue
            seen_here.add((problem.column, problem.message))
            st.error(
                f"{escape_markdown(problem.message)}. {escape_markdown(problem.fix)}", icon=":material/error:"
            )

    def rest(self) -> None:
        """Problems no field showed (e.g. about the file as a whole)."""
        for number, problem in enumerate(self.problems):
            if number not in self.shown:
                st.error(escape_markdown(str(problem)), icon=":material/error:")


_NO_PROBLEMS = _Problems([], 1)


def _checked(form: str, rows: list[dict[str, str]]) -> dict[str, Any] | None:
    """The last check of this form, if it checked exactly these rows."""
    checked = st.session_state.get(f"{form}-checked")
    if checked is None or checked["digest"] != rows_digest(rows):
        return None
    return checked


def _problems_of(form: str, sources: int) -> _Problems:
    checked = st.session_state.get(f"{form}-checked")
    if checked is None or "problems" not in checked:
        return _NO_PROBLEMS
    return _Problems(checked["problems"], max(sources, 1))


# --- the fields ------------------------------------------------------------------------------------------


def _country_picker(
    form: str, name: str, label: str, default: list[str] | None = None, *, help_text: str | None = None
) -> str:
    codes = st.multiselect(
        label,
        list(COUNTRY_NAMES),
        default=default or [],
        key=_key(form, name),
        format_func=lambda code: f"{COUNTRY_NAMES[code]} ({code})",
        placeholder="none",
        help=help_text,
    )
    return ";".join(codes)


def _event_fields(
    form: str, problems: _Problems, *, defaults: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Date, stage, summary, value and quantity claims, topic, note and a signpost: the event's own cells."""
    given = defaults or {}
    cells: dict[str, str] = {}
    date_column, stage_column = st.columns(2)
    with date_column:
        cells["date"] = st.text_input(
            "Date",
            value=given.get("date", ""),
            key=_key(form, "date"),
            help=DATE_HELP,
            placeholder="e.g. 2025-09-29 or 2025-09",
        )
        problems.at("date")
    with stage_column:
        stages = ["", *STAGE_NAMES]
        cells["stage"] = st.selectbox(
            "Stage",
            stages,
            index=stages.index(given.get("stage", "")),
            key=_key(form, "stage"),
            format_func=lambda stage: stage or "no change of stage",
            help="The stage this event moves the deal to; none when it does not change it.",
        )
        problems.at("stage")
    cells["summary"] = st.text_area(
        "What happened", value=given.get("summary", ""), key=_key(form, "summary"), height=80
    )
    problems.at("summary")
    low_column, high_column, currency_column, quantity_column = st.columns(4)
    for column, name, label in (
        (low_column, "value_low", "Value claimed, low"),
        (high_column, "value_high", "Value claimed, high"),
        (currency_column, "currency", "Currency"),
        (quantity_column, "quantity", "Quantity claimed"),
    ):
        with column:
            cells[name] = st.text_input(
                label,
                value=given.get(name, ""),
                key=_key(form, name),
                help=VALUE_HELP if name.startswith("value") else None,
                placeholder={"currency": "USD", "quantity": "units"}.get(name, "e.g. 1.5bn"),
            )
            problems.at(name)
    topic_column, note_column = st.columns([1, 2])
    with topic_column:
        cells["topic"] = st.text_input(
            "Topic",
            value=given.get("topic", ""),
            key=_key(form, "topic"),
            help="A short key shared by events that claim things about one matter, e.g. delegation dates.",
        )
        problems.at("topic")
    with note_column:
        cells["note"] = st.text_area("Note", value=given.get("note", ""), key=_key(form, "note"), height=68)
        problems.at("note")
    st.markdown("**Expected next** (a signpost, optional)")
    expected_column, by_column = st.columns(2)
    with expected_column:
        cells["signpost_stage"] = st.selectbox(
            "Expected stage",
            stages,
            index=stages.index(given.get("signpost_stage", "")),
            key=_key(form, "signpost_stage"),
            format_func=lambda stage: stage or "none expected",
            help="A milestone the source says is expected next; it is overdue on the Overview and the "
            "Changes page when its date passes before the deal reaches it.",
        )
        problems.at("signpost_stage")
    with by_column:
        cells["signpost_by"] = st.text_input(
            "Expected by",
            value=given.get("signpost_by", ""),
            key=_key(form, "signpost_by"),
            help=DATE_HELP,
            placeholder="e.g. 2026-03 or 2026",
        )
        problems.at("signpost_by")
    cells["signpost_note"] = st.text_input(
        "Expected, in the source's words",
        value=given.get("signpost_note", ""),
        key=_key(form, "signpost_note"),
        placeholder="e.g. contract expected by March 2026",
    )
    problems.at("signpost_note")
    return cells


def _source_label(source: Any) -> str:
    name = " — ".join(
        str(part) for part in (source.publisher, source.title) if isinstance(part, str) and part
    )
    where = f" — {source.url}" if isinstance(source.url, str) and source.url else ""
    return f"{name or 'unnamed source'}{where} ({source.reliability})"


def _existing_source(form: str, index: int, deal_id: str | None, preset: int | None) -> dict[str, str] | None:
    search = st.text_input(
        "Find a source",
        key=_key(form, f"source-{index}-search"),
        placeholder="words of its title, publisher or URL",
    )
    found = common.read(queries.find_sources, text=search, deal_id=deal_id)
    sources = {int(row.source_id): row for row in found.itertuples(index=False)}
    if not sources:
        st.caption("No source matches; enter it as a new source.")
        return None
    ids = list(sources)
    chosen = st.selectbox(
        "Source",
        ids,
        index=ids.index(preset) if preset in sources else 0,
        # The key follows the search, so a new search offers its own first match.
        key=_key(form, f"source-{index}-pick-{search.strip().casefold()}"),
        format_func=lambda source_id: _source_label(sources[source_id]),
    )
    source = sources[chosen]
    return {
        "source_key": source.key,
        "source_title": source.title or ("" if source.url else source.publisher or source.key),
        "source_publisher": source.publisher or "",
        "source_url": source.url or "",
    }


def _new_source(form: str, index: int, problems: _Problems) -> dict[str, str]:
    cells: dict[str, str] = {}
    title_column, publisher_column = st.columns([2, 1])
    with title_column:
        cells["source_title"] = st.text_input("Title", key=_key(form, f"source-{index}-title"))
        problems.at("source_title", source=index)
    with publisher_column:
        cells["source_publisher"] = st.text_input("Publisher", key=_key(form, f"source-{index}-publisher"))
        problems.at("source_publisher", source=index)
    cells["source_url"] = st.text_input(
        "Address (URL)", key=_key(form, f"source-{index}-url"), placeholder="https://…"
    )
    problems.at("source_url", source=index)
    date_column, kind_column, grade_column = st.columns(3)
    with date_column:
        cells["source_date"] = st.text_input(
            "Published", key=_key(form, f"source-{index}-date"), help=DATE_HELP, placeholder="e.g. 2025-09-29"
        )
        problems.at("source_date", source=index)
    with kind_column:
        cells["source_kind"] = st.selectbox(
            "Kind", list(SOURCE_KINDS), key=_key(form, f"source-{index}-kind")
        )
    with grade_column:
        cells["reliability"] = st.selectbox(
            "Reliability",
            list(RELIABILITY),
            index=len(RELIABILITY) - 1,
            key=_key(form, f"source-{index}-reliability"),
            format_func=lambda letter: f"{letter}: {RELIABILITY[letter]}",
            help="NATO Admiralty code: how reliable this source is in general.",
        )
        problems.at("reliability", source=index)
    return cells


def _source_fields(
    form: str, index: int, problems: _Problems, *, deal_id: str | None, preset: tuple[int, int] | None = None
) -> dict[str, str] | None:
    """One source of the event: an existing one (found by title, publisher or URL) or a new one with its
    reliability, and the credibility of this claim."""
    with st.container(border=True):
        where = st.segmented_control(
            f"Source {index + 1}",
            [EXISTING, NEW],
            default=EXISTING if preset is not None else NEW,
            required=True,
            key=_key(form, f"source-{index}-where"),
            format_func={EXISTING: "already in the ledger", NEW: "new source"}.__getitem__,
        )
        if where == EXISTING:
            cells = _existing_source(form, index, deal_id, preset[0] if preset else None)
            problems.at(("source_key", "source_title", "source_url", "reliability"), source=index)
        else:
            cells = _new_source(form, index, problems)
        credibility_column, excerpt_column = st.columns([1, 2])
        with credibility_column:
            grades = list(CREDIBILITY)
            credibility = st.selectbox(
                "Credibility of this claim",
                grades,
                index=grades.index(preset[1]) if preset else len(grades) - 1,
                key=_key(form, f"source-{index}-credibility"),
                format_func=lambda digit: f"{digit}: {CREDIBILITY[digit]}",
                help="NATO Admiralty code: how credible this source's claim of this event is.",
            )
            problems.at("credibility", source=index)
        with excerpt_column:
            excerpt = st.text_area(
                "The source's words (optional)", key=_key(form, f"source-{index}-excerpt"), height=68
            )
            problems.at("source_excerpt", source=index)
    if cells is None:
        return None
    return {**cells, "credibility": str(credibility), "source_excerpt": excerpt}


def _party_fields(form: str, index: int, problems: _Problems) -> dict[str, str] | None:
    """One named party with its role: one in the ledger, or a new one with its kind and country."""
    with st.container(border=True):
        where = st.segmented_control(
            f"Party {index + 1}",
            [EXISTING, NEW],
            default=EXISTING,
            required=True,
            key=_key(form, f"party-{index}-where"),
            format_func={EXISTING: "already in the ledger", NEW: "new party"}.__getitem__,
        )
        cells: dict[str, str] | None
        if where == EXISTING:
            search = st.text_input(
                "Find a party", key=_key(form, f"party-{index}-search"), placeholder="words of its name"
            )
            found = common.read(queries.find_parties, text=search)
            parties = {int(row.party_id): row for row in found.itertuples(index=False)}
            if not parties:
                st.caption("No party matches; enter it as a new party.")
                cells = None
            else:
                chosen = st.selectbox(
                    "Party",
                    list(parties),
                    key=_key(form, f"party-{index}-pick-{search.strip().casefold()}"),
                    format_func=lambda party_id: _party_label(parties[party_id]),
                )
                party = parties[chosen]
                cells = {
                    "party": party.name,
                    "party_kind": party.kind,
                    "party_country": party.country_code or "",
                }
            problems.at(("party", "party_kind", "party_country", "party_parent"), party=index)
        else:
            name_column, kind_column, country_column = st.columns(3)
            with name_column:
                name = st.text_input("Name", key=_key(form, f"party-{index}-name"))
                problems.at("party", party=index)
            with kind_column:
                kind = st.selectbox(
                    "Kind", list(PARTY_KINDS), index=None, key=_key(form, f"party-{index}-kind")
                )
                problems.at("party_kind", party=index)
            with country_column:
                country = st.selectbox(
                    "Country",
                    list(COUNTRY_NAMES),
                    index=None,
                    key=_key(form, f"party-{index}-country"),
                    format_func=lambda code: f"{COUNTRY_NAMES[code]} ({code})",
                    placeholder="none",
                )
                problems.at("party_country", party=index)
            cells = {"party": name, "party_kind": kind or "", "party_country": country or ""}
        role = st.selectbox(
            "Role in the deal",
            list(ROLES),
            index=None,
            key=_key(form, f"party-{index}-role"),
            help="; ".join(f"{role}: {meaning}" for role, meaning in ROLES.items()),
        )
        problems.at("party_role", party=index)
    if cells is None:
        return None
    return {**cells, "party_role": role or ""}


def _party_label(party: Any) -> str:
    country = f", {party.country_code}" if isinstance(party.country_code, str) and party.country_code else ""
    return f"{party.name} ({party.kind}{country})"


def _rows(
    cells: Mapping[str, str], sources: list[dict[str, str]], parties: list[dict[str, str]]
) -> list[dict[str, str]]:
    """The upload-format rows of one event: row i holds the event's cells, source min(i, last) and party i
    (as an export lays out an event told by several sources and naming several parties)."""
    count = max(len(sources), len(parties), 1)
    # A signpost is stated once, by the event's first source.
    later = {name: value for name, value in cells.items() if name not in SIGNPOST_COLUMNS}
    return [
        {
            **(cells if row == 0 else later),
            **(sources[min(row, len(sources) - 1)] if sources else {}),
            **(parties[row] if row < len(parties) else {}),
        }
        for row in range(count)
    ]


# --- check, then save ------------------------------------------------------------------------------------


def _check_and_save(
    form: str,
    rows: list[dict[str, Any]],
    *,
    what: str,
    check: Callable[[], ImportReport],
    save: Callable[[], str],
    after: Callable[[str], None] = importing.after_write,
) -> None:
    """The "Check" button (a dry run: the importer's problems at the fields, or its preview), then "Save"
    for exactly the rows checked."""
    if st.button("Check", key=_key(form, "check"), type="primary", icon=":material/fact_check:"):
        editors.editor_for_write()
        try:
            report = check()
            st.session_state[f"{form}-checked"] = {"digest": rows_digest(rows), "report": report}
        except ImportRejected as rejected:
            st.session_state[f"{form}-checked"] = {"digest": rows_digest(rows), "problems": rejected.problems}
        except CorrectionRefused as refused:
            st.session_state[f"{form}-checked"] = {"digest": rows_digest(rows), "refused": str(refused)}
        st.rerun()  # the problems show at their fields, which were drawn before the button
    checked = _checked(form, rows)
    if checked is None:
        st.caption("Check first: nothing is written until you save.")
        return
    if "problems" in checked:
        count = len(checked["problems"])
        st.error(
            f"{count} problem{'s' if count != 1 else ''} found, shown at the fields above; nothing was "
            "written.",
            icon=":material/error:",
        )
        _Problems(
            checked["problems"], 1, shown={n for n, p in enumerate(checked["problems"]) if p.column}
        ).rest()
        return
    if "refused" in checked:
        st.error(escape_markdown(checked["refused"]), icon=":material/block:")
        return
    report: ImportReport = checked["report"]
    if report.nothing_new:
        st.info(escape_markdown(report.describe()), icon=":material/info:")
        return
    importing.preview(report, key=form, what=what)
    if st.button("Save to the ledger", key=_key(form, "save"), type="primary", icon=":material/save:"):
        try:
            message = save()
        except ImportRejected as rejected:  # the ledger changed since the check
            st.session_state[f"{form}-checked"] = {"digest": rows_digest(rows), "problems": rejected.problems}
            st.rerun()
        except CorrectionRefused as refused:
            st.session_state[f"{form}-checked"] = {"digest": rows_digest(rows), "refused": str(refused)}
            st.rerun()
        _start_over(form)
        after(message)


def _count(form: str, name: str, label: str, *, low: int, high: int, default: int, help_text: str) -> int:
    return int(
        st.number_input(
            label, min_value=low, max_value=high, value=default, step=1, key=_key(form, name), help=help_text
        )
    )


def _sources_and_parties(
    form: str, problems: _Problems, *, deal_id: str | None, parties: bool = True
) -> tuple[list[dict[str, str]], list[dict[str, str]], int]:
    st.markdown("**Sources**")
    source_count = _count(form, "sources", "How many sources", low=1, high=MAX_SOURCES, default=1,
                          help_text="Every event rests on at least one source.")  # fmt: skip
    sources = [_source_fields(form, i, problems, deal_id=deal_id) for i in range(source_count)]
    named: list[dict[str, str] | None] = []
    if parties:
        st.markdown("**Named parties**")
        party_count = _count(form, "parties", "How many named parties", low=0, high=MAX_PARTIES, default=0,
                             help_text="Ministries, companies, people … with a role in the deal (the buying "
                             "and selling states are given above).")  # fmt: skip
        named = [_party_fields(form, i, problems) for i in range(party_count)]
    return [s for s in sources if s is not None], [p for p in named if p is not None], source_count


# --- log an event ----------------------------------------------------------------------------------------


def add_event(deal_id: str) -> None:
    """The deal page's "Add event" form: an event of this deal, its sources and parties."""
    form = "add-event"
    problems = _problems_of(form, int(st.session_state.get(_key(form, "sources"), 1)))
    cells = {"deal_id": deal_id, **_event_fields(form, problems)}
    buyer_column, seller_column = st.columns(2)
    with buyer_column:
        # "none" here reads as "remove them" unless said otherwise: an event only adds countries.
        cells["buyer"] = _country_picker(form, "buyer", "Buying countries", help_text=ADDED_COUNTRIES)
        problems.at("buyer")
    with seller_column:
        cells["seller"] = _country_picker(form, "seller", "Selling countries", help_text=ADDED_COUNTRIES)
        problems.at("seller")
    sources, parties, _ = _sources_and_parties(form, problems, deal_id=deal_id)
    rows = _rows(cells, sources, parties)
    label = f"form: event of {deal_id}"

    def save() -> str:
        return log_rows(rows, label=label).describe()

    _check_and_save(
        form,
        rows,
        what="The event",
        check=lambda: import_rows(common.ledger(), rows, label=label, editor="", dry_run=True),
        save=save,
    )


def _slug(title: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", title.casefold()))[:100].strip("-")


def new_deal() -> None:
    """The "New deal" page's form: the deal's own attributes and its first event."""
    form = "new-deal"
    problems = _problems_of(form, int(st.session_state.get(_key(form, "sources"), 1)))
    st.markdown("**The deal**")
    title_column, id_column = st.columns([2, 1])
    with title_column:
        title = st.text_input("Title", key=_key(form, "deal_title"), placeholder="e.g. Poland K2 tanks")
        problems.at("deal_title")
    with id_column:
        deal_id = st.text_input(
            "Deal id",
            key=_key(form, "deal_id"),
            placeholder=_slug(title) or "poland-k2-tanks",
            help="Lowercase letters, digits and hyphens; empty: made from the title.",
        ).strip() or _slug(title)
        problems.at("deal_id")
    cells = {"deal_id": deal_id, "deal_title": title}
    cells["deal_summary"] = st.text_area("Description of the deal", key=_key(form, "deal_summary"), height=68)
    problems.at("deal_summary")
    category_column, tags_column = st.columns(2)
    with category_column:
        cells["category"] = st.text_input("Category", key=_key(form, "category"), placeholder="e.g. tanks")
        problems.at("category")
    with tags_column:
        cells["tags"] = st.text_input("Tags", key=_key(form, "tags"), placeholder="separated by ;")
        problems.at("tags")
    buyer_column, seller_column = st.columns(2)
    with buyer_column:
        cells["buyer"] = _country_picker(form, "buyer", "Buying countries")
        problems.at("buyer")
    with seller_column:
        cells["seller"] = _country_picker(form, "seller", "Selling countries")
        problems.at("seller")
    st.markdown("**The first event**")
    cells.update(_event_fields(form, problems))
    sources, parties, _ = _sources_and_parties(form, problems, deal_id=None)
    rows = _rows(cells, sources, parties)
    if deal_id and common.read(queries.deal_header, deal_id) is not None:
        st.error(
            f"The ledger holds a deal with id {escape_markdown(deal_id)} already: add the event on its page, "
            "or give this deal another id.",
            icon=":material/error:",
        )
        st.page_link(common.DEAL_PAGE, label="Open that deal", query_params={"deal": deal_id})
        return
    label = f"form: new deal {deal_id}"

    def save() -> str:
        return log_rows(rows, label=label).describe()

    def opened(message: str) -> None:
        common.clear_ledger_caches()
        st.session_state[importing.MESSAGE] = message
        common.open_deal(deal_id)

    _check_and_save(
        form,
        rows,
        what="The deal",
        check=lambda: import_rows(common.ledger(), rows, label=label, editor="", dry_run=True),
        save=save,
        after=opened,
    )


# --- correct, retract, regrade -----------------------------------------------------------------------------


def _event_label(event: Any) -> str:
    stage = f" · {event.stage}" if isinstance(event.stage, str) and event.stage else ""
    summary = event.summary if len(event.summary) <= 90 else event.summary[:89] + "…"
    return f"#{event.event_id} {event.date}{stage} · {summary}"


def _number_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _reason(form: str, label: str = "Reason") -> str:
    return st.text_input(
        label, key=_key(form, "reason"), placeholder="recorded with the change, shown in the history"
    )


def event_actions(deal_id: str, events: pd.DataFrame, sources: pd.DataFrame) -> None:
    """Correct, retract or regrade one of the deal's events (its current ones)."""
    if events.empty:
        return
    form = "event-actions"
    by_id = {int(row.event_id): row for row in events.itertuples(index=False)}
    chosen = st.selectbox(
        "Event",
        list(by_id),
        index=len(by_id) - 1,
        # The key follows the events shown: after an event is added or retracted, the latest is offered.
        key=_key(form, f"event-{len(by_id)}-{max(by_id)}"),
        format_func=lambda event_id: _event_label(by_id[event_id]),
    )
    action = st.segmented_control(
        "Change",
        ["retract", "correct", "grades"],
        default="retract",
        required=True,
        key=_key(form, "action"),
        format_func={"retract": "Retract", "correct": "Correct", "grades": "Regrade its sources"}.__getitem__,
    )
    event = by_id[chosen]
    if action == "retract":
        _retract(form, deal_id, event)
    elif action == "correct":
        _correct(f"correct-{chosen}", deal_id, event, sources[sources["event_id"] == chosen])
    else:
        _grades(form, event, sources[sources["event_id"] == chosen])


def _retract(form: str, deal_id: str, event: Any) -> None:
    st.caption(
        "The event leaves the current views and the deal's stage and dates are recomputed; the as-of views "
        "before now still show it. Undo the retraction in the History tab."
    )
    reason = _reason(form)
    if st.button("Retract this event", key=_key(form, "retract"), icon=":material/undo:"):
        try:
            done = retract(int(event.event_id), reason=reason)
        except CorrectionRefused as refused:
            st.error(escape_markdown(str(refused)), icon=":material/block:")
            return
        _start_over(form)
        importing.after_write(done.description)


def _correct(form: str, deal_id: str, event: Any, sources: pd.DataFrame) -> None:
    st.caption(
        'The corrected event replaces this one, which is retracted with it; the history reads "corrected on '
        '… by …: was …, now …".'
    )
    problems = _problems_of(form, len(sources))
    defaults = {
        "date": event.date_text,
        "stage": event.stage if isinstance(event.stage, str) else "",
        "summary": event.summary,
        "value_low": _number_text(event.value_low),
        "value_high": _number_text(event.value_high),
        "currency": event.currency if isinstance(event.currency, str) else "",
        "quantity": _number_text(event.quantity),
        "topic": event.topic if isinstance(event.topic, str) else "",
        "note": event.note if isinstance(event.note, str) else "",
    }
    cells = {"deal_id": deal_id, **_event_fields(form, problems, defaults=defaults)}
    st.markdown("**Sources**")
    presets = [(int(s.source_id), int(s.credibility)) for s in sources.itertuples(index=False)]
    count = _count(form, "sources", "How many sources", low=1, high=MAX_SOURCES, default=max(len(presets), 1),
                   help_text="Every event rests on at least one source.")  # fmt: skip
    picked = [
        _source_fields(form, i, problems, deal_id=deal_id, preset=presets[i] if i < len(presets) else None)
        for i in range(count)
    ]
    reason = _reason(form)
    rows = _rows(cells, [s for s in picked if s is not None], [])
    ledger = common.ledger()

    def check() -> ImportReport:
        return revisions.correct_event(
            ledger, int(event.event_id), rows, reason=reason, editor="", dry_run=True
        ).report

    def save() -> str:
        done = correct(int(event.event_id), rows, reason=reason)
        return (
            f"Corrected event #{done.retracted}: event #{done.replacement} replaces it "
            f"(change #{done.report.import_id})."
        )

    # The reason is part of what was checked: a correction needs one.
    _check_and_save(form, [*rows, {"reason": reason}], what="The correction", check=check, save=save)


def _grades(form: str, event: Any, sources: pd.DataFrame) -> None:
    if sources.empty:
        st.caption("This event has no source.")
        return
    by_id = {int(row.source_id): row for row in sources.itertuples(index=False)}
    chosen = st.selectbox(
        "Source",
        list(by_id),
        key=_key(form, f"grade-source-{int(event.event_id)}"),
        format_func=lambda source_id: (
            f"{_source_label(by_id[source_id])}, claim {by_id[source_id].credibility}"
        ),
    )
    source = by_id[chosen]
    reliability_column, credibility_column = st.columns(2)
    with reliability_column:
        letters = list(RELIABILITY)
        reliability = st.selectbox(
            "Reliability of the source",
            letters,
            index=letters.index(source.reliability),
            key=_key(form, f"grade-reliability-{chosen}"),
            format_func=lambda letter: f"{letter}: {RELIABILITY[letter]}",
            help="For every event the source supports.",
        )
    with credibility_column:
        digits = list(CREDIBILITY)
        credibility = st.selectbox(
            "Credibility of its claim of this event",
            digits,
            index=digits.index(int(source.credibility)),
            key=_key(form, f"grade-credibility-{int(event.event_id)}-{chosen}"),
            format_func=lambda digit: f"{digit}: {CREDIBILITY[digit]}",
        )
    reason = _reason(form)
    changed = reliability != source.reliability or credibility != int(source.credibility)
    if st.button(
        "Save the grades", key=_key(form, "save-grades"), disabled=not changed, icon=":material/grade:"
    ):
        editors.editor_for_write()
        done = []
        try:
            if reliability != source.reliability:
                done.append(regrade(chosen, reliability, reason=reason))
            if credibility != int(source.credibility):
                done.append(rerate(int(event.event_id), chosen, credibility, reason=reason))
        except CorrectionRefused as refused:
            if not done:
                st.error(escape_markdown(str(refused)), icon=":material/block:")
                return
        _start_over(form)
        importing.after_write(" ".join(revision.description for revision in done))


# --- edit the deal ---------------------------------------------------------------------------------------


def edit_deal(deal_id: str, header: Any, tags: list[str]) -> None:
    """The deal's title, description, category, quantity, value range and tags, changed as recorded deal
    changes (tracker.revisions.edit_deal)."""
    form = "edit-deal"
    checked = st.session_state.get(f"{form}-checked")
    problems = _Problems(checked["problems"], 1) if checked and "problems" in checked else _NO_PROBLEMS
    cells: dict[str, str] = {}
    cells["deal_title"] = st.text_input("Title", value=header.title, key=_key(form, "deal_title"))
    problems.at("deal_title")
    cells["deal_summary"] = st.text_area(
        "Description", value=header.summary or "", key=_key(form, "deal_summary"), height=80
    )
    problems.at("deal_summary")
    category_column, quantity_column = st.columns(2)
    with category_column:
        cells["category"] = st.text_input("Category", value=header.category or "", key=_key(form, "category"))
        problems.at("category")
    with quantity_column:
        cells["deal_quantity"] = st.text_input(
            "Quantity", value=_number_text(header.quantity), key=_key(form, "deal_quantity")
        )
        problems.at("deal_quantity")
    low_column, high_column, currency_column = st.columns(3)
    for column, name, label, value in (
        (low_column, "deal_value_low", "Value, low", _number_text(header.value_low)),
        (high_column, "deal_value_high", "Value, high", _number_text(header.value_high)),
        (currency_column, "deal_currency", "Currency", header.currency or ""),
    ):
        with column:
            cells[name] = st.text_input(label, value=value, key=_key(form, name), help=VALUE_HELP)
            problems.at(name)
    cells["tags"] = st.text_input(
        "Tags",
        value="; ".join(tags),
        key=_key(form, "tags"),
        help="Separated by ;. Removing one is recorded.",
    )
    problems.at("tags")
    reason = st.text_input("Reason (optional)", key=_key(form, "reason"))
    digest = rows_digest([cells])
    if checked is not None and checked.get("digest") != digest:
        checked = None
    if st.button("Check", key=_key(form, "check"), icon=":material/fact_check:"):
        editors.editor_for_write()
        try:
            result: dict[str, Any] = {
                "edit": revisions.edit_deal(common.ledger(), deal_id, cells, editor="", dry_run=True)
            }
        except ImportRejected as rejected:
            result = {"problems": rejected.problems}
        except CorrectionRefused as refused:
            result = {"refused": str(refused)}
        st.session_state[f"{form}-checked"] = {"digest": digest, **result}
        st.rerun()
    if checked is None:
        st.caption("Check first: nothing is written until you save.")
        return
    if "problems" in checked:
        st.error("Fix the problems shown at the fields above; nothing was written.", icon=":material/error:")
        return
    if "refused" in checked:
        st.error(escape_markdown(checked["refused"]), icon=":material/block:")
        return
    planned: revisions.DealEdit = checked["edit"]
    if planned.nothing_new:
        st.info("Nothing would change.", icon=":material/info:")
        return
    lines = [
        f"- {escape_markdown(change.field)}: {escape_markdown(shown_change(change.field, change.old))} → "
        f"{escape_markdown(shown_change(change.field, change.new))}"
        for change in planned.changes
    ]
    if planned.tags_added:
        lines.append(f"- tags added: {escape_markdown('; '.join(planned.tags_added))}")
    if planned.tags_removed:
        lines.append(f"- tags taken off: {escape_markdown('; '.join(planned.tags_removed))}")
    st.success("The edit would change:\n" + "\n".join(lines), icon=":material/check_circle:")
    if st.button("Save the edit", key=_key(form, "save"), type="primary", icon=":material/save:"):
        try:
            done = edit(deal_id, cells, reason=reason)
        except (ImportRejected, CorrectionRefused) as refused:
            st.error(escape_markdown(str(refused)), icon=":material/block:")
            return
        _start_over(form)
        importing.after_write(f"Edited deal {deal_id} (change #{done.import_id}).")


# --- on the deal page ------------------------------------------------------------------------------------


def deal_entry_points(deal_id: str, header: Any, *, as_of: Any) -> str | None:
    """The deal page's "Add event" and "Edit the deal" for an editor (not in an as-of view, which shows the
    past); the editor, or None for anyone else."""
    importing.show_written_message()
    editor = editor_here()
    if editor is None:
        return None
    if as_of is not None:
        st.caption("Clear the as-of date in the sidebar to add, correct or retract events.")
        return editor
    # Keyed, so that they stay open when the messages above them come and go between runs.
    with st.expander("Add event", icon=":material/add_circle:", key="add-event-expander"):
        add_event(deal_id)
    with st.expander("Edit the deal", icon=":material/edit:", key="edit-deal-expander"):
        edit_deal(deal_id, header, common.read(queries.deal_tags, deal_id))
    return editor


def event_changes(
    deal_id: str, events: pd.DataFrame, sources: pd.DataFrame, *, editor: str | None, as_of: Any
) -> None:
    """The Events tab's "Correct, retract or regrade" for an editor."""
    if editor is None or as_of is not None or events.empty:
        return
    with st.expander(
        "Correct, retract or regrade an event", icon=":material/edit_note:", key="event-actions-expander"
    ):
        event_actions(deal_id, events, sources)
