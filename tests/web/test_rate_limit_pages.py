"""Rate limits on the clients page: shown, edited per client and per plan, refused values
named next to their field; usable at 390 px and in pt-BR."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Page, expect

from tests.harness import Harness
from tests.web.pages import open_page, screenshot, sign_in


async def test_limits_are_edited_from_the_clients_page(
    harness: Harness, page: Page, shots: Path
) -> None:
    h = harness
    await sign_in(page, h.url, h.admin_key)
    await open_page(page, h.url + "/dashboard/ai-gateway/clients")
    row = page.locator(f"[data-client-row='{h.client.id}']")
    assert (await row.locator("[data-limits-summary]").inner_text()).strip() == "no limit"

    plan = page.locator("form[data-plan='enterprise']")
    await plan.locator("input[name='tpm']").fill("90000")
    async with page.expect_navigation():
        await plan.locator("button[type='submit']").click()

    row = page.locator(f"[data-client-row='{h.client.id}']")
    await row.locator("[data-limits-summary]").click()
    form = row.locator("[data-limits-form]")
    assert await form.locator("input[name='tpm']").get_attribute("placeholder") == "plan: 90000"
    # Beyond what the column holds: the API's 400 is shown next to the field.
    await form.locator("input[name='rpm']").fill("99999999999")
    await form.locator("button[type='submit']").click()
    # The slot is always laid out (min-height): wait for its text, not its visibility.
    await expect(form.locator("[data-error-for='rpm']")).to_contain_text("2147483647")
    await form.locator("input[name='rpm']").fill("60")
    async with page.expect_navigation():
        await form.locator("button[type='submit']").click()
    summary = page.locator(f"[data-client-row='{h.client.id}'] [data-limits-summary]")
    assert (await summary.inner_text()).strip() == "60 rpm · 90000 tpm"

    async with httpx.AsyncClient(base_url=h.url) as http:
        admin = h.headers(h.admin_key)
        view = (await http.get(f"/api/clients/{h.client.id}/limits", headers=admin)).json()
    assert view["own"]["rpm"] == 60 and view["effective"]["tpm"] == 90000

    # Narrow and in Portuguese: the page still fits and speaks pt-BR.
    await page.context.add_cookies([{"name": "aigw_lang", "value": "pt_BR", "url": h.url}])
    await page.set_viewport_size({"width": 390, "height": 844})
    await open_page(page, h.url + "/dashboard/ai-gateway/clients")
    assert "Limites de taxa por plano" in await page.inner_text("#plan-limits")
    width = await page.evaluate("document.querySelector('#plan-limits').scrollWidth")
    assert width <= 390
    await screenshot(page, shots, "admin-clients-limits-390")
