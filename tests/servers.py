"""The dashboard as a real server for tests: `streamlit run dashboard.py` on a free port of 127.0.0.1.

Each server has a fresh SQLite ledger (the app seeds it on first run), its own HOME and its own secrets
file, passed with `--secrets.files` so that a developer's real `.streamlit/secrets.toml` in the project is
never read (Streamlit would otherwise read `~/.streamlit/secrets.toml` *and* the project's, the project's
[editors] replacing ours). Used by tests/test_browser.py and tests/test_server.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tracker.db import PROJECT_ROOT, sqlite_url_for

SERVER_START_SECONDS = 60


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-40:]) if log.exists() else "(no log)"


def serve(folder: Path, editors: dict[str, str] | None) -> Iterator[Server]:
    """`streamlit run dashboard.py` on a free port with a fresh ledger; [editors] only when given."""
    home = folder / "home"
    (home / ".streamlit").mkdir(parents=True)
    secrets = home / ".streamlit" / "secrets.toml"
    if editors is not None:
        lines = [f'{name} = "{hashed}"' for name, hashed in editors.items()]
        secrets.write_text("\n".join(["[editors]", *lines, ""]), encoding="utf-8")
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("STREAMLIT_")}
    env.update(
        HOME=str(home), PYTHONUNBUFFERED="1", TRACKER_DATABASE_URL=sqlite_url_for(folder / "ledger.db")
    )
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "dashboard.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        # Only this file (which need not exist): never the project's own .streamlit/secrets.toml.
        "--secrets.files",
        str(secrets),
    ]
    log = folder / "streamlit.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # its own process group, killed at teardown
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit run exited with {process.returncode}:\n{log_tail(log)}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit run did not answer on {url} within {SERVER_START_SECONDS} s:\n{log_tail(log)}"
                )
            time.sleep(0.2)
        yield Server(url, process, log)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
