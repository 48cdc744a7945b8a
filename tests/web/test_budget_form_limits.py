"""The settings page's budget form with limits the columns cannot hold and limits above the
plan's ceiling: the refusal sits next to the field, in English and in pt-BR, and nothing
is saved (the form used to show "internal error" for ``1e9999``)."""

from __future__ import annotations

from decimal import Decimal

import httpx
from playwright.async_api import Page

from ai_gateway.storage.budgets import PlanCeiling
from tests.harness import Harness
from tests.web.pages import open_page, sign_in

LIMIT_ERROR = "[data-error-for='limit']"


async def _custom(harness: Harness) -> bool:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        response = await http.get("/api/budget/config", headers=harness.headers())
    return bool(response.json()["is_custom"])


async def _submit(page: Page, limit: str) -> str:
    await page.evaluate(f"document.querySelector(\"{LIMIT_ERROR}\").textContent = ''")
    await page.fill("#limit", limit)
    await page.click("#budget-form [data-save]")
    await page.wait_for_function(f'document.querySelector("{LIMIT_ERROR}").textContent')
    return await page.inner_text(LIMIT_ERROR)


async def test_too_large_limits_are_refused_next_to_the_field(harness: Harness, page: Page) -> None:
    await sign_in(page, harness.url, harness.key)
    await open_page(page, harness.url + "/dashboard/settings")
    for limit in ("1e9999", "922337204", "1000000000000000000"):
        message = await _submit(page, limit)
        assert "900,000,000" in message, (limit, message)
        assert "internal error" not in message.lower()
    assert not await _custom(harness)

    await page.goto(harness.url + "/lang/pt_BR?next=/dashboard/settings")
    await page.wait_for_selector("body[data-ready='1']")
    assert "Grande demais" in await _submit(page, "1e9999")
    assert not await _custom(harness)


async def test_the_plans_ceiling_is_shown_and_enforced_in_both_languages(
    harness: Harness, page: Page
) -> None:
    await harness.gateway.budget_service.set_plan(
        "enterprise", actor="test", ceiling=PlanCeiling(Decimal(8000))
    )
    await sign_in(page, harness.url, harness.key)
    await open_page(page, harness.url + "/dashboard/settings")
    assert "8,000" in await page.inner_text("#limit-ceiling")
    message = await _submit(page, "9000")
    assert "ceiling" in message and "8,000" in message
    assert not await _custom(harness)

    await page.goto(harness.url + "/lang/pt_BR?next=/dashboard/settings")
    await page.wait_for_selector("body[data-ready='1']")
    assert "8.000" in await page.inner_text("#limit-ceiling")  # R$ 8.000,00
    message = await _submit(page, "9000")
    assert "teto do seu plano" in message and "8.000" in message
    assert not await _custom(harness)
