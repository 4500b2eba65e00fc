"""The HTML brief in a real browser: Debian's Chromium opens the file offline and shows the brief.

Every request the page makes is logged: opening it may load nothing beyond the file itself (file://)
and inline data (data:), the chart must draw from the embedded plotly.js, and the Content-Security-Policy
must not have had to block anything. Takes the README's picture of the seed deal's brief
(docs/screenshots/brief.png, refreshed with TRACKER_UPDATE_SCREENSHOTS=1, as in tests/test_browser.py).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Iterator
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

from playwright.sync_api import Browser, expect, sync_playwright

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
