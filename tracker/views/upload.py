"""Upload (editors only): check a CSV, preview or list its problems, commit it; import history with undo."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from tracker import import_worker, queries
from tracker.display import escape_markdown
from tracker.errors import ImportRejected, UndoRefused
from tracker.importer import UPLOAD_LIMIT_BYTES, preview_undo, undo_import
from tracker.ledger_csv import TEMPLATE_PATH
from tracker.seed import seed_ledger
from tracker.views import common, editors, importing, tables

CHECKED = "upload-checked"  # {"file_id", "report" | "problems"}: the last "Check file" result
COMMITTED = "upload-committed"  # file ids already imported in this session -> import id
PENDING_UNDO = "undo-pending"  # the import whose undo awaits confirmation
UNDO_CHOICE = "undo-import"  # the import chosen for undo
NEWEST_OFFERED = "undo-newest-offered"  # the newest committed import when the choice was last reset to it


def _check(uploaded: UploadedFile) -> None:
    """A dry run: nothing is written; the result (preview or problems) is kept for this file."""
    editor = editors.editor_for_write()
    progress = st.progress(0.0, text="Starting the check")
    try:
        report = import_worker.run_import(
            common.database_url(),
            uploaded.getvalue(),
            file_name=uploaded.name,
            editor=editor,
            dry_run=True,
            max_bytes=UPLOAD_LIMIT_BYTES,
            progress=lambda fraction, text: progress.progress(fraction, text=text),
        )
        st.session_state[CHECKED] = {"file_id": uploaded.file_id, "report": report}
    except ImportRejected as rejected:
        st.session_state[CHECKED] = {"file_id": uploaded.file_id, "problems": rejected.problems}
    progress.empty()


def _commit(uploaded: UploadedFile) -> None:
    editor = editors.editor_for_write()
    progress = st.progress(0.0, text="Starting the import")
    st.caption("Leaving this page before the import is done cancels it: the ledger then stays as it was.")
    try:
        report = import_worker.run_import(
            common.database_url(),
            uploaded.getvalue(),
            file_name=uploaded.name,
            editor=editor,
            max_bytes=UPLOAD_LIMIT_BYTES,
            progress=lambda fraction, text: progress.progress(fraction, text=text),
        )
    except ImportRejected as rejected:  # the ledger changed since the check
        st.session_state[CHECKED] = {"file_id": uploaded.file_id, "problems": rejected.problems}
        st.rerun()
    # Remembered so reruns (the file stays in the uploader) never offer to import it again.
    st.session_state.setdefault(COMMITTED, {})[uploaded.file_id] = report.import_id
    del st.session_state[CHECKED]
    importing.after_write(report.describe())


def _forget_pending_undo() -> None:
    st.session_state.pop(PENDING_UNDO, None)


# The chosen import is kept in the session while the dialog is open, so the confirmation's own rerun
# still finds it (closing the dialog forgets it).
@st.dialog("Undo an import", on_dismiss=_forget_pending_undo)
def _confirm_undo(import_id: int) -> None:
    """Say what the undo would remove and restore (or why it cannot be done), and ask before doing it."""
    try:
        preview = preview_undo(common.ledger(), import_id)
    except UndoRefused as refused:
        st.error(f"Cannot undo: {escape_markdown(str(refused))}", icon=":material/block:")
        return
    st.markdown(escape_markdown(preview.describe()))
    confirm_column, cancel_column = st.columns(2)
    if cancel_column.button("Cancel", key="undo-cancel"):
        _forget_pending_undo()
        st.rerun()
    if confirm_column.button(f"Undo import #{import_id}", key="undo-confirm", type="primary"):
        _forget_pending_undo()
        try:
            result = undo_import(common.ledger(), import_id, editor=editors.editor_for_write())
        except UndoRefused as refused:  # the ledger changed since the preview
            st.error(f"Cannot undo: {escape_markdown(str(refused))}", icon=":material/block:")
            return
        importing.after_write(result.describe())


common.page_header("Upload", None)
importing.show_written_message()

editor = importing.signed_in_editor()
import_worker.prepare()  # ready, its imports done, by the time the editor has chosen a file

st.subheader("Import a ledger CSV")
st.download_button(
    "Download the CSV template",
    data=TEMPLATE_PATH.read_bytes(),
    file_name="ledger-template.csv",
    mime="text/csv",
    key="download-template",
    icon=":material/download:",
    on_click="ignore",
    help="The upload format's columns with one example row from the seed ledger.",
)
uploaded = st.file_uploader(
    "A ledger CSV, a workbook exported here (XLSX) or a SIPRI export",
    type=["csv", "xlsx"],
    key="upload-file",
    max_upload_size=UPLOAD_LIMIT_BYTES // 1_000_000,
)
if uploaded is not None:
    committed = st.session_state.get(COMMITTED, {})
    if uploaded.size > UPLOAD_LIMIT_BYTES:
        st.error(
            f"The file is {uploaded.size / 1e6:.1f} MB; uploads are limited to "
            f"{UPLOAD_LIMIT_BYTES / 1e6:.0f} MB. Split it, or import it with "
            "`python -m tracker import FILE`.",
            icon=":material/error:",
        )
    elif uploaded.file_id in committed:
        st.info(
            f"This file was imported as import #{committed[uploaded.file_id]}. Choose another file to "
            "import more.",
            icon=":material/done_all:",
        )
    else:
        if st.button("Check file", key="check-file", type="primary"):
            _check(uploaded)
        checked = st.session_state.get(CHECKED)
        if checked is None or checked["file_id"] != uploaded.file_id:
            st.caption("Check the file first: nothing is written until you commit.")
        elif "problems" in checked:
            importing.show_problems(
                checked["problems"], what_next="How to fix the file is in the table below."
            )
        elif checked["report"].nothing_new:
            st.info(escape_markdown(checked["report"].describe()), icon=":material/info:")
        else:
            importing.preview(checked["report"])
            if st.button("Commit import", key="commit-import", type="primary"):
                _commit(uploaded)

if common.ledger_is_empty():
    st.subheader("Seed data")
    st.markdown(
        "The ledger holds no deals. Load the seed ledger (the US–Ukraine Drone Deal) to start from "
        "an example."
    )
    if st.button("Load the seed data", key="load-seed"):
        reports = seed_ledger(common.ledger(), editor=editors.editor_for_write())
        importing.after_write(" ".join(report.describe() for report in reports))

st.subheader("Import history")
history = common.read(queries.import_history, limit=queries.HISTORY_LIMIT)
if history.empty:
    st.caption("No imports yet.")
else:
    if len(history) == queries.HISTORY_LIMIT:
        st.caption(f"The latest {queries.HISTORY_LIMIT} imports; `python -m tracker imports` lists them all.")
    tables.IMPORT_HISTORY.show(history, key="import-history")
    undoable = history[history["status"] == "committed"]
    if not undoable.empty:
        labels = {
            int(row.id): f"#{row.id} {row.file_name} ({row.committed_at:%Y-%m-%d %H:%M}, {row.editor})"
            for row in undoable.itertuples(index=False)
        }
        newest = next(iter(labels))
        if st.session_state.get(NEWEST_OFFERED) != newest:
            # A new import (or an undo) offers the newest again: the browser would keep showing its last
            # choice unless the value is set.
            st.session_state[NEWEST_OFFERED] = st.session_state[UNDO_CHOICE] = newest
        choice_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
        chosen = choice_column.selectbox(
            "Undo an import",
            list(labels),
            format_func=labels.__getitem__,
            key=UNDO_CHOICE,
            help="Removes what the import added and restores the deal attributes it changed, unless a later "
            "import builds on it. You are asked to confirm first.",
        )
        if button_column.button("Undo import…", key="undo-button"):
            st.session_state[PENDING_UNDO] = chosen
        if st.session_state.get(PENDING_UNDO) is not None:
            _confirm_undo(st.session_state[PENDING_UNDO])
