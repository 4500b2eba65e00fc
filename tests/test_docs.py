"""The README's column tables say what the column registry (tracker.columns) says: a column added,
renamed or redescribed in one place and not the other fails here, with the table the README should hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracker.columns import COLUMNS

README = Path(__file__).resolve().parent.parent / "README.md"
TABLES = {
    "standard": "| column | required | meaning |",
    "ours": "| column (our additions) | required | meaning |",
    "round trip": "| column (written by exports) | required | meaning |",
}


def expected_table(group: str) -> str:
    rows = [f"| `{c.name}` | {c.required} | {c.meaning} |" for c in COLUMNS if c.group == group]
    return "\n".join([TABLES[group], "|---|---|---|", *rows])


def readme_table(head: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(re.escape(head) + r"\n(?:\|.*\n)+", text)
    assert match, f"README.md has no table starting {head!r}"
    return match.group(0).rstrip("\n")


@pytest.mark.parametrize("group", list(TABLES))
def test_the_readme_tables_list_every_column_as_the_registry_declares_it(group):
    expected = expected_table(group)
    assert readme_table(TABLES[group]) == expected, f"README.md should hold:\n\n{expected}\n"
