"""A tenant cannot stop metering for everyone: over-long or hostile strings are bounded at
the edge, a row the database still refuses is quarantined (counted, listed, alerted once),
and every other row -- and the budget counter -- keeps moving."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import aiohttp
from sqlalchemy import func, select

from ai_gateway.storage.tables import GatewayAlert, UsageLog, UsageQuarantine, new_id
from ai_gateway.storage.usage import UsageRecord
from tests.api.client import call
from tests.fakes.fake_providers import Behaviour
from tests.harness import Harness

MESSAGES = [{"role": "user", "content": "hello"}]


def _rows(h: Harness) -> list[UsageLog]:
    with h.db.session() as s:
        return list(s.scalars(select(UsageLog)))


def _quarantined(h: Harness) -> int:
    with h.db.session() as s:
        return s.scalar(select(func.count()).select_from(UsageQuarantine)) or 0


async def test_an_over_long_model_cannot_stop_metering(harness: Harness) -> None:
    h = harness
    status, body = await call(
        h, "POST", "/v1/chat/completions", json={"model": "m" * 600, "messages": MESSAGES}
    )
    assert status == 400 and body["error"]["param"] == "model"
    async with aiohttp.ClientSession() as session:
        for i in range(50):
            async with session.post(
                h.url + "/v1/chat/completions",
                headers=h.headers(),
                json={
                    "model": "openai/gpt-4o-mini",
                    "messages": [{"role": "user", "content": f"q{i}"}],
                },
            ) as resp:
                assert resp.status == 200
    await h.drain()
    rows = _rows(h)
    assert len(rows) == 50 and _quarantined(h) == 0
    assert all(len(r.model_requested) <= 128 for r in rows)
    assert h.budget_usage(h.client.id) == sum((r.cost_brl for r in rows), Decimal(0)) > 0


async def test_upstream_and_caller_text_is_cut_to_its_column(harness: Harness) -> None:
    h = harness
    h.fake.enqueue("openai", Behaviour(headers={"x-request-id": "r" * 5000}))
    result = await h.gateway.call_ai(
        h.client.id, MESSAGES, model="openai/gpt-4o-mini", conversation_id="c" * 900
    )
    await h.drain()
    [row] = _rows(h)
    assert row.request_id == result.request_id and _quarantined(h) == 0
    assert row.upstream_request_id == "r" * 200
    assert row.conversation_id == "c" * 200
    assert h.budget_usage(h.client.id) == row.cost_brl > 0


def _unwritable(h: Harness) -> UsageRecord:
    """A row no engine accepts (no request id), as a bug elsewhere could queue."""
    row = {
        "id": new_id(),
        "client_id": h.client.id,
        "request_id": None,
        "model_requested": "openai/gpt-4o-mini",
        "route": "direct",
        "status": "success",
        "exchange_rate": Decimal(5),
        "created_at": datetime.now(UTC),
    }
    return UsageRecord(row=row, budget_amount=Decimal("0.25"))


async def test_a_quarantined_row_is_counted_listed_and_alerted_once(harness: Harness) -> None:
    h = harness
    h.gateway.usage.submit(_unwritable(h))
    h.gateway.usage.submit(_unwritable(h))
    status, _ = await call(
        h,
        "POST",
        "/v1/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": MESSAGES},
    )
    assert status == 200
    await h.drain()
    await h.gateway.alerter.drain()
    assert len(_rows(h)) == 1 and _quarantined(h) == 2
    [landed] = _rows(h)
    assert h.budget_usage(h.client.id) == landed.cost_brl + Decimal("0.50")

    h.gateway.usage.submit(_unwritable(h))
    await h.drain()
    await h.gateway.alerter.drain()
    with h.db.session() as s:
        alerts = list(
            s.scalars(select(GatewayAlert).where(GatewayAlert.kind == "usage_quarantined"))
        )
    assert len(alerts) == 1  # the operator is told once, not once per row

    async with aiohttp.ClientSession() as session, session.get(h.url + "/metrics") as resp:
        text = await resp.text()
    assert "ai_gateway_usage_quarantined_total 3.0" in text
    assert "ai_gateway_usage_queue 0.0" in text

    status, metrics = await call(h, "GET", "/api/ai-gateway/metrics", admin=True)
    assert status == 200 and metrics["usage_quarantine"]["count"] == 3
    status, listed = await call(h, "GET", "/api/ai-gateway/usage-quarantine", admin=True)
    assert status == 200 and listed["count"] == 3 and len(listed["data"]) == 3
    assert "request_id" in listed["data"][0]["reason"]
    status, _ = await call(h, "GET", "/api/ai-gateway/usage-quarantine")
    assert status == 403  # a client key never sees it
