"""The shipped Streamlit configuration keeps the dashboard private, quiet and offline."""

from __future__ import annotations

import tomllib

from tracker.db import PROJECT_ROOT
from tracker.importer import UPLOAD_LIMIT_BYTES

CONFIG = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_security_settings():
    assert (
        CONFIG["browser"]["gatherUsageStats"],
        CONFIG["client"]["showErrorDetails"],
        CONFIG["client"]["showErrorLinks"],
        CONFIG["client"]["disableDataExport"],
        CONFIG["server"]["enableXsrfProtection"],
        CONFIG["server"]["address"],
        CONFIG["server"]["enableStaticServing"],
    ) == (False, "none", False, True, True, "127.0.0.1", True)


def test_upload_limit_matches_the_code():
    assert CONFIG["server"]["maxUploadSize"] * 1_000_000 == UPLOAD_LIMIT_BYTES == 50_000_000


def test_secrets_are_not_committed():
    ignored = (PROJECT_ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert (
        ".streamlit/secrets.toml" in ignored,
        (PROJECT_ROOT / ".streamlit" / "secrets.toml.example").is_file(),
    ) == (True, True)
