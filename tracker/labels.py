"""Deals' labels read from the ledger: `tracker.display.deal_label` over the columns it needs.

The one way the pages, the briefs, the signpost lists and the changes digest name a deal, so that two
SIPRI-recorded deals with the same title ("JDAM (guided bomb) — United States to Israel", 14 times in the
register) read apart everywhere. A module of its own because tracker.signposts needs it and
tracker.queries imports tracker.signposts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, select

from tracker.display import deal_label
from tracker.filters import deal_scope_condition
from tracker.models import Deal

_CHUNK = 500  # deal ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


def sipri_recorded() -> ColumnElement[Any]:
    """Whether the deal is SIPRI-recorded, as a column: the scope's own test, so a label says "ordered"
    exactly where the SIPRI-recorded scope holds the deal (tracker.filters.SCOPE_RULE)."""
    return deal_scope_condition("recorded").label("label_sipri_recorded")  # type: ignore[union-attr]


def label_columns() -> tuple[ColumnElement[Any], ...]:
    """What `deal_label` reads besides the title, as columns of a statement over `deals`."""
    return (
        Deal.quantity.label("label_quantity"),
        Deal.first_event_on.label("label_ordered_on"),
        Deal.first_event_precision.label("label_ordered_precision"),
        sipri_recorded(),
    )


def frame_labels(titles: Iterable[str], frame: pd.DataFrame) -> list[str]:
    """`deal_label` of each row of a frame holding `label_columns`, with the stored `titles`."""
    return [
        deal_label(
            title,
            sipri_recorded=bool(recorded),
            ordered_on=ordered_on,
            ordered_precision=precision,
            quantity=None if pd.isna(quantity) else int(quantity),
        )
        for title, quantity, ordered_on, precision, recorded in zip(
            titles,
            frame["label_quantity"],
            frame["label_ordered_on"],
            frame["label_ordered_precision"],
            frame["label_sipri_recorded"],
        )
    ]


def deal_labels(engine: Engine, deal_ids: Sequence[str]) -> dict[str, str]:
    """The label of each of these deals that the ledger holds, by deal id."""
    ids = list(dict.fromkeys(deal_ids))
    if not ids:  # most pages' signpost lists are empty: no connection for them
        return {}
    found: dict[str, str] = {}
    with engine.connect() as connection:
        for start in range(0, len(ids), _CHUNK):
            result = connection.execute(
                select(Deal.id, Deal.title, *label_columns()).where(Deal.id.in_(ids[start : start + _CHUNK]))
            )
            keys, rows = list(result.keys()), result.all()
            # Column-wise: given Row objects, pandas probes each one for namedtuple fields.
            columns = list(zip(*rows)) if rows else [()] * len(keys)
            rows = pd.DataFrame({key: list(column) for key, column in zip(keys, columns)}, columns=keys)
            found.update(zip(rows["id"], frame_labels(rows["title"], rows)))
    return found
