"""Auto-pause end to end: the call that reaches the limit pauses the client, the next call
is refused with 403 at once, and the pause is in the database, audited."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import orjson
from sqlalchemy import select

from ai_gateway.storage.budgets import BudgetSettings, effective_budget, set_client_budget
from ai_gateway.storage.tables import AuditLog
from tests.harness import Harness

BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


async def chat(h: Harness, key: str) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            h.url + "/v1/chat/completions", data=orjson.dumps(BODY), headers=h.headers(key)
        ) as resp,
    ):
        return resp.status, await resp.json()


async def test_reaching_a_tiny_budget_pauses_the_client(harness: Harness) -> None:
    client, key = harness.new_client("tiny", plan="free")
    with harness.db.write() as s:
        set_client_budget(
            s,
            client_id=client.id,
            settings=BudgetSettings("tokens", Decimal(10), "daily", (50, 100), True),
            actor="test",
        )

    first, _ = await chat(harness, key)
    second, body = await chat(harness, key)

    assert first == 200
    assert second == 403 and body["error"]["code"] == "client_paused"
    await harness.drain()
    await harness.gateway.alerter.drain()
    with harness.db.session() as s:
        budget = effective_budget(s, client_id=client.id)
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.client_id == client.id)))
    assert budget.is_paused and budget.current_usage >= 10
    assert actions.count("budget.pause") == 1
