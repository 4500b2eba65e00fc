"""Deal attributes: one codec between the `deals` columns, the text recorded in `deal_changes`, and what
people see. The text forms are those earlier versions stored, so existing ledgers read back unchanged."""

from __future__ import annotations

import pytest

from tracker.attributes import ATTRIBUTE_BY_NAME, ATTRIBUTE_COLUMNS, DEAL_ATTRIBUTES, restored, shown_change
from tracker.columns import BATCH_COLUMNS
from tracker.models import Deal

CODEC_CASES = [
    # attribute, deals column values, recorded text, shown
    ("title", ("Drone deal",), "Drone deal", "Drone deal"),
    ("summary", (None,), None, "not set"),
    ("category", ("UAV",), "UAV", "UAV"),
    ("quantity", (1200,), "1200", "1,200"),
    ("quantity", (None,), None, "not set"),
    ("value", (300e6, 400e6, "EUR"), "300000000.0|400000000.0|EUR", "300–400 m EUR"),
    ("value", (None, 5e6, "USD"), "|5000000.0|USD", "up to 5 m USD"),
    ("value", (1.5e9, None, "USD"), "1500000000.0||USD", "at least 1.5 bn USD"),
    ("value", (None, None, "USD"), None, "not set"),
    ("sipri_tiv", (27.0,), "27.0", "27 m TIV"),
    ("sipri_tiv", (4.25,), "4.25", "4.25 m TIV"),
    ("sipri_tiv", (1234.5,), "1234.5", "1,234.5 m TIV"),
]


@pytest.mark.parametrize(("name", "values", "text", "shown"), CODEC_CASES)
def test_each_attribute_encodes_decodes_and_shows(name, values, text, shown):
    attribute = ATTRIBUTE_BY_NAME[name]
    assert attribute.encode(values) == text
    assert attribute.show(text) == shown
    if text is not None:
        assert attribute.decode(text) == dict(zip(attribute.deal_columns, values, strict=True))


def test_shown_change_for_recorded_changes():
    assert shown_change("value", "300000000.0|400000000.0|EUR") == "300–400 m EUR"
    assert shown_change("value", "|5000000.0|USD") == "up to 5 m USD"
    assert shown_change("title", None) == "not set"
    assert shown_change("category", "radar") == "radar"
    assert shown_change("quantity", "12.0") == "12"  # a text an older version stored


def test_restored_takes_the_first_old_value_per_field():
    changes = [("quantity", "12"), ("value", None), ("quantity", "20"), ("title", "Old title")]
    assert restored(changes) == {
        "quantity": 12,
        "value_low": None,
        "value_high": None,
        "currency": None,
        "title": "Old title",
    }


def test_the_registry_matches_the_deals_table_and_the_batch():
    assert set(ATTRIBUTE_COLUMNS) <= set(Deal.__table__.columns.keys())
    assert {column for attribute in DEAL_ATTRIBUTES for column in attribute.batch_columns} <= set(
        BATCH_COLUMNS
    )
    assert len({attribute.name for attribute in DEAL_ATTRIBUTES}) == len(DEAL_ATTRIBUTES)
