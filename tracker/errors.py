"""The conditions the tracker reports to people.

The UI and the CLI catch only these: anything else is a bug and should surface as one.
"""

from __future__ import annotations

from dataclasses import dataclass


class TrackerError(Exception):
    """Base class: a condition with a message written for the analyst."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input file, located precisely enough to fix it."""

    line: int | None
    column: str | None
    value: str | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"column {self.column}")
        prefix = (", ".join(where) + ": ") if where else ""
        return f"{prefix}{self.message}. {self.fix}"


class InvalidValue(TrackerError):
    """A single value cannot be read; `fix` tells the analyst what to write instead."""

    def __init__(self, message: str, *, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


class ImportRejected(TrackerError):
    """A file was refused as a whole; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        head = f"{count} problem{'s' if count != 1 else ''} found; nothing was imported"
        super().__init__(head + ":\n" + "\n".join(f"- {p}" for p in problems[:20]))


class UndoRefused(TrackerError):
    """An import cannot be undone (unknown, already undone, or a later import depends on it)."""


class LedgerUnavailable(TrackerError):
    """The database cannot be opened or used: missing, read-only, not a database, or too new."""


class OutputNotWritten(TrackerError):
    """An export or backup could not be written (full disk, no permission); no partial file was left."""


class NotAuthorised(TrackerError):
    """The action needs an editor login that was not given or did not match."""
