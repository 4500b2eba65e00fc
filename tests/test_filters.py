"""The filters: the Filters value's caption in plain words and the deals it selects, and the registry they
are declared in (the CLI options and the README derived from it)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import fields

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from tests.builders import ledger_csv, row
from tracker import cli, queries
from tracker import filters as filters_module
from tracker.db import PROJECT_ROOT
from tracker.errors import InvalidValue
from tracker.filters import (
    FILTER_BY_KEY,
    FILTERS,
    MAX_SEARCH_VARIANTS,
    FilterOptions,
    Filters,
    search_variants,
)
from tracker.importer import import_bytes
from tracker.knowledge import AsOf
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
                'Deals with events from 2025-01-01 to 2025-06-30, mentioning "drones" (or "uavs"), sourced '
                "at grade B or better"
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
        (Filters(text="defense NEWS"), ["tanks"]),  # the source says "Defence News"
        (Filters(text="UAV"), ["drones"]),  # SIPRI's word; the deal is called "Drones"
        (Filters(text="armored"), []),
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


@pytest.mark.parametrize(
    ("text", "variants"),
    [
        ("tanks", ("tanks",)),
        (" Drone ", ("drone", "uav")),
        ("UAVs", ("uavs", "drones")),
        (
            "air defence drones",
            ("air defence drones", "air defence uavs", "air defense drones", "air defense uavs"),
        ),
        (
            "defence armoured drone organisation modernisation",
            (
                "defence armoured drone organisation modernisation",
                "defence armoured uav organisation modernisation",
                "defense armoured drone organisation modernisation",
                "defense armoured uav organisation modernisation",
                "defence armored drone organisation modernisation",
                "defence armored uav organisation modernisation",
                "defense armored drone organisation modernisation",
                "defense armored uav organisation modernisation",
            ),  # at most MAX_SEARCH_VARIANTS: the first 8 of 32
        ),
    ],
)
def test_search_variants(text: str, variants: tuple[str, ...]):
    assert search_variants(text) == variants
    assert len(variants) <= MAX_SEARCH_VARIANTS


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
    between = AsOf(dt.datetime(2025, 9, 1), "recorded")

    def selected(filters: Filters, as_of: AsOf | None) -> list[str]:
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
        "scope": "all", "country": (), "country_as": "either", "stage": (), "party": (), "party_role": (),
        "category": (), "since": None, "until": None, "q": "", "grade": None,
    }  # fmt: skip


def test_every_widget_kind_has_a_renderer():
    from tracker.views.common import _RENDERERS

    assert {spec.widget.kind for spec in FILTERS} <= set(_RENDERERS)


# One command-line value per filter that has an option, and the Filters value it gives.
CLI_CASES = {
    "--scope": (["recorded"], "recorded"),
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
    usage = readme[readme.index("python -m tracker export") : readme.index("python -m tracker changes")]
    assert sorted(set(re.findall(r"--[a-z][a-z-]*", usage))) == sorted(
        ["--format", "--output"] + [spec.cli.flag for spec in FILTERS if spec.cli]
    )
    # `changes` takes them too, the event dates renamed (its --since/--until are its window).
    usage = readme[readme.index("python -m tracker changes") : readme.index("python -m tracker stats")]
    renamed = {"--since": "--events-since", "--until": "--events-until"}
    assert sorted(set(re.findall(r"--[a-z][a-z-]*", usage))) == sorted(
        ["--since", "--until", "--format", "--output"]
        + [renamed.get(spec.cli.flag, spec.cli.flag) for spec in FILTERS if spec.cli]
    )


# --- scope: deals in the making, SIPRI-recorded transfers, all --------------------------------------------


def _registry_row(deal_id: str, date: str, **changes: str) -> dict[str, str]:
    """A row told by a database source (as a SIPRI import writes them)."""
    return row(
        deal_id=deal_id,
        date=date,
        source_title="Arms register",
        source_url="https://example.org/register",
        source_kind="database",
        reliability="A",
        **changes,
    )


@pytest.fixture
def mixed(engine: Engine) -> Engine:
    """ "registry": three events from a database; "news": news only; "both": a database event, then (a
    later import) a news event. Four database links, two others."""
    import_bytes(
        engine,
        ledger_csv(
            _registry_row("registry", "2018", deal_title="Registry transfer", stage="contracted"),
            _registry_row("registry", "2019", summary="Deliveries.", stage="delivering"),
            _registry_row("registry", "2020", summary="Delivered.", stage="completed"),
            row(deal_id="news", deal_title="News deal", date="2025-09-01"),
            _registry_row("both", "2019", deal_title="Both", stage="contracted"),
        ),
        file_name="first.csv",
        editor="t",
        now=dt.datetime(2025, 9, 10, 12, 0),
    )
    import_bytes(
        engine,
        ledger_csv(row(deal_id="both", date="2025-10-01", summary="Deliveries begin.", stage="delivering")),
        file_name="second.csv",
        editor="t",
        now=dt.datetime(2025, 10, 10, 12, 0),
    )
    return engine


# The scope is read from the side with few links (tracker.filters.deal_scope_condition): with 4 database
# and 2 other links, "few" below 5 reads it from the database side, below 3 from the other side, below 1
# from each deal. Every way gives the same deals.
SIDES = {"database side": 5, "other side": 3, "each deal": 1}


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize(
    ("scope", "as_of", "expected"),
    [
        ("all", None, ["both", "news", "registry"]),
        ("making", None, ["both", "news"]),
        ("recorded", None, ["registry"]),
        # Before its news source was recorded, "both" rested on the database alone.
        ("making", AsOf(dt.datetime(2025, 9, 20), "recorded"), ["news"]),
        ("recorded", AsOf(dt.datetime(2025, 9, 20), "recorded"), ["both", "registry"]),
    ],
)
def test_scope_selects_exact_deals(
    mixed: Engine,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    side: str,
    scope: str,
    as_of: AsOf | None,
    expected: list[str],
):
    monkeypatch.setattr(filters_module, "SCOPE_PROBE_LINKS", SIDES[side])
    filters_module.deal_scope_condition.cache_clear()  # built conditions are kept
    request.addfinalizer(filters_module.deal_scope_condition.cache_clear)
    with mixed.connect() as connection:
        selected = connection.execute(
            select(Deal.id).where(Filters(scope=scope).deal_clause(as_of=as_of)).order_by(Deal.id)
        ).scalars()
        assert list(selected) == expected


def test_ledger_scopes(engine: Engine):
    assert queries.ledger_scopes(engine) == frozenset()
    import_bytes(engine, ledger_csv(_registry_row("registry", "2020")), file_name="a.csv", editor="t")
    assert queries.ledger_scopes(engine) == {"recorded"}
    # A news event on the registry deal: no deal rests on the database alone any more.
    import_bytes(engine, ledger_csv(row(deal_id="registry", date="2025")), file_name="b.csv", editor="t")
    assert queries.ledger_scopes(engine) == {"making"}
    import_bytes(engine, ledger_csv(_registry_row("other", "2021")), file_name="c.csv", editor="t")
    assert queries.ledger_scopes(engine) == {"making", "recorded"}


@pytest.mark.parametrize(
    ("filters", "caption"),
    [
        (Filters(scope="making"), "Deals in the making"),
        (
            Filters(scope="recorded", countries=("UKR",)),
            "Deals recorded by SIPRI (database sources only), with Ukraine as buyer or seller",
        ),
    ],
)
def test_scope_caption(filters: Filters, caption: str):
    assert filters.caption() == caption


# --- URL values a filter cannot use ----------------------------------------------------------------------

OPTIONS = FilterOptions(
    countries=pd.DataFrame({"code": ["UKR", "USA"], "name": ["Ukraine", "United States"]}),
    parties=pd.DataFrame({"party_id": [7], "label": ["Saab (SWE)"]}),
    categories=("UAV",),
    scopes=frozenset({"making"}),
)


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("scope", "recorded", "recorded"),
        ("country", "UKR", "UKR"),
        ("country_as", "seller", "seller"),  # what the widget shows, as Streamlit's binding writes it
        ("stage", "negotiating", "negotiating"),
        ("party", "Saab (SWE)", 7),
        ("party_role", "financier", "financier"),
        ("category", "UAV", "UAV"),
        ("since", "2025-07-01", D(2025, 7, 1)),
        ("until", "2025/07/01", D(2025, 7, 1)),
        ("q", "drones & tanks", "drones & tanks"),
        ("grade", "B", "B"),
    ],
)
def test_url_values_each_filter_reads(key: str, raw: str, value: object):
    assert FILTER_BY_KEY[key].from_url(raw, OPTIONS, today=D(2026, 11, 25)) == value


@pytest.mark.parametrize(
    ("key", "raw", "problem"),
    [
        ("scope", "making-of", "not an option of “Scope”; use one of making, recorded, all"),
        ("country", "Ukraine", "not an option of “Country”; write country=UKR"),
        ("country", "ukr", "not an option of “Country”; write country=UKR"),
        ("country", "Chile", "not an option of “Country”; no deal in this ledger involves Chile"),
        (
            "country",
            "Atlantis",
            "not an option of “Country”; Use a country name or an ISO 3166 code such as UKR.",
        ),
        (
            "stage",
            "signed",
            (
                "not an option of “Current stage”; use one of announced, negotiating, agreed, approved, "
                "contracted, delivering, completed, stalled, cancelled"
            ),
        ),
        ("party", "7", "not an option of “Party”; use one of Saab (SWE)"),
        ("country_as", "either", "not an option of “Country as”; use one of buyer or seller, buyer, seller"),
        ("since", "2025-13-45", "is not a date; write it as YYYY-MM-DD, e.g. 2025-07-01"),
        ("since", "1949-12-31", "is out of range; use a date from 1950-01-01 to 2036-11-25"),
        ("until", "2036-11-26", "is out of range; use a date from 1950-01-01 to 2036-11-25"),
        ("q", "\x00", "contains a control character; remove it from the address"),
        ("q", "x" * 201, "is longer than 200 characters; shorten it"),
        ("grade", "Z", "not an option of “Minimum source grade”; use one of A, B, C, D, E, F"),
    ],
)
def test_url_values_each_filter_refuses(key: str, raw: str, problem: str):
    with pytest.raises(InvalidValue) as refused:
        FILTER_BY_KEY[key].from_url(raw, OPTIONS, today=D(2026, 11, 25))
    assert f"{refused.value.message}; {refused.value.fix}" == problem
