"""Editor logins and editor sessions.

- Passwords: salted scrypt hashes kept under [editors] in .streamlit/secrets.toml, checked in constant time.
  New hashes use N=2^17, r=8, p=1 (128 MiB, the current guidance); older, weaker hashes still verify and
  are replaced by a new one at the editor's next login when the file holding them can be written.
- Guessing: `LoginThrottle` makes each failed login cost waiting time, per (username, client) and per
  client, doubling up to a few minutes and cleared by a success, so an attacker cannot lock a real editor
  out for long. Failures are logged (never the password, and the username only when it is an editor's).
- Sessions: `EditorSessions` holds who has editor rights in which dashboard session. The secret it hands
  out at login stays in that session's server-side state; every write checks it together with the
  connection that logged in (a client that takes over the session id, which appears in upload URLs, has
  another connection) and the time since the editor's last action.
- First run: with no editor configured, `SignInLinks` makes the one-time link the dashboard prints to its
  console; `add_editor_to_file` writes an editor into the secrets file (`python -m tracker add-editor`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import os
import re
import secrets as token
import threading
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tracker.errors import NotAuthorised, OutputNotWritten
from tracker.files import write_file

SCHEME = "scrypt"
_N, _R, _P = 2**17, 8, 1
# scrypt needs 128 * r * N bytes. A stored hash that asks for more than ours is refused, not computed: a
# hand-edited N=2^30 would otherwise take 128 GiB.
_MEMORY = 128 * _R * _N
# A fixed hash to compare against when the username is unknown, so timing does not reveal valid names.
_DUMMY = f"{SCHEME}${_N}${_R}${_P}${'00' * 16}${'00' * 32}"
# Hashes at once, server-wide: each holds 128 MiB for about a third of a second, so logins from many
# sessions queue here instead of taking the server's memory.
_HASHING = threading.BoundedSemaphore(2)
IDLE_MINUTES_VARIABLE = "TRACKER_EDITOR_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 30.0

log = logging.getLogger(__name__)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt-hex$hash-hex`, the form stored under [editors] in secrets.toml."""
    salt = salt if salt is not None else token.token_bytes(16)
    with _HASHING:
        digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=2 * _MEMORY, dklen=32)
    return f"{SCHEME}${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def _parameters(stored: str) -> tuple[int, int, int, bytes, str] | None:
    """(n, r, p, salt, hash hex) of a well-formed stored hash we are willing to compute, else None."""
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        n_value, r_value, p_value = int(n), int(r), int(p)
        salt = bytes.fromhex(salt_hex)
        bytes.fromhex(digest_hex)
    except ValueError:
        return None
    if scheme != SCHEME or not 0 < 128 * r_value * n_value <= _MEMORY or not 0 < p_value <= 4:
        return None
    return n_value, r_value, p_value, salt, digest_hex


def verify_password(password: str, stored: str) -> bool:
    parameters = _parameters(stored)
    if parameters is None:
        return False
    n, r, p, salt, digest_hex = parameters
    try:
        with _HASHING:
            digest = hashlib.scrypt(
                password.encode(), salt=salt, n=n, r=r, p=p, maxmem=2 * _MEMORY, dklen=len(digest_hex) // 2
            )
    except ValueError:  # n not a power of two, or a digest of odd length
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash is weaker than what hash_password makes now (an older N, r or p)."""
    parameters = _parameters(stored)
    return parameters is not None and parameters[:3] != (_N, _R, _P)


def editors_from_secrets(secrets: Mapping[str, object]) -> dict[str, str]:
    """Usernames and their hashes from the [editors] table; other values are ignored."""
    table = secrets.get("editors", {})
    if not isinstance(table, Mapping):
        return {}
    return {str(name): str(value) for name, value in table.items() if isinstance(value, str)}


def authenticate(editors: Mapping[str, str], username: str, password: str) -> bool:
    stored = editors.get(username.strip())
    valid = verify_password(password, stored if stored is not None else _DUMMY)
    return stored is not None and valid


def replace_hash_in_file(path: Path, old: str, new: str) -> bool:
    """Put the hash `new` where `old` is in the secrets file `path` (an editor's upgraded hash).

    False, and the file untouched, when it cannot be read or rewritten, or does not hold `old` exactly once
    as a quoted value. The file keeps its permissions; it is replaced whole (written beside it, renamed).
    """
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode & 0o7777
    except (OSError, UnicodeDecodeError):
        return False
    quoted = f'"{old}"'
    if text.count(quoted) != 1 or not os.access(path, os.W_OK):
        return False
    try:
        write_file(path, text.replace(quoted, f'"{new}"').encode("utf-8"), mode=mode)
    except OutputNotWritten:
        return False
    return True


def idle_timeout_seconds(environ: Mapping[str, str] = os.environ) -> float:
    """How long an editor session lasts without an editor action: $TRACKER_EDITOR_IDLE_MINUTES (30)."""
    text = environ.get(IDLE_MINUTES_VARIABLE, "").strip()
    if not text:
        return DEFAULT_IDLE_MINUTES * 60
    try:
        minutes = float(text)
    except ValueError:
        minutes = math.nan
    if not 0 < minutes < math.inf:
        log.warning(
            "%s=%r is not a positive number of minutes; editor sessions end after %g minutes idle",
            IDLE_MINUTES_VARIABLE,
            text,
            DEFAULT_IDLE_MINUTES,
        )
        return DEFAULT_IDLE_MINUTES * 60
    return minutes * 60


def connection_id(websocket_key: str | None) -> str:
    """What identifies one browser connection: a digest of its websocket handshake key (a random value the
    browser makes per connection and that never appears in a URL). "" when there is none (tests)."""
    return hashlib.sha256(websocket_key.encode()).hexdigest() if websocket_key else ""


# --- failed logins --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Failures:
    count: int = 0
    last: float = 0.0  # when the latest failure happened
    until: float = 0.0  # no try before this moment


class LoginThrottle:
    """Waiting time after failed logins, per (username, client) and per client.

    After `free` failures in a row the next try must wait `base` seconds, then twice as long after each
    further failure, up to `cap`; a successful login clears both counts. A client's failures over all
    usernames count too (with more free tries), so one client cannot try many names quickly. Because the
    wait is per client, an attacker elsewhere can make a real editor wait at most `cap` seconds for the
    names they try from that editor's own address, never longer. Thread-safe; state lives in this process.
    """

    def __init__(
        self,
        *,
        free: int = 3,
        client_free: int = 10,
        base: float = 1.0,
        cap: float = 300.0,
        keep: float = 3600.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._free, self._client_free, self._base, self._cap = free, client_free, base, cap
        self._keep, self._max_entries, self._clock = keep, max_entries, clock
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, ...], _Failures] = {}

    @staticmethod
    def _keys(username: str, client: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        # Names are cut: an attacker's megabyte-long usernames must not become megabytes of state.
        return ("user", username.strip()[:100], client), ("client", client)

    def wait(self, username: str, client: str) -> float:
        """Seconds before this username may be tried again from this client (0: now)."""
        now = self._clock()
        with self._lock:
            entries = [self._failures.get(key) for key in self._keys(username, client)]
        return max([entry.until - now for entry in entries if entry is not None] + [0.0])

    def failed(self, username: str, client: str) -> float:
        """Count a failed login; the wait it imposes, in seconds."""
        now = self._clock()
        with self._lock:
            self._forget_old(now)
            waits = []
            for key, free in zip(self._keys(username, client), (self._free, self._client_free)):
                entry = self._failures.setdefault(key, _Failures())
                entry.count += 1
                entry.last = now
                delay = 0.0 if entry.count < free else min(self._cap, self._base * 2 ** (entry.count - free))
                entry.until = now + delay
                waits.append(delay)
            return max(waits)

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            for key in self._keys(username, client):
                self._failures.pop(key, None)

    def _forget_old(self, now: float) -> None:
        if len(self._failures) < self._max_entries:
            return
        for key in [key for key, entry in self._failures.items() if now - entry.last > self._keep]:
            del self._failures[key]
        while len(self._failures) >= self._max_entries:  # still full: the oldest go first
            del self._failures[next(iter(self._failures))]


# --- editor sessions ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Grant:
    editor: str
    session_id: str
    connection: str
    last_active: float


class EditorSessions:
    """Editor rights per dashboard session: granted at login, checked at every write, ended by logout,
    by `idle_timeout` seconds without a check, or by use from another connection. Thread-safe."""

    def __init__(self, *, idle_timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_timeout = idle_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._grants: dict[str, _Grant] = {}  # secret -> grant

    def sign_in(self, editor: str, *, session_id: str, connection: str) -> str:
        """Editor rights for this session and connection; the secret to keep in the session's state."""
        secret = token.token_urlsafe(32)
        with self._lock:
            self._expire(self._clock())
            self._grants[secret] = _Grant(editor, session_id, connection, self._clock())
        return secret

    def require_editor(self, secret: object, *, session_id: str, connection: str) -> str:
        """The editor allowed to write now, or NotAuthorised (and the rights are gone).

        Every write path calls this where it writes; each call counts as activity.
        """
        now = self._clock()
        with self._lock:
            grant = self._grants.get(secret) if isinstance(secret, str) else None
            if grant is None:
                raise NotAuthorised("Log in as an editor to change the ledger.")
            if not (
                hmac.compare_digest(grant.session_id, session_id)
                and hmac.compare_digest(grant.connection, connection)
            ):
                del self._grants[secret]
                log.warning(
                    "editor rights of %r refused to another connection of their session", grant.editor
                )
                raise NotAuthorised(
                    "Your editor login belongs to another connection (the page reconnected or was opened "
                    "elsewhere); log in again."
                )
            if now - grant.last_active > self.idle_timeout:
                del self._grants[secret]
                raise NotAuthorised(
                    f"Your editor session ended after {self.idle_timeout / 60:g} minutes without activity; "
                    "log in again."
                )
            grant.last_active = now
            return grant.editor

    def sign_out(self, secret: object) -> None:
        with self._lock:
            if isinstance(secret, str):
                self._grants.pop(secret, None)

    def holds_editor(self, session_id: str, *, connection: str) -> bool:
        """Whether this session, on this connection, has unexpired editor rights (without counting as
        activity): what the upload endpoint asks before it keeps a file."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            return any(
                grant.session_id == session_id and grant.connection == connection
                for grant in self._grants.values()
            )

    def sessions(self) -> set[str]:
        """The session ids with unexpired editor rights."""
        with self._lock:
            self._expire(self._clock())
            return {grant.session_id for grant in self._grants.values()}

    def _expire(self, now: float) -> None:
        for secret in [s for s, grant in self._grants.items() if now - grant.last_active > self.idle_timeout]:
            del self._grants[secret]


# --- the first-run sign-in link -------------------------------------------------------------------------


class SignInLinks:
    """The one-time sign-in link of a dashboard with no editor configured, for whoever can read its console
    (as Jupyter's token and `datasette --root` work): the token of the link works once, and only in this
    process, since it is never stored. Issuing a new link makes any earlier, unused one stop working.
    Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: str | None = None

    def issue(self) -> str:
        """A new token; the previous one, used or not, no longer works."""
        token_value = token.token_urlsafe(32)
        with self._lock:
            self._token = token_value
        return token_value

    def outstanding(self) -> bool:
        """Whether a link has been issued and not used yet."""
        with self._lock:
            return self._token is not None

    def redeem(self, presented: object) -> bool:
        """Whether `presented` is the outstanding token; it then stops working."""
        if not isinstance(presented, str):
            return False
        with self._lock:
            if self._token is None or not hmac.compare_digest(self._token, presented):
                return False
            self._token = None
            return True


# --- editors in the secrets file ------------------------------------------------------------------------

EDITOR_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")


def add_editor_to_file(path: Path, name: str, hashed: str) -> bool:
    """Set editor `name`'s password hash under [editors] in the secrets file `path` (created, readable by
    this user only, when missing); True when the editor was there already (the password is replaced).

    The file is edited as text, so its comments and other tables stay as they are, then read back: unless
    exactly this editor changed, nothing is written (OutputNotWritten says what to do by hand).
    """
    if not EDITOR_NAME.fullmatch(name):
        raise OutputNotWritten(
            f'"{name[:100]}" cannot be an editor name: use letters, digits, "-" and "_" (at most 100).'
        )
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o600
        before = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise OutputNotWritten(
            f"cannot read {path} as TOML ({exc}); fix it, then run the command again."
        ) from exc
    table = before.get("editors", {})
    existed = isinstance(table, dict) and name in table
    line = f'{name} = "{hashed}"'
    lines = text.splitlines()
    header = next((i for i, text_line in enumerate(lines) if text_line.strip() == "[editors]"), None)
    if header is None:
        lines += ["", "[editors]", line] if lines else ["[editors]", line]
    else:
        end = next(
            (i for i in range(header + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines)
        )
        own = [i for i in range(header + 1, end) if re.match(rf"\s*{name}\s*=", lines[i])]
        if own:
            lines[own[0]] = line
        else:
            lines.insert(end if lines[end - 1].strip() != "" else end - 1, line)
    updated = "\n".join(lines) + "\n"
    try:
        after = tomllib.loads(updated)
    except tomllib.TOMLDecodeError:
        after = None
    expected = {**before, "editors": {**(table if isinstance(table, dict) else {}), name: hashed}}
    if after != expected:
        raise OutputNotWritten(
            f"cannot add the editor to {path} safely (its [editors] table is not written as one table of "
            f'name = "hash" lines); add the line yourself under [editors]:\n{line}'
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, updated.encode("utf-8"), mode=mode)
    return existed
