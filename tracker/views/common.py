"""What every page shares: the ledger engine, cached reads, the sidebar filters bound to the URL,
the as-of date, empty states, and clearing the caches after an import or undo.

Caching lives here and only here. Reads are cached per (database URL, ledger version, query,
arguments): the ledger version changes with every import or undo, even one made with the CLI in
another process, so a cached answer is never stale; `clear_ledger_caches` also frees the old
answers at once after this app writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy import Engine

from tracker import queries
from tracker.auth import editors_from_secrets
from tracker.db import open_ledger, resolve_database_url
from tracker.display import escape_markdown
from tracker.filters import Filters
from tracker.seed import seed_if_empty
from tracker.vocab import RELIABILITY, ROLES, STAGE_NAMES

T = TypeVar("T")

# Page files, relative to dashboard.py (st.switch_page and st.page_link take these).
OVERVIEW_PAGE = "tracker/views/overview.py"
PIPELINE_PAGE = "tracker/views/pipeline.py"
DEALS_PAGE = "tracker/views/deals.py"
DEAL_PAGE = "tracker/views/deal.py"
SOURCES_PAGE = "tracker/views/sources.py"
UPLOAD_PAGE = "tracker/views/upload.py"
NEW_DEAL_PAGE = "tracker/views/new_deal.py"
CHANGES_PAGE = "tracker/views/changes.py"
# Plotly geo charts read their base map from here (static/topojson/, served by enableStaticServing).
TOPOJSON_URL = "app/static/topojson/"
CHART_CONFIG = {"topojsonURL": TOPOJSON_URL, "displaylogo": False}

# Widget keys double as URL query parameter names (bind="query-params"); values are the defaults.
FILTER_DEFAULTS: dict[str, Any] = {
    "country": [], "country_as": "either", "stage": [], "party": [], "party_role": [], "category": [],
    "since": None, "until": None, "q": "", "grade": None,
}  # fmt: skip
COUNTRY_SIDES = {"either": "buyer or seller", "buyer": "buyer", "seller": "seller"}
EARLIEST_DATE = dt.date(1950, 1, 1)  # SIPRI's records start in 1950


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


# --- filters ------------------------------------------------------------------------------------------


def _reset_filters() -> None:
    for key, default in FILTER_DEFAULTS.items():
        st.session_state[key] = list(default) if isinstance(default, list) else default


def current_filters() -> Filters:
    """The Filters value the sidebar widgets hold in this run."""
    state = st.session_state
    return Filters(
        countries=tuple(state.get("country") or ()),
        country_role=state.get("country_as") or "either",
        stages=tuple(state.get("stage") or ()),
        parties=tuple(state.get("party") or ()),
        roles=tuple(state.get("party_role") or ()),
        categories=tuple(state.get("category") or ()),
        since=state.get("since"),
        until=state.get("until"),
        text=(state.get("q") or "").strip(),
        min_reliability=state.get("grade"),
    )


def filters_caption(filters: Filters) -> str:
    options = read(queries.filter_options)
    names = dict(zip(options.parties["party_id"], options.parties["label"]))
    return filters.caption(party_names=lambda party_id: names.get(party_id, f"party #{party_id}"))


def sidebar_filters() -> Filters:
    """The shared filters in the sidebar, each bound to a URL query parameter so a view can be shared."""
    options = read(queries.filter_options)
    country_names = dict(zip(options.countries["code"], options.countries["name"]))
    party_labels = dict(zip(options.parties["party_id"], options.parties["label"]))
    with st.sidebar:
        st.header("Filters")
        # Options are ISO codes so the URL holds codes (?country=UKR), not names that may be reworded.
        st.multiselect(
            "Country (ISO code)",
            list(country_names),
            key="country",
            bind="query-params",
            placeholder="any country",
            help="States buying or selling in a deal, by ISO 3166 alpha-3 code: "
            + ", ".join(f"{code} {name}" for code, name in country_names.items()),
        )
        st.segmented_control(
            "Country as",
            list(COUNTRY_SIDES),
            key="country_as",
            bind="query-params",
            default="either",
            required=True,
            format_func=COUNTRY_SIDES.__getitem__,
        )
        st.multiselect(
            "Current stage", list(STAGE_NAMES), key="stage", bind="query-params", placeholder="any stage"
        )
        st.multiselect(
            "Party",
            list(party_labels),
            key="party",
            bind="query-params",
            placeholder="any party",
            format_func=lambda party_id: party_labels.get(party_id, f"party #{party_id}"),
            help="People, ministries, agencies and companies named in a deal.",
        )
        st.multiselect(
            "Party role",
            list(ROLES),
            key="party_role",
            bind="query-params",
            placeholder="any role",
            help="Deals in which some party (or the chosen party) has this role.",
        )
        st.multiselect(
            "Category",
            list(options.categories),
            key="category",
            bind="query-params",
            placeholder="any category",
        )
        since_column, until_column = st.columns(2)
        since_column.date_input(
            "Events from",
            value=None,
            key="since",
            bind="query-params",
            min_value=EARLIEST_DATE,
            format="YYYY-MM-DD",
        )
        until_column.date_input(
            "Events until",
            value=None,
            key="until",
            bind="query-params",
            min_value=EARLIEST_DATE,
            format="YYYY-MM-DD",
        )
        st.text_input(
            "Search",
            key="q",
            bind="query-params",
            placeholder="titles, summaries, sources",
            help="Words in deal titles and summaries, event summaries, source titles and publishers.",
        )
        grades = "; ".join(f"{letter} {meaning.lower()}" for letter, meaning in RELIABILITY.items())
        st.selectbox(
            "Minimum source grade",
            list(RELIABILITY),
            index=None,
            key="grade",
            bind="query-params",
            placeholder="any grade",
            help=f"Keeps deals with an event backed by a source graded this or better: {grades}.",
        )
        filters = current_filters()
        st.caption(escape_markdown(filters_caption(filters)))
        st.button("Clear filters", key="clear-filters", on_click=_reset_filters, disabled=filters.is_empty)
    return filters


def as_of_picker(*, applies: bool) -> None:
    """The "ledger as known on" date (and, for changes made that day, a time), in the shared sidebar so it
    holds across pages; it applies to the overview and deal pages (`applies`) and is shown disabled
    elsewhere."""
    with st.sidebar:
        st.divider()
        day_column, time_column = st.columns([3, 2])
        day_column.date_input(
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
        time_column.time_input(
            "at (UTC)",
            value=None,
            key="as_of_time",
            bind="query-params",
            step=60,
            disabled=not applies or st.session_state.get("as_of") is None,
            help="The end of that minute of the day, e.g. just before a change recorded the same day "
            "(the deal page's History tab gives each change's time). Empty: the end of the day.",
        )


def current_as_of() -> dt.datetime | None:
    """The end of the chosen "ledger as known on" day (or of the chosen minute of it), or None for the
    ledger as it is now."""
    day = st.session_state.get("as_of")
    if not day:
        return None
    minute = st.session_state.get("as_of_time")
    if minute is None:
        return dt.datetime.combine(day, dt.time.max)
    return dt.datetime.combine(day, minute.replace(second=59, microsecond=999_999))


# --- page furniture -----------------------------------------------------------------------------------


def page_header(title: str, filters: Filters | None, *, as_of: dt.datetime | None = None) -> None:
    st.title(title)
    if filters is not None:
        st.caption(escape_markdown(filters_caption(filters)))
    if as_of is not None:
        when = (
            f"the end of {as_of:%Y-%m-%d}"
            if as_of.time() == dt.time.max
            else f"{as_of:%H:%M} on {as_of:%Y-%m-%d}"
        )
        st.info(
            f"The ledger as known at {when} (UTC): events recorded later are left "
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


def show_signposts(table: Any, *, key: str, with_deal: bool) -> None:
    """Signposts (tracker.signposts.SIGNPOST_COLUMNS) as a table; with `with_deal`, selecting a row opens
    its deal."""
    columns = ("stage", "expected", "status", "days_overdue", "note", "source", "source_url")
    chosen = st.dataframe(
        table,
        key=key,
        hide_index=True,
        placeholder="–",
        on_select="rerun" if with_deal else "ignore",
        selection_mode="single-row",
        column_order=(("deal_title",) if with_deal else ()) + columns,
        column_config={
            "deal_title": st.column_config.TextColumn("Deal"),
            "stage": st.column_config.TextColumn("Expected stage", width="small"),
            "expected": st.column_config.TextColumn(
                "By", width="small", help="At the precision the source gave."
            ),
            "status": st.column_config.TextColumn("Status", width="small"),
            "days_overdue": st.column_config.NumberColumn("Days overdue", format="%d", width="small"),
            "note": st.column_config.TextColumn("In the source's words", width="large"),
            "source": st.column_config.TextColumn("Source"),
            # Links only for http(s) URLs.
            "source_url": st.column_config.LinkColumn("Link", display_text="open ↗", validate=r"^https?://"),
        },
    )
    st.caption(
        "A signpost is overdue when its date has passed and the deal, still live, has not reached the stage "
        "(or a later one on the path)."
    )
    if with_deal and chosen.selection.rows:
        open_deal(table["deal_id"].iloc[chosen.selection.rows[0]])
