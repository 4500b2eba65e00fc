"""What any client of a real `streamlit run dashboard.py` server can do without an editor login: nothing
that holds memory, nothing that clears other users' caches, and nothing with an editor's session id
(tracker/views/server_guards.py, tracker/views/editors.py).

The client here speaks Streamlit's own protocol, as an attacker's script would: a websocket to
/_stcore/stream (protobuf BackMsg/ForwardMsg) that runs a page and learns its session id, then HTTP PUTs
to the upload endpoint with that id, or with an editor's id taken from an upload URL. What the server
holds is read from Streamlit's own metrics endpoint.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import streamlit as st
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.app_session import AppSession

from tests.servers import Server, serve
from tracker.auth import hash_password
from tracker.display import escape_markdown
from tracker.views import server_guards

EDITOR, PASSWORD = "analyst", "server-test password"
UPLOAD = "/_stcore/upload_file"
MEGABYTE = b"x" * 1_000_000
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from serve(tmp_path_factory.mktemp("server"), {EDITOR: hash_password(PASSWORD)})


class _Loop:
    """One asyncio loop in a thread, where every websocket the tests open lives until the process ends."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def run(self, coroutine, *, seconds: float = 60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=seconds)

    def keep_reading(self, socket) -> None:
        async def drain() -> None:
            try:
                async for _ in socket:
                    pass
            except websockets.ConnectionClosed:
                pass

        self.loop.create_task(drain())


_LOOP = _Loop()


@dataclass
class Run:
    """A page run as a client sees it: its session id and the text of the markdown elements drawn."""

    session_id: str = ""
    texts: list[str] = field(default_factory=list)
    socket: object = None


class Visitor:
    """An HTTP session holding the XSRF cookie the server sets, and websocket sessions to the app."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = requests.Session()
        self.http.get(f"{server.url}/_stcore/health", timeout=30).raise_for_status()  # sets the cookie
        self.xsrf = self.http.cookies["_streamlit_xsrf"]

    def open_session(self, *, resume: str | None = None, page: str = "") -> Run:
        """Connect (asking to resume the session `resume`), run `page` once, and keep the connection."""
        return _LOOP.run(self._open(resume, page))

    async def _open(self, resume: str | None, page: str) -> Run:
        url = self.server.url.replace("http://", "ws://") + "/_stcore/stream"
        protocols = ["streamlit", self.xsrf] + ([resume] if resume else [])
        run = Run(socket=await websockets.connect(url, subprotocols=protocols, max_size=None))
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        rerun.rerun_script.page_name = page
        await run.socket.send(rerun.SerializeToString())
        while True:  # until the run is over: dashboard.py has installed the guards by then
            message = ForwardMsg.FromString(await run.socket.recv())
            kind = message.WhichOneof("type")
            if kind == "new_session":
                # A resumed session first gets what its last run sent after its client left, up to that
                # run's end: this run's messages start here.
                run.session_id = message.new_session.initialize.session_id
                run.texts.clear()
            elif kind == "delta" and message.delta.new_element.WhichOneof("type") in ("markdown", "alert"):
                element = message.delta.new_element
                run.texts.append(
                    element.markdown.body if element.HasField("markdown") else element.alert.body
                )
            elif kind == "script_finished" and run.session_id:
                _LOOP.keep_reading(run.socket)
                return run

    def send(self, run: Run, message: BackMsg) -> None:
        _LOOP.run(run.socket.send(message.SerializeToString()))

    def upload(self, session_id: str, data: bytes) -> int:
        """PUT a file to the upload endpoint for `session_id`; the HTTP status."""
        answer = self.http.put(
            f"{self.server.url}{UPLOAD}/{session_id}/{uuid.uuid4()}",
            files={"file": ("ledger.csv", data, "text/csv")},
            headers={"X-Xsrftoken": self.xsrf},
            timeout=60,
        )
        return answer.status_code


def server_log(server: Server) -> str:
    return server.log.read_text(errors="replace")


def held_upload_bytes(server: Server) -> int:
    """What Streamlit's own metrics say its upload store holds (recomputed every 5 s)."""
    text = requests.get(f"{server.url}/_stcore/metrics", timeout=30).text
    found = re.search(r'cache_memory_bytes\{cache_type="UploadedFileManager"[^}]*\} (\d+)', text)
    return int(found[1]) if found else 0


def wait_until_held(server: Server, expected: int, *, seconds: float = 40) -> int:
    deadline = time.monotonic() + seconds
    while (held := held_upload_bytes(server)) != expected and time.monotonic() < deadline:
        time.sleep(1)
    return held


def test_anonymous_uploads_are_refused_and_not_held(server: Server) -> None:
    visitor = Visitor(server)
    session_id = visitor.open_session().session_id
    assert re.fullmatch(r"[0-9a-f-]{36}", session_id)
    assert [visitor.upload(session_id, MEGABYTE * 5) for _ in range(20)] == [403] * 20
    # A session id nobody holds is refused by Streamlit itself, before it reads the file.
    assert visitor.upload(str(uuid.uuid4()), MEGABYTE) == 400
    assert wait_until_held(server, 0, seconds=8) == 0
    refusals = server_log(server).count("refused an upload of 5000000 bytes for a session without editor")
    assert refusals == 20


def test_no_visitor_can_clear_the_caches(server: Server) -> None:
    visitor = Visitor(server)
    run = visitor.open_session()
    clear = BackMsg()
    clear.clear_cache = True
    visitor.send(run, clear)
    said = f"ignored a request from session {run.session_id} to clear every user's caches"
    deadline = time.monotonic() + 10
    while said not in server_log(server):
        assert time.monotonic() < deadline, server_log(server)[-2000:]
        time.sleep(0.2)


def test_the_clear_cache_message_is_ignored_in_process() -> None:
    """The same guard without a server: the message reaches AppSession.handle_backmsg and stops there."""
    server_guards.install()
    computed: list[int] = []

    @st.cache_data
    def cached(value: int) -> int:
        computed.append(value)
        return value

    cached(7)
    clear = BackMsg()
    clear.clear_cache = True
    AppSession.handle_backmsg(SimpleNamespace(id="visitor"), clear)  # type: ignore[arg-type]
    cached(7)
    cached.clear()
    assert computed == [7]


def test_files_sent_during_the_first_run_are_released(tmp_path: Path) -> None:
    """The guard is installed by the first page run after the server starts: a visitor who learns a
    session id at the start of that run may get files in before it, and they are released when it is."""
    for fresh in serve(tmp_path, {EDITOR: hash_password(PASSWORD)}):
        visitor = Visitor(fresh)
        session_id = visitor.open_session().session_id  # the first run of this server, now over
        assert visitor.upload(session_id, MEGABYTE) == 403
        assert wait_until_held(fresh, 0, seconds=8) == 0


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (Debian's chromium package)")
def test_an_editors_session_id_from_an_upload_url_gives_no_rights(server: Server) -> None:
    from playwright.sync_api import expect, sync_playwright

    upload_urls: list[str] = []

    def read_upload_urls(payload: bytes | str) -> None:
        message = ForwardMsg.FromString(payload if isinstance(payload, bytes) else payload.encode())
        if message.WhichOneof("type") == "file_urls_response":
            upload_urls.extend(url.upload_url for url in message.file_urls_response.file_urls)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        page = browser.new_page()
        # The upload URLs the server hands the browser, as a proxy's log would show them.
        page.on("websocket", lambda socket: socket.on("framereceived", read_upload_urls))
        page.goto(f"{server.url}/upload")
        main = page.get_by_test_id("stMain")
        main.get_by_label("Username").fill(EDITOR)
        main.get_by_label("Password", exact=True).fill(PASSWORD)
        main.get_by_role("button", name="Log in").click()
        expect(main.get_by_test_id("stFileUploader")).to_be_visible(timeout=30_000)
        main.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
            files=[{"name": "editor.csv", "mimeType": "text/csv", "buffer": MEGABYTE}]
        )
        expect(main.get_by_test_id("stFileChipName")).to_have_text("editor.csv", timeout=30_000)
        assert wait_until_held(server, len(MEGABYTE)) == len(MEGABYTE)  # the editor's one file
        (session_id,) = {url.split("/")[-2] for url in upload_urls}
        browser.close()  # the editor leaves; the session waits for a reconnect
    # The session has ended for the editor: its file is released.
    assert wait_until_held(server, 0) == 0

    # Someone who saw an upload URL reconnects with its session id: the session and its state are theirs,
    # the editor rights are not (they belong to the editor's connection).
    attacker = Visitor(server)
    run = attacker.open_session(resume=session_id, page="upload")
    assert run.session_id == session_id
    notice = escape_markdown(
        "Your editor login belongs to another connection (the page reconnected or was opened elsewhere); "
        "log in again."
    )
    login = "Importing and undoing imports is for editors. Log in to continue."
    assert [text for text in run.texts if text in (notice, login)] == [notice, login]
    assert not [text for text in run.texts if text.startswith("Logged in as editor")]
    assert attacker.upload(session_id, MEGABYTE * 3) == 403
    assert wait_until_held(server, 0, seconds=8) == 0
