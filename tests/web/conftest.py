"""Fixtures of the dashboard tests: SQLite only (the pages read through the services of
the REST API, whose PostgreSQL behaviour tests/api covers), a real Chromium driven by
Playwright.

Chromium is Debian's ``/usr/bin/chromium`` (``scripts/test.sh`` installs it); Playwright
never downloads a browser here. Without it the browser tests skip, except under
``CI=true``, where they fail.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import IN_CI
from tests.fakes.fixtures import fake_providers
from tests.harness import harness

__all__ = ["browser", "database_url", "fake_providers", "harness", "new_page", "page", "shots"]

#: The two screens every page must fit: a laptop and a phone (iPhone 12-15 class).
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}

CHROMIUM = os.environ.get("AI_GATEWAY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Where page screenshots go: docs/screenshots when this is set (to refresh the README's).
SHOTS_DIR = os.environ.get("AI_GATEWAY_SCREENSHOTS_DIR")


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: a copy of the session's migrated template."""
    return sqlite_url


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (scripts/test.sh does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as p:
        instance = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


@pytest_asyncio.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    tab = await context.new_page()
    errors: list[str] = []
    refused: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    # Chromium reports every resource, inline script or style the CSP refused here.
    tab.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    try:
        yield tab
    finally:
        await context.close()
    assert errors == [], f"JavaScript errors: {errors}"
    assert refused == [], f"CSP violations: {refused}"


NewPage = Callable[..., Awaitable[Page]]


@pytest_asyncio.fixture
async def new_page(browser: Browser) -> AsyncIterator[NewPage]:
    """Open tabs in a given browser language and viewport (a context each); every one
    must end with no JavaScript error."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    async def open_tab(
        locale: str = "en-US", viewport: dict[str, int] | None = None, **options: object
    ) -> Page:
        context = await browser.new_context(
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]
            locale=locale,
            is_mobile=(viewport or DESKTOP)["width"] < 600,
            has_touch=(viewport or DESKTOP)["width"] < 600,
            **options,  # type: ignore[arg-type]
        )
        contexts.append(context)
        tab = await context.new_page()
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        return tab

    try:
        yield open_tab
    finally:
        for context in contexts:
            await context.close()
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    target = Path(SHOTS_DIR) if SHOTS_DIR else tmp_path / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    return target
