"""``POST /api/cron/{job}`` on a running gateway: the secret, unknown jobs, a real run."""

from __future__ import annotations

import aiohttp
import pytest

from tests.harness import Harness

SECRET = "cron-secret-for-tests"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"cron_secret": SECRET}


async def post(h: Harness, job: str, auth: str | None) -> tuple[int, dict]:
    headers = {"Authorization": auth} if auth else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{h.url}/api/cron/{job}", headers=headers) as resp,
    ):
        return resp.status, await resp.json()


async def test_cron_routes_need_the_secret(harness: Harness) -> None:
    for auth in (None, "Bearer wrong", f"Basic {SECRET}", harness.admin_key):
        status, body = await post(harness, "check-budget-alerts", auth)
        assert status == 401 and body["error"]["type"] == "authentication_error"
    status, body = await post(harness, "no-such-job", f"Bearer {SECRET}")
    assert status == 404 and "no job 'no-such-job'" in body["error"]["message"]

    status, body = await post(harness, "reset-budget-periods", f"Bearer {SECRET}")
    assert status == 200
    assert body["job"] == "reset-budget-periods" and body["status"] == "ok"
    assert body["result"] == {"due": 0, "reset": []}


async def test_without_a_configured_secret_every_cron_route_is_forbidden(harness: Harness) -> None:
    gateway = harness.gateway
    gateway.settings = gateway.settings.model_copy(update={"cron_secret": None})
    for job in ("check-budget-alerts", "no-such-job"):
        status, body = await post(harness, job, f"Bearer {SECRET}")
        assert status == 403 and body["error"]["code"] == "cron_disabled"
