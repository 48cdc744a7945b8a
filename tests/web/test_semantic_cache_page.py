"""The semantic cache on the dashboard: the admin cache page lists its entries (the
question, never the answer) and purges one, on a laptop and a phone, in English and
pt-BR; the CachePerformanceCard shows exact and semantic hits apart, on the cache page
and on the client's analytics."""

from __future__ import annotations

import httpx
import pytest

from tests.harness import Harness
from tests.web.conftest import DESKTOP, PHONE, NewPage
from tests.web.pages import open_page, sign_in
from tests.web.test_layout import overflow

QUESTION = "What is the price of the iPhone 15 in the São Paulo store?"
REWORDED = "what is the price of the iPhone 15 in the São Paulo store, please"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"semantic_cache_model": "simulated/demo-embed"}


async def _seed(h: Harness) -> str:
    _client, key = h.new_client("semantic-web", semantic_cache=True)
    async with httpx.AsyncClient(base_url=h.url, timeout=30) as http:
        for question in (QUESTION, REWORDED):
            body = {
                "model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": question}],
            }
            response = await http.post("/v1/chat/completions", json=body, headers=h.headers(key))
            assert response.status_code == 200
            await h.gateway.semantic_cache.drain()
    await h.drain()
    return key


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
@pytest.mark.parametrize("language", ["en-US", "pt-BR"])
async def test_the_cache_page_lists_and_purges_semantic_entries(
    harness: Harness, new_page: NewPage, viewport: dict[str, int], language: str
) -> None:
    key = await _seed(harness)
    page = await new_page(language, viewport)
    await sign_in(page, harness.url, harness.admin_key)
    assert await open_page(page, harness.url + "/dashboard/ai-gateway/cache") == 200
    assert await overflow(page) <= 0
    heading = await page.inner_text("#semantic-cache h2")
    assert ("Cache semântico" if language == "pt-BR" else "Semantic cache") in heading
    kinds = await page.inner_text("#cache-performance [data-hit-kinds]")
    assert "0 / 1" in kinds  # no exact hit, one semantic
    rows = page.locator("[data-semantic-row]")
    assert await rows.count() == 1
    assert QUESTION[:40] in await rows.first.inner_text()
    await rows.first.locator("[data-semantic-purge]").click()
    await page.wait_for_function(
        "() => document.querySelectorAll('[data-semantic-row]').length === 0"
    )
    assert await page.inner_text("[data-semantic-count]") == "0"
    async with httpx.AsyncClient(base_url=harness.url) as http:
        listed = await http.get(
            "/api/ai-gateway/cache/semantic", headers=harness.headers(harness.admin_key)
        )
    assert listed.json()["count"] == 0

    tenant = await new_page(language, viewport)
    await sign_in(tenant, harness.url, key)
    assert await open_page(tenant, harness.url + "/dashboard/analytics") == 200
    assert "0 / 1" in await tenant.inner_text("#cache-performance [data-hit-kinds]")
    assert await overflow(tenant) <= 0


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
async def test_an_admin_opts_a_client_in_on_the_clients_page(
    harness: Harness, new_page: NewPage, viewport: dict[str, int]
) -> None:
    page = await new_page("pt-BR", viewport)
    await sign_in(page, harness.url, harness.admin_key)
    assert await open_page(page, harness.url + "/dashboard/ai-gateway/clients") == 200
    row = page.locator(f"[data-client-row='{harness.client.id}']")
    toggle = row.locator("[data-client-field='semantic_cache']")
    assert "cache semântico" in await row.inner_text()
    assert not await toggle.is_checked()
    await toggle.check()
    async with httpx.AsyncClient(base_url=harness.url) as http:
        for _ in range(50):
            client = await http.get(
                f"/api/clients/{harness.client.id}", headers=harness.headers(harness.admin_key)
            )
            if client.json()["semantic_cache"]:
                break
            await page.wait_for_timeout(100)
    assert client.json()["semantic_cache"] is True
    assert await overflow(page) <= 0
