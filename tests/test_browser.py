"""Real-browser tests: Playwright drives Debian's Chromium against `streamlit run dashboard.py`.

What they check that AppTest cannot: the charts really draw (the world map from the app's own topojson),
a shared URL reproduces a filtered view and the sidebar writes its filters into the URL, an upload goes
through the real file uploader, an article is drafted into the editable grid and checked, and no request
leaves 127.0.0.1 while an analyst uses every page. They also take the README's screenshots
(docs/screenshots/overview.png, deal.png, pipeline.png and overview-register.png, refreshed with
TRACKER_UPDATE_SCREENSHOTS=1).

Each server is a `streamlit run` subprocess with a fresh ledger and its own secrets (tests/servers.py).

Needs /usr/bin/chromium (Debian's `chromium` package; `.ci/run` installs it); skipped without it.
Playwright's own browser downloads are not used: the machine cannot fetch them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
        "(apt-get install chromium) to run the browser tests",
        allow_module_level=True,
    )
pytest.importorskip(
    "playwright.sync_api",
    reason="Playwright is not installed: pip install -r requirements-dev.txt to run the browser tests",
)

from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from bench.generate import generate_rows
from tests.builders import ledger_csv, many_deals, row, titles_in_order
from tests.servers import Server, serve
from tracker.auth import hash_password
from tracker.columns import TEMPLATE_COLUMNS
from tracker.dates import format_partial_date
from tracker.db import PROJECT_ROOT, open_ledger, sqlite_url_for
from tracker.filters import Filters
from tracker.importer import import_bytes
from tracker.queries import deals_by_stage
from tracker.seed import SEED_DIR, seed_ledger
from tracker.vocab import STAGE_NAMES

pytestmark = pytest.mark.browser

# The probe's flags: without the background-networking ones Chromium tries to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1600, "height": 1000}
TIMEOUT_MS = 30_000
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LOCAL_SCHEMES = {"data", "blob", "about"}  # never leave the browser
# The README's pictures are refreshed only on request (TRACKER_UPDATE_SCREENSHOTS=1); other runs write
# them to a temporary folder, so running the tests does not leave the work tree modified.
README_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"

EDITOR, PASSWORD = "analyst", "browser-test password"
SEED_DEAL, SEED_TITLE = "us-ukraine-drone-deal", "US–Ukraine Drone Deal"
SEED_ARTICLE = SEED_DIR / "post-2025-09-29-drone-deal-article.txt"
SEED_ARTICLE_TITLE = "Ukrainian team headed to Washington to hammer out details of drone deal"
# The plotly charts of tracker/views/overview.py, by key.
OVERVIEW_CHARTS = ("chart-stages", "chart-map", "chart-stage-country", "chart-flows")
GOOD_CSV = ledger_csv(
    row(
        deal_id="browser-radars",
        deal_title="Browser test radars",
        date="2025-06-01",
        summary="Radars are announced.",
        buyer="Finland",
        seller="Israel",
        source_title="Radar Wire",
    )
)
BAD_CSV = ledger_csv(row(date="2025-13-01", reliability="Q"))
SIPRI_FIXTURE = PROJECT_ROOT / "tests" / "fixtures" / "sipri" / "classic-2024.csv"
MANY_DEALS = many_deals(620)

expect.set_options(timeout=TIMEOUT_MS)


# --- the servers -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The dashboard with one editor configured."""
    yield from serve(tmp_path_factory.mktemp("server"), {EDITOR: hash_password(PASSWORD)})


@pytest.fixture(scope="module")
def server_without_editors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The dashboard as first deployed: no secrets file at all."""
    yield from serve(tmp_path_factory.mktemp("server-without-editors"), None)


@pytest.fixture(scope="module")
def mixed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The dashboard on a ledger holding the SIPRI fixture register (11 transfers) and 620 news deals."""
    folder = tmp_path_factory.mktemp("mixed-server")
    ledger = open_ledger(sqlite_url_for(folder / "ledger.db"))
    import_bytes(ledger, SIPRI_FIXTURE.read_bytes(), file_name="classic-2024.csv", editor="test")
    import_bytes(ledger, ledger_csv(*MANY_DEALS), file_name="many.csv", editor="test")
    ledger.dispose()
    yield from serve(folder, None)


@pytest.fixture(scope="module")
def showcase_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The README's ledger: the seed, 2,000 synthetic events (about 100 deals in every stage, marked
    "[SYNTHETIC]") and the SIPRI fixture register (11 transfers): never SIPRI's own rows."""
    folder = tmp_path_factory.mktemp("showcase-server")
    ledger = open_ledger(sqlite_url_for(folder / "ledger.db"))
    seed_ledger(ledger)
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerows(generate_rows(2_000, seed=1))
    import_bytes(ledger, rows.getvalue().encode(), file_name="synthetic.csv", editor="test")
    import_bytes(ledger, SIPRI_FIXTURE.read_bytes(), file_name="classic-2024.csv", editor="test")
    SHOWCASE_STAGES.update(
        deals_by_stage(ledger, filters=Filters(scope="making")).set_index("stage")["deals"].to_dict()
    )
    ledger.dispose()
    yield from serve(folder, None)


# The deals in each stage of the showcase ledger's deals in the making, counted when it is built.
SHOWCASE_STAGES: dict[str, int] = {}


# --- the browser ----------------------------------------------------------------------------------------


@dataclass
class Traffic:
    """Every URL the browser requested, websockets included."""

    urls: list[str] = field(default_factory=list)

    def record(self, url: str) -> None:
        self.urls.append(url)

    def outside(self) -> list[str]:
        return [url for url in self.urls if not _stays_local(url)]


def _stays_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOCAL_HOSTS


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def new_page(browser: Browser, traffic: Traffic) -> Iterator[Callable[[], Page]]:
    """Opens pages (each its own Streamlit session) in one fresh browser context that records traffic."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    context.on("request", lambda request: traffic.record(request.url))
    # Websockets are reported per page; this covers pages the app opens (links in new tabs) as well.
    context.on("page", lambda opened: opened.on("websocket", lambda socket_: traffic.record(socket_.url)))
    yield context.new_page
    context.close()
    # Every test, not only the one about it: nothing the dashboard does may reach another host.
    assert not traffic.outside(), f"requests left the dashboard's host: {traffic.outside()}"


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


# --- helpers --------------------------------------------------------------------------------------------


def settle(page: Page, *, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait until the script run is over (Streamlit marks stApp) and the "Running" widget has gone."""
    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=timeout_ms
    )
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden(timeout=timeout_ms)


def visit(page: Page, server: Server, path: str, *, timeout_ms: int = TIMEOUT_MS) -> Locator:
    """Open `path` in a new session and return the main area once the page has rendered."""
    page.goto(f"{server.url}/{path.lstrip('/')}")
    expect(page.get_by_test_id("stApp")).to_be_visible()
    settle(page, timeout_ms=timeout_ms)
    return page.get_by_test_id("stMain")


def heading(main: Locator) -> Locator:
    return main.locator("h1")


def filter_caption(main: Locator) -> Locator:
    """The caption under the page title that says which deals the filters choose."""
    return main.get_by_test_id("stCaptionContainer").first


def metrics(scope: Locator, count: int) -> dict[str, str]:
    expect(scope.get_by_test_id("stMetric")).to_have_count(count)
    labels = scope.get_by_test_id("stMetricLabel").all_inner_texts()
    values = scope.get_by_test_id("stMetricValue").all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values, strict=True)}


def table(scope: Locator, *headers: str) -> Locator:
    """The grid of the st.dataframe with these column headers. The canvas-drawn table has a hidden
    accessible copy (so CSS, not roles); only dataframes with a selection carry their key as a class.
    Its aria-rowcount counts the data rows and the header row."""
    frames = scope.get_by_test_id("stDataFrame")
    for header in headers:
        frames = frames.filter(
            has=scope.page.locator("[role=columnheader]", has_text=re.compile(f"^{re.escape(header)}$"))
        )
    return frames.locator("[role=grid]")


def cells(grid: Locator) -> list[str]:
    """The grid's cell texts, row by row (raw values: ISO dates, plain numbers)."""
    return [text.strip() for text in grid.locator("[role=gridcell]").all_text_contents()]


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def open_list(box: Locator, option: str, *, typed: str | None = None) -> Locator:
    """Open the list of the select box `box` (typing `typed` into it, if given) and return `option` in it.

    A text field commits when it loses focus, so the click that opens a list can start a rerun, and the
    rerun redraws the box with its list closed (seen once in CI: the option never showed in 90 s). The list
    is opened again, after the rerun, until the option shows."""
    wanted = box.page.get_by_role("option", name=option, exact=True)
    for _ in range(3):
        box.click()
        if typed is not None:
            box.fill(typed)
        try:
            expect(wanted).to_be_visible(timeout=10_000)
            return wanted
        except AssertionError:
            settle(box.page)
    expect(wanted).to_be_visible()
    return wanted


def choose(box: Locator, option: str) -> None:
    """Choose `option` in the select box `box`, as a user would."""
    open_list(box, option).click()


def pick(sidebar: Locator, label: str, option: str, *, typed: str | None = None) -> None:
    """Choose `option` in the sidebar multiselect `label` by typing it (or `typed`), as a user would."""
    box = sidebar.get_by_role("combobox", name=label)
    open_list(box, option, typed=typed or option).click()
    box.press("Escape")


def go_to(page: Page, title: str) -> Locator:
    """Follow a sidebar navigation link: another page in the same session (a login holds)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    main = page.get_by_test_id("stMain")
    expect(heading(main)).to_have_text(title)
    settle(page)
    return main


def screenshot(page: Page, name: str, *, height: int | None = None) -> Path:
    """Save a README screenshot; `height` grows the viewport for a taller picture, then restores it."""
    folder = (
        README_SCREENSHOTS
        if os.environ.get("TRACKER_UPDATE_SCREENSHOTS") == "1"
        else Path(tempfile.gettempdir()) / "tracker-screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if height is not None:
        page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        page.wait_for_timeout(500)  # plotly redraws on resize
        settle(page)
    # Park the mouse in the right margin: no hover effects, tooltips or sidebar controls in the picture.
    page.mouse.move(VIEWPORT["width"] - 10, (height or VIEWPORT["height"]) // 2)
    page.screenshot(path=path, animations="disabled")
    if height is not None:
        page.set_viewport_size(VIEWPORT)
    assert path.stat().st_size > 20_000, f"{path} looks blank"
    return path


def seed_overview_figures(today: dt.date) -> dict[str, str]:
    """The headline metrics on the seed ledger, counted from the real today (as in test_pages.py)."""
    stale = int((today - dt.date(2025, 10, 17)).days > 60)  # the seed's last event is 17 Oct 2025
    this_month = 3 if (today.year, today.month) == (2025, 10) else 0
    return {
        "Deals": "1",
        "Active deals": "1",
        f"Events in {today:%B %Y}": str(this_month),
        "Stale deals": str(stale),
    }


# --- the tests ------------------------------------------------------------------------------------------


def test_overview_renders_its_charts(page: Page, server: Server, traffic: Traffic) -> None:
    main = visit(page, server, "/")
    expect(heading(main)).to_have_text("Overview")
    expect(filter_caption(main)).to_have_text("All deals")
    assert metrics(main, 4) == seed_overview_figures(dt.date.today())

    expect(main.locator(".js-plotly-plot")).to_have_count(len(OVERVIEW_CHARTS))
    for key in OVERVIEW_CHARTS:
        expect(main.locator(f".st-key-{key} .js-plotly-plot .main-svg").first).to_be_visible()
    # The bar chart: one bar per stage, labelled with its count (negotiating 1, the others 0).
    bars = main.locator(".st-key-chart-stages .bars .point text")
    expect(bars).to_have_text(["0", "1", "0", "0", "0", "0", "0", "0", "0"])
    # The map: the base map drew from the app's own topojson, and both seed countries are shaded.
    world = main.locator(".st-key-chart-map .geo .layer.countries path")
    expect(world).not_to_have_count(0)
    assert len(world.first.get_attribute("d") or "") > 10_000, "the country outlines did not draw"
    expect(main.locator(".st-key-chart-map .choroplethlocation")).to_have_count(2)
    assert f"{server.url}/app/static/topojson/world_110m.json" in traffic.urls
    # The heatmap's countries and the sankey's nodes.
    countries = main.locator(".st-key-chart-stage-country .ytick text")
    expect(countries).to_have_count(2)
    assert sorted(countries.all_text_contents()) == ["Ukraine", "United States"]
    expect(main.locator(".st-key-chart-flows .sankey-node text.node-label")).to_have_text(
        ["United States (buyer)", "Ukraine (seller)"]
    )
    # The latest events: the seed's 14 events and the header row.
    expect(table(main, "Date", "Deal", "What happened")).to_have_attribute("aria-rowcount", "15")

    screenshot(page, "overview.png", height=1500)


def test_a_shared_url_reproduces_a_filtered_view(new_page: Callable[[], Page], server: Server) -> None:
    page = new_page()
    main = visit(page, server, "/deals?country=UKR&country_as=buyer")
    expect(heading(main)).to_have_text("Deals")
    expect(filter_caption(main)).to_have_text("Deals with Ukraine as buyer")
    expect(main.get_by_test_id("stAlert")).to_contain_text("No deals match these filters")
    expect(main.get_by_test_id("stDataFrame")).to_have_count(0)

    main = visit(page, server, "/deals?country=UKR&country_as=seller&stage=negotiating")
    expect(filter_caption(main)).to_have_text("Deals with Ukraine as seller, stage negotiating")
    expect(table(main, "Deal", "Buyers", "Sellers")).to_have_attribute("aria-rowcount", "2")  # deal + header
    assert cells(table(main, "Deal", "Buyers", "Sellers"))[0] == SEED_TITLE
    sidebar = page.get_by_test_id("stSidebar")  # the widgets show the URL's filters
    expect(sidebar.get_by_role("radio", name="seller", exact=True)).to_have_attribute("aria-checked", "true")
    expect(sidebar.locator(".st-key-country")).to_contain_text("UKR")

    page.reload()
    settle(page)
    expect(filter_caption(main)).to_have_text("Deals with Ukraine as seller, stage negotiating")
    expect(table(main, "Deal", "Buyers", "Sellers")).to_have_attribute("aria-rowcount", "2")
    assert query(page) == {"country": ["UKR"], "country_as": ["seller"], "stage": ["negotiating"]}


def test_sidebar_filters_write_the_url(new_page: Callable[[], Page], server: Server) -> None:
    page = new_page()
    main = visit(page, server, "/deals")
    expect(filter_caption(main)).to_have_text("All deals")
    assert query(page) == {}
    sidebar = page.get_by_test_id("stSidebar")

    pick(sidebar, "Country", "Ukraine (UKR)", typed="Ukraine")  # found by name, kept in the URL as its code
    expect(page).to_have_url(re.compile(r"[?&]country=UKR(&|$)"))
    expect(filter_caption(main)).to_have_text("Deals with Ukraine as buyer or seller")
    sidebar.get_by_role("radio", name="buyer", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]country_as=buyer(&|$)"))
    expect(main.get_by_test_id("stAlert")).to_contain_text("No deals match these filters")
    sidebar.get_by_role("radio", name="seller", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]country_as=seller(&|$)"))
    pick(sidebar, "Current stage", "negotiating")
    expect(page).to_have_url(re.compile(r"[?&]stage=negotiating(&|$)"))
    expect(filter_caption(main)).to_have_text("Deals with Ukraine as seller, stage negotiating")
    expect(table(main, "Deal", "Buyers", "Sellers")).to_have_attribute("aria-rowcount", "2")
    settle(page)
    assert query(page) == {"country": ["UKR"], "country_as": ["seller"], "stage": ["negotiating"]}

    # The address the sidebar wrote, opened by someone else (a new session), shows the same view.
    written = urlsplit(page.url)
    shared = visit(new_page(), server, f"{written.path}?{written.query}")
    expect(filter_caption(shared)).to_have_text("Deals with Ukraine as seller, stage negotiating")
    expect(table(shared, "Deal", "Buyers", "Sellers")).to_have_attribute("aria-rowcount", "2")


def test_deal_page(page: Page, server: Server) -> None:
    main = visit(page, server, f"/deal?deal={SEED_DEAL}")
    expect(heading(main)).to_have_text(SEED_TITLE)
    shown = metrics(main, 5)
    assert (shown["Stage"], shown["Value"], shown["Events"], shown["Last news"]) == (
        "negotiating",
        "10–30 bn USD",
        "14",
        "17 Oct 2025",
    )
    conflict = main.get_by_test_id("stAlert")
    expect(conflict).to_have_count(1)
    expect(conflict).to_contain_text('3 claims about "delegation dates" give different dates')
    expect(conflict).to_contain_text("29 Sep – 2 Oct 2025")
    # The stage timeline: a bar for each stage the deal has been in.
    timeline = main.locator(".st-key-chart-deal-timeline")
    expect(timeline.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    expect(timeline.locator(".gtitle")).to_have_text("Stages over time")
    expect(timeline.locator(".bars .point")).to_have_count(2)
    expect(timeline.locator(".ytick text")).to_have_text(["negotiating", "announced"])
    expect(table(main, "Stage", "Days", "First entered")).to_have_attribute("aria-rowcount", "3")

    screenshot(page, "deal.png")


def test_upload_without_editors_allows_nothing(page: Page, server_without_editors: Server) -> None:
    main = visit(page, server_without_editors, "/upload")
    expect(heading(main)).to_have_text("Upload")
    warning = main.get_by_test_id("stAlert")
    expect(warning).to_contain_text("No editors are configured")
    expect(warning).to_contain_text("python -m tracker hash-password NAME")
    expect(warning).to_contain_text(".streamlit/secrets.toml")
    expect(warning).to_contain_text("[editors]")
    expect(main.get_by_test_id("stFileUploader")).to_have_count(0)
    expect(main.get_by_role("button", name="Log in")).to_have_count(0)


def test_no_request_leaves_the_host_on_any_page(page: Page, server: Server, traffic: Traffic) -> None:
    main = visit(page, server, "/")
    expect(main.locator(".st-key-chart-map .choroplethlocation")).to_have_count(2)
    sidebar = page.get_by_test_id("stSidebar")
    pick(sidebar, "Country", "Ukraine (UKR)", typed="UKR")
    expect(filter_caption(main)).to_have_text("Deals with Ukraine as buyer or seller")
    settle(page)

    main = go_to(page, "Pipeline")
    card = main.locator(f".st-key-card-{SEED_DEAL}")
    expect(card).to_contain_text(SEED_TITLE)
    card.get_by_role("button", name="Open").click()  # st.switch_page to the deal page
    expect(heading(main)).to_have_text(SEED_TITLE)
    settle(page)
    assert query(page).get("deal") == [SEED_DEAL]
    main.get_by_role("tab", name="Events (14)").click()
    expect(table(main, "Date", "Stage", "What happened")).to_have_attribute("aria-rowcount", "15")
    main.get_by_role("tab", name="Parties").click()
    expect(main.get_by_test_id("stTabPanel").nth(2)).to_contain_text("US Department of Defense")
    main.get_by_role("tab", name="Value claims").click()
    expect(table(main, "Value claimed")).to_have_attribute("aria-rowcount", "2")

    main = go_to(page, "Deals")
    expect(table(main, "Deal", "Buyers", "Sellers")).to_have_attribute("aria-rowcount", "2")
    with page.expect_download() as download:
        main.get_by_role("button", name="Deals table (CSV)").click()
    assert download.value.suggested_filename == "deals.csv"
    settle(page)

    main = go_to(page, "Sources")
    expect(main.get_by_role("heading", name="Deals resting on low-grade sources")).to_be_visible()
    main = go_to(page, "Upload")
    expect(main.get_by_role("button", name="Log in")).to_be_visible()
    main = go_to(page, "Deal page")
    expect(main.get_by_test_id("stAlert")).to_contain_text("Choose a deal")

    assert any(urlsplit(url).scheme == "ws" and url.endswith("/_stcore/stream") for url in traffic.urls)
    hosts = {urlsplit(url).hostname for url in traffic.urls if urlsplit(url).scheme not in LOCAL_SCHEMES}
    assert hosts == {"127.0.0.1"}, traffic.outside()


def test_a_shared_url_with_bad_values_shows_a_warning(page: Page, server: Server) -> None:
    main = visit(page, server, "/deals?country=Ukraine&stage=signed&since=2025-13-45&q=tanks")
    warning = main.get_by_test_id("stAlert").filter(has_text="Ignored in the address")
    expect(warning.get_by_test_id("stMarkdownContainer")).to_have_text(
        "Ignored in the address: country=Ukraine (not an option of “Country”; write country=UKR); "
        "stage=signed (not an option of “Current stage”; use one of announced, negotiating, agreed, "
        "approved, contracted, delivering, completed, stalled, cancelled); since=2025-13-45 (is not a "
        "date; write it as YYYY-MM-DD, e.g. 2025-07-01). The page shows the ledger without them."
    )
    expect(filter_caption(main)).to_have_text('Deals mentioning "tanks"')  # the good value is kept
    settle(page)
    assert query(page) == {"q": ["tanks"]}  # the bad values left the address


def test_a_ledger_with_sipri_transfers_opens_on_deals_in_the_making(page: Page, mixed_server: Server) -> None:
    main = visit(page, mixed_server, "/")
    expect(filter_caption(main)).to_have_text("Deals in the making")
    expect(main.get_by_test_id("stAlert").first).to_contain_text(
        "Showing deals in the making. The ledger also holds SIPRI-recorded transfers"
    )
    assert metrics(main, 4)["Deals"] == "620"
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("radio", name="All", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]scope=all(&|$)"))
    expect(filter_caption(main)).to_have_text("All deals")
    expect(main.get_by_test_id("stMetricValue").first).to_have_text("631")


def test_pipeline_board_and_the_overview_of_a_register(page: Page, showcase_server: Server) -> None:
    # A server's first page also loads the app's modules: on a loaded machine that took over 30 s.
    main = visit(page, showcase_server, "/pipeline", timeout_ms=3 * TIMEOUT_MS)
    # One lane per stage (every stage of this ledger holds deals), in the stages' order left to right in
    # one row, each headed with its number of deals in the making; the row scrolls sideways to the later
    # stages.
    lanes = [main.locator(f".st-key-lane-{stage}") for stage in STAGE_NAMES]
    for stage, lane in zip(STAGE_NAMES, lanes, strict=True):
        count = SHOWCASE_STAGES[stage]
        expect(lane).to_contain_text(f"{stage.capitalize()} · {count:,} deal{'' if count == 1 else 's'}")
    boxes = [lane.bounding_box() for lane in lanes]
    assert len({box["y"] for box in boxes}) == 1
    assert [box["x"] for box in boxes] == sorted(box["x"] for box in boxes)
    board = main.locator(".st-key-pipeline-board")
    assert board.evaluate("board => board.scrollWidth > board.clientWidth")
    assert boxes[-1]["x"] > VIEWPORT["width"]  # the last lane starts off screen until scrolled to
    board.evaluate("board => { board.scrollLeft = board.scrollWidth; }")
    assert 0 < lanes[-1].bounding_box()["x"] < VIEWPORT["width"]
    board.evaluate("board => { board.scrollLeft = 0; }")
    # Completed and cancelled deals are folded away; the active lanes show cards with their last news.
    for stage in ("completed", "cancelled"):
        if SHOWCASE_STAGES[stage]:
            expect(lanes[STAGE_NAMES.index(stage)].get_by_test_id("stExpander")).to_have_count(1)
    expect(lanes[STAGE_NAMES.index("announced")]).to_contain_text("Last news:")
    screenshot(page, "pipeline.png", height=1400)

    # The overview over everything, the SIPRI register included (the scope control's "All").
    main = visit(page, showcase_server, "/?scope=all", timeout_ms=3 * TIMEOUT_MS)
    expect(filter_caption(main)).to_have_text("All deals")
    for key in OVERVIEW_CHARTS:
        chart = main.locator(f".st-key-{key} .js-plotly-plot .main-svg").first
        expect(chart).to_be_visible(timeout=3 * TIMEOUT_MS)
    screenshot(page, "overview-register.png", height=1500)


def test_sorting_by_title_sorts_the_whole_ledger(page: Page, mixed_server: Server) -> None:
    main = visit(page, mixed_server, "/deals")
    grid = table(main, "Deal", "Buyers", "Sellers")
    expect(grid).to_have_attribute("aria-rowcount", "501")  # the first 500 of 620, and the header
    first_title = titles_in_order(MANY_DEALS)[0]
    assert first_title not in cells(grid)  # the newest 500 do not hold it: sorting them cannot find it
    # The header is not the way to sort: clicking it (on the canvas) selects the column, and the rows
    # shown keep their order.
    first_row = cells(grid)[0]
    header = grid.locator("[role=columnheader]", has_text=re.compile("^Deal$"))
    frame = main.get_by_test_id("stDataFrame").first.bounding_box()
    assert frame is not None
    page.mouse.click(frame["x"] + 120, frame["y"] + 17)
    expect(header).to_have_attribute("aria-selected", "true")
    settle(page)
    assert cells(grid)[0] == first_row

    choose(main.get_by_role("combobox", name="Sort by"), "Deal, ascending")
    expect(page).to_have_url(re.compile(r"[?&]sort=title(&|$)"))
    settle(page)
    expect(grid.locator("[role=gridcell]").first).to_have_text(first_title)
    expect(main.get_by_test_id("stCaptionContainer").filter(has_text="sorted by deal")).to_contain_text(
        "Deals 1–500 of 620 (page 1 of 2), sorted by deal, ascending."
    )

    # The address reproduces the order and the page.
    main = visit(page, mixed_server, "/deals?sort=title&page=2")
    grid = table(main, "Deal", "Buyers", "Sellers")
    expect(grid).to_have_attribute("aria-rowcount", "121")
    expect(grid.locator("[role=gridcell]").first).to_have_text(titles_in_order(MANY_DEALS)[500])


# Each grid's scrollable width against the width it has: no grid may need sideways scrolling.
GRID_WIDTHS = """() => [...document.querySelectorAll('[data-testid=stDataFrame]')].map(frame => {
    const scroller = frame.querySelector('.dvn-scroller');
    return [scroller.scrollWidth, scroller.clientWidth];
})"""


def test_tables_fit_a_1440_px_window_and_a_source_leads_to_its_deals(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 1440, "height": 1000})
    main = visit(page, server, "/deals")
    expect(table(main, "Deal", "First event", "Last event", "Deal page")).to_have_attribute(
        "aria-rowcount", "2"
    )
    assert page.evaluate(GRID_WIDTHS) == [[978, 978]]  # tracker.views.tables.WIDTH_AT_1440

    main = visit(page, server, "/sources")
    sources = table(main, "Publisher", "Events", "Deals", "Grade")
    expect(sources).to_have_attribute("aria-rowcount", "14")  # the seed's 13 sources and the header
    frame = main.get_by_test_id("stDataFrame").first.bounding_box()
    assert frame is not None
    page.mouse.click(frame["x"] + 18, frame["y"] + 35 + 17)  # the first row's checkbox: New York Post
    expect(main.get_by_role("heading", name="What New York Post supports")).to_be_visible()
    events = table(main, "Date", "Deal", "Credibility", "What happened")
    expect(events).to_have_attribute("aria-rowcount", "6")
    deals = table(main, "Deal", "Stage", "Events supported", "Last event")
    expect(deals).to_have_attribute("aria-rowcount", "2")
    settle(page)
    assert page.evaluate(GRID_WIDTHS) == [[978, 978]] * 3

    main = visit(page, server, "/")
    expect(table(main, "Date", "Deal", "What happened", "Best source")).to_have_attribute(
        "aria-rowcount", "15"
    )
    settle(page)
    assert page.evaluate(GRID_WIDTHS) == [[978, 978]]  # the latest events: the seed's 14

    # A deal's events and their sources, on the tab that shows them.
    main = visit(page, server, f"/deal?deal={SEED_DEAL}")
    main.get_by_role("tab", name="Events (14)").click()
    events = table(main, "Date", "Stage", "What happened", "Sources (grade)")
    expect(events).to_have_attribute("aria-rowcount", "15")
    sources = table(main, "Event date", "Event", "Publisher", "Published")
    expect(sources).to_have_attribute("aria-rowcount", "21")  # the seed's 20 event-source links
    settle(page)
    assert (
        page.evaluate(GRID_WIDTHS.replace(".map(", ".filter(frame => frame.offsetParent).map("))
        == [[978, 978]] * 2
    )
    page.set_viewport_size(VIEWPORT)


def test_an_article_is_drafted_into_the_grid_and_checked(page: Page, server: Server) -> None:
    """The seed article through the real page: the form, the date picker, the grid, the check (no
    commit: the other tests read the seed ledger)."""
    main = visit(page, server, "/article")
    expect(main).to_contain_text("Log in to continue")
    expect(main.get_by_label("Article text")).to_have_count(0)
    main.get_by_label("Username").fill(EDITOR)
    main.get_by_label("Password", exact=True).fill(PASSWORD)
    main.get_by_role("button", name="Log in").click()
    main.get_by_label("Article text").fill(SEED_ARTICLE.read_text(encoding="utf-8"))
    main.get_by_role("textbox", name="Title", exact=True).fill(SEED_ARTICLE_TITLE)
    main.get_by_role("textbox", name="Publisher", exact=True).fill("New York Post")
    for part, typed in (("year", "2025"), ("month", "09"), ("day", "29")):
        main.get_by_role("spinbutton", name=f"{part}, Published on").click()
        page.keyboard.type(typed)
    page.keyboard.press("Escape")  # close the calendar
    settle(page)
    main.get_by_role("button", name="Draft rows").click()
    settle(page)
    grid = table(main, "Row", "Event", "From the article")
    expect(grid).to_have_attribute("aria-rowcount", "11")  # the header, 9 rows, the row to add one
    expect(main.get_by_role("button", name="Draft again")).to_be_visible()
    main.get_by_role("button", name="Check rows").click()
    expect(main.get_by_test_id("stAlert").first).to_contain_text("The rows can be imported.")
    assert metrics(main, 4) == {"New events": "5", "New deals": "0", "Deals updated": "1", "New sources": "0"}
    expect(main.get_by_role("button", name="Commit import")).to_be_visible()


def test_upload_goes_through_and_is_undone(page: Page, server: Server) -> None:
    # Last in the module: it changes the ledger (and undoes the change) that the other tests read.
    main = visit(page, server, "/upload")
    expect(main).to_contain_text("Log in to continue")
    expect(main.get_by_test_id("stFileUploader")).to_have_count(0)

    def log_in(password: str) -> None:
        main.get_by_label("Username").fill(EDITOR)
        main.get_by_label("Password", exact=True).fill(password)
        main.get_by_role("button", name="Log in").click()

    log_in("not the password")
    expect(main.get_by_test_id("stAlert")).to_contain_text("Unknown username or wrong password.")
    expect(main.get_by_test_id("stFileUploader")).to_have_count(0)
    log_in(PASSWORD)
    expect(main.get_by_test_id("stFileUploader")).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Logged in as editor {EDITOR}")
    settle(page)
    upload = main.get_by_test_id("stFileUploaderDropzoneInput")

    # A bad file: its problems, each with line and column; nothing to commit.
    upload.set_input_files(files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": BAD_CSV}])
    expect(main.get_by_test_id("stFileChipName")).to_have_text("bad.csv")
    expect(main.get_by_text("Check the file first")).to_be_visible()  # the server has the new file
    settle(page)
    main.get_by_role("button", name="Check file").click()
    expect(main.get_by_test_id("stAlert")).to_contain_text("2 problems found")
    expect(table(main, "Line", "Column", "How to fix it")).to_have_attribute("aria-rowcount", "3")
    problems = cells(table(main, "Line", "Column", "How to fix it"))
    assert (problems[0], problems[1]) == ("2", "date") and (problems[5], problems[6]) == ("2", "reliability")
    expect(main.get_by_role("button", name="Commit import")).to_have_count(0)

    # A good file: check (a preview with counts), commit, see the import number.
    upload.set_input_files(files=[{"name": "browser-test.csv", "mimeType": "text/csv", "buffer": GOOD_CSV}])
    expect(main.get_by_test_id("stFileChipName")).to_have_text("browser-test.csv")
    expect(main.get_by_text("Check the file first")).to_be_visible()  # the server has the new file
    settle(page)
    main.get_by_role("button", name="Check file").click()
    expect(main.get_by_test_id("stAlert")).to_contain_text("The file can be imported.")
    assert metrics(main, 4) == {"New events": "1", "New deals": "1", "Deals updated": "0", "New sources": "1"}
    main.get_by_role("button", name="Commit import").click()
    expect(main.get_by_test_id("stAlert").first).to_contain_text("Import #2: browser-test.csv: 1 row read")
    expect(main.get_by_test_id("stAlert").nth(1)).to_contain_text("This file was imported as import #2.")
    expect(table(main, "Import", "File", "Status")).to_have_attribute("aria-rowcount", "3")
    # The new import is offered for undo at once (the browser kept #1 chosen before it was set).
    expect(main.get_by_role("combobox", name="Undo an import")).to_have_value(
        re.compile(rf"^#2 browser-test\.csv \(.*, {EDITOR}\)$")
    )
    settle(page)

    main = go_to(page, "Deals")
    expect(table(main, "Deal", "Buyers", "Sellers")).to_have_attribute("aria-rowcount", "3")
    assert "Browser test radars" in cells(table(main, "Deal", "Buyers", "Sellers"))

    # Undo it from the import history (the newest import is offered first); the login held.
    main = go_to(page, "Upload")
    expect(main.get_by_role("combobox", name="Undo an import")).to_have_value(
        re.compile(rf"^#2 browser-test\.csv \(.*, {EDITOR}\)$")
    )
    main.get_by_role("button", name="Undo import…", exact=True).click()
    # It asks first, naming the import and what goes; nothing is undone until confirmed.
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(
        re.compile(
            rf"Undoing import #2 \(browser-test\.csv, 1 row, committed .* UTC by {EDITOR}\) removes 1 event, "
            r"1 deal and 1 source, and restores the attributes of 0 deals\."
        )
    )
    dialog.get_by_role("button", name="Undo import #2").click()
    expect(main.get_by_test_id("stAlert").first).to_contain_text(
        "Undid import #2 (browser-test.csv): removed 1 event and 1 deal"
    )
    expect(page.get_by_role("dialog")).to_have_count(0)
    settle(page)
    main = go_to(page, "Deals")
    expect(table(main, "Deal", "Buyers", "Sellers")).to_have_attribute("aria-rowcount", "2")


# --- capture from the first-run sign-in link -------------------------------------------------------------


@pytest.fixture
def fresh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The dashboard as first started, no secrets file at all, for a test that changes the ledger."""
    yield from serve(tmp_path_factory.mktemp("fresh-server"), None)


def sign_in_link(server: Server) -> str:
    """The newest one-time link the dashboard printed to its console (it prints one on its first run)."""
    deadline = dt.datetime.now() + dt.timedelta(seconds=30)
    while dt.datetime.now() < deadline:
        links = re.findall(r"http://\S+\?signin=\S+", server.log.read_text(errors="replace"))
        if links:
            return links[-1]
        time.sleep(0.2)
    pytest.fail(f"no sign-in link in the console:\n{server.log.read_text(errors='replace')[-2000:]}")


def keyed(scope: Locator, key: str) -> Locator:
    """The element of the widget with this key (Streamlit gives its container the class st-key-<key>)."""
    return scope.locator(f".st-key-{key}")


@pytest.fixture
def patient() -> Iterator[None]:
    """Longer waits for a test that loads the overview's charts in five sessions one after another: on a
    machine shared with other test runs one page can take more than the usual 30 s."""
    expect.set_options(timeout=3 * TIMEOUT_MS)
    yield
    expect.set_options(timeout=TIMEOUT_MS)


def test_log_an_event_of_a_new_deal_retract_it_and_find_it_as_of_before(
    new_page: Callable[[], Page], fresh_server: Server, patient: None
) -> None:
    page = new_page()
    page.context.set_default_timeout(3 * TIMEOUT_MS)
    main = visit(page, fresh_server, "/")  # the first run prints the link
    expect(heading(main)).to_have_text("Overview")
    link = sign_in_link(fresh_server)
    assert urlsplit(link).port == urlsplit(fresh_server.url).port
    page.goto(link)  # the link opens the overview
    settle(page)
    assert "signin" not in query(page)  # the token left the address
    # On a busy machine a click while the overview's charts still draw can time out: let them finish.
    expect(page.locator(".js-plotly-plot .main-svg")).not_to_have_count(0)
    main = go_to(page, "New deal")
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Logged in as editor")

    keyed(main, "new-deal-0-deal_title").locator("input").fill("Browser capture radars")
    pick(main, "Buying countries", "Finland (FIN)")
    pick(main, "Selling countries", "Israel (ISR)")
    date = keyed(main, "new-deal-0-date").locator("input")
    date.fill("2025-06")
    date.press("Enter")
    settle(page)
    choose(keyed(main, "new-deal-0-stage"), "announced")
    keyed(main, "new-deal-0-summary").locator("textarea").fill("Finland orders radars from Israel.")
    keyed(main, "new-deal-0-source-0-title").locator("input").fill("Finland picks Israeli radars")
    url = keyed(main, "new-deal-0-source-0-url").locator("input")
    url.fill("https://radar-wire.example/fin")
    url.press("Enter")
    settle(page)
    main.get_by_role("button", name="Check").click()
    expect(main.get_by_test_id("stAlert").first).to_contain_text("The deal can be imported.")
    assert metrics(main, 4) == {"New events": "1", "New deals": "1", "Deals updated": "0", "New sources": "1"}
    main.get_by_role("button", name="Save to the ledger").click()
    expect(heading(main)).to_have_text("Browser capture radars")  # the new deal's page, same session
    saved = dt.datetime.now(dt.UTC)
    expect(main.get_by_test_id("stAlert").first).to_contain_text(
        "Import #2: form: new deal browser-capture-radars"
    )
    settle(page)

    # Anyone's overview (another session) shows it at once. Each look is closed after it: the machine runs
    # several browsers at once, and every open overview keeps its charts alive.
    other = new_page()
    overview = visit(other, fresh_server, "/?country=FIN")
    expect(heading(overview)).to_have_text("Overview")
    assert metrics(overview, 4)["Deals"] == "1"
    latest = table(overview, "Date", "Deal", "What happened")
    expect(latest).to_have_attribute("aria-rowcount", "2")
    assert cells(latest)[:4] == [
        "Jun 2025",
        "Browser capture radars",
        "announced",
        "Finland orders radars from Israel.",
    ]
    other.close()

    # Retracted in a later minute than it was recorded in, so that a minute of the as-of view lies between.
    time.sleep(
        max(0.0, 61 - dt.datetime.now(dt.UTC).second) if dt.datetime.now(dt.UTC).minute == saved.minute else 0
    )
    main.get_by_role("tab", name="Events (1)").click()
    main.get_by_text("Correct, retract or regrade an event").click()
    reason = keyed(main, "event-actions-0-reason").locator("input")
    reason.fill("Logged by mistake.")
    reason.press("Enter")
    settle(page)
    main.get_by_role("button", name="Retract this event").click()
    expect(main.get_by_test_id("stAlert").first).to_contain_text(
        "Retracted event #15 of browser-capture-radars (2025-06: Finland orders radars from Israel.) "
        "as change #3."
    )
    settle(page)

    other = new_page()
    overview = visit(other, fresh_server, "/?country=FIN")
    expect(heading(overview)).to_have_text("Overview")
    latest = table(overview, "Date", "Deal", "What happened")
    expect(latest).to_have_count(1)  # drawn (empty, Streamlit still draws one blank row)
    assert "Finland orders radars from Israel." not in cells(latest)
    other.close()
    before = visit(
        new_page(),
        fresh_server,
        f"/?country=FIN&as_of={saved:%Y-%m-%d}&as_of_mode=recorded&as_of_time={saved:%H:%M}",
    )
    expect(before.get_by_test_id("stAlert").first).to_contain_text(
        f"The ledger as recorded in this ledger by {saved:%H:%M} on "
        f"{format_partial_date(saved.date(), 'day')} (UTC)"
    )
    latest = table(before, "Date", "Deal", "What happened")
    expect(latest).to_have_attribute("aria-rowcount", "2")
    assert cells(latest)[:4] == [
        "Jun 2025",
        "Browser capture radars",
        "announced",
        "Finland orders radars from Israel.",
    ]
