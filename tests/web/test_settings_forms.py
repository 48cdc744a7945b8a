"""The settings page's own forms over plain HTTP (no browser): the gateway switch and the
prompt-storage opt-in are written, audited with the key that made them, and seen by the
very next call (the cached key forgets the client at once, not after its TTL)."""

from __future__ import annotations

import re

import httpx

from tests.harness import Harness


async def _signed_in(http: httpx.AsyncClient, key: str) -> str:
    """Sign in like the form does; returns the settings page's CSRF token."""
    form = await http.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    response = await http.post("/signin", data={"csrf_token": token.group(1), "api_key": key})
    assert response.status_code == 303, response.text
    page = await http.get("/dashboard/settings")
    assert page.status_code == 200
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    return csrf.group(1)


async def test_the_gateway_switch_is_written_audited_and_seen_at_once(harness: Harness) -> None:
    before = await harness.gateway.auth.authenticate(harness.key)  # now in the key cache
    assert before.client is not None and before.client.use_ai_gateway is False
    async with httpx.AsyncClient(base_url=harness.url) as http:
        csrf = await _signed_in(http, harness.key)
        on = await http.post(
            "/dashboard/settings/gateway", data={"csrf_token": csrf, "use_ai_gateway": "on"}
        )
        assert on.status_code == 303
        assert on.headers["location"] == "/dashboard/settings?saved=gateway"
        seen = await harness.gateway.auth.authenticate(harness.key)
        assert seen.client is not None and seen.client.use_ai_gateway is True
        off = await http.post("/dashboard/settings/gateway", data={"csrf_token": csrf})
        assert off.status_code == 303
    rows = harness.audits("client.update")
    assert [r.details for r in rows] == [{"use_ai_gateway": True}, {"use_ai_gateway": False}]
    assert {(r.actor, r.client_id, r.target) for r in rows} == {
        (f"client-key:{before.key_id}", harness.client.id, harness.client.name)
    }
    after = await harness.gateway.auth.authenticate(harness.key)
    assert after.client is not None and after.client.use_ai_gateway is False


async def test_the_gateway_switch_needs_the_csrf_token(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        await _signed_in(http, harness.key)
        refused = await http.post(
            "/dashboard/settings/gateway", data={"csrf_token": "guess", "use_ai_gateway": "on"}
        )
    assert refused.status_code == 403
    assert harness.audits("client.update") == []


async def test_the_body_storage_opt_in_is_written_audited_and_seen_at_once(
    harness: Harness,
) -> None:
    before = await harness.gateway.auth.authenticate(harness.key)
    assert before.client is not None and before.client.store_bodies is False
    async with httpx.AsyncClient(base_url=harness.url) as http:
        csrf = await _signed_in(http, harness.key)
        saved = await http.post(
            "/dashboard/settings/bodies",
            data={"csrf_token": csrf, "store_bodies": "on", "body_retention_days": "30"},
        )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/dashboard/settings?saved=bodies"
    seen = await harness.gateway.auth.authenticate(harness.key)
    assert seen.client is not None and seen.client.store_bodies is True
    assert seen.client.body_retention_days == 30
    [row] = harness.audits("client.body_storage")
    assert (row.actor, row.client_id, row.target) == (
        f"client-key:{before.key_id}",
        harness.client.id,
        harness.client.id,
    )
    assert row.details == {"store_bodies": True, "retention_days": 30}
