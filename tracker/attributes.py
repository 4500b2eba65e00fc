"""A deal's attributes, declared once with their codec: how each is stored as text in `deal_changes`,
read back into the `deals` columns, and shown to people.

A deal's attributes change only by recorded changes (old text -> new text), so the same text form
serves the importer (which compares claims with the ledger and records changes), undo (which puts the
old text back), the as-of views (which read the old text of later changes) and the display. The text
forms are those earlier versions of the tracker stored, so existing ledgers read back unchanged:
"12" for a quantity, repr() of a float ("27.0") for a SIPRI TIV, "low|high|currency" for a value range
("300000000.0|400000000.0|EUR", "|5000000.0|USD").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracker.display import TIV_LABEL, tiv_text, value_range_text


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _text(values: Sequence[Any]) -> str | None:
    (value,) = values
    return None if _missing(value) else str(value)


def _integer(values: Sequence[Any]) -> str | None:
    (value,) = values
    return None if _missing(value) else str(int(float(value)))


def _number(values: Sequence[Any]) -> str | None:
    (value,) = values
    return None if _missing(value) else repr(float(value))


def _range(values: Sequence[Any]) -> str | None:
    low, high, currency = values
    if _missing(low) and _missing(high):
        return None
    low_text = "" if _missing(low) else repr(float(low))
    high_text = "" if _missing(high) else repr(float(high))
    return f"{low_text}|{high_text}|{'' if _missing(currency) else currency}"


def _read_text(text: str | None) -> tuple[Any, ...]:
    return (text,)


def _read_integer(text: str | None) -> tuple[Any, ...]:
    return (None if text is None else int(float(text)),)


def _read_number(text: str | None) -> tuple[Any, ...]:
    return (None if text is None else float(text),)


def _read_range(text: str | None) -> tuple[Any, ...]:
    low, high, currency = (text.split("|") + ["", ""])[:3] if text else ("", "", "")
    return (float(low) if low else None, float(high) if high else None, currency or None)


def _show_text(text: str) -> str:
    return text


def _show_integer(text: str) -> str:
    return f"{int(float(text)):,}"


def _show_range(text: str) -> str:
    return value_range_text(*_read_range(text))


def _show_tiv(text: str) -> str:
    # SIPRI's trend-indicator value is a volume index in millions, never an amount of money.
    return f"{tiv_text(float(text))} m TIV"


@dataclass(frozen=True, slots=True)
class Codec:
    """Between a deal's column values and the one text recorded in a change."""

    encode: Callable[[Sequence[Any]], str | None]
    decode: Callable[[str | None], tuple[Any, ...]]
    show: Callable[[str], str]


TEXT = Codec(_text, _read_text, _show_text)
INTEGER = Codec(_integer, _read_integer, _show_integer)
NUMBER = Codec(_number, _read_number, _show_text)
RANGE = Codec(_range, _read_range, _show_range)
TIV = Codec(_number, _read_number, _show_tiv)


@dataclass(frozen=True, slots=True)
class DealAttribute:
    """One attribute of a deal: its name in `deal_changes.field`, the `deals` columns that hold it, and
    the batch columns (see tracker.columns) whose claims set it."""

    name: str
    label: str
    deal_columns: tuple[str, ...]
    batch_columns: tuple[str, ...]
    codec: Codec = TEXT
    # Shown among the deal's facts on the deal page (title, summary and value have places of their own).
    in_facts: bool = False

    def encode(self, values: Sequence[Any]) -> str | None:
        """The recorded text of these column values (in `deal_columns` order); None when not set."""
        return self.codec.encode(values)

    def decode(self, text: str | None) -> dict[str, Any]:
        """The `deals` column values of a recorded text."""
        return dict(zip(self.deal_columns, self.codec.decode(text), strict=True))

    def show(self, text: str | None) -> str:
        """The recorded text for people: "10–30 bn USD", "1,200", "not set"."""
        return "not set" if text is None or text == "" else self.codec.show(text)

    def of(self, row: Mapping[str, Any]) -> str | None:
        """The recorded text of a deal's current values (a `deals` row as a mapping)."""
        return self.encode([row[column] for column in self.deal_columns])


DEAL_ATTRIBUTES: tuple[DealAttribute, ...] = (
    DealAttribute("title", "Title", ("title",), ("deal_title",)),
    DealAttribute("summary", "Summary", ("summary",), ("deal_summary",)),
    DealAttribute("category", "Category", ("category",), ("category",), in_facts=True),
    DealAttribute("quantity", "Quantity", ("quantity",), ("deal_quantity",), INTEGER, in_facts=True),
    DealAttribute(
        "value",
        "Value",
        ("value_low", "value_high", "currency"),
        ("deal_value_low", "deal_value_high", "deal_currency"),
        RANGE,
    ),
    # Labelled as the volume index it is wherever it is shown (deal page, briefs, history), never as money.
    DealAttribute("sipri_tiv", TIV_LABEL, ("sipri_tiv",), ("deal_sipri_tiv",), TIV, in_facts=True),
)
ATTRIBUTE_BY_NAME: dict[str, DealAttribute] = {attribute.name: attribute for attribute in DEAL_ATTRIBUTES}
# Every `deals` column an attribute holds, in declaration order.
ATTRIBUTE_COLUMNS: tuple[str, ...] = tuple(c for attribute in DEAL_ATTRIBUTES for c in attribute.deal_columns)


def shown_change(field: str, text: str | None) -> str:
    """A recorded change's text for people; a field this version does not know is shown as stored."""
    attribute = ATTRIBUTE_BY_NAME.get(field)
    if attribute is None:
        return "not set" if text is None or text == "" else text
    return attribute.show(text)


def restored(changes: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
    """The `deals` column values to put back from (field, old text) pairs: the first pair per field wins
    (the value before the earliest of the changes)."""
    values: dict[str, Any] = {}
    seen: set[str] = set()
    for field, old in changes:
        attribute = ATTRIBUTE_BY_NAME.get(field)
        if attribute is None or field in seen:
            continue
        seen.add(field)
        values.update(attribute.decode(old))
    return values
