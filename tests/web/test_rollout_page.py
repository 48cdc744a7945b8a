"""The rollout page in Chromium: the stage, each stage's gates with pass/fail, the
gateway-against-legacy comparison and its chart, on a desktop in English and on a phone
in Portuguese."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from playwright.async_api import Browser

from ai_gateway.storage.clients import update_client
from tests.api.usage_rows import usage_row, write_rows
from tests.harness import Harness
from tests.web.pages import chart_points, open_page, screenshot, sign_in


def _traffic(h: Harness) -> None:
    with h.db.write() as s:
        update_client(s, client_id=h.client.id, changes={"use_ai_gateway": True})
    legacy, _ = h.new_client("legacy-shop")
    rows = [
        usage_row(h.client.id, route="gateway", latency_ms=200 + i, conversation_id=f"c{i % 4}")
        for i in range(12)
    ]
    rows += [
        usage_row(h.client.id, route="gateway", cache_hit=True, cost_brl=Decimal(0),
                  saved_brl=Decimal("0.005"), latency_ms=2)
        for _ in range(8)
    ]  # fmt: skip
    rows += [usage_row(legacy.id, route="legacy", latency_ms=400 + i) for i in range(10)]
    write_rows(h.db, rows, cache_lookup=False)


async def test_rollout_page_desktop_and_phone(
    harness: Harness, browser: Browser, shots: Path
) -> None:
    _traffic(harness)
    for viewport, locale, stage_text, pass_text in (
        ({"width": 1440, "height": 900}, "en-US", "50 %", "pass"),
        ({"width": 390, "height": 844}, "pt-BR", "50 %", "aprovado"),
    ):
        context = await browser.new_context(viewport=viewport, locale=locale)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        try:
            await sign_in(page, harness.url, harness.admin_key)
            url = harness.url + "/dashboard/ai-gateway/rollout?period=7d"
            assert await open_page(page, url) == 200
            stage = page.locator("[data-rollout-stage]")
            assert await stage.get_attribute("data-rollout-stage") == "50"
            assert stage_text in await stage.inner_text()
            # 40 % hits > 30 %: beta's hit gate passes; 50 %'s needs more than 50 %.
            beta = page.locator("[data-stage='beta']")
            assert pass_text in await beta.inner_text()
            hit_50 = page.locator("[data-stage='50'] [data-gate='cache_hit_rate']")
            assert await hit_50.get_attribute("data-gate-passed") == "false"
            assert await chart_points(page, "rollout-latency") == [2, 2, 2]
            text = await page.inner_text("#rollout-compare")
            assert ("40,00%" if locale == "pt-BR" else "40.00%") in text
            width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], f"horizontal scroll at {viewport}: {width}"
            await screenshot(page, shots, f"admin-rollout-{locale}-{viewport['width']}")
        finally:
            await context.close()
        assert errors == [], errors
