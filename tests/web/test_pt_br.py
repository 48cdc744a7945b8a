"""The dashboard in Portuguese (Brazil): numbers typed and shown the Brazilian way,
errors in Portuguese, no English left on a page."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
from playwright.async_api import Page

from ai_gateway.demo import seed_demo
from tests.harness import Harness
from tests.web.conftest import NewPage
from tests.web.pages import open_page, sign_in


async def _limit(harness: Harness) -> Decimal:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        response = await http.get("/api/budget/config", headers=harness.headers())
    return Decimal(str(response.json()["limit"]))


async def _save_limit(page: Page, text: str) -> None:
    await page.fill("#limit", text)
    async with page.expect_navigation():
        await page.click("#budget-form [data-save]")
    await page.wait_for_selector("body[data-ready='1']")


async def test_a_thousand_typed_in_pt_br_is_a_thousand(harness: Harness, new_page: NewPage) -> None:
    page = await new_page("pt-BR")
    await sign_in(page, harness.url, harness.key)
    await open_page(page, harness.url + "/dashboard/settings")
    await page.select_option("#budget_type", "brl")

    # "1.000" is one thousand in Brazil (the dot groups thousands): not R$ 1,00.
    await _save_limit(page, "1.000")
    assert await _limit(harness) == Decimal(1000)
    assert await page.input_value("#limit") == "1.000"  # shown back the Brazilian way

    for typed, expected in (("1.000,50", "1000.50"), ("1000.50", "1000.50"), ("2,5", "2.5")):
        await _save_limit(page, typed)
        assert await _limit(harness) == Decimal(expected), typed


async def test_numbers_that_read_two_ways_are_refused_in_portuguese(
    harness: Harness, new_page: NewPage
) -> None:
    page = await new_page("pt-BR")
    await sign_in(page, harness.url, harness.key)
    await open_page(page, harness.url + "/dashboard/settings")
    before = await _limit(harness)
    error = page.locator("[data-error-for='limit']")
    toast = page.locator("#toast")

    # The server's own rule ("limit must be greater than 0") comes back in Portuguese.
    await page.fill("#limit", "0")
    await page.click("#budget-form [data-save]")
    await page.wait_for_function(
        "() => document.querySelector(\"[data-error-for='limit']\").textContent"
    )
    assert await error.inner_text() == "O limite deve ser maior que 0."
    assert await toast.inner_text() == "O limite deve ser maior que 0."

    # Read two ways (a grouped thousand after a comma): refused here, never guessed;
    # the toast shows the new message, not the previous one.
    for typed in ("1,000.50", "1.00.0", "1,5,0", "dez"):
        await page.fill("#limit", typed)
        await page.click("#budget-form [data-save]")
        text = await error.inner_text()
        assert "1.000,50" in text or "Digite um número" in text, typed
        assert await toast.inner_text() == text, typed
    assert await _limit(harness) == before


def _cells(text: str) -> list[list[str]]:
    return [line.split(";") for line in text.splitlines()]


async def test_csv_export_opens_as_a_brazilian_spreadsheet(
    harness: Harness, new_page: NewPage
) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        for _ in range(2):
            body = {
                "model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": "Olá, tudo bem?"}],
            }
            response = await http.post(
                "/v1/chat/completions",
                json=body,
                headers=harness.headers(**{"X-Conversation-Id": "wa:5511999"}),
            )
            assert response.status_code == 200
        await harness.drain()
        raw = await http.get(
            "/api/analytics/gateway/conversations.csv?period=7d", headers=harness.headers()
        )
    page = await new_page("pt-BR")
    await sign_in(page, harness.url, harness.key)
    await open_page(page, harness.url + "/dashboard/analytics?period=7d")
    async with page.expect_download() as info:
        await page.click("#export-csv")
    data = (await (await info.value).path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the accents
    rows = _cells(data.decode("utf-8-sig"))
    assert rows[0][:3] == ["Conversa", "Requisições", "Tokens de entrada"]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Conversa"] == "wa:5511999" and row["Requisições"] == "2"
    machine = raw.text.splitlines()[1].split(",")
    cost_usd = machine[4]
    assert Decimal(row["Custo (USD)"].replace(",", ".")) == Decimal(cost_usd)
    assert "." not in row["Custo (USD)"] and "," in row["Custo (USD)"]
    # Local time of the client (São Paulo by default), the Brazilian way.
    assert row["Última chamada"].count("/") == 2 and "T" not in row["Última chamada"]


def _english_ids() -> list[str]:
    """English words a pt-BR page must not show: every catalog id whose Portuguese differs
    (long enough to be a real word), plus the API's raw statuses and reasons."""
    from babel.messages.pofile import read_po

    from ai_gateway.web.messages import REASONS, STATUSES

    path = "src/ai_gateway/i18n/translations/pt_BR/LC_MESSAGES/messages.po"
    with open(path, "rb") as handle:
        catalog = read_po(handle)
    ids = [
        m.id
        for m in catalog
        if isinstance(m.id, str) and m.string and m.string != m.id and len(m.id) >= 4
    ]
    # Fragments with placeholders: the text before the first one.
    words = [i.split("%(")[0].split("{")[0].strip(" :") for i in ids]
    raw = [*STATUSES, *REASONS]
    return sorted({w for w in [*words, *raw] if len(w) >= 4})


_ENGLISH = _english_ids()


async def english_on(page: Page) -> list[str]:
    """Catalog misses on the page: English ids found as whole words in its visible text."""
    text = await page.evaluate("document.body.innerText")
    return [
        w for w in _ENGLISH if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text) is not None
    ]


async def test_no_english_on_any_page_in_portuguese(harness: Harness, new_page: NewPage) -> None:
    keys = seed_demo(harness.db, scale=0.1)
    assert keys is not None
    harness.gateway.config.invalidate()
    admin = await new_page("pt-BR", timezone_id="America/Sao_Paulo")
    await sign_in(admin, harness.url, keys.admin_key)
    client_id = await admin.evaluate(
        "document.querySelector('#top-clients a').href.split('client_id=')[1]"
    )
    found: dict[str, list[str]] = {}
    for path in (
        "/dashboard/ai-gateway/analytics",
        "/dashboard/ai-gateway/setup",
        "/dashboard/ai-gateway/clients",
        "/dashboard/ai-gateway/models",
        "/dashboard/ai-gateway/cache",
        "/dashboard/ai-gateway/rollout",
        "/dashboard/ai-gateway/alerts",
        f"/dashboard/ai-gateway/clients/{client_id}",
        f"/dashboard/analytics?client_id={client_id}",
        f"/dashboard/settings?client_id={client_id}",
        "/dashboard/requests",
        "/dashboard/requests?fallback=yes",
    ):
        await open_page(admin, harness.url + path)
        if path.endswith("/setup"):
            await admin.click("#fallback-chain-builder summary")  # the model selector
            await admin.wait_for_selector("[data-model-list] .model-option")
            await admin.click("[data-test-gateway]")
            await admin.wait_for_selector("[data-test-results] li:not(.muted)")
        if path.startswith("/dashboard/analytics"):
            await admin.locator("tr.conversation-row").first.click()
            await admin.wait_for_selector("[data-drill] tbody tr")
        found[path] = await english_on(admin)
        if path.endswith("fallback=yes"):  # the detail of a call with a fallback path
            await admin.locator("a.request-link").first.click()
            await admin.wait_for_selector("#detail-fallback")
            found[path + " (detail)"] = await english_on(admin)
    # The operator's times are the browser's time zone, and statuses are words.
    await open_page(admin, harness.url + "/dashboard/ai-gateway/analytics")
    assert "America/Sao_Paulo" in await admin.inner_text("#recent-requests thead")
    assert "sucesso" in await admin.inner_text("#recent-requests tbody")
    # Chart axes and tooltips in the page's language (Chart.js ``locale``).
    tick = "window.aigwCharts['chart-clients'].scales.y.getLabelForValue(3500)"
    assert await admin.evaluate(tick) == "3.500"
    # Prices in form fields the Brazilian way, and read back exactly.
    await open_page(admin, harness.url + "/dashboard/ai-gateway/models")
    price = admin.locator(
        "[data-model-row='openai/gpt-4o-mini'] [data-model-field='input_price_per_1m']"
    )
    assert await price.input_value() == "0,15"
    parsed = await admin.evaluate("window.aigw.parseDecimal('0,075')")
    assert parsed == {"value": "0.075"}

    client = await new_page("pt-BR")
    await open_page(client, harness.url + "/signin")
    found["/signin"] = await english_on(client)
    await sign_in(client, harness.url, keys.client_key)
    for path in (
        "/dashboard/analytics",
        "/dashboard/settings",
        "/dashboard/ai-gateway/setup",
        "/dashboard/requests",
    ):
        await open_page(client, harness.url + path)
        found[path + " (client)"] = await english_on(client)
    assert {p: w for p, w in found.items() if w} == {}

    # The scan does see English: the same page in English is full of catalog ids.
    english = await new_page("en-US")
    await sign_in(english, harness.url, keys.client_key)
    assert len(await english_on(english)) > 10


PARSED = {
    "pt-BR": {
        "1.000": "1000",
        "1.000,50": "1000.50",
        "1000.50": "1000.50",
        "1000,50": "1000.50",
        "0.125": "0.125",
        "12.345.678,9": "12345678.9",
        " 2,5 ": "2.5",
        "-3": "-3",
        "1,000.50": "ambiguous_number",
        "1.00.0": "ambiguous_number",
        "1,2,3": "ambiguous_number",
        "1e3": "not_a_number",
        "": "number_required",
    },
    "en-US": {
        "1,000": "1000",
        "1,000.50": "1000.50",
        "1000.50": "1000.50",
        "0,5": "0.5",
        "1.000,50": "ambiguous_number",
        "12,34,5": "ambiguous_number",
        "abc": "not_a_number",
    },
}


async def test_number_parser_in_both_languages(harness: Harness, new_page: NewPage) -> None:
    for language, cases in PARSED.items():
        page = await new_page(language)
        await open_page(page, harness.url + "/signin")
        for typed, expected in cases.items():
            result = await page.evaluate("(t) => window.aigw.parseDecimal(t)", typed)
            assert result.get("value", result.get("code")) == expected, (language, typed)
