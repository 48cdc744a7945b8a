"""An admin change made through one gateway process is seen by another within 2 s, for
every kind of change: config, models (added, deactivated), prices, clients (pause,
flags), keys (revoked, issued, revoked from the CLI), budgets and rate limits. Run with
Redis (pub/sub) and without it (the database version poll). Each check first warms the
second process's cache with the old value, so a cache that is never told keeps serving
it for its whole TTL (5 s to 5 min).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from multidict import CIMultiDict
from sqlalchemy import select

from ai_gateway.settings import Settings
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import UsageLog
from tests.conftest import REDIS_URL, free_port, require_service
from tests.fakes.fake_providers import FakeProviders
from tests.harness import harness_settings, seed
from tests.serve_processes import serve_env, start_serve, stop_serve, wait_ready

pytestmark = [pytest.mark.postgres]

#: The promise the docs make, measured from the admin call's answer.
WITHIN = 2.0


@dataclass
class Pair:
    a: str
    b: str
    db: Database
    key: str
    admin: str
    client_id: str
    http: aiohttp.ClientSession
    settings: Settings

    async def admin_call(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(
            method, self.a + path, json=body, headers={"Authorization": f"Bearer {self.admin}"}
        ) as resp:
            payload = await resp.json()
            assert resp.status < 300, payload
            return payload

    async def chat(
        self, url: str, *, key: str | None = None, model: str = "openai/gpt-4o-mini", **hdr: str
    ) -> tuple[int, CIMultiDict[str]]:
        body = {"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
        headers = {"Authorization": f"Bearer {key or self.key}", **hdr}
        async with self.http.post(url + "/v1/chat/completions", json=body, headers=headers) as r:
            await r.read()
            return r.status, CIMultiDict(r.headers)


@pytest_asyncio.fixture(params=["redis", "poll"])
async def pair(
    request: pytest.FixtureRequest, pg_db: Database, fake_providers: FakeProviders, tmp_path: Path
) -> AsyncIterator[Pair]:
    redis_url = None
    if request.param == "redis":
        require_service("Redis", "127.0.0.1", 6379)
        redis_url = REDIS_URL
    settings = harness_settings(
        pg_db.url.render_as_string(hide_password=False),
        tmp_path / "data",
        fake_providers,
        redis_url=redis_url,
    )
    client, key, admin = seed(pg_db, settings)
    env = serve_env(settings, ENABLE_AI_GATEWAY="true")  # so the client flag matters
    ports = [free_port(), free_port()]
    procs = [start_serve(env, port, tmp_path) for port in ports]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        await wait_ready(urls)
        async with aiohttp.ClientSession() as http:
            yield Pair(urls[0], urls[1], pg_db, key, admin, client.id, http, settings)
    finally:
        await stop_serve(procs)


async def seen_within(probe: Callable[[], Awaitable[bool]], limit: float = WITHIN) -> float:
    """Seconds until ``probe`` holds (polled every 50 ms); fails past ``limit``."""
    start = time.monotonic()
    while True:
        if await probe():
            return time.monotonic() - start
        elapsed = time.monotonic() - start
        assert elapsed < limit, f"the change was not seen within {limit} s"
        await _sleep(0.05)


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def test_models_added_and_deactivated(pair: Pair) -> None:
    new = "openai/propagated-model"
    assert (await pair.chat(pair.b, model=new))[0] == 404  # B now caches "unknown"
    await pair.admin_call(
        "POST",
        "/api/ai-gateway/models",
        {"id": new, "provider": "openai", "model_name": "gpt-4o-mini", "display_name": "P"},
    )

    async def served() -> bool:
        return (await pair.chat(pair.b, model=new, **{"Cache-Control": "no-store"}))[0] == 200

    await seen_within(served)
    await pair.admin_call("DELETE", f"/api/ai-gateway/models/{new}")

    async def refused() -> bool:
        return (await pair.chat(pair.b, model=new, **{"Cache-Control": "no-store"}))[0] != 200

    await seen_within(refused)


async def test_prices(pair: Pair) -> None:
    model = "openai/gpt-4o-mini"
    assert (await pair.chat(pair.b, **{"Cache-Control": "no-store"}))[0] == 200
    await pair.admin_call(
        "PUT",
        f"/api/ai-gateway/models/{model}",
        {"input_price_per_1m": "0", "output_price_per_1m": "0"},
    )
    await _sleep(WITHIN)  # prices show only in the usage row: call once the window is over
    status, headers = await pair.chat(pair.b, **{"Cache-Control": "no-store"})
    assert status == 200
    row = await _usage_row(pair, headers["x-request-id"])
    assert row.cost_usd == 0, "B priced a call with the old price 2 s after the change"


async def _usage_row(pair: Pair, request_id: str) -> UsageLog:
    for _ in range(200):
        with pair.db.session() as s:
            row = s.scalar(select(UsageLog).where(UsageLog.request_id == request_id))
        if row is not None:
            return row
        await _sleep(0.05)
    raise AssertionError(f"no usage row for {request_id}")


async def test_config(pair: Pair) -> None:
    await pair.chat(pair.b)
    assert (await pair.chat(pair.b))[1].get("x-ai-gateway-cache") == "HIT"
    await pair.admin_call("PUT", "/api/ai-gateway/config", {"cache_enabled": False})

    async def off() -> bool:
        return (await pair.chat(pair.b))[1].get("x-ai-gateway-cache") != "HIT"

    await seen_within(off)


async def test_client_paused_and_flag(pair: Pair) -> None:
    status, headers = await pair.chat(pair.b, **{"Cache-Control": "no-store"})
    assert status == 200
    assert (await _usage_row(pair, headers["x-request-id"])).route == "direct"
    await pair.admin_call("PATCH", f"/api/clients/{pair.client_id}", {"use_ai_gateway": True})

    async def flagged() -> bool:
        _, hdr = await pair.chat(pair.b, **{"Cache-Control": "no-store"})
        return (await _usage_row(pair, hdr["x-request-id"])).route == "gateway"

    await seen_within(flagged)
    await pair.admin_call("PATCH", f"/api/clients/{pair.client_id}", {"status": "paused"})

    async def paused() -> bool:
        return (await pair.chat(pair.b, **{"Cache-Control": "no-store"}))[0] == 403

    await seen_within(paused)


async def test_keys_revoked_and_issued(pair: Pair) -> None:
    issued = await pair.admin_call("POST", f"/api/clients/{pair.client_id}/keys", {})

    async def works() -> bool:
        return (await pair.chat(pair.b, key=issued["key"], **{"Cache-Control": "no-store"}))[
            0
        ] == 200

    await seen_within(works)
    await pair.admin_call("DELETE", f"/api/keys/{issued['id']}")

    async def revoked() -> bool:
        return (await pair.chat(pair.b, key=issued["key"], **{"Cache-Control": "no-store"}))[
            0
        ] == 401

    await seen_within(revoked)


async def test_budgets(pair: Pair) -> None:
    assert (await pair.chat(pair.b, **{"Cache-Control": "no-store"}))[0] == 200
    await pair.admin_call(
        "POST",
        f"/api/budget/config?client_id={pair.client_id}",
        {"budget_type": "tokens", "limit": 1, "period": "monthly"},
    )

    async def exhausted() -> bool:
        return (await pair.chat(pair.b, **{"Cache-Control": "no-store"}))[0] == 402

    await seen_within(exhausted)


async def test_a_change_from_the_cli(pair: Pair, tmp_path: Path) -> None:
    issued = await pair.admin_call("POST", f"/api/clients/{pair.client_id}/keys", {})
    assert (await pair.chat(pair.b, key=issued["key"], **{"Cache-Control": "no-store"}))[0] == 200
    env = serve_env(pair.settings)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ai_gateway", "keys", "revoke", issued["id"], env=env, cwd=tmp_path
    )
    assert await proc.wait() == 0

    async def revoked() -> bool:
        status = (await pair.chat(pair.b, key=issued["key"], **{"Cache-Control": "no-store"}))[0]
        return status == 401

    await seen_within(revoked)


async def test_rate_limits(pair: Pair) -> None:
    assert (await pair.chat(pair.b, **{"Cache-Control": "no-store"}))[0] == 200
    await pair.admin_call("PUT", f"/api/clients/{pair.client_id}/limits", {"rpm": 1})

    async def limited() -> bool:
        return (await pair.chat(pair.b, **{"Cache-Control": "no-store"}))[0] == 429

    await seen_within(limited)
