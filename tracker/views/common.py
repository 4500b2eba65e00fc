"""What every page shares: the ledger engine, cached reads, the sidebar filters bound to the URL,
the as-of date, empty states, and clearing the caches after an import or undo.

Caching lives here and only here. Reads are cached per (database URL, ledger version, query,
arguments): the ledger version changes with every import or undo, even one made with the CLI in
another process, so a cached answer is never stale; `clear_ledger_caches` also frees the old
answers at once after this app writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy import Engine

from tracker import queries
from tracker.auth import editors_from_secrets
from tracker.db import open_ledger, resolve_database_url
from tracker.display import escape_markdown
from tracker.filters import EARLIEST_DATE, FILTERS, Filter, FilterOptions, Filters
from tracker.seed import seed_if_empty

T = TypeVar("T")

# Page files, relative to dashboard.py (st.switch_page and st.page_link take these).
OVERVIEW_PAGE = "tracker/views/overview.py"
PIPELINE_PAGE = "tracker/views/pipeline.py"
DEALS_PAGE = "tracker/views/deals.py"
DEAL_PAGE = "tracker/views/deal.py"
SOURCES_PAGE = "tracker/views/sources.py"
UPLOAD_PAGE = "tracker/views/upload.py"
# Plotly geo charts read their base map from here (static/topojson/, served by enableStaticServing).
TOPOJSON_URL = "app/static/topojson/"
CHART_CONFIG = {"topojsonURL": TOPOJSON_URL, "displaylogo": False}


# --- the ledger ---------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return open_ledger(url)


def ledger() -> Engine:
    """The engine for the configured ledger (created and migrated once per database URL)."""
    return _engine(resolve_database_url())


@st.cache_resource(show_spinner="Loading the seed ledger (first run)…")
def _seeded(url: str) -> int:
    return len(seed_if_empty(_engine(url)))


def seed_on_first_run() -> None:
    """Import the seed data once, into a ledger that has never had an import."""
    _seeded(resolve_database_url())


@st.cache_data(show_spinner=False, max_entries=1000)
def _cached_read(
    url: str, version: str, query: str, args: tuple[Any, ...], options: tuple[tuple[str, Any], ...]
) -> Any:
    # `version` is part of the cache key only: a new import or undo gives new keys.
    del version
    return getattr(queries, query)(_engine(url), *args, **dict(options))


def read(query: Callable[..., T], *args: Any, **options: Any) -> T:
    """`query(engine, *args, **options)` from tracker.queries, cached until the ledger changes."""
    engine = ledger()
    return _cached_read(
        resolve_database_url(),
        queries.ledger_version(engine),
        query.__name__,
        args,
        tuple(sorted(options.items())),
    )


def clear_ledger_caches() -> None:
    """After an import or undo: drop every cached answer so all pages show the new ledger at once."""
    _cached_read.clear()


def configured_editors() -> dict[str, str]:
    """Editor usernames and password hashes from [editors] in .streamlit/secrets.toml ({} without one)."""
    try:
        return editors_from_secrets(st.secrets)
    except FileNotFoundError:  # no secrets file, or one that cannot be parsed (StreamlitSecretNotFoundError)
        return {}


# --- filters ------------------------------------------------------------------------------------------


def _reset_filters() -> None:
    for spec in FILTERS:
        st.session_state[spec.key] = spec.widget_default()


def current_filters() -> Filters:
    """The Filters value the sidebar widgets hold in this run."""
    state = st.session_state
    return Filters(**{spec.field: spec.from_widget(state.get(spec.key)) for spec in FILTERS})


def filters_caption(filters: Filters) -> str:
    options = read(queries.filter_options)
    names = dict(zip(options.parties["party_id"], options.parties["label"]))
    return filters.caption(party_names=lambda party_id: names.get(party_id, f"party #{party_id}"))


def _multiselect(spec: Filter, options: FilterOptions, choices: Mapping[Any, str]) -> None:
    st.multiselect(
        spec.widget.label,
        list(choices),
        key=spec.key,
        bind="query-params",
        placeholder=spec.widget.placeholder,
        help=_help(spec, options),
        format_func=lambda value: choices.get(value, str(value)),
    )


def _segmented(spec: Filter, options: FilterOptions, choices: Mapping[Any, str]) -> None:
    st.segmented_control(
        spec.widget.label,
        list(choices),
        key=spec.key,
        bind="query-params",
        default=spec.default,
        required=True,
        help=_help(spec, options),
        format_func=lambda value: choices.get(value, str(value)),
    )


def _select(spec: Filter, options: FilterOptions, choices: Mapping[Any, str]) -> None:
    st.selectbox(
        spec.widget.label,
        list(choices),
        index=None,
        key=spec.key,
        bind="query-params",
        placeholder=spec.widget.placeholder,
        help=_help(spec, options),
        format_func=lambda value: choices.get(value, str(value)),
    )


def _date(spec: Filter, options: FilterOptions, choices: Mapping[Any, str]) -> None:
    st.date_input(
        spec.widget.label,
        value=None,
        key=spec.key,
        bind="query-params",
        min_value=EARLIEST_DATE,
        format="YYYY-MM-DD",
        help=_help(spec, options),
    )


def _text(spec: Filter, options: FilterOptions, choices: Mapping[Any, str]) -> None:
    st.text_input(
        spec.widget.label,
        key=spec.key,
        bind="query-params",
        placeholder=spec.widget.placeholder,
        help=_help(spec, options),
    )


def _help(spec: Filter, options: FilterOptions) -> str | None:
    return spec.widget.help(options) if callable(spec.widget.help) else spec.widget.help


# One renderer per widget kind of tracker.filters.Widget.
_RENDERERS: dict[str, Callable[[Filter, FilterOptions, Mapping[Any, str]], None]] = {
    "multiselect": _multiselect,
    "segmented": _segmented,
    "select": _select,
    "date": _date,
    "text": _text,
}


def _rows(specs: tuple[Filter, ...]) -> list[list[Filter]]:
    """The filters in sidebar rows: consecutive filters naming the same row share one."""
    rows: list[list[Filter]] = []
    for spec in specs:
        if rows and spec.widget.row is not None and rows[-1][-1].widget.row == spec.widget.row:
            rows[-1].append(spec)
        else:
            rows.append([spec])
    return rows


def sidebar_filters() -> Filters:
    """The shared filters in the sidebar (tracker.filters.FILTERS), each bound to a URL query parameter
    so a view can be shared."""
    options = read(queries.filter_options)
    with st.sidebar:
        st.header("Filters")
        for row in _rows(FILTERS):
            places = st.columns(len(row)) if len(row) > 1 else [st.container()]
            for spec, place in zip(row, places):
                choices = spec.widget.choices(options) if spec.widget.choices is not None else {}
                with place:
                    _RENDERERS[spec.widget.kind](spec, options, choices)
        filters = current_filters()
        st.caption(escape_markdown(filters_caption(filters)))
        st.button("Clear filters", key="clear-filters", on_click=_reset_filters, disabled=filters.is_empty)
    return filters


def as_of_picker(*, applies: bool) -> None:
    """The "ledger as known on" date, in the shared sidebar so it holds across pages; it applies to the
    overview and deal pages (`applies`) and is shown disabled elsewhere."""
    with st.sidebar:
        st.divider()
        st.date_input(
            "Ledger as known on",
            value=None,
            key="as_of",
            bind="query-params",
            min_value=EARLIEST_DATE,
            max_value=dt.date.today(),
            format="YYYY-MM-DD",
            disabled=not applies,
            help="Shows the ledger as it was known at the end of that day (UTC): events "
            "recorded later are left out and stages are recomputed. Empty: now. Applies to "
            "the Overview and Deal pages.",
        )


def current_as_of() -> dt.datetime | None:
    """The end of the chosen "ledger as known on" day, or None for the ledger as it is now."""
    day = st.session_state.get("as_of")
    return dt.datetime.combine(day, dt.time.max) if day else None


# --- page furniture -----------------------------------------------------------------------------------


def page_header(title: str, filters: Filters | None, *, as_of: dt.datetime | None = None) -> None:
    st.title(title)
    if filters is not None:
        st.caption(escape_markdown(filters_caption(filters)))
    if as_of is not None:
        st.info(
            f"The ledger as known at the end of {as_of:%Y-%m-%d} (UTC): events recorded later are left "
            "out and stages are recomputed from the events known then. Clear the date in the sidebar "
            "for the ledger as it is now.",
            icon=":material/history:",
        )


def ledger_is_empty() -> bool:
    return not read(queries.has_deals)


def show_empty_ledger() -> None:
    st.info(
        "The ledger holds no deals yet. An editor can upload a ledger CSV, or load the seed data, on the "
        "Upload page.",
        icon=":material/inbox:",
    )
    st.page_link(UPLOAD_PAGE, label="Go to Upload", icon=":material/upload:")


def show_no_match(key: str) -> None:
    """The empty state of a filtered view: say so, and offer to clear the filters."""
    st.info(
        "No deals match these filters. Clear or loosen them in the sidebar.", icon=":material/filter_alt_off:"
    )
    st.button("Clear filters", key=key, on_click=_reset_filters)


def open_deal(deal_id: str) -> None:
    st.switch_page(DEAL_PAGE, query_params={"deal": deal_id})


def show_chart(figure: Any, *, key: str) -> None:
    st.plotly_chart(figure, key=key, config=CHART_CONFIG)
