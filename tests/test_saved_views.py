"""Saved views (tracker.saved_views): filters saved under a name in the ledger, refused names, and the number
of changes since a view was last opened; filters to and from the URL query string."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TODAY
from sqlalchemy import Engine

from tests.builders import build_history
from tracker import queries
from tracker.errors import ViewNotSaved
from tracker.filters import Filters, to_query, view_from_query
from tracker.saved_views import changes_since_seen, find_view, mark_opened, save_view, saved_views

T = dt.datetime


@pytest.mark.parametrize(
    ("filters", "query"),
    [
        (Filters(), ""),
        (Filters(countries=("UKR", "POL"), country_role="buyer"), "country=UKR&country=POL&country_as=buyer"),
        (Filters(stages=("negotiating",), roles=("manufacturer",)),
         "stage=negotiating&party_role=manufacturer"),
        (Filters(categories=("air defence",), text="a&b=c"), "category=air+defence&q=a%26b%3Dc"),
        (Filters(since=dt.date(2026, 1, 2), until=dt.date(2026, 3, 4), min_reliability="B"),
         "since=2026-01-02&until=2026-03-04&grade=B"),
        # A party is written as the sidebar shows it, as the sidebar's own URL holds it.
        (Filters(parties=(6,)), "party=Rheinmetall+%28DEU%29"),
    ],
)  # fmt: skip
def test_filters_round_trip_through_the_query_string(three: Engine, filters: Filters, query: str):
    options = queries.filter_options(three)
    assert (
        to_query(filters, options),
        view_from_query(query, options, today=TODAY).filters,
        view_from_query("?" + query, options, today=TODAY).filters,
    ) == (query, filters, filters)


def test_a_query_of_many_fields_is_read_not_refused(three: Engine):
    options = queries.filter_options(three)
    query = "stage=negotiating&" + "x=1&" * 5000
    assert view_from_query(query, options, today=TODAY).filters == Filters(stages=("negotiating",))


def test_values_that_cannot_be_read_are_left_out(three: Engine):
    options = queries.filter_options(three)
    assert view_from_query(
        "country=ukr&country=UKR&stage=signed&party=x&party=-1&grade=Z&since=2026-13-01&deal=a",
        options,
        today=TODAY,
    ).filters == (Filters(countries=("UKR",)))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("  \x07 ", "give the view a name, e.g. “Ukraine air defence”."),
        ("x" * 101, "the name is 101 characters long; use at most 100."),
        ("Ukraine", "a view is called “Ukraine” already; choose another name."),
    ],
)
def test_refused_names(engine: Engine, name: str, message: str):
    save_view(engine, "Ukraine", Filters(countries=("UKR",)), editor="ana", now=T(2026, 11, 1))
    with pytest.raises(ViewNotSaved) as refused:
        save_view(engine, name, Filters(), editor="ana")
    assert str(refused.value) == message
    assert [view.name for view in saved_views(engine)] == ["Ukraine"]


def test_changes_since_a_view_was_last_opened(engine: Engine):
    build_history(engine)
    ukraine = save_view(engine, " Ukraine\n", Filters(countries=("UKR",)), editor="ana", now=T(2026, 11, 9))
    everything = save_view(engine, "All deals", Filters(), editor="ben", now=T(2026, 11, 12))
    assert [(v.name, v.query, v.created_by, v.last_opened_at) for v in saved_views(engine)] == [
        ("All deals", "", "ben", None),
        ("Ukraine", "country=UKR", "ana", None),
    ]
    # Ukraine since 9 Nov: beta's regrade, retraction, stage move, event, source and two claims.
    assert changes_since_seen(engine, ukraine, now=T(2026, 11, 16)) == 7
    # Everything since 12 Nov: alpha's move and event, beta's move, retraction and regrade, and alpha back
    # from stale (no news from 2 Mar to its talks of 12 Nov: 255 days, announced deals here 239).
    assert changes_since_seen(engine, everything, now=T(2026, 11, 16)) == 6
    mark_opened(engine, ukraine.id, now=T(2026, 11, 13, 12))
    opened = find_view(engine, ukraine.id)
    assert opened is not None and opened.last_opened_at == T(2026, 11, 13, 12)
    assert changes_since_seen(engine, opened, now=T(2026, 11, 16)) == 1  # the regrade
