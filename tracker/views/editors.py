"""Editor login and editor rights in the dashboard, over tracker.auth.

The login form waits out tracker.auth.LoginThrottle before it computes any hash. A login puts the secret
EditorSessions hands out into this session's state; `editor_for_write` is what every write path calls
where it writes: it checks that secret with this session's id and connection (EditorSessions.require_editor)
and sends anyone whose rights have ended back to the login form with the reason.

The two registries live in this module, imported once per server process: page scripts run anew on
every rerun, so state kept there would not last.
"""

from __future__ import annotations

import getpass
import logging
import math
import threading
from collections.abc import Mapping
from pathlib import Path

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from tracker.auth import (
    EditorSessions,
    LoginThrottle,
    SignInLinks,
    authenticate,
    connection_id,
    hash_password,
    idle_timeout_seconds,
    needs_rehash,
    replace_hash_in_file,
)
from tracker.display import escape_markdown
from tracker.errors import NotAuthorised

SECRET = "editor-secret"  # session-state key: the secret EditorSessions gave this session at login
NOTICE = "editor-notice"  # session-state key: why this session's editor rights ended (shown at the form)
BY_LINK = "editor-by-link"  # session-state key: set when the rights came from the console's sign-in link
WEBSOCKET_KEY = "Sec-WebSocket-Key"
LINK_PARAMETER = "signin"  # the URL query parameter of the first-run sign-in link
EDITOR_SESSIONS = EditorSessions(idle_timeout=idle_timeout_seconds())
LOGIN_THROTTLE = LoginThrottle()
SIGN_IN_LINKS = SignInLinks()
_printing = threading.Lock()

log = logging.getLogger(__name__)


def session_id() -> str:
    context = get_script_run_ctx()
    return context.session_id if context is not None else ""


def _connection() -> str:
    return connection_id(st.context.headers.get(WEBSOCKET_KEY))


def _client() -> str:
    """Who is trying: the client's address (behind a local reverse proxy, the one it forwards)."""
    return st.context.ip_address or "this machine"


def current_editor() -> str | None:
    """The editor signed in in this session, or None (with the reason kept for the login form).

    Counts as editor activity: the upload page calls it on each run.
    """
    secret = st.session_state.get(SECRET)
    if secret is None:
        return None
    try:
        return EDITOR_SESSIONS.require_editor(secret, session_id=session_id(), connection=_connection())
    except NotAuthorised as refused:
        del st.session_state[SECRET]
        st.session_state[NOTICE] = str(refused)
        return None


def editor_for_write() -> str:
    """The editor on whose behalf a write happens now; anyone else goes back to the login form."""
    editor = current_editor()
    if editor is None:
        st.rerun()
    return editor


def sign_out() -> None:
    """End this session's editor rights and release the file it uploaded."""
    EDITOR_SESSIONS.sign_out(st.session_state.pop(SECRET, None))
    st.session_state.pop(BY_LINK, None)
    if Runtime.exists():
        Runtime.instance().uploaded_file_mgr.remove_session_files(session_id())


def _upgrade_hash(editor: str, stored: str, password: str) -> None:
    """Replace an editor's older, weaker hash in the secrets file that holds it, when it can be written."""
    if not needs_rehash(stored):
        return
    stronger = hash_password(password)
    for name in reversed(st.get_option("secrets.files")):  # the later files win in st.secrets
        path = Path(name)
        if path.is_file() and replace_hash_in_file(path, stored, stronger):
            log.info("upgraded the password hash of editor %r in %s", editor, path)
            return
    log.warning(
        "editor %r logs in with a password hash weaker than N=2^17 that no writable secrets file holds; "
        "make a new one with `python -m tracker hash-password`",
        editor,
    )


def login_form(editors: Mapping[str, str]) -> None:
    """The login form. A successful login gives this session editor rights and reruns the page."""
    if NOTICE in st.session_state:
        st.warning(escape_markdown(st.session_state.pop(NOTICE)), icon=":material/lock_clock:")
    st.markdown("Importing and undoing imports is for editors. Log in to continue.")
    with st.form("editor-login", clear_on_submit=True, width=420):
        username = st.text_input("Username", key="login-username", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="login-password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Log in", key="login-submit", type="primary")
    if not submitted:
        return
    name, client = username.strip(), _client()
    wait = LOGIN_THROTTLE.wait(name, client)
    if wait > 0:  # refused before any hash is computed: guessing costs the server nothing
        st.error(f"Too many failed logins: try again in {math.ceil(wait)} seconds.", icon=":material/timer:")
        return
    if not authenticate(editors, name, password):
        delay = LOGIN_THROTTLE.failed(name, client)
        log.warning(
            "failed editor login for %s from %s; next try allowed in %.0f s",
            repr(name) if name in editors else "an unknown username",
            client,
            delay,
        )
        later = f" Wait {math.ceil(delay)} seconds before the next try." if delay > 0 else ""
        st.error(f"Unknown username or wrong password.{later}", icon=":material/error:")
        return
    LOGIN_THROTTLE.succeeded(name, client)
    _upgrade_hash(name, editors[name], password)
    st.session_state[SECRET] = EDITOR_SESSIONS.sign_in(
        name, session_id=session_id(), connection=_connection()
    )
    log.info("editor %r logged in from %s", name, client)
    st.rerun()


# --- the first-run sign-in link -------------------------------------------------------------------------


def console_editor() -> str:
    """Whom the sign-in link makes an editor: the user who started the dashboard, as the CLI names it."""
    try:
        return getpass.getuser() or "console"
    except (KeyError, OSError):  # no name for this user id (a container), no USER variable
        return "console"


def signed_in_by_link() -> bool:
    """Whether this session's editor rights came from the console's sign-in link (not from secrets.toml)."""
    return st.session_state.get(BY_LINK) is True


def _link(token: str) -> str:
    address = st.get_option("server.address") or "localhost"
    host = "localhost" if address in ("0.0.0.0", "::") else address
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return (
        f"http://{host}:{st.get_option('server.port')}/{base + '/' if base else ''}?{LINK_PARAMETER}={token}"
    )


def _print_link(heading: str) -> None:
    """Print a new one-time link to the console that started the dashboard (never to a log or a page)."""
    with _printing:
        print(f"\n  {heading}\n  {_link(SIGN_IN_LINKS.issue())}\n", flush=True)


def sign_in_link_step(configured: Mapping[str, str]) -> None:
    """The first-run sign-in link, on every run of the dashboard before any page.

    With no editor configured, the first run in this server process prints a one-time link to the console;
    a browser that opens it becomes an editor (as the user who started the dashboard), and a new link is
    printed for the next browser. The token leaves the address at once; a used or stale one is refused.
    """
    if not configured and not SIGN_IN_LINKS.outstanding():
        _print_link("No editors are configured. Open this one-time link to edit the ledger in your browser:")
    if LINK_PARAMETER not in st.query_params:
        return
    presented = st.query_params.get(LINK_PARAMETER)
    del st.query_params[LINK_PARAMETER]
    if configured:
        st.warning(
            "Sign-in links work only while no editor is configured; log in with your password on the Upload "
            "page.",
            icon=":material/lock:",
        )
        return
    if not SIGN_IN_LINKS.redeem(presented):
        log.warning("refused a used or unknown sign-in link from %s", _client())
        st.warning(
            "This sign-in link has been used already, or the dashboard has been restarted since it was "
            "printed. Open the newest link printed in the console where the dashboard runs.",
            icon=":material/link_off:",
        )
        return
    editor = console_editor()
    st.session_state[SECRET] = EDITOR_SESSIONS.sign_in(
        editor, session_id=session_id(), connection=_connection()
    )
    st.session_state[BY_LINK] = True
    log.info("editor %r signed in with the console's sign-in link from %s", editor, _client())
    _print_link("The sign-in link was used. For another browser, or after this one's session ends:")
    st.toast(f"Signed in as editor {editor}.", icon=":material/key:")
