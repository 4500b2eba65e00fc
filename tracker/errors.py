"""The conditions the tracker reports to people.

The UI and the CLI catch only these: anything else is a bug and should surface as one.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping
from dataclasses import dataclass

MAX_PROBLEMS = 200  # problems shown for one file; the rest are counted


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


class Problems:
    """The problems found in one file, in file order (line, then column): the first `limit` are kept and
    the rest only counted, so a file with a million bad rows costs no more memory than one with 200.

    `column_order` ranks columns within a line (the file's column order); without it, by name.
    """

    def __init__(self, *, column_order: Mapping[str, int] | None = None, limit: int = MAX_PROBLEMS) -> None:
        self._order = column_order or {}
        self._limit = limit
        self._kept: list[_Last] = []  # a heap whose top is the kept problem that comes last in the file
        self._seen = itertools.count()
        self.total = 0

    def add(self, problem: Problem) -> None:
        self.total += 1
        column = problem.column or ""
        entry = _Last((problem.line or 0, self._order.get(column, 99), column, next(self._seen)), problem)
        if len(self._kept) < self._limit:
            heapq.heappush(self._kept, entry)
        elif self._kept[0] < entry:
            heapq.heapreplace(self._kept, entry)

    def __bool__(self) -> bool:
        return self.total > 0

    def __len__(self) -> int:
        return self.total

    def shown(self) -> list[Problem]:
        """The kept problems in file order, then a line counting the others."""
        kept = [entry.problem for entry in sorted(self._kept, reverse=True)]
        more = self.total - len(kept)
        if more:
            kept.append(
                Problem(
                    None,
                    None,
                    None,
                    f"{more} more problems not shown",
                    "Fix the ones above and upload again.",
                )
            )
        return kept

    def raise_if_any(self) -> None:
        if self.total:
            raise ImportRejected(self.shown())


@dataclass(frozen=True, slots=True)
class _Last:
    """A heap entry ordered backwards: the smallest entry is the one that comes last in the file."""

    key: tuple[int, int, str, int]
    problem: Problem

    def __lt__(self, other: _Last) -> bool:
        return other.key < self.key


class UndoRefused(TrackerError):
    """An import cannot be undone (unknown, already undone, or a later import depends on it)."""


class CorrectionRefused(TrackerError):
    """A retraction, correction, regrade, re-rating or deal edit cannot be made (an unknown or retracted
    event, an unknown source or deal, no reason given, nothing to change)."""


class LedgerUnavailable(TrackerError):
    """The database cannot be opened or used: missing, read-only, not a database, or too new."""


class DraftRefused(TrackerError):
    """An article cannot be drafted into ledger rows: empty, unreadable, or not an article at all."""


class OutputNotWritten(TrackerError):
    """An export or backup could not be written (full disk, no permission); no partial file was left."""


class NotAuthorised(TrackerError):
    """The action needs an editor login that was not given or did not match."""


class ViewNotSaved(TrackerError):
    """A saved view cannot be saved: no name, a name too long, or a name another view has."""
