"""The operator's management pages in Chromium, at 1440x900 and 390x844, in English and
pt-BR: create a client (refused values named next to their field, in the page's
language, nothing saved), edit its contacts, time zone and plan (a webhook to loopback
refused), issue a key shown once and revoke it after a confirmation, add a model with a
price typed the viewer's way and disable / enable it. Each change is checked through the
REST API and the audit log; a client's session gets the 403 page."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from ai_gateway.web.messages import error_catalog
from tests.harness import Harness
from tests.web.conftest import DESKTOP, PHONE, NewPage
from tests.web.pages import cookie_header, open_page, screenshot, sign_in
from tests.web.test_layout import overflow

VIEWS = [
    pytest.param(DESKTOP, "en-US", id="1440x900-en"),
    pytest.param(DESKTOP, "pt-BR", id="1440x900-pt-BR"),
    pytest.param(PHONE, "en-US", id="390x844-en"),
    pytest.param(PHONE, "pt-BR", id="390x844-pt-BR"),
]


def _locale(language: str) -> str:
    return "pt_BR" if language == "pt-BR" else "en"


def _says(language: str, code: str, label: str = "") -> str:
    return error_catalog(_locale(language))[code].replace("{param}", label)


async def _admin(harness: Harness, new_page: NewPage, viewport: Any, language: str) -> Page:
    page = await new_page(language, viewport)
    await sign_in(page, harness.url, harness.admin_key)
    return page


async def _api(harness: Harness, path: str) -> Any:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        response = await http.get(path, headers=harness.headers(harness.admin_key))
        return response.json()


async def _error(page: Page, form: str, field: str) -> str:
    slot = page.locator(f"{form} [data-error-for='{field}']")
    await slot.wait_for(state="visible")
    await page.wait_for_function(
        "(sel) => document.querySelector(sel).textContent.trim() !== ''",
        arg=f"{form} [data-error-for='{field}']",
    )
    return (await slot.inner_text()).strip()


@pytest.mark.parametrize(("viewport", "language"), VIEWS)
async def test_create_a_client(
    harness: Harness, new_page: NewPage, viewport: Any, language: str
) -> None:
    page = await _admin(harness, new_page, viewport, language)
    await open_page(page, harness.url + "/dashboard/ai-gateway/clients")
    form = "#new-client-form"
    before = (await _api(harness, "/api/clients"))["count"]

    await page.fill(f"{form} [name=name]", "acme")  # the harness's client
    await page.click(f"{form} button[type=submit]")
    assert await _error(page, form, "name") == _says(language, "name_taken")

    await page.fill(f"{form} [name=name]", "initech")
    await page.fill(f"{form} [name=timezone]", "Mars/Olympus")
    await page.click(f"{form} button[type=submit]")
    assert await _error(page, form, "timezone") == _says(language, "unknown_timezone")

    # A plan removed since the page was drawn (a stale page): refused, by its code.
    await page.fill(f"{form} [name=timezone]", "America/Manaus")
    await page.evaluate(
        "document.querySelector('#new-plan').add(new Option('platinum', 'platinum', true, true))"
    )
    await page.click(f"{form} button[type=submit]")
    assert await _error(page, form, "plan") == _says(language, "unknown_plan")
    assert (await _api(harness, "/api/clients"))["count"] == before  # nothing saved
    assert harness.audits("client.create") == []

    await page.select_option("#new-plan", "basic")
    await page.fill(f"{form} [name=contact_email]", "ops@initech.example")
    async with page.expect_navigation():
        await page.click(f"{form} button[type=submit]")
    await page.wait_for_selector("body[data-ready='1']")
    assert "/dashboard/ai-gateway/clients/" in page.url
    assert (await page.inner_text("h1")).startswith("initech")
    assert await page.locator("[data-created]").count() == 1
    created = [c for c in (await _api(harness, "/api/clients"))["data"] if c["name"] == "initech"]
    assert [(c["plan"], c["timezone"], c["contact_email"]) for c in created] == [
        ("basic", "America/Manaus", "ops@initech.example")
    ]
    (audit,) = harness.audits("client.create")
    assert audit.actor.startswith("admin-key:")
    assert await overflow(page) <= 0


@pytest.mark.parametrize(("viewport", "language"), VIEWS)
async def test_edit_contacts_timezone_and_plan(
    harness: Harness, new_page: NewPage, viewport: Any, language: str
) -> None:
    page = await _admin(harness, new_page, viewport, language)
    url = f"{harness.url}/dashboard/ai-gateway/clients/{harness.client.id}"
    await open_page(page, url)
    form = "#client-form"
    await page.fill(f"{form} [name=alert_webhook_url]", "http://127.0.0.1:8080/hook")
    await page.click(f"{form} button[type=submit]")
    assert await _error(page, form, "alert_webhook_url") == _says(language, "webhook_not_public")

    await page.fill(f"{form} [name=alert_webhook_url]", "")
    await page.fill(f"{form} [name=timezone]", "America/Nowhere")
    await page.click(f"{form} button[type=submit]")
    assert await _error(page, form, "timezone") == _says(language, "unknown_timezone")

    await page.fill(f"{form} [name=contact_email]", "not-an-email")
    await page.fill(f"{form} [name=timezone]", "Europe/Lisbon")
    await page.click(f"{form} button[type=submit]")
    label = (await page.inner_text("label[for=contact_email]")).strip()
    said = await _error(page, form, "contact_email")
    if language == "pt-BR":
        assert said == _says(language, "invalid_value", f"«{label}»")
    else:  # an English page keeps the server's own, more precise words for this code
        assert said.startswith("contact_email:")
    client = await _api(harness, f"/api/clients/{harness.client.id}")
    assert (client["timezone"], client["contact_email"]) == ("America/Sao_Paulo", None)
    assert harness.audits("client.update") == []  # nothing saved

    await page.fill(f"{form} [name=contact_email]", "bots@acme.example")
    await page.fill(f"{form} [name=alert_webhook_url]", "https://93.184.215.14/hooks/acme")
    await page.select_option("#plan", "pro")
    async with page.expect_navigation():
        await page.click(f"{form} button[type=submit]")
    await page.wait_for_selector("body[data-ready='1']")
    client = await _api(harness, f"/api/clients/{harness.client.id}")
    assert client["contact_email"] == "bots@acme.example"
    assert client["alert_webhook_url"] == "https://93.184.215.14/hooks/acme"
    assert (client["timezone"], client["plan"]) == ("Europe/Lisbon", "pro")
    assert await page.input_value(f"{form} [name=timezone]") == "Europe/Lisbon"
    (audit,) = harness.audits("client.update")
    assert audit.actor.startswith("admin-key:") and audit.details["plan"] == "pro"
    assert await overflow(page) <= 0


@pytest.mark.parametrize(("viewport", "language"), VIEWS)
async def test_issue_a_key_once_and_revoke_it_after_confirming(
    harness: Harness, new_page: NewPage, viewport: Any, language: str, shots: Path
) -> None:
    page = await _admin(harness, new_page, viewport, language)
    url = f"{harness.url}/dashboard/ai-gateway/clients/{harness.client.id}"
    await open_page(page, url)
    await page.fill("[data-issue-key-form] [name=name]", "production bot")
    await page.click("[data-issue-key-form] button[type=submit]")
    await page.wait_for_selector("[data-key-once]:not([hidden])")
    await screenshot(page, shots, f"admin-client-{viewport['width']}-{language}")
    key = (await page.inner_text("[data-key-value]")).strip()
    assert key.startswith("aigw_") or len(key) > 30
    async with httpx.AsyncClient(base_url=harness.url) as http:
        assert (await http.get("/v1/models", headers=harness.headers(key))).status_code == 200
    audit = harness.audits("key.issue")[0]
    assert key not in str(audit.details) and audit.target == key[:13]

    added = page.locator("[data-key-row]").filter(has_text="production bot")
    created_in_page = await added.locator("td").nth(2).inner_text()

    # Shown once: the page, drawn again, holds only the prefix.
    await open_page(page, url)
    assert key not in await page.content()
    row = page.locator("[data-key-row]").filter(has_text="production bot")
    assert key[:13] in await row.inner_text()
    # The row the script added wrote its date as the server does: one format a page.
    assert await row.locator("td").nth(2).inner_text() == created_in_page

    # Revoke asks first; "cancel" keeps the key working.
    await row.locator("[data-revoke-key]").click()
    box = page.locator(".confirm-box")
    await box.wait_for()
    await box.locator("[data-confirm-no]").click()
    assert await box.count() == 0
    async with httpx.AsyncClient(base_url=harness.url) as http:
        assert (await http.get("/v1/models", headers=harness.headers(key))).status_code == 200
    await row.locator("[data-revoke-key]").click()
    await page.locator(".confirm-box [data-confirm-yes]").click()
    revoked = "revogada" if language == "pt-BR" else "revoked"
    await page.wait_for_function(
        "([id, word]) => document.querySelector(`[data-key-row='${id}'] [data-key-status]`)"
        ".textContent.trim() === word",
        arg=[audit.details["key_id"], revoked],
    )
    async with httpx.AsyncClient(base_url=harness.url) as http:
        assert (await http.get("/v1/models", headers=harness.headers(key))).status_code == 401
    assert harness.audits("key.revoke")[0].actor.startswith("admin-key:")
    assert await overflow(page) <= 0


@pytest.mark.parametrize(("viewport", "language"), VIEWS)
async def test_add_a_model_and_disable_it_after_confirming(
    harness: Harness, new_page: NewPage, viewport: Any, language: str
) -> None:
    page = await _admin(harness, new_page, viewport, language)
    await open_page(page, harness.url + "/dashboard/ai-gateway/models")
    form = "#new-model-form"
    await page.select_option("#nm-provider", "openai")
    await page.fill(f"{form} [name=model_name]", "gpt-test-mini")
    await page.fill(f"{form} [name=input_price_per_1m]", "1,2,3")
    await page.click(f"{form} button[type=submit]")
    assert await _error(page, form, "input_price_per_1m") == _says(language, "ambiguous_number")
    models = await _api(harness, "/api/ai-gateway/models?include_inactive=true")
    assert "openai/gpt-test-mini" not in {m["id"] for m in models["data"]}

    thousand = "1.000,50" if language == "pt-BR" else "1,000.50"
    await page.fill(f"{form} [name=input_price_per_1m]", thousand)
    await page.fill(f"{form} [name=output_price_per_1m]", "2,5" if language == "pt-BR" else "2.5")
    async with page.expect_navigation():
        await page.click(f"{form} button[type=submit]")
    await page.wait_for_selector("body[data-ready='1']")
    models = {m["id"]: m for m in (await _api(harness, "/api/ai-gateway/models"))["data"]}
    added = models["openai/gpt-test-mini"]
    assert Decimal(added["input_price_per_1m"]) == Decimal("1000.50")
    assert Decimal(added["output_price_per_1m"]) == Decimal("2.5")
    assert harness.audits("model.create")[0].actor.startswith("admin-key:")

    row = page.locator("[data-model-row='openai/gpt-test-mini']")
    await row.locator("[data-disable-model]").click()
    await page.locator(".confirm-box [data-confirm-no]").click()
    assert (await _api(harness, "/api/ai-gateway/models?include_inactive=true"))["count"] > 0
    await row.locator("[data-disable-model]").click()
    async with page.expect_navigation():
        await page.locator(".confirm-box [data-confirm-yes]").click()
    await page.wait_for_selector("body[data-ready='1']")
    active = {m["id"] for m in (await _api(harness, "/api/ai-gateway/models"))["data"]}
    assert "openai/gpt-test-mini" not in active
    assert len(harness.audits("model.deactivate")) == 1

    async with page.expect_navigation():
        await page.locator("[data-model-row='openai/gpt-test-mini'] [data-enable-model]").click()
    await page.wait_for_selector("body[data-ready='1']")
    active = {m["id"] for m in (await _api(harness, "/api/ai-gateway/models"))["data"]}
    assert "openai/gpt-test-mini" in active
    assert await overflow(page) <= 0


async def test_a_client_session_gets_the_403_page_and_no_csrf_no_change(
    harness: Harness, new_page: NewPage
) -> None:
    tenant = await new_page("pt-BR", PHONE)
    await sign_in(tenant, harness.url, harness.key)
    for path in (
        f"/dashboard/ai-gateway/clients/{harness.client.id}",
        "/dashboard/ai-gateway/alerts",
    ):
        response = await tenant.goto(harness.url + path)
        assert response is not None and response.status == 403, path
        assert "AI Gateway" in await tenant.title()
    cookies = cookie_header(await tenant.context.cookies())
    async with httpx.AsyncClient(base_url=harness.url) as http:
        for method, path in (
            ("POST", f"/api/clients/{harness.client.id}/keys"),
            ("POST", "/api/alerts/test"),
            ("PATCH", f"/api/clients/{harness.client.id}"),
        ):
            r = await http.request(method, path, json={}, headers={"Cookie": cookies})
            assert r.status_code == 403, (method, path)

    # The admin's own session without the CSRF header changes nothing.
    admin = await new_page("en-US", DESKTOP)
    await sign_in(admin, harness.url, harness.admin_key)
    cookies = cookie_header(await admin.context.cookies())
    async with httpx.AsyncClient(base_url=harness.url) as http:
        r = await http.post(
            f"/api/clients/{harness.client.id}/keys", json={}, headers={"Cookie": cookies}
        )
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    assert harness.audits("key.issue") == []
