"""Every page fits the screen: on a laptop (1440x900) and a phone (390x844), in both
languages, no page scrolls sideways (a table scrolls inside its card instead), and the
language switch and sign-out stay on screen; on the phone the nav folds into a menu."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page

from ai_gateway.demo import seed_demo
from tests.harness import Harness
from tests.web.conftest import DESKTOP, PHONE, NewPage
from tests.web.pages import open_page, sign_in

ADMIN_PAGES = (
    "/dashboard/ai-gateway/analytics",
    "/dashboard/ai-gateway/setup",
    "/dashboard/ai-gateway/clients",
    "/dashboard/ai-gateway/models",
    "/dashboard/ai-gateway/cache",
    "/dashboard/ai-gateway/rollout",
    "/dashboard/ai-gateway/alerts",
    "/dashboard/ai-gateway/clients/{client}",
    "/dashboard/analytics?client_id={client}",
    "/dashboard/settings?client_id={client}",
    "/dashboard/requests",
    "/dashboard/requests?client_id={client}&fallback=yes",
)
CLIENT_PAGES = (
    "/dashboard/analytics",
    "/dashboard/settings",
    "/dashboard/ai-gateway/setup",
    "/dashboard/requests",
)
#: The phone views kept as README screenshots (pt-BR, 390x844).
PHONE_SHOTS = {"/dashboard/ai-gateway/analytics": "phone-admin-analytics-pt-BR"}
CLIENT_PHONE_SHOTS = {"/dashboard/analytics": "phone-client-analytics-pt-BR"}


async def overflow(page: Page) -> int:
    """How many pixels the page is wider than the screen (0: it fits). Measured against
    the screen's own width: a mobile browser zooms out to show a page that is too wide,
    which makes ``innerWidth`` grow with the page."""
    assert page.viewport_size is not None
    width: int = await page.evaluate("document.documentElement.scrollWidth")
    inner: int = await page.evaluate("window.innerWidth")
    return max(width, inner) - page.viewport_size["width"]


async def on_screen(page: Page, selector: str) -> bool:
    assert page.viewport_size is not None
    box = await page.locator(selector).first.bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5


async def _check(
    page: Page, url: str, failures: dict[str, int], *, signed_in: bool, shot: Path | None = None
) -> None:
    await open_page(page, url)
    if shot is not None:  # what a phone shows: the first screen, not the whole page
        await page.screenshot(path=str(shot.with_suffix(".png")), full_page=False)
    if (extra := await overflow(page)) > 0:
        failures[url] = extra
    assert await on_screen(page, ".lang [data-lang='pt_BR']"), url
    assert await on_screen(page, ".lang [data-lang='en']"), url
    if signed_in:
        assert await on_screen(page, "form[action='/signout'] button"), url


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
async def test_no_page_scrolls_sideways(
    harness: Harness, new_page: NewPage, viewport: dict[str, int], shots: Path
) -> None:
    keys = seed_demo(harness.db, scale=0.1)
    assert keys is not None
    harness.gateway.config.invalidate()
    failures: dict[str, int] = {}
    for language in ("en-US", "pt-BR"):
        page = await new_page(language, viewport)
        await open_page(page, harness.url + "/signin")
        failures.update({f"{language} /signin": extra} if (extra := await overflow(page)) else {})
        await sign_in(page, harness.url, keys.admin_key)
        client = await page.evaluate(
            "document.querySelector('#top-clients a').href.split('client_id=')[1]"
        )
        phone = viewport == PHONE and language == "pt-BR"
        for path in ADMIN_PAGES:
            name = PHONE_SHOTS.get(path) if phone else None
            await _check(
                page,
                harness.url + path.format(client=client),
                failures,
                signed_in=True,
                shot=shots / name if name else None,
            )
        tenant = await new_page(language, viewport)
        await sign_in(tenant, harness.url, keys.client_key)
        for path in CLIENT_PAGES:
            name = CLIENT_PHONE_SHOTS.get(path) if phone else None
            shot = shots / name if name else None
            await _check(tenant, harness.url + path, failures, signed_in=True, shot=shot)
    assert failures == {}


async def test_phone_menu_language_and_sign_out(harness: Harness, new_page: NewPage) -> None:
    page = await new_page("pt-BR", PHONE)
    await sign_in(page, harness.url, harness.admin_key)
    await open_page(page, harness.url + "/dashboard/ai-gateway/analytics?period=7d")
    nav = page.locator("#main-nav")
    assert not await nav.is_visible()  # folded: the bar keeps PT/EN and "Sair" on screen
    await page.click("[data-nav-toggle]")
    assert await nav.is_visible()
    assert await page.get_attribute("[data-nav-toggle]", "aria-expanded") == "true"
    links = nav.locator("a")
    # analytics, setup, clients, models, cache, rollout, requests, alerts
    assert await links.count() == 8
    for i in range(await links.count()):
        box = await links.nth(i).bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    await nav.locator("a[href='/dashboard/ai-gateway/models']").click()
    await page.wait_for_url("**/dashboard/ai-gateway/models")
    await page.wait_for_selector("body[data-ready='1']")
    # On a phone, the models table is a list of cards: no cell hides off screen.
    price = page.locator("[data-model-field='input_price_per_1m']").first
    box = await price.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    assert await overflow(page) <= 0
    await page.click("form[action='/signout'] button")
    await page.wait_for_url("**/signin")
