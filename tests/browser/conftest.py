"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Without the browser these tests skip with a clear message — except where
LEADFLOW_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure."""

import os
import shutil
from pathlib import Path

import pytest

from ..analytics.conftest import desk, five  # noqa: F401  (the reports' five leads)

CHROMIUM = "/usr/bin/chromium"
VENDOR = Path(__file__).resolve().parents[2] / "src/leadflow/web/static/vendor/htmx.min.js"


def _missing() -> str | None:
    if not shutil.which(CHROMIUM):
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    if not VENDOR.exists():
        return "front-end assets are not built (make assets)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("LEADFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Browser tests are required here, but {reason}.")
        pytest.skip(f"Browser tests skipped: {reason}.")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
