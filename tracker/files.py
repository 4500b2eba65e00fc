"""Files the tracker writes for the analyst (exports, backups): complete, or not there at all.

A file is written under a temporary name in the folder it is meant for, then renamed into place: a rename
within one folder is atomic, so a full disk, a killed process or a missing permission never leaves a
truncated export or backup behind, and an existing file is only ever replaced by a complete one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tracker.errors import OutputNotWritten

_CHUNK = 1 << 20  # bytes per write() call


def not_written(destination: Path, reason: object) -> OutputNotWritten:
    """The one-line error for a file that could not be written; `reason` is an OSError or a message."""
    text = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
    return OutputNotWritten(
        f"cannot write {destination}: {text}. Nothing was written; free some space or choose another folder."
    )


@contextmanager
def file_in_place(destination: Path) -> Iterator[Path]:
    """A temporary path beside `destination`, renamed to it when the block succeeds, removed when it fails.

    Whatever the block leaves next to the temporary file (a SQLite journal) is removed with it.
    """
    partial = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.part")
    try:
        yield partial
        os.replace(partial, destination)
    except BaseException:
        for leftover in (partial, *partial.parent.glob(f"{partial.name}-*")):
            leftover.unlink(missing_ok=True)
        raise


def write_file(destination: Path, data: bytes, *, mode: int | None = None) -> None:
    """`data` as the whole content of `destination`, replacing it only once every byte is on disk.

    `mode`: the new file's permission bits (e.g. those of the file it replaces); default as any new file.
    """
    try:
        with file_in_place(destination) as partial:
            descriptor = os.open(
                partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if mode is not None else 0o666
            )
            try:
                if mode is not None:
                    os.fchmod(descriptor, mode)  # before any byte is written: no moment with wider access
                view = memoryview(data)
                for start in range(0, len(view), _CHUNK):
                    chunk = view[start : start + _CHUNK]
                    while chunk:  # write() may take fewer bytes than given
                        chunk = chunk[os.write(descriptor, chunk) :]
                os.fsync(descriptor)  # on disk before the rename makes it the file
            finally:
                os.close(descriptor)
    except OSError as exc:
        raise not_written(destination, exc) from exc
