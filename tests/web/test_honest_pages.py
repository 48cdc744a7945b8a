"""Pages that say what is true: "Test gateway" with no keys says so, the language switch
keeps the page's query, unknown dashboard paths are HTML pages (404/403), clearing the
cache says how many entries went."""

from __future__ import annotations

from pathlib import Path

import httpx

from ai_gateway.settings import Settings
from ai_gateway.storage.api_keys import issue_key
from ai_gateway.storage.db import Database
from tests.harness import Harness, start_gateway
from tests.web.conftest import NewPage
from tests.web.pages import open_page, sign_in


async def test_testing_the_gateway_without_keys_says_so(tmp_path: Path, new_page: NewPage) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    settings = Settings(
        database_url=url,
        data_dir=tmp_path / "data",
        ptax_base_url="http://127.0.0.1:9/odata",
        scheduler_enabled=False,
        usage_writer_process=False,
    )
    _app, server, task, port = await start_gateway(settings)  # migrates the fresh file
    db = Database(url)
    try:
        with db.write() as s:
            admin = issue_key(s, role="admin").plain
        for language, words in (("en-US", "No provider keys configured"), ("pt-BR", "Nenhuma")):
            page = await new_page(language)
            await sign_in(page, f"http://127.0.0.1:{port}", admin)
            await open_page(page, f"http://127.0.0.1:{port}/dashboard/ai-gateway/setup")
            await page.click("[data-test-gateway]")
            result = page.locator("[data-test-results] li[data-no-keys]")
            await result.wait_for()
            assert words in await result.inner_text()
    finally:
        db.dispose()
        server.exit()
        await task


async def test_language_switch_keeps_the_query(harness: Harness, new_page: NewPage) -> None:
    page = await new_page("en-US")
    await sign_in(page, harness.url, harness.admin_key)
    target = f"/dashboard/analytics?period=7d&client_id={harness.client.id}"
    await open_page(page, harness.url + target)
    await page.click(".lang [data-lang='pt_BR']")
    await page.wait_for_selector("html[lang='pt-BR'] body[data-ready='1']")
    assert page.url == harness.url + target
    assert await page.locator("a[data-period='7d'].on").count() == 1


async def test_unknown_dashboard_pages_are_html(harness: Harness, new_page: NewPage) -> None:
    page = await new_page("pt-BR")
    await sign_in(page, harness.url, harness.admin_key)
    for path, status in (
        ("/dashboard/nope", 404),
        ("/dashboard/ai-gateway/nope/deeper", 404),
        ("/dashboard/analytics?client_id=no-such-client", 404),
    ):
        assert await open_page(page, harness.url + path) == status, path
        assert await page.locator("#error-page h1").inner_text() == "Página não encontrada"
        assert await page.locator("nav#main-nav").count() == 1  # still signed in, with a nav
    client = await new_page("en-US")
    await sign_in(client, harness.url, harness.key)
    assert await open_page(client, harness.url + "/dashboard/ai-gateway/clients") == 403
    assert await client.locator("#forbidden").count() == 1
    assert await open_page(client, harness.url + "/dashboard/whatever") == 404
    assert await client.locator("#error-page h1").inner_text() == "Page not found"
    async with httpx.AsyncClient(base_url=harness.url) as http:
        api = await http.get("/api/nope", headers={"Accept": "text/html"})
        assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


async def test_invalidate_all_says_how_many_went(harness: Harness, new_page: NewPage) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        for text in ("one", "two"):
            body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
            response = await http.post("/v1/chat/completions", json=body, headers=harness.headers())
            assert response.status_code == 200
    page = await new_page("pt-BR")
    await sign_in(page, harness.url, harness.admin_key)
    await open_page(page, harness.url + "/dashboard/ai-gateway/cache")
    assert await page.locator("[data-cache-row]").count() == 2
    page.on("dialog", lambda dialog: dialog.accept())
    await page.click("[data-invalidate-all]")
    status = page.locator("[data-cache-status]")
    await status.wait_for()
    assert await status.inner_text() == "Cache limpo: 2 entradas removidas."
    assert await page.locator("[data-cache-row]").count() == 0
    assert await page.inner_text("[data-cache-count]") == "0"
