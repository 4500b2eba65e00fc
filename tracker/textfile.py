"""Turning uploaded bytes into text and CSV records, with line numbers an analyst can find."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from tracker.display import counted
from tracker.errors import MAX_PROBLEMS, ImportRejected, Problem

# Control characters other than tab and line feed (carriage returns included: CRLF text is not plain).
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, 0x0D, *range(0x0E, 0x20), 0x7F])
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
FIELD_LIMIT = 131_072
# A header wider than this is refused before the file is parsed: a header line is split into one string per
# column, so a megabyte of commas would otherwise become a million strings (a ledger file has 36 columns,
# a SIPRI export 16 or 17; 10,000 keeps a wide spreadsheet's header readable enough to list what is wrong).
MAX_COLUMNS = 10_000

_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_MAGIC = (
    (b"PK\x03\x04", "an XLSX or ZIP file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (XLS) or Word file"),
    (b"%PDF", "a PDF file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3", "a SQLite database"),
)
_SAVE_AS_CSV = (
    'Open it in a spreadsheet program and save it as "CSV UTF-8 (comma delimited)", then upload that file.'
)


@dataclass(frozen=True, slots=True)
class Records:
    """A CSV file's header and data records, each with the physical line it starts on."""

    header: list[str]
    header_line: int
    rows: list[list[str]]
    lines: list[int]
    delimiter: str
    # True when the text is ASCII without control characters and no record spans two lines: then no
    # cell needs Unicode normalisation or a control-character check (the common case, checked once).
    plain: bool = False


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read with: UTF-8 (BOM or not), UTF-16 with BOM, or cp1252.

    cp1252 is accepted only when the bytes hold no UTF-8 sequence at all: a file mixing both is
    corrupt, and guessing would silently garble names.
    """
    if not data.strip():
        raise ImportRejected(
            [
                Problem(
                    None,
                    None,
                    None,
                    "the file is empty",
                    "Upload a CSV whose first line is the header; download the template to start.",
                )
            ]
        )
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise ImportRejected(
                [Problem(None, None, None, f"this is {what}, not a CSV text file", _SAVE_AS_CSV)]
            )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise ImportRejected(
                [Problem(None, None, None, f"the UTF-16 text is corrupt near byte {exc.start}", _SAVE_AS_CSV)]
            ) from exc
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ImportRejected(
            [
                Problem(
                    _line_of(data, nul),
                    None,
                    None,
                    "the file contains NUL bytes, so it is binary or corrupt, not CSV text",
                    _SAVE_AS_CSV,
                )
            ]
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        # The position only: the error holds a copy of the whole file, and kept in this frame (which its
        # traceback holds) it is a cycle that lives on through the import, whose cycle collection is
        # paused (tracker.memory): the real 3.6 MB SIPRI export, in Windows-1252, held 3.6 MB more.
        bad_at = exc.start
    if _UTF8_MULTIBYTE.search(data) is None:
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    bad = data[bad_at : bad_at + 1].hex()
    raise ImportRejected(
        [
            Problem(
                _line_of(data, bad_at),
                None,
                None,
                f"byte 0x{bad} is not valid UTF-8 (and the file is not consistently Windows-1252 either)",
                "Re-save the file as UTF-8 from the program that made it; fix or retype the characters "
                "on that line.",
            )
        ]
    )


def sniff_delimiter(header_line: str) -> str:
    """The delimiter used most in the header line (comma when none appears)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def first_lines(text: str, count: int, *, keepends: bool = False) -> list[str]:
    """`text.splitlines()[:count]`, without splitting the whole of a large file.

    From 4 KB up: every line split is a string object of about 50 bytes beside its text, and the first
    64 KB of a file of short lines held 13,000 of them (0.8 MB for a 100 KB file) to find its header.
    """
    size = 4_096
    while True:
        lines = text[:size].splitlines(keepends)
        if len(lines) > count or size >= len(text):  # more lines than asked: the first `count` are whole
            return lines[:count]
        size *= 4


def lines_after(text: str, skipped: int) -> io.TextIOWrapper:
    """The physical lines of `text` after its first `skipped` lines (split as str.splitlines splits them),
    read one at a time, split as the csv module expects (open(newline=""))."""
    offset = sum(map(len, first_lines(text, skipped, keepends=True)))
    return _lines_of(text[offset:].encode("utf-8", "surrogatepass"))


def check_width(header: str, delimiter: str, *, line: int, fix: str) -> None:
    """Refuse a header line of more than MAX_COLUMNS columns, counted before it is split."""
    columns = header.count(delimiter) + 1
    if columns > MAX_COLUMNS:
        raise ImportRejected(
            [
                Problem(
                    line,
                    None,
                    None,
                    f"the header has {columns:,} columns; at most {MAX_COLUMNS:,} are read",
                    fix,
                )
            ]
        )


def read_records(text: str, *, delimiter: str | None = None, encoded: bytes | None = None) -> Records:
    """Parse CSV text strictly: every record must have as many fields as the header. Blank lines and rows of
    blank cells are ignored.

    `encoded`: the text's UTF-8 bytes, when the caller holds them (a file read as UTF-8 without a BOM is its
    own bytes); otherwise the text is encoded again, a copy of the file held through the parse.
    """
    head = first_lines(text, 50)
    number, first = next(((n, ln) for n, ln in enumerate(head, start=1) if ln.strip()), (1, ""))
    delimiter = delimiter or sniff_delimiter(first)
    check_width(
        first,
        delimiter,
        line=number,
        fix="Keep the template's columns in the first line, one of each; download the template to see them.",
    )
    if encoded is None:
        encoded = text.encode("utf-8", "surrogatepass")
    starts, records, failure, single_lines = _parse(encoded, delimiter)
    plain = single_lines and text.isascii() and not _has_control_bytes(encoded)
    if failure is None and (whole := _well_formed(records)) is not None:
        return Records(
            header=records[whole],
            header_line=starts[whole],
            rows=records[whole + 1 :],
            lines=list(starts[whole + 1 :]),
            delimiter=delimiter,
            plain=plain,
        )
    problems: list[Problem] = []
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    for start, record in zip(starts, records):
        if header is None:
            header, header_line = record, start
            continue
        if len(record) != len(header):
            problems.append(
                Problem(
                    start,
                    None,
                    None,
                    width_problem_text(len(record), len(header)),
                    f"Wrap any field that contains a {DELIMITER_NAMES[delimiter]}, a double quote or a line "
                    "break in double quotes (doubling quotes inside it), or remove the extra fields.",
                )
            )
            if len(problems) >= MAX_PROBLEMS:
                break
            continue
        rows.append(record)
        lines.append(start)
    else:  # not cut short at MAX_PROBLEMS: the parser's own problem, if any, comes after the others
        if failure:
            problems.append(failure)
    if problems:
        raise ImportRejected(problems)
    if header is None:
        raise ImportRejected(
            [
                Problem(
                    None,
                    None,
                    None,
                    "the file has no header line",
                    "Start the file with the header; download the template to see it.",
                )
            ]
        )
    return Records(
        header=header, header_line=header_line, rows=rows, lines=lines, delimiter=delimiter, plain=plain
    )


def _has_control_bytes(encoded: bytes) -> bool:
    # translate() deleting them shortens a chunk that has any: twice as fast as a regular-expression
    # search. A megabyte at a time, so that no copy of a large file is made (new memory is slow here).
    step = 1 << 20
    return any(
        len(chunk.translate(None, _CONTROL_BYTES)) != len(chunk)
        for chunk in (encoded[start : start + step] for start in range(0, len(encoded), step))
    )


def _well_formed(records: list[list[str]]) -> int | None:
    """Where the header is, when every record after it has the header's width and a non-blank first cell.

    Then there is nothing to skip or report record by record, and the check runs at C speed (a tenth of
    the parse for a large file); None sends the caller through the record-by-record loop.
    """
    header = next((i for i, record in enumerate(records) if "".join(record).strip()), None)
    if header is None:
        return None
    body = records[header + 1 :]
    width = len(records[header])
    if body and (
        min(map(len, body)) != width
        or max(map(len, body)) != width
        or not all(map(str.strip, map(itemgetter(0), body)))
    ):
        return None
    return header


def _has_text(record: list[str]) -> bool:
    """False for rows of blank cells (",,,,", spaces) that spreadsheet exports leave between and after
    rows; the first cell decides for almost every row, so the join is rarely made."""
    return bool(record[0].strip() or "".join(record).strip())


def _kept(records: Iterable[list[str]]) -> Iterable[list[str]]:
    """The records that hold text. Blank lines ([]) go at C speed before the test in Python, so a file of
    blank lines costs neither a list per line nor a Python call per line."""
    return filter(_has_text, filter(None, records))


def _parse(encoded: bytes, delimiter: str) -> tuple[Sequence[int], list[list[str]], Problem | None, bool]:
    """Every record that holds text with the line it starts on, the problem that stopped the parse (None
    at the end of the text), and whether every record is a single line.

    Blank records are dropped as they are read, never held, so memory follows the text, not its number
    of lines (49 MB of blank lines held 49 million empty lists: 290 MB -> 4.2 GB in the dashboard).
    """
    first = 1
    reader = csv.reader(_lines_of(encoded), delimiter=delimiter, strict=True)
    try:
        records = list(_kept(reader))  # the whole file at C speed
    except csv.Error:
        pass
    else:
        if reader.line_num == len(records):  # no blank line and no record over two lines: numbers follow
            return range(first, first + len(records)), records, None, True
        del records  # numbered again below; two copies would double the peak
        # Blank lines: while every record is one line, the n-th record read is on line n.
        reader = csv.reader(_lines_of(encoded), delimiter=delimiter, strict=True)
        counter = itertools.count(first)
        numbered = list(filter(lambda pair: _has_text(pair[1]), filter(itemgetter(1), zip(counter, reader))))
        # zip took one number past the last record: the next one is `first` + records read + 1.
        if reader.line_num == next(counter) - first - 1:
            return [line for line, _ in numbered], [record for _, record in numbered], None, True
        del numbered
    # A record spans lines, or the file is malformed: go record by record to know where each starts.
    reader = csv.reader(_lines_of(encoded), delimiter=delimiter, strict=True)
    starts: list[int] = []
    records = []
    previous_end = 0
    while True:
        start = previous_end + 1
        try:
            record = next(reader)
        except StopIteration:
            return starts, records, None, False
        except csv.Error as exc:
            return starts, records, _csv_problem(start, str(exc), delimiter), False
        previous_end = reader.line_num
        if record and _has_text(record):
            starts.append(start)
            records.append(record)


def _lines_of(encoded: bytes) -> io.TextIOWrapper:
    """The physical lines of the UTF-8 `encoded` text, split as `open(newline="")` splits them (the csv
    module's contract), decoded a chunk at a time.

    Not io.StringIO over the text: it copies the whole text into a buffer of four bytes per character,
    and touching that much new memory costs more than the parse itself (7 of 10 s for a 450 MB file).
    """
    return io.TextIOWrapper(io.BytesIO(encoded), encoding="utf-8", errors="surrogatepass", newline="")


def width_problem_text(fields: int, width: int) -> str:
    """A record whose number of fields is not the header's, in the analyst's words (SIPRI's reader too)."""
    return f"this record has {counted(fields, 'field')} but the header has {width:,}"


def csv_error_text(detail: str) -> str:
    """What the csv module's error `detail` means, in the words the analyst reads (SIPRI's reader too)."""
    if "field larger than field limit" in detail:
        return f"a field is longer than {FIELD_LIMIT:,} characters"
    if "unexpected end of data" in detail or "EOF" in detail:
        return "a quoted field that starts here is never closed"
    return f"the CSV cannot be read here ({detail})"


def _csv_problem(line: int, detail: str, delimiter: str) -> Problem:
    if "field larger than field limit" in detail:
        fix = "Shorten it: summaries and notes are limited to 5,000 characters."
    elif "unexpected end of data" in detail or "EOF" in detail:
        fix = "Add the missing closing double quote."
    else:
        fix = (
            f"Check the quotes on this line: a field containing a {DELIMITER_NAMES[delimiter]}, a quote or "
            "a line break must be wrapped in double quotes, with inner quotes doubled."
        )
    return Problem(line, None, None, csv_error_text(detail), fix)
