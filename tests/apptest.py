"""The dashboard's pages in Streamlit's AppTest, for the page tests (test_pages, test_capture, ...)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tracker.views import editors

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")


def page_path(name: str) -> str:
    """A page as `AppTest.switch_page` names it: "deal" -> "tracker/views/deal.py"."""
    return f"tracker/views/{name}.py"


OVERVIEW = page_path("overview")


def run(at: AppTest) -> AppTest:
    """Run the script once more; a page that raised fails the test with its message."""
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def open_page(
    page: str = OVERVIEW,
    *,
    query: dict[str, str | list[str]] | None = None,
    secrets: dict | None = None,
    timeout: float = 30,
) -> AppTest:
    """The dashboard opened at an address holding `query`, then switched to `page`."""
    at = AppTest.from_file(DASHBOARD, default_timeout=timeout)
    if secrets is not None:
        at.secrets.update(secrets)
    at.query_params.update(query or {})
    run(at)
    if page != OVERVIEW:
        at.switch_page(page)
        run(at)
    return at


def open_signed_in(
    page: str,
    *,
    query: dict[str, str] | None = None,
    secrets: dict | None = None,
    link: bool = True,
    timeout: float = 60,
) -> AppTest:
    """The dashboard on `page`; with `link`, first opened from the console's one-time sign-in link (the
    link's run signs the session in; `query` is the page's own address)."""
    at = AppTest.from_file(DASHBOARD, default_timeout=timeout)
    if secrets is not None:
        at.secrets.update(secrets)
    if link:
        at.query_params["signin"] = editors.SIGN_IN_LINKS.issue()
    run(at)
    at.switch_page(page)
    at.query_params.update(query or {})
    return run(at)
