"""An article cut into sentences, with every offset kept: each drafted value points back at its span."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracker.errors import DraftRefused

# A long feature is some 60,000 characters; a megabyte of "article" is a pasted file of something else.
MAX_ARTICLE_CHARACTERS = 200_000
# Python's re has no timeout: every pattern of the drafter runs on one sentence at a time, and a
# "sentence" this long (a table, a list without full stops) is cut at a space so no scan is quadratic
# in the article.
MAX_SENTENCE_CHARACTERS = 1_500

# Abbreviations after which a full stop does not end the sentence ("Sept. 29", "Gen. Smith").
_ABBREVIATIONS = frozenset(
    (
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mr", "mrs",
        "ms", "dr", "gen", "lt", "col", "maj", "capt", "adm", "cmdr", "sgt", "gov", "sen", "rep", "st", "no",
        "vs",
        "inc", "ltd", "co", "corp", "dept", "est", "approx", "fig", "pres", "prof", "rev",
    )
)  # fmt: skip
# After "U.S." or "U.K." a sentence ends only if the next word usually starts one.
_SENTENCE_STARTERS = frozenset(
    (
        "the", "a", "an", "it", "its", "he", "she", "they", "this", "that", "these", "those", "in", "on",
        "at", "but", "and", "however", "meanwhile",
    )
)  # fmt: skip
_BOUNDARY = re.compile(r"[.!?]+[\"”’')\]]*\s+")
_WORD_BEFORE = re.compile(r"(\S{1,40})$")
_INITIALISM = re.compile(r"(?:[A-Za-z]\.){2,}$")
_WORD_AFTER = re.compile(r"[\"“‘(]?([A-Za-z]+)")


@dataclass(frozen=True, slots=True)
class Span:
    """Where a drafted value comes from: character offsets into the article, and the sentence's index."""

    start: int
    end: int
    sentence: int
    text: str


@dataclass(frozen=True, slots=True)
class Sentence:
    index: int
    start: int
    end: int
    text: str

    def span(self, start: int, end: int) -> Span:
        """A span given by offsets within this sentence."""
        return Span(self.start + start, self.start + end, self.index, self.text[start:end])


def check_article(text: str) -> None:
    """DraftRefused for text the drafter cannot use: empty, or far longer than any article."""
    if not text.strip():
        raise DraftRefused("the article is empty: paste or give the text of a news report")
    if len(text) > MAX_ARTICLE_CHARACTERS:
        raise DraftRefused(
            f"the text has {len(text):,} characters, more than the {MAX_ARTICLE_CHARACTERS:,} of a long "
            "article: give one article at a time"
        )


def split_sentences(text: str) -> list[Sentence]:
    """The article's sentences in order; a line break always ends one (headlines, paragraphs)."""
    pieces: list[tuple[int, int]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        pieces.extend(_line_sentences(body, offset))
        offset += len(line)
    sentences: list[Sentence] = []
    for start, end in pieces:
        for part_start, part_end in _cut_long(text, start, end):
            part = text[part_start:part_end]
            lead = len(part) - len(part.lstrip())
            part = part.strip()
            if part:
                begin = part_start + lead
                sentences.append(Sentence(len(sentences), begin, begin + len(part), part))
    return sentences


def _line_sentences(line: str, offset: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(line):
        if _ends_sentence(line, match):
            spans.append((offset + start, offset + match.end()))
            start = match.end()
    spans.append((offset + start, offset + len(line)))
    return spans


def _ends_sentence(line: str, match: re.Match[str]) -> bool:
    after = _WORD_AFTER.match(line, match.end())
    following = line[match.end() : match.end() + 1]
    if not following or not (following.isupper() or following.isdigit() or following in '"“‘('):
        return False
    if line[match.start()] != ".":
        return True
    before = _WORD_BEFORE.search(line, 0, match.start())
    word = before.group(1) if before else ""
    if _INITIALISM.search(word + "."):
        # "U.S. officials" goes on; "... sold to the U.S. The deal ..." ends.
        return bool(after) and after.group(1).lower() in _SENTENCE_STARTERS
    bare = word.lstrip('"“‘(').lower()
    if bare in _ABBREVIATIONS:
        return False
    # An initial ("J. Smith") is one capital letter.
    return not (len(bare) == 1 and bare.isalpha())


def _cut_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    parts: list[tuple[int, int]] = []
    while end - start > MAX_SENTENCE_CHARACTERS:
        cut = text.rfind(" ", start + MAX_SENTENCE_CHARACTERS // 2, start + MAX_SENTENCE_CHARACTERS)
        if cut < 0:
            cut = start + MAX_SENTENCE_CHARACTERS
        parts.append((start, cut))
        start = cut
    parts.append((start, end))
    return parts


def quoted_ranges(sentence: Sentence) -> list[tuple[int, int]]:
    """Offsets (within the sentence) of the text inside quotation marks.

    A quote left open at the sentence's end runs to its end: quotes of several sentences are common.
    """
    ranges: list[tuple[int, int]] = []
    opened: int | None = None
    for position, char in enumerate(sentence.text):
        if char in "“" or (char == '"' and opened is None):
            opened = position
        elif char in "”" or (char == '"' and opened is not None):
            ranges.append((0 if opened is None else opened, position + 1))
            opened = None
    if opened is not None:
        ranges.append((opened, len(sentence.text)))
    return ranges


def inside(position: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in ranges)
