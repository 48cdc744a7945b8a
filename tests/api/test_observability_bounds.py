"""Whatever model names clients send, ``/metrics`` and the analytics stay small: labels
come from bounded sets (registry models, providers, statuses; the rest is ``other``), and
unknown names are grouped as ``other``. ``/metrics`` can require a bearer token."""

from __future__ import annotations

import asyncio
import random
import re
import string
from typing import Any

import aiohttp
import pytest

from tests.api.client import call
from tests.harness import Harness

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_METRICS_BOUND = 64 * 1024
_ANALYTICS_BOUND = 64 * 1024


def _random_model(rng: random.Random, i: int) -> str:
    name = "".join(rng.choices(string.ascii_letters + string.digits + "-_/.", k=40))
    if i % 3 == 0:
        name += "\x01\x1b[31m\x7f"  # control characters and an ANSI escape
    return f"{name}-{i}"


async def _flood(h: Harness, count: int) -> list[int]:
    rng = random.Random(1234)
    statuses: list[int] = []
    async with aiohttp.ClientSession() as session:

        async def one(i: int) -> None:
            body = {"model": _random_model(rng, i), "messages": [{"role": "user", "content": "x"}]}
            async with session.post(
                h.url + "/v1/chat/completions", headers=h.headers(), json=body
            ) as resp:
                await resp.read()
                statuses.append(resp.status)

        for start in range(0, count, 50):
            await asyncio.gather(*(one(i) for i in range(start, min(count, start + 50))))
    return statuses


async def _metrics_text(h: Harness, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(h.url + "/metrics", headers=headers) as resp,
    ):
        return resp.status, await resp.text()


async def test_random_model_names_leave_metrics_and_analytics_small(harness: Harness) -> None:
    h = harness
    statuses = await _flood(h, 2000)
    assert set(statuses) <= {400, 404} and len(statuses) == 2000
    status, _ = await call(
        h,
        "POST",
        "/v1/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert status == 200
    await h.drain()

    status, text = await _metrics_text(h)
    assert status == 200
    size = len(text.encode())
    assert size < _METRICS_BOUND, f"/metrics is {size} bytes"
    assert not _CONTROL.search(text)
    models = set(re.findall(r'ai_gateway_requests_total\{[^}]*model="([^"]*)"', text))
    assert models == {"other", "openai/gpt-4o-mini"}

    status, metrics = await call(h, "GET", "/api/ai-gateway/metrics?period=7d", admin=True)
    assert status == 200
    by_model = {m["model_id"]: m["requests"] for m in metrics["by_model"]}
    assert by_model["openai/gpt-4o-mini"] == 1 and by_model["other"] == sum(
        1 for s in statuses if s == 404
    )
    assert len(str(metrics).encode()) < _ANALYTICS_BOUND
    for route in ("/api/analytics/gateway?period=7d", "/api/billing/summary"):
        status, own = await call(h, "GET", route)
        assert status == 200
        assert len(str(own).encode()) < _ANALYTICS_BOUND, route
    status, own = await call(h, "GET", "/api/analytics/gateway?period=7d")
    assert len(_models_of(own)) <= 2


def _models_of(payload: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "model_id" and isinstance(value, str):
                found.add(value)
            found |= _models_of(value)
    elif isinstance(payload, list):
        for item in payload:
            found |= _models_of(item)
    return found


class TestMetricsToken:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, object]:
        return {"metrics_token": "metrics-s3cret-token"}

    async def test_metrics_require_the_token_when_it_is_set(self, harness: Harness) -> None:
        assert (await _metrics_text(harness))[0] == 401
        assert (await _metrics_text(harness, "wrong"))[0] == 401
        assert (await _metrics_text(harness, harness.key))[0] == 401  # a client key is not it
        status, text = await _metrics_text(harness, "metrics-s3cret-token")
        assert status == 200 and "ai_gateway_usage_queue" in text
        async with (
            aiohttp.ClientSession() as session,
            session.get(harness.url + "/healthz") as resp,
        ):
            assert resp.status == 200  # health stays open


async def test_analytics_over_many_stored_model_names_stay_bounded(harness: Harness) -> None:
    """Roll-ups filled before unknown names were grouped (or a huge registry): the view
    keeps the largest lines and sums the rest as ``other``."""
    from decimal import Decimal

    from ai_gateway.storage.analytics import MAX_MODEL_LINES
    from tests.api.usage_rows import usage_row, write_rows

    h = harness
    rows = [
        usage_row(
            h.client.id,
            model_requested=f"junk-{i}",
            model_used=f"junk-{i}",
            cost_usd=Decimal(i),
            cost_brl=Decimal(i * 5),
        )
        for i in range(1, 201)
    ]
    write_rows(h.db, rows)
    for route, admin in (
        ("/api/ai-gateway/metrics?period=7d", True),
        ("/api/analytics/gateway?period=7d", False),
    ):
        status, body = await call(h, "GET", route, admin=admin)
        assert status == 200, route
        lines = body["by_model"]
        assert len(lines) == MAX_MODEL_LINES, route
        assert lines[0]["model_id"] == "junk-200" and lines[-1]["model_id"] == "other"
        assert sum(line["requests"] for line in lines) == 200
        assert sum(Decimal(line["cost_usd"]) for line in lines) == sum(range(1, 201))
