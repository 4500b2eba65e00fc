"""A deal's history (the deal page's History tab): every import, form entry, retraction, correction, regrade
and edit that touched the deal, newest first, with editor, time and reason; editors can undo one."""

from __future__ import annotations

import streamlit as st

from tracker import queries
from tracker.display import escape_markdown
from tracker.errors import UndoRefused
from tracker.importer import UndoReport, undo_import
from tracker.views import common, editors, importing, tables


def undo(import_id: int) -> UndoReport:
    """Undo a change for the signed-in editor (checked where it writes)."""
    editor = editors.editor_for_write()
    return undo_import(common.ledger(), import_id, editor=editor)


def show(deal_id: str, *, editor: str | None) -> None:
    """The history table; for an `editor`, the undo of one of its changes."""
    history = common.read(queries.deal_history, deal_id)
    if history.empty:
        st.info("Nothing has been recorded for this deal.")
        return
    if len(history) == queries.HISTORY_LIMIT:
        st.caption(f"The latest {queries.HISTORY_LIMIT} changes.")
    tables.DEAL_HISTORY.show(history, key="deal-history")
    if editor is None:
        return
    labels = {
        int(row.import_id): f"#{row.import_id} {row.committed_at:%Y-%m-%d %H:%M} {row.kind} by {row.editor}"
        for row in history.itertuples(index=False)
    }
    choice_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
    chosen = choice_column.selectbox(
        "Undo a change",
        list(labels),
        format_func=labels.__getitem__,
        # The key follows the newest change, so after a write the newest is offered again.
        key=f"deal-undo-{next(iter(labels))}",
        help="Undoing a retraction brings the event back; undoing an import removes all it added, in every "
        "deal, unless a later change builds on it.",
    )
    if button_column.button("Undo", key="deal-undo-button", icon=":material/undo:"):
        try:
            result = undo(chosen)
        except UndoRefused as refused:
            st.error(escape_markdown(str(refused)), icon=":material/block:")
        else:
            importing.after_write(f"Undid change #{result.import_id} ({result.file_name}).")
