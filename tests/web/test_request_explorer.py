"""The request explorer in Chromium, on a laptop and a phone, in English and pt-BR: the
operator's view of every client (client filter, next page by cursor, a custom date
range, the detail with money in the viewer's language), a client's view of its own
calls only, a refused filter shown on the form, and the LGPD opt-in of the settings
page making prompts and answers appear in the detail."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page

from ai_gateway.demo import seed_demo
from ai_gateway.storage.tables import new_id
from tests.api.usage_rows import usage_row, write_rows
from tests.harness import Harness
from tests.web.conftest import DESKTOP, PHONE, NewPage
from tests.web.pages import open_page, screenshot, sign_in
from tests.web.test_layout import on_screen, overflow

VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
LANGUAGES = pytest.mark.parametrize("language", ["en-US", "pt-BR"])


async def _row_ids(page: Page) -> list[str]:
    ids: list[str] = await page.eval_on_selector_all(
        "tr.request-row", "rows => rows.map(r => r.dataset.request)"
    )
    return ids


@VIEWPORTS
@LANGUAGES
async def test_the_operator_explores_every_client(
    harness: Harness, new_page: NewPage, viewport: dict[str, int], language: str, shots: Path
) -> None:
    keys = seed_demo(harness.db, scale=0.1)
    assert keys is not None
    pt = language == "pt-BR"
    page = await new_page(language, viewport)
    await sign_in(page, harness.url, keys.admin_key)
    await open_page(page, harness.url + "/dashboard/requests")
    assert await overflow(page) <= 0
    first = await _row_ids(page)
    assert len(first) == 50
    size = f"{viewport['width']}x{viewport['height']}"
    await screenshot(page, shots, f"requests-{size}-{language}")
    heading = await page.inner_text("h1")
    assert ("Requisições" if pt else "Requests") in heading
    # Cells stay on screen: on a phone the table is a list of cards.
    assert await on_screen(page, "tr.request-row td.num")

    await page.click("#next-page")
    await page.wait_for_selector("body[data-ready='1']")
    second = await _row_ids(page)
    assert second and not set(first) & set(second)
    assert "cursor=" in page.url
    await page.click("#first-page")
    await page.wait_for_selector("body[data-ready='1']")
    assert await _row_ids(page) == first

    # The client filter: only that client's calls, its name in every row.
    name = (await page.locator("tr.request-row td:nth-child(2)").first.inner_text()).strip()
    await page.select_option("#f-client", label=name)
    await page.select_option("#f-status", "success")
    await page.fill("#f-from", "2020-01-01")
    await page.click("#apply-filters")
    await page.wait_for_selector("body[data-ready='1']")
    assert await page.locator("tr.request-row").count() > 0
    assert "client_id=" in page.url and "date_from=2020-01-01" in page.url
    cells = await page.eval_on_selector_all(
        "tr.request-row td:nth-child(2)", "tds => tds.map(t => t.innerText.trim())"
    )
    assert set(cells) == {name}
    statuses = await page.eval_on_selector_all(
        "tr.request-row [data-status]", "els => els.map(e => e.dataset.status)"
    )
    assert set(statuses) == {"success"}
    assert await overflow(page) <= 0

    await page.locator("a.request-link").first.click()
    await page.wait_for_url("**/dashboard/requests/*")
    await page.wait_for_selector("body[data-ready='1']")
    cost = await page.inner_text("#detail-cost")
    assert "R$" in cost and "$" in cost
    rate = await page.inner_text("#detail-rate")
    assert ("," in rate) if pt else ("." in rate)
    assert await page.locator("#detail-fallback").count() == 1
    assert await overflow(page) <= 0
    await screenshot(page, shots, f"request-detail-{size}-{language}")


@VIEWPORTS
@LANGUAGES
async def test_a_client_sees_only_its_own_calls(
    harness: Harness, new_page: NewPage, viewport: dict[str, int], language: str
) -> None:
    other, _key = harness.new_client("globex")
    own = [usage_row(harness.client.id, conversation_id="acme-1") for _ in range(3)]
    foreign = usage_row(other.id, conversation_id="globex-secret")
    write_rows(harness.db, [*own, foreign])
    page = await new_page(language, viewport)
    await sign_in(page, harness.url, harness.key)
    await open_page(page, harness.url + "/dashboard/requests")
    assert sorted(await _row_ids(page)) == sorted(r["id"] for r in own)
    assert await page.locator("#f-client").count() == 0
    assert "globex-secret" not in await page.content()
    assert await overflow(page) <= 0
    # Another client's call is not found; naming another client is refused.
    assert await open_page(page, harness.url + f"/dashboard/requests/{foreign['id']}") == 404
    assert await open_page(page, harness.url + f"/dashboard/requests?client_id={other.id}") == 403
    assert await open_page(page, harness.url + f"/dashboard/requests/{new_id()}") == 404
    # A refused filter is shown on the form, in the viewer's language.
    bad = "/dashboard/requests?date_from=2026-03-10&date_to=2026-03-01"
    assert await open_page(page, harness.url + bad) == 200
    error = await page.inner_text("#filter-error")
    assert ("datas" in error) if language == "pt-BR" else ("dates" in error)
    assert await open_page(page, harness.url + "/dashboard/requests?cursor=garbage") == 200
    assert await page.locator("#filter-error").count() == 1


@VIEWPORTS
async def test_the_opt_in_shows_prompts_and_answers(
    harness: Harness, new_page: NewPage, viewport: dict[str, int]
) -> None:
    import httpx

    page = await new_page("pt-BR", viewport)
    await sign_in(page, harness.url, harness.key)
    await open_page(page, harness.url + "/dashboard/settings")
    assert not await page.is_checked("#store_bodies")
    await page.check("#store_bodies")
    await page.fill("#body_retention_days", "14")
    await page.click("#save-body-storage")
    await page.wait_for_url("**/dashboard/settings?saved=bodies*")
    await page.wait_for_selector("body[data-ready='1']")
    assert await page.is_checked("#store_bodies")
    assert await page.input_value("#body_retention_days") == "14"
    assert await overflow(page) <= 0

    async with httpx.AsyncClient(base_url=harness.url, timeout=30) as http:
        answer = await http.post(
            "/v1/chat/completions",
            headers=harness.headers(),
            json={
                "model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": "segredo guardado"}],
            },
        )
    assert answer.status_code == 200
    await harness.drain()
    await open_page(page, harness.url + "/dashboard/requests")
    await page.locator("a.request-link").first.click()
    await page.wait_for_selector("#detail-body pre")
    assert "segredo guardado" in await page.inner_text("#detail-body")
    assert await overflow(page) <= 0


_POST = """async ([clientId, days]) => {
    const csrf = document.querySelector("meta[name=csrf-token]").content;
    const body = new URLSearchParams({csrf_token: csrf, store_bodies: "on",
        body_retention_days: days});
    if (clientId) body.set("client_id", clientId);
    const response = await fetch("/dashboard/settings/bodies", {method: "POST", body,
        redirect: "manual"});
    return response.status;
}"""


async def test_the_opt_in_form_has_the_tenant_wall(harness: Harness, new_page: NewPage) -> None:
    from ai_gateway.storage.clients import get_client

    other, _key = harness.new_client("globex")
    page = await new_page("en-US", PHONE)
    await sign_in(page, harness.url, harness.key)
    await open_page(page, harness.url + "/dashboard/settings")
    # Naming another client is refused; an absurd retention is refused; nothing changes.
    assert await page.evaluate(_POST, [other.id, "7"]) == 403
    assert await page.evaluate(_POST, [None, "0"]) == 400
    assert await page.evaluate(_POST, [None, "99999999999999999999"]) == 400
    assert await page.evaluate(_POST, [None, "ten"]) == 400
    with harness.db.session() as s:
        assert not get_client(s, other.id).store_bodies
        assert not get_client(s, harness.client.id).store_bodies
    # The operator may turn it on for a client, from that client's settings page.
    admin = await new_page("pt-BR", DESKTOP)
    await sign_in(admin, harness.url, harness.admin_key)
    await open_page(admin, harness.url + f"/dashboard/settings?client_id={other.id}")
    await admin.check("#store_bodies")
    await admin.fill("#body_retention_days", "3")
    await admin.click("#save-body-storage")
    await admin.wait_for_url("**saved=bodies**")
    with harness.db.session() as s:
        found = get_client(s, other.id)
        assert found.store_bodies and found.body_retention_days == 3
        assert not get_client(s, harness.client.id).store_bodies
