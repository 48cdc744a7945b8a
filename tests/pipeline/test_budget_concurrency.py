"""The budget limit holds under concurrency: 200 simultaneous calls against a budget that
allows about 50 end, at most, one call's estimate above the limit; every settled unit is
a logged unit."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import aiohttp
from sqlalchemy import func, select, update

from ai_gateway.pipeline.estimate import reservation_estimator
from ai_gateway.providers.base import ChatRequest
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import ClientBudget, UsageLog
from tests.harness import Harness

BODY: dict[str, Any] = {
    "model": "openai/gpt-4o-mini",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "what is the weather like?"}],
}


async def _call(session: aiohttp.ClientSession, url: str, key: str) -> int:
    async with session.post(
        url + "/v1/chat/completions",
        json=BODY,
        headers={"Authorization": f"Bearer {key}", "Cache-Control": "no-store"},
    ) as resp:
        await resp.read()
        return resp.status


def set_budget_row(db: Database, client_id: str, limit: Decimal, kind: str = "brl") -> None:
    with db.write() as s:
        s.execute(
            update(ClientBudget)
            .where(ClientBudget.client_id == client_id)
            .values(
                is_custom=True,
                budget_type=kind,
                limit_value=limit,
                period="monthly",
                alert_thresholds=[80, 90, 100],
                pause_at_limit=False,
            )
        )


def set_budget(h: Harness, client_id: str, limit: Decimal, kind: str = "brl") -> None:
    set_budget_row(h.db, client_id, limit, kind)
    h.gateway.budgets.forget(client_id)


def one_call_estimate(h: Harness) -> Decimal:
    """What one call reserves (its worst case): the most usage may overshoot by."""
    snapshot = h.gateway.config.current
    request = ChatRequest(
        model="openai/gpt-4o-mini", messages=BODY["messages"], params={"max_tokens": 16}
    )
    model = snapshot.models["openai/gpt-4o-mini"]
    return reservation_estimator(request, [model], h.gateway.rates.rate)("brl")


async def one_call_cost(h: Harness) -> Decimal:
    async with aiohttp.ClientSession() as session:
        assert await _call(session, h.url, h.key) == 200
    await h.drain()
    with h.db.session() as s:
        return s.scalars(select(UsageLog.cost_brl).where(UsageLog.client_id == h.client.id)).one()


async def test_two_hundred_concurrent_calls_against_fifty(harness: Harness) -> None:
    per_call = await one_call_cost(harness)
    client, key = harness.new_client("crowd", plan="pro")
    limit = per_call * 50
    set_budget(harness, client.id, limit)
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as session:
        statuses = await asyncio.gather(*[_call(session, harness.url, key) for _ in range(200)])
    await harness.drain()
    ok, refused = statuses.count(200), statuses.count(402)
    assert ok + refused == 200 and 10 <= ok <= 55
    with harness.db.session() as s:
        logged = s.scalar(
            select(func.sum(UsageLog.cost_brl)).where(
                UsageLog.client_id == client.id, UsageLog.status == "success"
            )
        )
        rows = s.scalar(
            select(func.count()).select_from(UsageLog).where(UsageLog.client_id == client.id)
        )
    usage = harness.budget_usage(client.id)
    assert rows == 200  # refusals are logged too (cost 0)
    assert usage == logged == per_call * ok
    assert usage <= limit + one_call_estimate(harness)
    # And once exhausted, it stays refused.
    async with aiohttp.ClientSession() as session:
        if usage >= limit:
            assert await _call(session, harness.url, key) == 402


async def test_token_budgets_count_tokens(harness: Harness) -> None:
    client, key = harness.new_client("tokens", plan="pro")
    set_budget(harness, client.id, Decimal(1000), kind="tokens")
    async with aiohttp.ClientSession() as session:
        assert await _call(session, harness.url, key) == 200
    await harness.drain()
    with harness.db.session() as s:
        row = s.scalars(select(UsageLog).where(UsageLog.client_id == client.id)).one()
    assert harness.budget_usage(client.id) == row.input_tokens + row.output_tokens
