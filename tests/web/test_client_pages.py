"""A client's pages in Chromium: its analytics (budget bar, charts, conversation drill-down,
CSV export), its settings (budget saved and persisted; an invalid value refused next to
its field), and the admin pages closed to it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
from playwright.async_api import Page

from ai_gateway.demo import seed_demo
from tests.harness import Harness
from tests.web.pages import chart_points, open_page, painted_pixels, screenshot, sign_in


async def test_client_analytics_charts_drilldown_and_csv(
    harness: Harness, page: Page, shots: Path
) -> None:
    keys = seed_demo(harness.db, scale=0.25)
    assert keys is not None
    await sign_in(page, harness.url, keys.client_key)
    assert page.url.endswith("/dashboard/analytics")

    bar = page.locator("#budget-progress")
    assert float(await bar.get_attribute("data-percentage") or "0") > 0
    for canvas in ("chart-latency-model", "chart-latency-day"):
        assert all(n > 0 for n in await chart_points(page, canvas)), canvas
        assert await painted_pixels(page, canvas) > 1000, canvas
    assert "R$" in await page.inner_text("#cache-performance")
    assert len(await chart_points(page, "chart-savings")) == 3
    assert "R$" in await page.inner_text("#cost-savings")
    assert await page.locator("#fallback-events tbody tr").count() > 0
    assert "chat.completions" in await page.inner_text("#usage-by-endpoint")
    await screenshot(page, shots, "client-analytics")

    row = page.locator("tr.conversation-row").first
    conversation = await row.get_attribute("data-conversation")
    await row.click()
    drill = page.locator(f"[data-drill='{conversation}'] tbody tr")
    await drill.first.wait_for()
    assert await drill.count() > 0

    async with page.expect_download() as info:
        await page.click("#export-csv")
    download = await info.value
    text = Path(await download.path()).read_text()
    assert text.splitlines()[0].startswith("conversation_id,requests")
    assert conversation in text

    # Another client's data is not reachable by naming it.
    foreign = f"/dashboard/analytics?client_id={harness.client.id}"
    other = await open_page(page, harness.url + foreign)
    assert other == 403

    await open_page(page, harness.url + "/dashboard/settings")
    await screenshot(page, shots, "client-settings")


async def test_client_cannot_open_admin_pages(harness: Harness, page: Page, shots: Path) -> None:
    await open_page(page, harness.url + "/signin")
    await screenshot(page, shots, "signin")
    await sign_in(page, harness.url, harness.key)
    for path in ("/dashboard/ai-gateway/setup", "/dashboard/ai-gateway/analytics"):
        assert await open_page(page, harness.url + path) == 403
        assert await page.locator("#forbidden").count() == 1
    await screenshot(page, shots, "client-forbidden")


async def _budget(harness: Harness) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        response = await http.get("/api/budget/config", headers=harness.headers())
    body: dict[str, object] = response.json()
    return body


async def test_budget_settings_validate_save_and_persist(harness: Harness, page: Page) -> None:
    before = await _budget(harness)
    await sign_in(page, harness.url, harness.key)
    await open_page(page, harness.url + "/dashboard/settings")

    # An invalid limit: the message sits next to the field and nothing is saved.
    await page.fill("#limit", "-5")
    await page.click("#budget-form [data-save]")
    error = page.locator("[data-error-for='limit']")
    # A function, not an expression string: the page's CSP forbids eval, which Playwright
    # would use to poll an expression.
    await page.wait_for_function(
        "() => document.querySelector(\"[data-error-for='limit']\").textContent"
    )
    assert "greater than 0" in await error.inner_text()
    assert await _budget(harness) == before

    await page.fill("#limit", "abc")
    await page.click("#budget-form [data-save]")
    assert "number" in await error.inner_text()
    assert await _budget(harness) == before

    # A valid budget: saved, and still there after a reload.
    await page.select_option("#budget_type", "usd")
    await page.fill("#limit", "12.5")
    await page.select_option("#period", "weekly")
    await page.uncheck("input[name='alert_thresholds'][value='90']")
    await page.check("#pause_at_limit")
    async with page.expect_navigation():
        await page.click("#budget-form [data-save]")
    await page.wait_for_selector("body[data-ready='1']")
    assert await page.input_value("#limit") == "12.5"
    assert await page.input_value("#budget_type") == "usd"
    assert await page.input_value("#period") == "weekly"
    assert not await page.is_checked("input[name='alert_thresholds'][value='90']")
    assert await page.is_checked("#pause_at_limit")
    saved = await _budget(harness)
    assert saved["is_custom"] is True
    assert (saved["budget_type"], saved["period"]) == ("usd", "weekly")
    assert Decimal(str(saved["limit"])) == Decimal("12.5")
    assert saved["alert_thresholds"] == [80, 100]

    # The gateway toggle is a plain form (CSRF field) that round-trips too.
    was = await page.is_checked("#use_ai_gateway")
    await page.set_checked("#use_ai_gateway", not was)
    async with page.expect_navigation():
        await page.click("#gateway-form button[type=submit]")
    assert await page.is_checked("#use_ai_gateway") is (not was)
