"""The truncated lists page: a client's conversations (25 a page) and fallback events
(10 a page) get previous/next links that keep the period and the other list's page, and
the operator's recent requests lead into the request explorer; at both viewports."""

from __future__ import annotations

import pytest

from tests.api.usage_rows import usage_row, write_rows
from tests.harness import Harness
from tests.web.conftest import DESKTOP, PHONE, NewPage
from tests.web.pages import open_page, sign_in
from tests.web.test_layout import overflow

VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440x900", "390x844"])


def _seed(h: Harness) -> None:
    rows = [
        usage_row(h.client.id, conversation_id=f"conv-{i:02d}", days_ago=i / 48) for i in range(30)
    ]
    rows += [
        usage_row(
            h.client.id,
            fallback_from="openai/gpt-4o-mini",
            fallback_attempts=2,
            fallback_reason="server_error: 503",
            days_ago=i / 48,
        )
        for i in range(12)
    ]
    write_rows(h.db, rows)


@VIEWPORTS
async def test_conversations_and_fallbacks_page(
    harness: Harness, new_page: NewPage, viewport: dict[str, int]
) -> None:
    _seed(harness)
    page = await new_page("pt-BR", viewport)
    await sign_in(page, harness.url, harness.key)
    await open_page(page, harness.url + "/dashboard/analytics?period=7d")
    conversations = page.locator("#conversations tr.conversation-row")
    assert await conversations.count() == 25
    assert "Mostrando 1–25 de 30" in await page.inner_text("#conversations-pager")
    first = await conversations.first.get_attribute("data-conversation")
    await page.click("#conversations-pager [data-page='next']")
    await page.wait_for_selector("body[data-ready='1']")
    assert "conversations_offset=25" in page.url and "period=7d" in page.url
    assert await conversations.count() == 5
    assert first not in [
        await r.get_attribute("data-conversation") for r in await conversations.all()
    ]

    fallbacks = page.locator("#fallback-events tbody tr")
    assert await fallbacks.count() == 10
    await page.click("#fallbacks-pager [data-page='next']")
    await page.wait_for_selector("body[data-ready='1']")
    assert await fallbacks.count() == 2
    # The other list keeps its page.
    assert "conversations_offset=25" in page.url and "fallbacks_offset=10" in page.url
    assert await conversations.count() == 5
    await page.click("#fallbacks-pager [data-page='previous']")
    await page.wait_for_selector("body[data-ready='1']")
    assert await fallbacks.count() == 10
    assert await overflow(page) <= 0
    # A hostile offset is refused as a page, never a 500.
    refused = await page.goto(harness.url + "/dashboard/analytics?fallbacks_offset=-1")
    assert refused is not None and refused.status == 400


@VIEWPORTS
async def test_recent_requests_lead_into_the_explorer(
    harness: Harness, new_page: NewPage, viewport: dict[str, int]
) -> None:
    _seed(harness)
    page = await new_page("en-US", viewport)
    await sign_in(page, harness.url, harness.admin_key)
    await open_page(page, harness.url + "/dashboard/ai-gateway/analytics?period=7d")
    assert "42" in await page.inner_text("#recent-more")
    await page.click("#recent-more")
    await page.wait_for_selector("body[data-ready='1']")
    assert "/dashboard/requests?date_from=" in page.url
    assert await page.locator("tr.request-row").count() == 42
    await open_page(page, harness.url + "/dashboard/ai-gateway/analytics?period=7d")
    await page.locator("#recent-requests tbody a").first.click()
    await page.wait_for_url("**/dashboard/requests/*")
    await page.wait_for_selector("#detail-cost")
    assert await overflow(page) <= 0
