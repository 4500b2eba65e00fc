"""What every page that writes through the importer shares: the editor's sign-in, the problems of a rejected
file, the preview of a dry run, and the message and cache clearing after a write.

The upload page, the article page and the capture forms all end in `tracker.importer.import_bytes`, so
they show its problems and its preview the same way.
"""

from __future__ import annotations

import streamlit as st

from tracker.attributes import shown_change
from tracker.display import counted, escape_markdown
from tracker.errors import Problem
from tracker.importer import ImportReport
from tracker.views import common, editors, tables

MESSAGE = "written-message"  # a success message to show after the rerun that follows a write


def signed_in_editor() -> str:
    """The signed-in editor; otherwise the login form (or how to configure editors) and the page stops."""
    configured = common.configured_editors()
    editor = allowed_editor()
    if editor is None and not configured:
        st.warning(
            "No editors are configured, so nobody can change the ledger from here yet. Whoever started the "
            "dashboard can open the one-time sign-in link it printed in its console. To add an editor with a "
            "password, run\n\n`python -m tracker add-editor NAME`\n\nor run "
            "`python -m tracker hash-password NAME` and paste the line it prints into "
            "`.streamlit/secrets.toml` under `[editors]` (see `.streamlit/secrets.toml.example`), then "
            "reload this page.",
            icon=":material/lock:",
        )
        st.stop()
    if editor is None:
        editors.login_form(configured)
        st.stop()
    with st.sidebar:
        st.divider()
        st.caption(f"Logged in as editor {escape_markdown(editor)}")
        if st.button("Log out", key="logout"):
            editors.sign_out()
            st.rerun()
    return editor


def allowed_editor() -> str | None:
    """The editor signed in in this session, if they may still write: configured in secrets.toml, or
    signed in with the console's one-time link. Anyone else: None (an editor removed from secrets.toml
    since logging in is signed out)."""
    editor = editors.current_editor()
    if editor is not None and editor not in common.configured_editors() and not editors.signed_in_by_link():
        editors.sign_out()
        return None
    return editor


def show_problems(
    problems: list[Problem], *, what_next: str, key: str = "upload-problems", line_label: str = "Line"
) -> None:
    """That nothing can be imported, what to do next, and every problem with where it is, what is wrong and
    how to fix it."""
    st.error(
        f"{counted(len(problems), 'problem')} found; nothing can be imported until "
        f"{'it is' if len(problems) == 1 else 'they are'} fixed. {what_next}",
        icon=":material/error:",
    )
    rows = [
        {"line": p.line, "column": p.column, "value": p.value, "problem": p.message, "fix": p.fix}
        for p in problems
    ]
    tables.PROBLEMS.relabelled("line", line_label).show(rows, key=key)


def preview(
    report: ImportReport, *, key: str = "upload", what: str = "The file", line_label: str = "Line"
) -> None:
    """What a dry run would add: figures, the new events and the changes to deal attributes."""
    st.success(
        f"{what} can be imported. {escape_markdown(report.describe())}", icon=":material/check_circle:"
    )
    for warning in report.warnings:
        st.warning(escape_markdown(warning), icon=":material/warning:")
    events_column, new_column, updated_column, sources_column = st.columns(4)
    # Grouped as the message above groups them ("140,162 events").
    events_column.metric("New events", f"{report.events_added:,}")
    new_column.metric("New deals", f"{len(report.deals_created):,}")
    updated_column.metric("Deals updated", f"{len(report.deals_updated):,}")
    sources_column.metric("New sources", f"{report.sources_added:,}")
    if not report.new_events.empty:
        st.markdown("**New events**")
        tables.NEW_EVENTS.relabelled("line", line_label).show(report.new_events, key=f"{key}-new-events")
        if report.events_added > len(report.new_events):
            st.caption(
                f"The first {len(report.new_events):,} of the {report.events_added:,} new events, in the "
                "file's order (the import adds all of them)."
            )
    if report.stage_moves:
        st.markdown("**Stage moves**: deals of the ledger whose current stage the import moves")
        moves = [
            {"deal_id": m.deal_id, "title": m.title, "before": m.before or "no stage", "after": m.after}
            for m in report.stage_moves
        ]
        tables.STAGE_MOVES.show(moves, key=f"{key}-stage-moves")
        if report.stages_moved > len(report.stage_moves):
            shown = len(report.stage_moves)
            st.caption(f"The first {shown:,} of the {report.stages_moved:,} deals that move.")
    if report.changes:
        st.markdown("**Changes to deal attributes**")
        changes = [
            {
                "deal": c.deal_id,
                "attribute": c.field,
                "before": shown_change(c.field, c.old),
                "after import": shown_change(c.field, c.new),
            }
            for c in report.changes
        ]
        tables.ATTRIBUTE_CHANGES.show(changes, key=f"{key}-changes")


def after_write(message: str) -> None:
    """Every page must show the new ledger at once: drop the caches, then rerun the whole app."""
    common.clear_ledger_caches()
    st.session_state[MESSAGE] = message
    st.rerun()


def show_written_message() -> None:
    """The message `after_write` left for this run, once."""
    if MESSAGE in st.session_state:
        st.success(escape_markdown(st.session_state.pop(MESSAGE)), icon=":material/check_circle:")
