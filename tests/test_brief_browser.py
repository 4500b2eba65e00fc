"""The briefs in a real browser. Debian's Chromium opens the HTML file offline and shows the brief; and in
the dashboard (`streamlit run`, tests/servers.py) one click on each Brief button of the deal page and the
Deals page downloads the brief, under its file name and type, with the deal's content.

Every request the page makes is logged: opening it may load nothing beyond the file itself (file://)
and inline data (data:), the chart must draw from the embedded plotly.js, and the Content-Security-Policy
must not have had to block anything. Takes the README's picture of the seed deal's brief
(docs/screenshots/brief.png, refreshed with TRACKER_UPDATE_SCREENSHOTS=1, as in tests/test_browser.py).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tracker.briefs import brief_html, deal_brief
from tracker.db import PROJECT_ROOT
from tracker.seed import seed_ledger

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install chromium", allow_module_level=True)
pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed: pip install -r requirements-dev.txt"
)

from docx import Document
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.servers import Server, serve

pytestmark = pytest.mark.browser

# As tests/test_browser.py: without the background-networking flags Chromium itself calls Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SEED_DEAL, SEED_TITLE = "us-ukraine-drone-deal", "US–Ukraine Drone Deal"
MADE_AT = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def _picture_folder() -> Path:
    if os.environ.get("TRACKER_UPDATE_SCREENSHOTS") == "1":
        return PROJECT_ROOT / "docs" / "screenshots"
    return Path(tempfile.gettempdir()) / "tracker-screenshots"


def test_the_html_brief_opens_offline_and_shows_the_deal(browser: Browser, engine: Engine, tmp_path: Path):
    seed_ledger(engine)
    path = tmp_path / "brief.html"
    path.write_bytes(brief_html(deal_brief(engine, SEED_DEAL, now=MADE_AT)))

    context = browser.new_context(viewport={"width": 1100, "height": 1400})
    requests: list[str] = []
    problems: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(path.as_uri())

    expect(page.locator("#brief-title")).to_have_text(SEED_TITLE)
    expect(page.locator("#events tbody tr")).to_have_count(14)
    expect(page.locator("#events tbody tr").first).to_contain_text("New York Post (B3)")
    expect(page.locator("#parties tbody tr")).to_have_count(20)  # 18 parties, two of them in two roles
    # The chart drew from the embedded plotly.js: one bar per stage the deal has been in.
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    expect(page.locator(".bars .point")).to_have_count(2)
    expect(page.locator(".ytick text")).to_have_text(["negotiating", "announced"])
    assert {url.split(":", 1)[0] for url in requests} <= {"file", "data"}, requests
    assert [url for url in requests if url.startswith("file:")] == [path.as_uri()]
    assert problems == []

    # Printed, a source link shows its address, and the brief makes a PDF of a few pages.
    page.emulate_media(media="print")
    after = page.evaluate(
        "() => getComputedStyle(document.querySelector('#events a[href]'), '::after').content"
    )
    assert (
        after
        == '" <https://www.devdiscourse.com/article/law-order/3508297-strategic-sky-the-us-ukrainian-drone-deal>"'
    )
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pdf.startswith(b"%PDF") and 2 <= pages <= 8, pages
    page.emulate_media(media="screen")

    folder = _picture_folder()
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 1300})
    page.screenshot(path=folder / "brief.png", animations="disabled")
    assert (folder / "brief.png").stat().st_size > 20_000
    context.close()


# --- the Brief buttons, clicked in the dashboard ----------------------------------------------------------

FIRST_SUMMARY = (  # the seed deal's first event (the deal brief lists events oldest first)
    'In an interview with The Post, Zelensky describes a drone "mega deal": "The people of America need this '
    'technology ... a win-win".'
)
LATEST_SUMMARY = (  # and its latest (a view brief lists the latest events first)
    'White House meeting: Zelensky offers drones in exchange for Tomahawk missiles; Trump: "We are – yeah, '
    'we would ... they make a very good drone", the first on-record US interest.'
)
HTML_MIME = "text/html; charset=utf-8"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# A page of the dashboard can take a minute to draw on a busy machine (CI shares its CPUs).
PAGE_MS = 120_000


@dataclass
class Downloaded:
    name: str  # the file name the browser was given
    served_as: str  # the Content-Type it came with
    content: bytes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The dashboard on the seed ledger; a brief is a read, so no editor is configured or signed in."""
    yield from serve(tmp_path_factory.mktemp("brief-server"), None)


def _open(page: Page, server: Server, path: str, heading: str) -> Locator:
    page.goto(f"{server.url}{path}")
    main = page.get_by_test_id("stMain")
    expect(main.locator("h1")).to_have_text(heading, timeout=PAGE_MS)
    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=PAGE_MS
    )
    return main


def _click_download(page: Page, main: Locator, label: str) -> Downloaded:
    """One click on the button: the file the browser saves."""
    button = main.get_by_role("button", name=label, exact=True)
    expect(button).to_be_visible(timeout=PAGE_MS)
    with (
        page.expect_download(timeout=PAGE_MS) as download,
        page.expect_response(lambda response: "/media/" in response.url, timeout=PAGE_MS) as response,
    ):
        button.click()
    path = download.value.path()
    return Downloaded(
        download.value.suggested_filename, response.value.headers["content-type"], path.read_bytes()
    )


def _brief_in_browser(page: Page, html: bytes, folder: Path) -> tuple[str, int, list[str]]:
    """The downloaded HTML brief opened in Chromium: its title, how many events it lists and the cells of
    the first."""
    path = folder / "downloaded.html"
    path.write_bytes(html)
    page.goto(path.as_uri())
    events = page.locator("#events tbody tr")
    return (
        page.locator("#brief-title").inner_text(),
        events.count(),
        events.first.locator("td").all_inner_texts(),
    )


def _docx(content: bytes) -> tuple[tuple[str, str], list[str]]:
    """The DOCX opened with python-docx: its first paragraph (style, text) and every table cell's text."""
    document = Document(io.BytesIO(content))
    first = document.paragraphs[0]
    return (first.style.name, first.text), [
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    ]


def test_the_brief_buttons_download_each_brief_on_one_click(browser: Browser, server: Server, tmp_path: Path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()

    main = _open(page, server, f"/deal?deal={SEED_DEAL}", SEED_TITLE)
    html = _click_download(page, main, "Brief (HTML)")
    docx = _click_download(page, main, "Brief (DOCX)")
    assert (html.name, html.served_as) == (f"brief-{SEED_DEAL}.html", HTML_MIME)
    assert (docx.name, docx.served_as) == (f"brief-{SEED_DEAL}.docx", DOCX_MIME)
    assert _brief_in_browser(page, html.content, tmp_path) == (
        SEED_TITLE,
        14,
        ["Jul 2025", "announced", FIRST_SUMMARY, "New York Post (B3); Devdiscourse (C3)"],
    )
    first, cells = _docx(docx.content)
    assert first == ("Title", SEED_TITLE)
    assert FIRST_SUMMARY in cells

    main = _open(page, server, "/deals", "Deals")
    html = _click_download(page, main, "Brief (HTML)")
    docx = _click_download(page, main, "Brief (DOCX)")
    assert (html.name, html.served_as) == ("brief-deals.html", HTML_MIME)
    assert (docx.name, docx.served_as) == ("brief-deals.docx", DOCX_MIME)
    assert _brief_in_browser(page, html.content, tmp_path) == (
        "All deals",
        14,
        [SEED_TITLE, "17 Oct 2025", "negotiating", LATEST_SUMMARY, "The Independent (B2)"],
    )
    first, cells = _docx(docx.content)
    assert first == ("Title", "All deals")
    assert SEED_TITLE in cells and LATEST_SUMMARY in cells
    context.close()
