"""Editor logins: salted scrypt password hashes kept in .streamlit/secrets.toml, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets as token
from collections.abc import Mapping

SCHEME = "scrypt"
_N, _R, _P = 2**14, 8, 1
# A fixed hash to compare against when the username is unknown, so timing does not reveal valid names.
_DUMMY = f"{SCHEME}${_N}${_R}${_P}${'00' * 16}${'00' * 32}"


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt-hex$hash-hex`, the form stored under [editors] in secrets.toml."""
    salt = salt if salt is not None else token.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"{SCHEME}${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != SCHEME:
            return False
        digest = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt_hex),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(bytes.fromhex(digest_hex)),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


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
