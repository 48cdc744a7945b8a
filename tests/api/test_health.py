"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

import aiohttp

from tests.harness import Harness


async def test_health_ready_and_metrics(harness: Harness) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(harness.url + "/healthz") as resp:
            assert resp.status == 200 and (await resp.json())["status"] == "ok"
        async with session.get(harness.url + "/readyz") as resp:
            body = await resp.json()
            assert resp.status == 200 and body["database"] in ("sqlite", "postgresql")
        await session.post(
            harness.url + "/v1/chat/completions",
            headers=harness.headers(),
            json={"messages": [{"role": "user", "content": "hi"}]},
        )
        await harness.drain()
        async with session.get(harness.url + "/metrics") as resp:
            text = await resp.text()
            assert resp.status == 200
            assert "ai_gateway_usage_rows_written_total 1.0" in text


async def test_unknown_route_is_an_openai_shaped_404(harness: Harness) -> None:
    async with aiohttp.ClientSession() as session, session.get(harness.url + "/nope") as resp:
        body = await resp.json()
    assert resp.status == 404 and body["error"]["type"] == "not_found_error"
