"""What Streamlit's server lets any visitor do that this dashboard does not.

1. Hold files in the server's memory. Streamlit's upload endpoint (PUT /_stcore/upload_file/<session>/<id>)
   keeps a file for any session id that is connected, signed in or not, and frees it only if the session
   is shut down (a session dropped from the reconnect store never is): 20 anonymous uploads held 1 GB for
   good. Here a file is kept only for a session with editor rights on the connection that signed in
   (EditorSessions), one file per session (the upload page has one single-file uploader), and every file
   of a session that is gone, signed out or idle is released within ten seconds.
2. Clear every user's caches. Any websocket client may send Streamlit's "clear_cache" message, which
   empties st.cache_data and st.cache_resource for all sessions. Here it is ignored (and logged): the
   caches are cleared only after an editor's write (tracker.views.common.clear_ledger_caches).

Why these hooks: Streamlit 1.67 makes one MemoryUploadedFileManager when the server starts and hands that
same object to the upload route, the runtime and every session, so it cannot be swapped after start; its
class is changed instead to a subclass whose add_file asks first (the object and its state stay as they
are). The route reads the body before it calls add_file, so a refused upload costs one request's memory
(at most server.maxUploadSize) while it is being refused, and nothing after. Cache clearing is a message
type of Streamlit's protocol ("clear_cache"), filtered in AppSession.handle_backmsg, the one method every
message goes through. Both are installed from dashboard.py, so they take effect with the first page run
after the server starts; files uploaded before that are released at installation. tests/test_server.py
checks both against a real `streamlit run` server.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from tracker.auth import connection_id
from tracker.views.editors import EDITOR_SESSIONS, WEBSOCKET_KEY

RELEASE_EVERY_SECONDS = 10.0

log = logging.getLogger(__name__)


def _connection_of(session_id: str) -> str:
    """The connection a session is on now, as tracker.auth.connection_id names it ("" when none)."""
    client = Runtime.instance().get_client(session_id)
    context = getattr(client, "client_context", None)
    if context is None:
        return ""
    wanted = WEBSOCKET_KEY.lower()
    return connection_id(next((value for name, value in context.headers if name.lower() == wanted), None))


def _holds_editor(session_id: str) -> bool:
    return Runtime.instance().is_active_session(session_id) and EDITOR_SESSIONS.holds_editor(
        session_id, connection=_connection_of(session_id)
    )


class EditorOnlyUploads(MemoryUploadedFileManager):
    """Streamlit's in-memory upload store, keeping files for signed-in editors only (see the module)."""

    def add_file(self, session_id: str, file: UploadedFileRec) -> None:
        if not _holds_editor(session_id):
            log.warning("refused an upload of %d bytes for a session without editor rights", len(file.data))
            raise HTTPException(status_code=403, detail="Only a signed-in editor can upload files.")
        with self._lock:
            earlier = [
                file_id for file_id in self.file_storage.get(session_id, {}) if file_id != file.file_id
            ]
        for file_id in earlier:  # the new file replaces the session's earlier one
            self.remove_file(session_id, file_id)
        super().add_file(session_id, file)

    def release_stale(self) -> int:
        """Release the files of every session that no longer holds editor rights; how many sessions."""
        with self._lock:
            holders = list(self.file_storage)
        stale = [session_id for session_id in holders if not _holds_editor(session_id)]
        for session_id in stale:
            self.remove_session_files(session_id)
        return len(stale)


def _every(seconds: float, action: Callable[[], Any]) -> None:
    def loop() -> None:
        while not stopped.wait(seconds):
            try:
                action()
            except Exception:  # a failed round must not end the releases; the next one tries again
                log.exception("releasing uploaded files failed")

    stopped = threading.Event()
    threading.Thread(target=loop, name="tracker-release-uploads", daemon=True).start()


def _ignore_cache_clearing(handle: Callable[[AppSession, Any], None]) -> Callable[[AppSession, Any], None]:
    @functools.wraps(handle)
    def guarded(session: AppSession, message: Any) -> None:
        if message.WhichOneof("type") == "clear_cache":
            log.warning("ignored a request from session %s to clear every user's caches", session.id)
            return
        handle(session, message)

    guarded.ignores_cache_clearing = True  # type: ignore[attr-defined]
    return guarded


_installing = threading.Lock()


def install() -> None:
    """Put both guards in place (once per server process; later calls do nothing)."""
    with _installing:
        if not getattr(AppSession.handle_backmsg, "ignores_cache_clearing", False):
            AppSession.handle_backmsg = _ignore_cache_clearing(AppSession.handle_backmsg)  # type: ignore[method-assign]
        if not Runtime.exists():  # AppTest: no server, no upload endpoint
            return
        uploads = Runtime.instance().uploaded_file_mgr
        if type(uploads) is MemoryUploadedFileManager:
            uploads.__class__ = EditorOnlyUploads
            released = uploads.release_stale()  # anything uploaded before the first page run
            if released:
                log.warning("released the uploaded files of %d sessions without editor rights", released)
            _every(RELEASE_EVERY_SECONDS, uploads.release_stale)
