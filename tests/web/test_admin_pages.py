"""The operator's pages in Chromium, over demo traffic: charts drawn with data, the
fallback chain reordered by dragging and saved, the setup page in pt-BR."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Page

from ai_gateway.demo import seed_demo
from tests.harness import Harness
from tests.web.pages import chart_points, open_page, painted_pixels, screenshot, sign_in


async def test_admin_sees_every_page_with_charts(harness: Harness, page: Page, shots: Path) -> None:
    keys = seed_demo(harness.db, scale=0.25)
    assert keys is not None
    harness.gateway.config.invalidate()
    async with httpx.AsyncClient(base_url=harness.url) as http:
        for text in ("Oi, vocês abrem domingo?", "Qual o prazo de entrega?"):
            body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
            response = await http.post("/v1/chat/completions", json=body, headers=harness.headers())
            assert response.status_code == 200, response.text
    await sign_in(page, harness.url, keys.admin_key)
    assert page.url.endswith("/dashboard/ai-gateway/analytics")

    for canvas in ("chart-clients", "chart-providers", "chart-latency"):
        points = await chart_points(page, canvas)
        assert points and all(n > 0 for n in points), canvas
        assert await painted_pixels(page, canvas) > 1000, canvas
    assert await page.locator("#top-clients tbody tr").count() == 5  # demo clients + acme
    assert await page.locator("#recent-requests tbody tr").count() == 20
    assert "R$" in await page.inner_text("#stat-cost")
    # Savings over time: two stacked bar series (cache, prompt cache) and the reduction line.
    savings = await chart_points(page, "chart-savings")
    assert len(savings) == 3 and all(n > 0 for n in savings)
    assert await painted_pixels(page, "chart-savings") > 1000
    assert "%" in await page.inner_text("#stat-cost-reduction")
    await screenshot(page, shots, "admin-analytics")

    # The period selector reloads the figures for 7 days.
    await page.click("a[data-period='7d']")
    await page.wait_for_selector("a[data-period='7d'].on")
    assert (await chart_points(page, "chart-latency"))[0] <= 8

    for path, name in (
        ("/dashboard/ai-gateway/setup", "admin-setup"),
        ("/dashboard/ai-gateway/clients", "admin-clients"),
        ("/dashboard/ai-gateway/models", "admin-models"),
        ("/dashboard/ai-gateway/cache", "admin-cache"),
    ):
        assert await open_page(page, harness.url + path) == 200, path
        await screenshot(page, shots, name)
    assert await page.locator("#cache-performance").count() == 1

    # Invalidate one cache entry: its row goes, and the API agrees.
    rows = page.locator("[data-cache-row]")
    assert await rows.count() == 2
    await rows.first.locator("[data-invalidate]").click()
    await page.wait_for_function("document.querySelectorAll('[data-cache-row]').length === 1")
    async with httpx.AsyncClient(base_url=harness.url) as http:
        admin = harness.headers(harness.admin_key)
        assert (await http.get("/api/ai-gateway/cache", headers=admin)).json()["count"] == 1


async def test_fallback_chain_reordered_by_drag_and_saved(harness: Harness, page: Page) -> None:
    harness.configure(fallback_chain=["openai/gpt-4o-mini", "groq/llama-3.3-70b"])
    await sign_in(page, harness.url, harness.admin_key)
    await open_page(page, harness.url + "/dashboard/ai-gateway/setup")
    items = page.locator("[data-chain] .chain-item")
    assert await items.count() == 2

    # Add a model from the ModelSelector (filtered by capability), then drag it to the top.
    await page.click(".add-model summary")
    await page.select_option("#chain-model-selector-cap", "vision")
    option = page.locator(".model-option[data-model='anthropic/claude-3-5-sonnet']")
    await option.wait_for()
    # Llama has no vision: once the filtered answer is in, it is not offered.
    await page.wait_for_function(
        "!document.querySelector(\".model-option[data-model='groq/llama-3.3-70b']\")"
    )
    await option.locator("[data-add]").click()
    assert await items.count() == 3

    source = await items.nth(2).bounding_box()
    target = await items.nth(0).bounding_box()
    assert source and target
    await page.mouse.move(source["x"] + 40, source["y"] + source["height"] / 2)
    await page.mouse.down()
    for step in range(1, 11):
        y = source["y"] + (target["y"] + 2 - source["y"]) * step / 10
        await page.mouse.move(source["x"] + 40, y)
    await page.mouse.up()
    order = await items.evaluate_all("(els) => els.map((e) => e.dataset.model)")
    assert order[0] == "anthropic/claude-3-5-sonnet", order
    assert await items.nth(0).locator(".pos").inner_text() == "1"

    # Remove the last one, save, and read the config back through the API.
    await items.nth(2).locator("[data-remove]").click()
    await page.click("[data-save-chain]")
    await page.wait_for_selector("[data-chain-builder][data-saved]")
    async with httpx.AsyncClient(base_url=harness.url) as http:
        admin = harness.headers(harness.admin_key)
        config = (await http.get("/api/ai-gateway/config", headers=admin)).json()
    assert config["fallback_chain"] == order[:2]


async def test_setup_in_portuguese_tests_the_gateway(
    harness: Harness, page: Page, shots: Path
) -> None:
    await sign_in(page, harness.url, harness.admin_key)
    await page.goto(harness.url + "/lang/pt_BR?next=/dashboard/ai-gateway/setup")
    await page.wait_for_selector("body[data-ready='1']")
    warning = await page.inner_text("#shared-keys-warning")
    assert "Keys compartilhadas por todos os clientes" in warning
    # Keys are shown masked, never in clear.
    masked = await page.inner_text("[data-masked='openai']")
    assert masked.endswith("0001") and "SHARED" not in masked
    await page.click("[data-test-gateway]")
    await page.wait_for_selector("[data-test-results] li[data-provider]")
    assert await page.locator("[data-test-results] li[data-provider='openai'].ok").count() == 1
    await screenshot(page, shots, "admin-setup-pt-BR")


async def test_clients_and_models_are_changed_from_their_tables(
    harness: Harness, page: Page
) -> None:
    await sign_in(page, harness.url, harness.admin_key)
    await open_page(page, harness.url + "/dashboard/ai-gateway/clients")
    row = page.locator(f"[data-client-row='{harness.client.id}']")
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await row.locator("[data-client-field='plan']").select_option("pro")
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await row.locator("[data-client-field='use_ai_gateway']").check()
    async with page.expect_navigation():
        await row.locator("[data-toggle-pause]").click()
    assert await row.locator("[data-status-badge]").inner_text() == "paused"

    await open_page(page, harness.url + "/dashboard/ai-gateway/models")
    model = page.locator("[data-model-row='groq/llama-3.3-70b']")
    await model.locator("[data-model-field='output_price_per_1m']").fill("0.85")
    await model.locator("[data-model-field='is_active']").uncheck()
    await model.locator("[data-save-model]").click()
    await page.wait_for_selector("[data-model-row='groq/llama-3.3-70b'].inactive")

    async with httpx.AsyncClient(base_url=harness.url) as http:
        admin = harness.headers(harness.admin_key)
        client = (await http.get(f"/api/clients/{harness.client.id}", headers=admin)).json()
        models = await http.get("/api/ai-gateway/models?include_inactive=true", headers=admin)
    assert (client["plan"], client["use_ai_gateway"], client["status"]) == ("pro", True, "paused")
    groq = next(m for m in models.json()["data"] if m["id"] == "groq/llama-3.3-70b")
    assert groq["output_price_per_1m"].startswith("0.85") and groq["is_active"] is False
