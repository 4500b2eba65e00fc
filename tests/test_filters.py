"""The filters: the Filters value's caption in plain words and the deals it selects, and the registry they
are declared in (the CLI options and the README derived from it)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import fields

import pytest
from sqlalchemy import Engine, select

from tests.builders import ledger_csv, row
from tracker import cli
from tracker.db import PROJECT_ROOT
from tracker.filters import FILTER_BY_KEY, FILTERS, Filters
from tracker.importer import import_bytes
from tracker.models import Deal

D = dt.date


@pytest.mark.parametrize(
    ("filters", "caption"),
    [
        (Filters(), "All deals"),
        (
            Filters(countries=("UKR",), country_role="seller", stages=("negotiating",), since=D(2025, 7, 1)),
            "Deals with Ukraine as seller, stage negotiating, since 2025-07-01",
        ),
        (
            Filters(countries=("USA", "GBR", "FRA")),
            "Deals with United States, United Kingdom or France as buyer or seller",
        ),
        (Filters(parties=(3, 4), roles=("negotiator",)), "Deals involving Yermak or party #4 as negotiator"),
        (Filters(roles=("financier",), categories=("UAV",)), "Deals with a party as financier, category UAV"),
        (
            Filters(since=D(2025, 1, 1), until=D(2025, 6, 30), text=" drones ", min_reliability="B"),
            (
                'Deals with events from 2025-01-01 to 2025-06-30, mentioning "drones", sourced at grade '
                "B or better"
            ),
        ),
    ],
)
def test_caption(filters: Filters, caption: str):
    assert filters.caption(party_names={3: "Yermak"}) == caption


def deals(engine: Engine, filters: Filters) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(select(Deal.id).where(filters.deal_clause()).order_by(Deal.id)).scalars()
        )


@pytest.fixture
def ledger(engine: Engine) -> Engine:
    import_bytes(
        engine,
        ledger_csv(
            row(
                deal_id="drones", deal_title="Drones", category="UAV", stage="negotiating", date="2025-09-01"
            ),
            row(
                deal_id="tanks",
                deal_title="Tanks",
                category="Tanks",
                buyer="Poland",
                seller="South Korea",
                stage="contracted",
                date="2024-03",
                summary="Contract for 100% of the order_book.",
                source_url="",
                source_title="Defence News report",
                reliability="D",
            ),
            row(
                deal_id="jets",
                deal_title="Jets",
                buyer="Ukraine",
                seller="Sweden",
                date="2023",
                stage="announced",
                party="Saab",
                party_role="manufacturer",
                party_kind="company",
                party_country="SWE",
            ),
        ),
        file_name="three.csv",
        editor="t",
        today=D(2026, 11, 25),
    )
    return engine


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(), ["drones", "jets", "tanks"]),
        (Filters(countries=("UKR",)), ["drones", "jets"]),
        (Filters(countries=("UKR",), country_role="seller"), ["drones"]),
        (Filters(countries=("UKR",), country_role="buyer"), ["jets"]),
        (Filters(stages=("contracted", "announced")), ["jets", "tanks"]),
        (Filters(roles=("manufacturer",)), ["jets"]),
        (Filters(categories=("UAV",)), ["drones"]),
        (Filters(since=D(2024, 1, 1)), ["drones", "tanks"]),
        (Filters(until=D(2024, 2, 1)), ["jets"]),
        (Filters(since=D(2024, 3, 15), until=D(2024, 3, 20)), ["tanks"]),
        (Filters(text="DEFENCE news"), ["tanks"]),
        (Filters(text="100%"), ["tanks"]),
        (Filters(text="order_book"), ["tanks"]),
        (Filters(text="_"), ["tanks"]),
        (Filters(min_reliability="C"), ["drones", "jets"]),
        (Filters(min_reliability="D"), ["drones", "jets", "tanks"]),
        (Filters(countries=("UKR",), stages=("announced",), min_reliability="B"), ["jets"]),
    ],
)
def test_filters_select_exact_deals(ledger: Engine, filters: Filters, expected: list[str]):
    assert deals(ledger, filters) == expected


def test_party_filter_by_id(ledger: Engine):
    from tracker.models import Party

    with ledger.connect() as connection:
        saab = connection.execute(select(Party.id).where(Party.name == "Saab")).scalar_one()
    assert deals(ledger, Filters(parties=(saab,))) == ["jets"]
    assert deals(ledger, Filters(parties=(saab,), roles=("buyer",))) == []


def test_as_of_views_ignore_what_was_recorded_later(engine: Engine):
    import_bytes(
        engine,
        ledger_csv(row(deal_id="drones", deal_title="Drones", stage="announced")),
        file_name="first.csv",
        editor="t",
        now=dt.datetime(2025, 8, 1, 12, 0),
    )
    import_bytes(
        engine,
        ledger_csv(
            row(
                deal_id="drones",
                summary="Tank talks.",
                date="2025-09-01",
                party="Saab",
                party_role="manufacturer",
                party_kind="company",
            )
        ),
        file_name="second.csv",
        editor="t",
        now=dt.datetime(2025, 10, 1, 12, 0),
    )
    between = dt.datetime(2025, 9, 1)

    def selected(filters: Filters, as_of: dt.datetime | None) -> list[str]:
        with engine.connect() as connection:
            return list(connection.execute(select(Deal.id).where(filters.deal_clause(as_of=as_of))).scalars())

    assert [
        selected(Filters(text="tank"), between),
        selected(Filters(text="tank"), None),
        selected(Filters(roles=("manufacturer",)), between),
        selected(Filters(roles=("manufacturer",)), None),
        selected(Filters(since=D(2025, 8, 15)), between),
        selected(Filters(stages=("negotiating",)), between),
    ] == [[], ["drones"], [], ["drones"], [], ["drones"]]


# --- the registry: every filter declared once, everything else derived from it ----------------------------


def test_every_filters_field_is_set_by_exactly_one_filter():
    assert sorted(spec.field for spec in FILTERS) == sorted(f.name for f in fields(Filters))
    assert len(FILTER_BY_KEY) == len(FILTERS)  # URL keys are unique
    assert {spec.key: spec.default for spec in FILTERS} == {
        "country": (), "country_as": "either", "stage": (), "party": (), "party_role": (), "category": (),
        "since": None, "until": None, "q": "", "grade": None,
    }  # fmt: skip


def test_every_widget_kind_has_a_renderer():
    from tracker.views.common import _RENDERERS

    assert {spec.widget.kind for spec in FILTERS} <= set(_RENDERERS)


# One command-line value per filter that has an option, and the Filters value it gives.
CLI_CASES = {
    "--country": (["Ukraine", "pl"], ("UKR", "POL")),
    "--role": (["seller"], "seller"),
    "--stage": (["signed contract", "negotiating"], ("contracted", "negotiating")),
    "--party-role": (["Manufacturer"], ("manufacturer",)),
    "--category": (["UAV"], ("UAV",)),
    "--since": (["2025-10"], D(2025, 10, 1)),
    "--until": (["2025"], D(2025, 12, 31)),
    "--search": (["drones"], "drones"),
    "--min-grade": (["b"], "B"),
}


def test_cli_export_has_one_option_per_filter_that_has_one():
    assert sorted(CLI_CASES) == sorted(spec.cli.flag for spec in FILTERS if spec.cli)


@pytest.mark.parametrize("spec", [spec for spec in FILTERS if spec.cli], ids=lambda spec: spec.key)
def test_cli_option_sets_its_filter(spec):
    values, expected = CLI_CASES[spec.cli.flag]
    argv = ["export"] + [item for value in values for item in (spec.cli.flag, value)]
    assert cli._filters(cli.build_parser().parse_args(argv)) == Filters(**{spec.field: expected})


def test_cli_without_filter_options_exports_everything():
    assert cli._filters(cli.build_parser().parse_args(["export"])) == Filters()


def test_readme_lists_the_export_options():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    usage = readme[readme.index("python -m tracker export") : readme.index("python -m tracker stats")]
    assert sorted(set(re.findall(r"--[a-z][a-z-]*", usage))) == sorted(
        ["--format", "--output"] + [spec.cli.flag for spec in FILTERS if spec.cli]
    )
