"""Editor logins: scrypt hashes (old ones still accepted and upgraded), the back-off after failed logins,
and editor sessions bound to a secret, a connection and an idle time. All at function level, on a clock
the tests move."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tracker.auth import (
    EditorSessions,
    LoginThrottle,
    SignInLinks,
    add_editor_to_file,
    authenticate,
    connection_id,
    editors_from_secrets,
    hash_password,
    idle_timeout_seconds,
    needs_rehash,
    replace_hash_in_file,
    verify_password,
)
from tracker.errors import NotAuthorised, OutputNotWritten

SALT = bytes(range(16))


def old_hash(password: str, *, n: int = 2**14) -> str:
    """A hash as the tracker made them before N=2^17."""
    digest = hashlib.scrypt(password.encode(), salt=SALT, n=n, r=8, p=1, dklen=32)
    return f"scrypt${n}$8$1${SALT.hex()}${digest.hex()}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- hashes ---------------------------------------------------------------------------------------------


def test_hash_has_the_documented_form_and_verifies():
    stored = hash_password("s3cret-enough", salt=SALT)
    assert stored.split("$")[:5] == ["scrypt", "131072", "8", "1", "000102030405060708090a0b0c0d0e0f"]
    assert (verify_password("s3cret-enough", stored), verify_password("wrong", stored)) == (True, False)


def test_salts_differ():
    assert hash_password("same password") != hash_password("same password")


def test_older_hashes_still_verify_and_ask_to_be_upgraded():
    stored = old_hash("s3cret-enough")
    assert (
        verify_password("s3cret-enough", stored),
        verify_password("wrong", stored),
        needs_rehash(stored),
        needs_rehash(hash_password("s3cret-enough")),
        needs_rehash("plain-text"),
    ) == (True, False, True, False, False)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain-text",
        "md5$abc",
        "scrypt$x$8$1$00$00",
        "scrypt$16384$8$1$zz$00",
        "scrypt$1000$8$1$00$00",  # N not a power of two
        "scrypt$1073741824$8$1$00$00",  # 128 GiB: refused, never computed
        "scrypt$131072$16$1$00$00",  # twice our memory
        "scrypt$16384$8$99$00$00",  # p far above ours
    ],
)
def test_malformed_or_oversized_hashes_never_verify(stored):
    assert verify_password("anything", stored) is False


def test_authenticate_against_the_editors_table():
    editors = editors_from_secrets(
        {"editors": {"alice": hash_password("alice-password")}, "database": {"url": "x"}}
    )
    assert (
        authenticate(editors, "alice", "alice-password"),
        authenticate(editors, " alice ", "alice-password"),
        authenticate(editors, "alice", "nope"),
        authenticate(editors, "mallory", "alice-password"),
    ) == (True, True, False, False)


@pytest.mark.parametrize("secrets", [{}, {"editors": "not a table"}, {"editors": {"bob": 5}}])
def test_no_editors_configured(secrets):
    assert editors_from_secrets(secrets) == {}


SECRETS_TEXT = """# the team's editors
[database]
url = "sqlite:///data/tracker.db"

[editors]
alice = "{alice}"
bob = "{bob}"
"""


def test_an_upgraded_hash_replaces_the_old_one_in_the_secrets_file(tmp_path: Path):
    old, bob, new = old_hash("alice-password"), hash_password("bob-password"), hash_password("alice-password")
    path = tmp_path / "secrets.toml"
    path.write_text(SECRETS_TEXT.format(alice=old, bob=bob), encoding="utf-8")
    path.chmod(0o600)
    assert replace_hash_in_file(path, old, new) is True
    assert path.read_text(encoding="utf-8") == SECRETS_TEXT.format(alice=new, bob=bob)
    assert (path.stat().st_mode & 0o777, sorted(os.listdir(tmp_path))) == (0o600, ["secrets.toml"])


@pytest.mark.parametrize(
    ("alice", "bob"),
    [
        ("{new}", "{other}"),  # the old hash is not there
        ("{old}", "{old}"),  # there twice: which one is meant is unclear
    ],
)
def test_a_hash_is_replaced_only_where_it_is_unambiguous(tmp_path: Path, alice: str, bob: str):
    hashes = {"old": old_hash("alice-password"), "new": hash_password("x" * 10), "other": "scrypt$1"}
    text = SECRETS_TEXT.format(alice=alice.format(**hashes), bob=bob.format(**hashes))
    path = tmp_path / "secrets.toml"
    path.write_text(text, encoding="utf-8")
    assert replace_hash_in_file(path, hashes["old"], hash_password("alice-password")) is False
    assert path.read_text(encoding="utf-8") == text


def test_a_missing_secrets_file_is_left_alone(tmp_path: Path):
    assert replace_hash_in_file(tmp_path / "none.toml", "a", "b") is False
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, 1800.0), ("", 1800.0), ("45", 2700.0), (" 0.5 ", 30.0), ("0", 1800.0), ("-5", 1800.0),
     ("soon", 1800.0), ("inf", 1800.0), ("nan", 1800.0)],
)  # fmt: skip
def test_idle_timeout_from_the_environment(value: str | None, seconds: float):
    environ = {} if value is None else {"TRACKER_EDITOR_IDLE_MINUTES": value}
    assert idle_timeout_seconds(environ) == seconds


def test_a_connection_is_named_by_a_digest_of_its_websocket_key():
    assert (connection_id(None), connection_id(""), connection_id("dGhlIHNhbXBsZSBub25jZQ==")) == (
        "",
        "",
        hashlib.sha256(b"dGhlIHNhbXBsZSBub25jZQ==").hexdigest(),
    )


# --- failed logins --------------------------------------------------------------------------------------


def test_failed_logins_double_the_wait_up_to_the_cap():
    clock = Clock()
    throttle = LoginThrottle(free=3, client_free=100, base=1.0, cap=300.0, clock=clock)
    waits = []
    for _ in range(13):
        waits.append(throttle.failed("alice", "10.0.0.9"))
        clock.now += 1000  # waited long enough each time
    assert waits == [0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def test_the_wait_counts_down_and_a_success_clears_it():
    clock = Clock()
    throttle = LoginThrottle(free=3, client_free=100, clock=clock)
    for _ in range(5):
        throttle.failed("alice", "10.0.0.9")
    assert throttle.wait("alice", "10.0.0.9") == 4.0
    clock.now += 3
    assert throttle.wait("alice", "10.0.0.9") == 1.0
    clock.now += 1
    assert throttle.wait("alice", "10.0.0.9") == 0.0
    throttle.succeeded("alice", "10.0.0.9")
    assert [throttle.failed("alice", "10.0.0.9") for _ in range(3)] == [0, 0, 1]  # counting from the start


def test_an_attacker_elsewhere_cannot_make_the_editor_wait():
    clock = Clock()
    throttle = LoginThrottle(free=3, client_free=10, clock=clock)
    for _ in range(50):
        throttle.failed("alice", "203.0.113.7")  # guessing alice's password from another address
    assert (throttle.wait("alice", "203.0.113.7"), throttle.wait("alice", "10.0.0.9")) == (300.0, 0.0)


def test_one_client_trying_many_names_waits_too():
    clock = Clock()
    throttle = LoginThrottle(free=3, client_free=10, clock=clock)
    waits = [throttle.failed(f"user{i}", "203.0.113.7") for i in range(12)]
    assert waits == [0] * 9 + [1, 2, 4]
    assert throttle.wait("someone-new", "203.0.113.7") == 4.0


def test_the_throttle_forgets_old_failures_when_full():
    clock = Clock()
    throttle = LoginThrottle(free=1, client_free=1, keep=60, max_entries=6, clock=clock)
    for i in range(3):
        throttle.failed(f"user{i}", "203.0.113.7")  # 3 (user, client) entries and 1 client entry
    clock.now += 120  # older than `keep`
    throttle.failed("alice", "10.0.0.9")  # 2 more: 6 entries, at the limit
    throttle.failed("bob", "10.0.0.9")  # full: the old ones go
    assert (throttle.wait("user0", "203.0.113.7"), throttle.wait("bob", "10.0.0.9")) == (0.0, 2.0)


def test_a_megabyte_username_is_kept_cut():
    clock = Clock()
    throttle = LoginThrottle(free=1, client_free=100, clock=clock)
    throttle.failed("x" * 1_000_000, "203.0.113.7")
    assert throttle.wait("x" * 100 + "different tail", "203.0.113.7") == 1.0


# --- editor sessions ------------------------------------------------------------------------------------


def sessions(clock: Clock, *, minutes: float = 30) -> EditorSessions:
    return EditorSessions(idle_timeout=minutes * 60, clock=clock)


def test_an_editor_session_checks_secret_session_and_connection():
    clock = Clock()
    editors = sessions(clock)
    secret = editors.sign_in("alice", session_id="s1", connection="c1")
    assert editors.require_editor(secret, session_id="s1", connection="c1") == "alice"
    assert (editors.holds_editor("s1", connection="c1"), editors.holds_editor("s1", connection="c2")) == (
        True,
        False,
    )
    assert editors.sessions() == {"s1"}
    for wrong in (None, "", 42, "not-the-secret"):
        with pytest.raises(NotAuthorised, match="^Log in as an editor to change the ledger.$"):
            editors.require_editor(wrong, session_id="s1", connection="c1")
    assert editors.require_editor(secret, session_id="s1", connection="c1") == "alice"


@pytest.mark.parametrize(("session_id", "connection"), [("s1", "c2"), ("s2", "c1")])
def test_editor_rights_used_from_another_connection_end(session_id: str, connection: str):
    clock = Clock()
    editors = sessions(clock)
    secret = editors.sign_in("alice", session_id="s1", connection="c1")
    with pytest.raises(NotAuthorised) as caught:
        editors.require_editor(secret, session_id=session_id, connection=connection)
    assert str(caught.value) == (
        "Your editor login belongs to another connection (the page reconnected or was opened elsewhere); "
        "log in again."
    )
    # Ended for the original connection too: whoever replayed the id may have done something with it.
    with pytest.raises(NotAuthorised, match="^Log in as an editor"):
        editors.require_editor(secret, session_id="s1", connection="c1")
    assert editors.sessions() == set()


def test_an_idle_editor_session_ends_and_activity_keeps_it():
    clock = Clock()
    editors = sessions(clock, minutes=30)
    secret = editors.sign_in("alice", session_id="s1", connection="c1")
    for _ in range(4):  # two hours of work, never 30 minutes idle
        clock.now += 29 * 60
        assert editors.require_editor(secret, session_id="s1", connection="c1") == "alice"
    clock.now += 30 * 60 + 1
    assert editors.holds_editor("s1", connection="c1") is False
    with pytest.raises(NotAuthorised, match="^Log in as an editor"):
        editors.require_editor(secret, session_id="s1", connection="c1")


def test_the_idle_message_says_how_long():
    clock = Clock()
    editors = sessions(clock, minutes=45)
    secret = editors.sign_in("alice", session_id="s1", connection="c1")
    clock.now += 45 * 60 + 1
    with pytest.raises(NotAuthorised) as caught:
        editors.require_editor(secret, session_id="s1", connection="c1")
    assert str(caught.value) == "Your editor session ended after 45 minutes without activity; log in again."


def test_signing_out_ends_only_that_session():
    clock = Clock()
    editors = sessions(clock)
    first = editors.sign_in("alice", session_id="s1", connection="c1")
    second = editors.sign_in("bob", session_id="s2", connection="c2")
    editors.sign_out(first)
    editors.sign_out(None)
    assert editors.sessions() == {"s2"}
    assert editors.require_editor(second, session_id="s2", connection="c2") == "bob"
    with pytest.raises(NotAuthorised):
        editors.require_editor(first, session_id="s1", connection="c1")


# --- the first-run sign-in link ---------------------------------------------------------------------------


def test_a_sign_in_link_works_once():
    links = SignInLinks()
    assert (links.outstanding(), links.redeem("anything")) == (False, False)
    token = links.issue()
    assert (len(token), links.outstanding()) == (43, True)
    assert [links.redeem(token[:-1]), links.redeem(None), links.redeem(token), links.redeem(token)] == [
        False,
        False,
        True,
        False,
    ]
    assert links.outstanding() is False


def test_a_new_link_ends_the_unused_one():
    links = SignInLinks()
    first = links.issue()
    second = links.issue()
    assert (first != second, links.redeem(first), links.redeem(second)) == (True, False, True)


# --- add-editor -------------------------------------------------------------------------------------------


DATABASE = '[database]\nurl = "sqlite:///x.db"\n'
OTHER = '[editors]\n# who edits\nbob = "B"\n\n[other]\nk = 1\n'


@pytest.mark.parametrize(
    ("before", "after", "existed"),
    [
        (None, '[editors]\nalice = "H"\n', False),
        ("", '[editors]\nalice = "H"\n', False),
        (DATABASE, DATABASE + '\n[editors]\nalice = "H"\n', False),
        ('[editors]\nbob = "B"\n', '[editors]\nbob = "B"\nalice = "H"\n', False),
        (OTHER, '[editors]\n# who edits\nbob = "B"\nalice = "H"\n\n[other]\nk = 1\n', False),
        ('[editors]\nalice = "OLD"\nbob = "B"\n', '[editors]\nalice = "H"\nbob = "B"\n', True),
    ],
)
def test_an_editor_is_added_to_the_secrets_file_keeping_the_rest(tmp_path: Path, before, after, existed):
    path = tmp_path / ".streamlit" / "secrets.toml"
    if before is not None:
        path.parent.mkdir()
        path.write_text(before, encoding="utf-8")
    assert add_editor_to_file(path, "alice", "H") is existed
    assert path.read_text(encoding="utf-8") == after


INLINE = (
    "cannot add the editor to {path} safely (its [editors] table is not written as one table of name = "
    '"hash" lines); add the line yourself under [editors]:\nalice = "H"'
)
BROKEN = (
    "cannot read {path} as TOML (Expected ']' at the end of a table declaration (at line 1, column 9)); fix "
    "it, then run the command again."
)


@pytest.mark.parametrize(
    ("before", "message"), [('editors = { bob = "B" }\n', INLINE), ("[editors\n", BROKEN)]
)
def test_a_secrets_file_that_cannot_be_edited_safely_is_left_alone(tmp_path: Path, before, message):
    path = tmp_path / "secrets.toml"
    path.write_text(before, encoding="utf-8")
    with pytest.raises(OutputNotWritten) as refused:
        add_editor_to_file(path, "alice", "H")
    assert (str(refused.value), path.read_text(encoding="utf-8")) == (message.format(path=path), before)
