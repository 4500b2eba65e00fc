"""Editor password hashes: salted, verified in constant time, read from secrets."""

from __future__ import annotations

import pytest

from tracker.auth import authenticate, editors_from_secrets, hash_password, verify_password


def test_hash_has_the_documented_form_and_verifies():
    stored = hash_password("s3cret-enough", salt=bytes(range(16)))
    assert stored.split("$")[:5] == ["scrypt", "16384", "8", "1", "000102030405060708090a0b0c0d0e0f"]
    assert (verify_password("s3cret-enough", stored), verify_password("wrong", stored)) == (True, False)


def test_salts_differ():
    assert hash_password("same password") != hash_password("same password")


@pytest.mark.parametrize(
    "stored", ["", "plain-text", "md5$abc", "scrypt$x$8$1$00$00", "scrypt$16384$8$1$zz$00"]
)
def test_malformed_hashes_never_verify(stored):
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
