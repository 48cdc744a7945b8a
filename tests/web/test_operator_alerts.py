"""Alert settings on the operator's pages, in Chromium at both viewports and in both
languages: the operator's contacts, a signing secret shown once (replacing it asks
first), and "send a test alert", which really goes out: to an aiosmtpd sink over SMTP and
to a loopback webhook receiver (the operator allows private webhooks here), signed with
the secret the page showed. A client with no contact is told so, in the page's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from playwright.async_api import Page

from ai_gateway.metering.alerts.webhook import SIGNATURE_HEADER, sign
from ai_gateway.web.messages import error_catalog
from tests.fakes.alert_sinks import SmtpSink, WebhookReceiver, receiver, smtp
from tests.harness import Harness
from tests.web.conftest import NewPage
from tests.web.pages import open_page, screenshot, sign_in
from tests.web.test_layout import overflow
from tests.web.test_operator_pages import VIEWS

__all__ = ["receiver", "smtp"]


@pytest.fixture
def settings_overrides(smtp: SmtpSink) -> dict[str, object]:
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "allow_private_webhooks": True}


async def _results(page: Page, card: str) -> list[str]:
    await page.wait_for_selector(f"{card} [data-alert-results] li:not(.muted)")
    return [
        t.strip() for t in await page.locator(f"{card} [data-alert-results] li").all_inner_texts()
    ]


@pytest.mark.parametrize(("viewport", "language"), VIEWS)
async def test_operator_alerts_and_a_real_test_alert(
    harness: Harness,
    new_page: NewPage,
    smtp: SmtpSink,
    receiver: WebhookReceiver,
    viewport: Any,
    language: str,
    shots: Path,
) -> None:
    locale = "pt_BR" if language == "pt-BR" else "en"
    page = await new_page(language, viewport)
    await sign_in(page, harness.url, harness.admin_key)
    await open_page(page, harness.url + "/dashboard/ai-gateway/alerts")
    card = "#alert-settings"

    await page.click(f"{card} [data-test-alert]")
    assert (await _results(page, card)) == ["✘ " + error_catalog(locale)["no_alert_contact"]]

    form = "#operator-alerts-form"
    await page.fill(f"{form} [name=admin_alert_email]", "ops@operator.example")
    await page.fill(f"{form} [name=admin_alert_webhook]", receiver.url)
    async with page.expect_navigation():
        await page.click(f"{form} button[type=submit]")
    await page.wait_for_selector("body[data-ready='1']")

    # No signing secret yet: the webhook is not sent, and the page says why.
    await page.click(f"{card} [data-test-alert]")
    lines = await _results(page, card)
    assert len(lines) == 2 and lines[0].startswith("✔")
    assert error_catalog(locale)["webhook_secret_missing"] in lines[1]
    assert receiver.deliveries == []
    assert smtp.messages[-1][1] == ["ops@operator.example"]

    await page.click(f"{card} [data-new-secret]")  # no secret yet: nothing to confirm
    await page.wait_for_selector(f"{card} [data-secret-once]:not([hidden])")
    secret = (await page.inner_text(f"{card} [data-secret-value]")).strip()
    assert len(secret) >= 32
    assert secret not in (await page.inner_text(f"{card} [data-secret-masked]"))

    await page.click(f"{card} [data-test-alert]")
    await page.wait_for_function(
        "() => document.querySelectorAll('#alert-settings [data-alert-results] li.ok').length === 2"
    )
    await screenshot(page, shots, f"admin-alerts-{viewport['width']}-{language}")
    (delivery,) = receiver.deliveries
    assert delivery.headers[SIGNATURE_HEADER] == sign(delivery.body, secret)
    assert orjson.loads(delivery.body)["payload"]["type"] == "alert.test"
    assert len(smtp.messages) == 2

    # Replacing the secret asks first; "cancel" keeps the one the receiver knows.
    await page.click(f"{card} [data-new-secret]")
    await page.locator(".confirm-box [data-confirm-no]").click()
    await open_page(page, harness.url + "/dashboard/ai-gateway/alerts")
    assert secret not in await page.content()  # shown once
    assert len(harness.audits("secret.set")) == 1
    assert len(harness.audits("alert.test")) == 3
    assert await overflow(page) <= 0


@pytest.mark.parametrize(("viewport", "language"), VIEWS)
async def test_a_client_test_alert_goes_to_its_contacts(
    harness: Harness,
    new_page: NewPage,
    smtp: SmtpSink,
    receiver: WebhookReceiver,
    viewport: Any,
    language: str,
) -> None:
    locale = "pt_BR" if language == "pt-BR" else "en"
    page = await new_page(language, viewport)
    await sign_in(page, harness.url, harness.admin_key)
    url = f"{harness.url}/dashboard/ai-gateway/clients/{harness.client.id}"
    await open_page(page, url)
    card = "#alert-settings"
    await page.click(f"{card} [data-test-alert]")
    assert (await _results(page, card)) == ["✘ " + error_catalog(locale)["no_alert_contact"]]

    await page.fill("#client-form [name=contact_email]", "bots@acme.example")
    await page.fill("#client-form [name=alert_webhook_url]", receiver.url)  # loopback: allowed
    async with page.expect_navigation():
        await page.click("#client-form button[type=submit]")
    await page.wait_for_selector("body[data-ready='1']")
    await page.click(f"{card} [data-new-secret]")
    await page.wait_for_selector(f"{card} [data-secret-once]:not([hidden])")
    secret = (await page.inner_text(f"{card} [data-secret-value]")).strip()
    await page.click(f"{card} [data-test-alert]")
    await page.wait_for_function(
        "() => document.querySelectorAll('#alert-settings [data-alert-results] li.ok').length === 2"
    )
    assert smtp.messages[-1][1] == ["bots@acme.example"]
    (delivery,) = receiver.deliveries
    assert delivery.headers[SIGNATURE_HEADER] == sign(delivery.body, secret)
    assert orjson.loads(delivery.body)["payload"]["client_id"] == harness.client.id
    (audit,) = [a for a in harness.audits("secret.set") if a.client_id == harness.client.id]
    assert audit.actor.startswith("admin-key:") and secret not in str(audit.details)
    assert await overflow(page) <= 0
