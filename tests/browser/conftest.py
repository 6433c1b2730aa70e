"""Fixtures for the browser tests: a real headless Chromium driven by Playwright.

The system Chromium at /usr/bin/chromium is used; Playwright never downloads a
browser. Without it the tests fail (they are not skipped) and say what to install.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polib
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

# Playwright's sync API runs an event loop in this thread; Django's ORM, used
# by the fixtures below, refuses to run next to one unless told it is fine.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# Belt and braces: nothing here may fetch a browser.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    f"Chromium was not found at {CHROMIUM}. The browser tests need it: "
    "run `apt-get install chromium chromium-driver`."
)
TIMEOUT_MS = 10_000


def chromium_missing_message() -> str | None:
    if CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK):
        return None
    return INSTALL_HINT


@pytest.fixture(scope="session")
def arabic() -> dict[str, str]:
    """The committed Arabic catalogue (msgid -> msgstr), to expect what it says."""
    from minbar.i18n_build import LOCALE_DIR

    catalogue = polib.pofile(str(LOCALE_DIR / "ar" / "LC_MESSAGES" / "django.po"))
    return {
        e.msgid: e.msgstr for e in catalogue if not e.msgid_plural and e.msgstr and not e.msgctxt
    }


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    problem = chromium_missing_message()
    if problem:
        pytest.fail(problem, pytrace=False)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageProblems:
    """JavaScript errors and console errors (CSP violations among them)."""

    errors: list[str] = field(default_factory=list)

    def unexpected(self, *allowed: str) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in allowed)]


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Browser, live_server, page_problems: PageProblems) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    def on_console(message) -> None:
        if message.type == "error":
            page_problems.errors.append(f"console: {message.text}")

    def on_response(response) -> None:
        # Pages may be 404 on purpose; their assets (CSS, JS, icons) never.
        if response.status >= 400 and response.request.resource_type != "document":
            page_problems.errors.append(f"HTTP {response.status}: {response.url}")

    page.on("pageerror", lambda exc: page_problems.errors.append(f"pageerror: {exc}"))
    page.on("console", on_console)
    page.on("response", on_response)
    try:
        yield page
    finally:
        context.close()
