"""Text the dashboard shows: value ranges, source grades, and ledger text made safe for markdown.

Ledger text comes from uploaded files, so it is never trusted as markup: everything that goes into
a markdown element passes through `escape_markdown`, and only http(s) addresses the importer accepted
as source URLs become links (`markdown_link`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from urllib.parse import quote, urlsplit

from tracker.dates import format_partial_date

# Every ASCII punctuation character CommonMark lets a backslash escape, which covers Streamlit's
# extensions too: ":" (emoji, icons, :color[...] directives), "$" (LaTeX), "~" (strikethrough).
_MARKDOWN_SPECIALS = re.compile(r"""([\\`*_{}\[\]()#+\-.!|<>~$:^=&"'%@/;,?])""")
# Streamlit's markdown also rewrites text *after* backslash escapes are read, where escaping cannot reach:
# GFM makes links of "www." addresses, "http(s)://" addresses and e-mail addresses (mailto:, xmpp:), and
# ":streamlit:" becomes a logo. An invisible WORD JOINER (U+2060: no width, no line break) inside each
# pattern breaks it and leaves the text reading the same: after a colon that starts a word or a path,
# between "www" and its dot, and before "@". (Copied text keeps the joiner.)
WORD_JOINER = "\u2060"
_TEXT_REWRITES = re.compile(r"(?<=:)(?=[\w/])|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
_SCALES = ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k"))


def _missing(value: object) -> bool:
    """None, or the NaN pandas puts in empty cells."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def escape_markdown(text: object, *, single_line: bool = True) -> str:
    """`text` as markdown that renders literally: no links (autolinks included), emphasis, HTML, icons
    or formulas.

    With `single_line`, line breaks become spaces so a value cannot start a heading or a list.
    """
    if _missing(text):
        return ""
    value = str(text)
    if single_line:
        value = _WHITESPACE.sub(" ", value).strip()
    return _MARKDOWN_SPECIALS.sub(r"\\\1", _TEXT_REWRITES.sub(WORD_JOINER, value))


def is_web_url(url: object) -> bool:
    """Only http and https addresses are ever rendered as links (the schema enforces it too)."""
    return (
        isinstance(url, str)
        and url.lower().startswith(("http://", "https://"))
        and not any(c.isspace() for c in url)
    )


def web_url_or_none(url: object) -> str | None:
    return url if is_web_url(url) else None  # type: ignore[return-value]


def short_address(url: object) -> str | None:
    """A web address as its site and the last part of its path ("news.liga.net/…/ukraines-delegation-goes-
    to-the-us"), for a source that has no title: a publisher's articles told apart in a narrow column,
    where the whole address would show only its start. None when `url` is not an http(s) address."""
    if not is_web_url(url):
        return None
    address = urlsplit(str(url))
    parts = [part for part in address.path.split("/") if part]
    last = "/".join(parts[-1:]) + (f"?{address.query}" if address.query else "")
    if not last:
        return address.netloc
    return f"{address.netloc}/{'…/' if len(parts) > 1 else ''}{last}"


def markdown_link(label: object, url: object) -> str:
    """A markdown link when `url` is http(s), else the escaped label alone."""
    text = escape_markdown(label) or "link"
    if not is_web_url(url):
        return text
    # Characters that would end the link destination are percent-encoded; the rest of the URL is kept.
    safe_url = quote(str(url), safe=":/?#[]@!$&'*+,;=%-._~")
    return f"[{text}](<{safe_url}>)"


def grade(reliability: object, credibility: object) -> str:
    """The NATO Admiralty grade of a claim, e.g. "B2": source reliability A-F, claim credibility 1-6."""
    letter = "" if _missing(reliability) else str(reliability)
    digit = "" if _missing(credibility) else str(int(credibility))
    return letter + digit


def _plain_number(value: float) -> str:
    """1.5 -> "1.5", 10.0 -> "10", 0.04 -> "0": one decimal at most, no trailing zeros."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text if text else "0"


def _scale(amount: float) -> tuple[float, str]:
    for factor, unit in _SCALES:
        if amount >= factor:
            return factor, unit
    return 1.0, ""


def value_range_text(low: float | None, high: float | None, currency: str | None) -> str:
    """A value claim as analysts write it: "10–30 bn USD", "1.5 bn EUR", "up to 30 bn USD"; "" for none."""
    low = None if _missing(low) else float(low)
    high = None if _missing(high) else float(high)
    if low is None and high is None:
        return ""
    factor, unit = _scale(max(v for v in (low, high) if v is not None))
    suffix = " ".join(part for part in (unit, currency or "") if part)
    suffix = f" {suffix}" if suffix else ""
    if low is not None and high is not None and low != high:
        return f"{_plain_number(low / factor)}–{_plain_number(high / factor)}{suffix}"
    if low is not None and high is None:
        return f"at least {_plain_number(low / factor)}{suffix}"
    if low is None:
        return f"up to {_plain_number(high / factor)}{suffix}"  # type: ignore[operator]
    return f"{_plain_number(low / factor)}{suffix}"


def counted(count: int, noun: str, plural_form: str | None = None) -> str:
    """'1 deal', '27,951 deals': a count with thousands separators and the noun in the right number."""
    return f"{count:,} {noun if count == 1 else (plural_form or noun + 's')}"


def deal_label(
    title: str,
    *,
    sipri_recorded: bool,
    ordered_on: dt.date | None = None,
    ordered_precision: str | None = None,
    quantity: int | None = None,
) -> str:
    """A deal's name as the pages show it. Thousands of SIPRI-recorded deals share a title ("JDAM (guided
    bomb) — United States to Israel" 14 times), so theirs adds the order (their first event, see
    tracker.sipri) and the number ordered: "…, ordered 2019, 12 units". Stored titles stay as imported
    (a changed title would be recorded as a change at the next import)."""
    if not sipri_recorded:
        return title
    details = []
    if ordered_on is not None and not _missing(ordered_on) and ordered_precision:
        details.append(f"ordered {format_partial_date(ordered_on, ordered_precision)}")
    if quantity is not None and not _missing(quantity):
        details.append(counted(int(quantity), "unit"))
    return ", ".join([title, *details])


def tiv_text(tiv: float | None) -> str:
    """SIPRI's trend-indicator value in millions, for people: "27", "4.5", "0.05" ("" for none). A volume
    index, never an amount of money: shown without a currency and labelled TIV_LABEL."""
    if tiv is None or _missing(tiv):
        return ""
    return f"{float(tiv):,.2f}".rstrip("0").rstrip(".")


GRADE_HELP = "Source reliability A–F and claim credibility 1–6."
TIV_LABEL = "SIPRI TIV (millions, a volume index, not money)"
TIV_HELP = (
    "SIPRI's trend-indicator value: the military capability transferred, in millions of TIV. A volume "
    "index for comparing transfers, not a price: it is never added to or compared with a deal's value."
)
