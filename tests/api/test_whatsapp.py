"""The webhook's configuration: refused with no secrets; secrets from the vault work."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from ai_gateway.storage.secrets import set_secret
from ai_gateway.vault import MasterKey
from ai_gateway.whatsapp.service import APP_SECRET_ID, VERIFY_TOKEN_ID
from tests.fakes.whatsapp_payloads import notification, post_signed
from tests.harness import Harness


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"whatsapp_graph_base_url": "http://127.0.0.1:9/v21.0"}


async def _verify(h: Harness, token: str) -> int:
    query = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "c"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(h.url + "/webhooks/whatsapp", params=query) as resp,
    ):
        return resp.status


async def test_unconfigured_webhook_refuses_everything(harness: Harness) -> None:
    assert await _verify(harness, "anything") == 403
    status, body = await post_signed(
        harness.url, notification(phone_number_id="1", wamid="w"), secret="anything"
    )
    assert status == 403 and b"not configured" in body


async def test_secrets_from_the_vault(harness: Harness) -> None:
    assert harness.settings.master_key is not None
    master = MasterKey.from_base64(harness.settings.master_key)
    with harness.db.write() as s:
        set_secret(s, master=master, secret_id=VERIFY_TOKEN_ID, value="vault-verify-token")
        set_secret(s, master=master, secret_id=APP_SECRET_ID, value="vault-app-secret-xyz")
    assert await _verify(harness, "vault-verify-token") == 200
    assert await _verify(harness, "wrong") == 403
    payload = notification(phone_number_id="1", wamid="w")
    assert (await post_signed(harness.url, payload, secret="vault-app-secret-xyz"))[0] == 200
    assert (await post_signed(harness.url, payload, secret="other"))[0] == 401
    assert (await post_signed(harness.url, b"not json", secret="vault-app-secret-xyz"))[0] == 400
