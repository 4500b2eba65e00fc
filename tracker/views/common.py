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
from contextlib import nullcontext
from typing import Any, TypeVar
from urllib.parse import quote

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from tracker import queries
from tracker.auth import editors_from_secrets
from tracker.db import open_ledger, resolve_database_url
from tracker.display import counted, escape_markdown
from tracker.errors import InvalidValue
from tracker.filters import (
    AS_OF_KEY,
    AS_OF_MODE_KEY,
    AS_OF_TIME_KEY,
    EARLIEST_DATE,
    FILTERS,
    SEARCH_MAX_LENGTH,
    Filter,
    FilterOptions,
    Filters,
    url_as_of,
    url_as_of_time,
)
from tracker.knowledge import (
    AS_OF_MODES,
    DEFAULT_AS_OF_MODE,
    AsOf,
    as_of_mode,
    nothing_known,
    takes_minute,
)
from tracker.seed import seed_if_empty
from tracker.signposts import SIGNPOST_STATUSES
from tracker.staleness import STALE_AFTER_DAYS
from tracker.views import tables

T = TypeVar("T")

# Page files, relative to dashboard.py (st.switch_page and st.page_link take these).
OVERVIEW_PAGE = "tracker/views/overview.py"
PIPELINE_PAGE = "tracker/views/pipeline.py"
DEALS_PAGE = "tracker/views/deals.py"
DEAL_PAGE = "tracker/views/deal.py"
SOURCES_PAGE = "tracker/views/sources.py"
UPLOAD_PAGE = "tracker/views/upload.py"
ARTICLE_PAGE = "tracker/views/article.py"
NEW_DEAL_PAGE = "tracker/views/new_deal.py"
CHANGES_PAGE = "tracker/views/changes.py"
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


def database_url() -> str:
    return resolve_database_url()


def read_version() -> str:
    """The ledger's version now: a cache key part that changes with every import or undo."""
    return queries.ledger_version(ledger())


def clear_ledger_caches() -> None:
    """After an import or undo: drop every cached answer so all pages show the new ledger at once."""
    _cached_read.clear()


def configured_editors() -> dict[str, str]:
    """Editor usernames and password hashes from [editors] in .streamlit/secrets.toml ({} without one)."""
    try:
        return editors_from_secrets(st.secrets)
    except FileNotFoundError:  # no secrets file, or one that cannot be parsed (StreamlitSecretNotFoundError)
        return {}


# --- values in the URL -----------------------------------------------------------------------------------

_IGNORED = "ignored-url-values"  # session state: this run's URL values that could not be used
MAX_IGNORED_SHOWN = 10  # an address can repeat a parameter thousands of times: the warning stays short


def ignore_url_value(key: str, raw: str, problem: InvalidValue) -> None:
    """Report a value of the URL parameter `key` that the page does not use (shown by `page_header`)."""
    st.session_state.setdefault(_IGNORED, []).append((key, raw, f"{problem.message}; {problem.fix}"))


def _shown(raw: str, *, limit: int = 40) -> str:
    """A URL value as text to show: control characters escaped ("\\x00"), long values cut."""
    text = "".join(ch.encode("unicode_escape").decode() if not ch.isprintable() else ch for ch in raw)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_url(key: str, read_value: Callable[[str], Any]) -> list[Any]:
    """The values of the URL parameter `key` that `read_value` accepts; each one it refuses
    (InvalidValue) is reported and ignored."""
    values = []
    for raw in st.query_params.get_all(key):
        if raw == "":
            continue
        try:
            values.append(read_value(raw))
        except InvalidValue as problem:
            ignore_url_value(key, raw, problem)
    return values


def seed_from_url(
    key: str, read_value: Callable[[str], Any], *, default: Any, repeated: bool = False
) -> None:
    """Give the widget `key` its value from the URL on the session's first run (later runs keep what the
    analyst chose); values the widget cannot use are reported and ignored (`read_url`).

    For widgets whose URL holds values rather than the labels Streamlit's own binding would write; the
    page writes the URL back with `write_url` after drawing the widget. A widget holding None is seeded
    again: a page that stopped before drawing it, then a click that interrupted the next run, can leave
    a required control empty (seen in the browser tests under load); the URL still holds its last value.
    """
    if st.session_state.get(key) is not None:
        return
    values = read_url(key, read_value)
    if repeated:
        st.session_state[key] = list(dict.fromkeys(values))
    else:
        st.session_state[key] = values[-1] if values else default


def write_url(key: str, values: list[str]) -> None:
    """Make the URL parameter `key` hold `values` (none: no parameter), sending the change only when
    there is one."""
    if st.query_params.get_all(key) == values:
        return
    if values:
        st.query_params[key] = values
    else:
        del st.query_params[key]


def _check_bound_url(key: str, read_value: Callable[[str], Any]) -> None:
    """Report the URL values a widget bound with bind="query-params" is about to drop: Streamlit ignores
    a value it cannot use without a word, and removes it from the address."""
    read_url(key, read_value)


def _show_ignored_url_values() -> None:
    ignored = st.session_state.get(_IGNORED) or []
    if ignored:
        items = "; ".join(f"{key}={_shown(raw)} ({why})" for key, raw, why in ignored[:MAX_IGNORED_SHOWN])
        if len(ignored) > MAX_IGNORED_SHOWN:
            items += f"; and {len(ignored) - MAX_IGNORED_SHOWN:,} more"
        st.warning(
            escape_markdown(f"Ignored in the address: {items}. The page shows the ledger without them."),
            icon=":material/link_off:",
        )


# --- filters ------------------------------------------------------------------------------------------


def _reset_filters() -> None:
    options = read(queries.filter_options)
    for spec in FILTERS:
        st.session_state[spec.key] = spec.widget_default(options)


def _default_filters(options: FilterOptions) -> Filters:
    """The filters the sidebar starts from on this ledger (and "Clear filters" returns to)."""
    return Filters(**{spec.field: spec.sidebar_default(options) for spec in FILTERS})


def current_filters() -> Filters:
    """The Filters value the sidebar widgets hold in this run."""
    state = st.session_state
    return Filters(**{spec.field: spec.from_widget(state.get(spec.key)) for spec in FILTERS})


def filters_caption(filters: Filters) -> str:
    options = read(queries.filter_options)
    names = dict(zip(options.parties["party_id"], options.parties["label"]))
    return filters.caption(party_names=lambda party_id: names.get(party_id, f"party #{party_id}"))


def _bind(spec: Filter) -> dict[str, Any]:
    """Streamlit keeps the URL of filters whose URL holds what the widget shows; the sidebar keeps the
    others (`write_url`)."""
    return {"bind": "query-params"} if spec.widget.url_holds == "label" else {}


def _resolve_typed(spec: Filter) -> None:
    """A multiselect's on_change: typed text ("Türkiye", "UK") becomes the option it names; text that
    names none is dropped and said so under the widget."""
    assert spec.widget.typed is not None and spec.widget.choices is not None
    choices = spec.widget.choices(read(queries.filter_options))
    kept, problems = [], []
    for value in st.session_state.get(spec.key) or []:
        if value in choices:
            kept.append(value)
            continue
        try:
            resolved = spec.widget.typed(str(value))
        except InvalidValue as problem:
            problems.append(f"“{value}”: {problem.message}. {problem.fix}")
            continue
        if resolved in choices:
            kept.append(resolved)
        else:
            named = value if str(value).upper() == resolved else f"{value} ({resolved})"
            problems.append(f"No deal in this ledger involves {named}.")
    st.session_state[spec.key] = list(dict.fromkeys(kept))
    st.session_state[f"{spec.key}-typed-problems"] = problems


def _multiselect(spec: Filter, choices: Mapping[Any, str]) -> None:
    typed = spec.widget.typed is not None
    st.multiselect(
        spec.widget.label,
        list(choices),
        key=spec.key,
        placeholder=spec.widget.placeholder,
        help=spec.widget.help,
        format_func=lambda value: choices.get(value, str(value)),
        # Typed names and aliases are resolved by _resolve_typed, not matched against the labels only.
        accept_new_options=typed,
        on_change=_resolve_typed if typed else "rerun",
        args=(spec,) if typed else None,
        **_bind(spec),
    )
    for problem in st.session_state.pop(f"{spec.key}-typed-problems", []):
        st.warning(escape_markdown(problem), icon=":material/help:")


def _segmented(spec: Filter, choices: Mapping[Any, str]) -> None:
    st.segmented_control(
        spec.widget.label,
        list(choices),
        key=spec.key,
        # A filter whose URL the sidebar keeps has its value set before the widget (seed_from_url). Once the
        # session holds a value ("Clear filters" sets it), a default as well made Streamlit log "created
        # with a default value but also had its value set via the Session State API" in the server log.
        default=spec.default
        if spec.widget.url_holds == "label" and spec.key not in st.session_state
        else None,
        required=True,
        help=spec.widget.help,
        format_func=lambda value: choices.get(value, str(value)),
        **_bind(spec),
    )


def _select(spec: Filter, choices: Mapping[Any, str]) -> None:
    st.selectbox(
        spec.widget.label,
        list(choices),
        index=None,
        key=spec.key,
        placeholder=spec.widget.placeholder,
        help=spec.widget.help,
        format_func=lambda value: choices.get(value, str(value)),
        **_bind(spec),
    )


def _date(spec: Filter, choices: Mapping[Any, str]) -> None:
    st.date_input(
        spec.widget.label,
        value=None,
        key=spec.key,
        min_value=EARLIEST_DATE,
        format="YYYY-MM-DD",
        help=spec.widget.help,
        **_bind(spec),
    )


def _text(spec: Filter, choices: Mapping[Any, str]) -> None:
    st.text_input(
        spec.widget.label,
        key=spec.key,
        max_chars=SEARCH_MAX_LENGTH,
        placeholder=spec.widget.placeholder,
        help=spec.widget.help,
        **_bind(spec),
    )


# One renderer per widget kind of tracker.filters.Widget.
_RENDERERS: dict[str, Callable[[Filter, Mapping[Any, str]], None]] = {
    "multiselect": _multiselect,
    "segmented": _segmented,
    "select": _select,
    "date": _date,
    "text": _text,
}


def _url_values(spec: Filter, options: FilterOptions) -> list[str]:
    """What the URL holds for a filter whose URL the sidebar keeps: nothing at the sidebar's default."""
    value = st.session_state.get(spec.key)
    if value == spec.widget_default(options) or value in (None, "", []):
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


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
    so a view can be shared. URL values a filter cannot use are reported (`page_header`) and ignored."""
    options = read(queries.filter_options)
    today = dt.date.today()
    st.session_state[_IGNORED] = []
    for spec in FILTERS:

        def read_value(raw: str, spec: Filter = spec) -> Any:
            return spec.from_url(raw, options, today=today)

        if spec.widget.url_holds == "value":
            seed_from_url(
                spec.key,
                read_value,
                default=spec.widget_default(options),
                repeated=spec.widget.kind == "multiselect",
            )
        else:
            _check_bound_url(spec.key, read_value)
    with st.sidebar:
        st.header("Filters")
        for row in _rows(FILTERS):
            places: list[Any] = st.columns(len(row)) if len(row) > 1 else [nullcontext()]
            for spec, place in zip(row, places):
                choices = spec.widget.choices(options) if spec.widget.choices is not None else {}
                with place:
                    _RENDERERS[spec.widget.kind](spec, choices)
        filters = current_filters()
        st.caption(escape_markdown(filters_caption(filters)))
        st.button(
            "Clear filters",
            key="clear-filters",
            on_click=_reset_filters,
            disabled=filters == _default_filters(options),
        )
    for spec in FILTERS:
        if spec.widget.url_holds == "value":
            write_url(spec.key, _url_values(spec, options))
    return filters


def clear_as_of() -> None:
    """A button's on_click: back to the ledger as it is now (the filters are kept)."""
    st.session_state[AS_OF_KEY] = None
    st.session_state[AS_OF_TIME_KEY] = None


def as_of_picker(*, applies: bool) -> None:
    """The "ledger as known on" date, how to read it (tracker.knowledge.AS_OF_MODES) and, as recorded, a
    time of day for changes made that day; in the shared sidebar so it holds across pages. It applies to
    the overview and deal pages (`applies`) and is shown disabled elsewhere."""
    today = dt.date.today()
    _check_bound_url(AS_OF_KEY, lambda raw: url_as_of(raw, today=today))
    _check_bound_url(AS_OF_TIME_KEY, url_as_of_time)
    # The URL holds the mode's value (?as_of_mode=recorded), only when it is not the default.
    seed_from_url(AS_OF_MODE_KEY, as_of_mode, default=DEFAULT_AS_OF_MODE)
    with st.sidebar:
        st.divider()
        day_column, time_column = st.columns([3, 2])
        # Read from the widget: a date bound to the URL is in the session state only once it is drawn.
        day = day_column.date_input(
            "Ledger as known on",
            value=None,
            key=AS_OF_KEY,
            bind="query-params",
            min_value=EARLIEST_DATE,
            max_value=today,
            format="YYYY-MM-DD",
            disabled=not applies,
            help="Shows the ledger as it was known on that day, with stages recomputed from the events known "
            "then: as publicly reported by then (by its sources' publication dates), or as recorded in this "
            "ledger by then (by when rows were imported here). Empty: now. Applies to the Overview and Deal "
            "pages.",
        )
        chosen = day is not None
        st.segmented_control(
            "Show the ledger",
            list(AS_OF_MODES),
            key=AS_OF_MODE_KEY,
            required=True,
            format_func=AS_OF_MODES.get,
            disabled=not applies or not chosen,
            help="As publicly reported: events whose sources had been published by that day (a source "
            "dated only to a month or a year counts from its end; one without a date from when it was "
            "recorded here); retractions, grades and roles as the ledger holds them now. As recorded: "
            "the ledger as it stood at the end of that day (or minute), grades and roles included.",
        )
        time_column.time_input(
            "at (UTC)",
            value=None,
            key=AS_OF_TIME_KEY,
            bind="query-params",
            step=60,
            disabled=not applies
            or not chosen
            or not takes_minute(st.session_state.get(AS_OF_MODE_KEY) or DEFAULT_AS_OF_MODE),
            help="As recorded: the end of that minute of the day, e.g. just before a change recorded the "
            "same day (the deal page's History tab gives each change's time). Empty: the end of the day. "
            "Publication dates have no time, so this applies only to the view as recorded.",
        )
    # Written with a date only: an address without one shows the ledger now, whatever the mode.
    mode = st.session_state.get(AS_OF_MODE_KEY)
    write_url(AS_OF_MODE_KEY, [mode] if chosen and mode not in (None, DEFAULT_AS_OF_MODE) else [])


def current_as_of() -> AsOf | None:
    """The chosen as-of view (the end of the chosen day, or, as recorded, of the chosen minute of it), or
    None for the ledger as it is now."""
    day = st.session_state.get(AS_OF_KEY)
    if not day:
        return None
    mode = st.session_state.get(AS_OF_MODE_KEY) or DEFAULT_AS_OF_MODE
    return AsOf.end_of(day, mode, st.session_state.get(AS_OF_TIME_KEY))


# --- page furniture -----------------------------------------------------------------------------------


def page_header(title: str, filters: Filters | None, *, as_of: AsOf | None = None) -> None:
    st.title(title)
    if filters is not None:
        st.caption(escape_markdown(filters_caption(filters)))
    _show_ignored_url_values()
    if as_of is not None:
        st.info(
            f"{as_of.explained()} Clear the date in the sidebar for the ledger as it is now.",
            icon=":material/history:",
        )


def show_scope_note(filters: Filters) -> None:
    """On a ledger holding deals in the making and SIPRI-recorded transfers, say which the page shows and
    how to see the others."""
    if filters.scope == "all" or not {"making", "recorded"} <= read(queries.filter_options).scopes:
        return
    shown, others = (
        ("deals in the making", "SIPRI-recorded transfers (deals known only from database sources)")
        if filters.scope == "making"
        else ("SIPRI-recorded transfers (deals known only from database sources)", "deals in the making")
    )
    st.info(
        f"Showing {shown}. The ledger also holds {others}: choose “All” under Scope in the sidebar to "
        "include them.",
        icon=":material/filter_list:",
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


def show_no_match(key: str, *, as_of: AsOf | None = None) -> None:
    """The empty state of a filtered view: say why it is empty and offer what would fill it. As of a date
    before anything was known, that is the date (cleared by a button, the filters kept); otherwise the
    filters (and the date, when one is chosen)."""
    if as_of is not None:
        first = read(queries.first_known, mode=as_of.mode)
        if first is not None and first.shows_nothing(as_of):
            st.info(escape_markdown(nothing_known(as_of, first)), icon=":material/history:")
            st.button("Clear the date", key=f"{key}-clear-date", on_click=clear_as_of)
            return
        st.info(
            escape_markdown(
                f"No deals match these filters {as_of.words()}. Clear or loosen the filters in the sidebar, "
                "or clear the date."
            ),
            icon=":material/filter_alt_off:",
        )
        with st.container(horizontal=True):
            st.button("Clear filters", key=key, on_click=_reset_filters)
            st.button("Clear the date", key=f"{key}-clear-date", on_click=clear_as_of)
        return
    st.info(
        "No deals match these filters. Clear or loosen them in the sidebar.", icon=":material/filter_alt_off:"
    )
    st.button("Clear filters", key=key, on_click=_reset_filters)


def deal_links(deal_ids: pd.Series, titles: pd.Series | None = None) -> pd.Series:
    """Relative links to this app's deal page, "deal?deal=ID", for a table's link column (it opens them in
    a new tab, under whatever address the app is served at). With `titles`, each link ends in "#" and the
    URL-encoded title, which a "titled deal link" column (views/tables.py) shows as the link's text; the
    deal page ignores the fragment."""
    links = "deal?deal=" + deal_ids.map(lambda deal_id: quote(str(deal_id), safe=""))
    if titles is None:
        return links
    return links + "#" + titles.fillna("").map(lambda title: quote(str(title), safe=""))


def open_deal(deal_id: str) -> None:
    st.switch_page(DEAL_PAGE, query_params={"deal": deal_id})


def show_chart(figure: Any, *, key: str) -> None:
    st.plotly_chart(figure, key=key, config=CHART_CONFIG)


def show_signposts(table: Any, *, key: str, with_deal: bool) -> None:
    """Signposts (tracker.signposts.SIGNPOST_COLUMNS) as a table, with what their statuses mean; with
    `with_deal`, selecting a row opens its deal."""
    chosen = (tables.SIGNPOSTS if with_deal else tables.DEAL_SIGNPOSTS).show(table, key=key)
    shown = [status for status in SIGNPOST_STATUSES if status in set(table["status"])]
    st.caption("; ".join(f"{status.capitalize()}: {SIGNPOST_STATUSES[status]}" for status in shown) + ".")
    if with_deal and chosen.selection.rows:
        open_deal(table["deal_id"].iloc[chosen.selection.rows[0]])


def stale_help(thresholds: Mapping[str, int]) -> str:
    """What "stale" means on this ledger, with each stage's threshold (tracker.staleness)."""
    days = ", ".join(f"{stage} {counted(thresholds[stage], 'day')}" for stage in thresholds)
    return (
        "Active deals with no news for longer than is usual for their stage in this ledger (80 % of the "
        f"waits between a deal's events at that stage are shorter; at least {STALE_AFTER_DAYS} days): "
        f"{days}. Never less than the last event's period (a year when it is known only to the year); "
        "completed and cancelled deals are never stale."
    )
