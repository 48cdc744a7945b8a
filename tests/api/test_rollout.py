"""``/api/rollout/health``: the rollout stage from the client flags, the seed's gates from
the usage log (gateway calls against imported legacy ones) and the adoption counts."""

from __future__ import annotations

from decimal import Decimal

import httpx

from ai_gateway.storage.clients import update_client
from tests.api.client import call
from tests.api.usage_rows import usage_row, write_rows
from tests.harness import Harness


def _gates(body: dict[str, object], stage: str) -> dict[str, dict[str, object]]:
    stages = {s["stage"]: s for s in body["stages"]}  # type: ignore[attr-defined]
    return {g["metric"]: g for g in stages[stage]["gates"]}


async def test_gates_from_gateway_and_legacy_calls(harness: Harness) -> None:
    h = harness
    # 4 clients, 1 on the gateway (acme): 25 % -> stage "25".
    others = [h.new_client(f"tenant-{i}")[0] for i in range(3)]
    with h.db.write() as s:
        update_client(s, client_id=h.client.id, changes={"use_ai_gateway": True})
    # Gateway calls: 10 answered, 4 of them cache hits, 0 errors; 3 conversations.
    gateway_rows = [
        usage_row(
            h.client.id,
            route="gateway",
            latency_ms=ms,
            conversation_id=f"c{ms % 3}",
            cost_brl=Decimal("0.30"),
        )
        for ms in (100, 200, 300, 400, 500, 600)
    ] + [
        usage_row(
            h.client.id,
            route="gateway",
            cache_hit=True,
            cost_brl=Decimal(0),
            saved_brl=Decimal("0.30"),
            latency_ms=1,
            conversation_id="c0",
        )
        for _ in range(4)
    ]
    # Legacy calls (imported): slower, one error in four.
    legacy_rows = [
        usage_row(others[0].id, route="legacy", latency_ms=ms, conversation_id="old")
        for ms in (300, 400, 500)
    ] + [usage_row(others[0].id, route="legacy", status="error", latency_ms=50)]
    old = usage_row(h.client.id, route="gateway", status="error", days_ago=40)  # outside 30d
    write_rows(h.db, [*gateway_rows, *legacy_rows, old], cache_lookup=False)

    status, body = await call(h, "GET", "/api/rollout/health?period=30d", admin=True)
    assert status == 200, body
    assert body["stage"] == "25" and body["share_percent"] == 25.0
    gw, legacy = body["gateway"], body["legacy"]
    assert gw["requests"] == 10 and gw["errors"] == 0 and gw["cache_hits"] == 4
    assert gw["cache_hit_rate"] == 40.0 and gw["conversations"] == 3
    assert Decimal(gw["cost_brl"]) == Decimal("1.80")
    assert Decimal(gw["saved_brl"]) == Decimal("1.20")
    assert Decimal(gw["cost_per_conversation_brl"]) == Decimal("0.6")
    # Latency of answered, uncached calls: 100..600 -> P50 350 (percentile_cont).
    assert gw["p50_ms"] == 350.0
    assert legacy["requests"] == 4 and legacy["errors"] == 1 and legacy["error_rate"] == 25.0
    assert legacy["p50_ms"] == 400.0

    metrics = body["metrics"]
    assert metrics["error_rate"] == 0.0
    assert metrics["cache_hit_rate"] == 40.0
    assert metrics["cost_reduction"] == 40.0  # 1.20 saved of 3.00 without the cache
    assert metrics["overhead_ms"] == -50.0  # gateway P50 350 against legacy 400
    beta = _gates(body, "beta")
    assert beta["error_rate"]["passed"] is True and beta["overhead_ms"]["passed"] is True
    assert beta["cache_hit_rate"]["passed"] is True  # 40 > 30
    fifty = _gates(body, "50")
    assert fifty["cache_hit_rate"]["passed"] is False and fifty["cost_reduction"]["passed"]
    stages = {s["stage"]: s["passed"] for s in body["stages"]}
    assert stages["beta"] is True and stages["25"] is True and stages["50"] is False
    # Nobody signed in and nobody has a budget of their own: adoption gates fail.
    assert body["adoption"] == {
        "clients": 4,
        "gateway_clients": 1,
        "dashboard_users": 0,
        "budget_users": 0,
    }
    assert _gates(body, "100")["dashboard_usage"]["passed"] is False


async def test_adoption_counts_sign_ins_and_budgets(harness: Harness) -> None:
    h = harness
    _other, other_key = h.new_client("tenant-b")
    budget = {"budget_type": "brl", "limit": "50", "period": "monthly"}
    status, _ = await call(h, "POST", "/api/budget/config", key=other_key, json=budget)
    assert status == 200
    async with httpx.AsyncClient(base_url=h.url) as http:
        for _ in range(2):  # two sign-ins of one client count once
            http.cookies.clear()
            token = (await http.get("/signin")).cookies["aigw_signin_csrf"]
            response = await http.post(
                "/signin", data={"api_key": h.key, "csrf_token": token, "next": "/dashboard"}
            )
            assert response.status_code == 303
    status, body = await call(h, "GET", "/api/rollout/health?period=7d", admin=True)
    assert status == 200
    assert body["adoption"]["dashboard_users"] == 1
    assert body["adoption"]["budget_users"] == 1
    assert body["stage"] == "off"
    assert body["metrics"]["dashboard_usage"] == 50.0
    # No gateway call in the window: the call gates have no data, and do not pass.
    beta = _gates(body, "beta")
    assert beta["error_rate"]["value"] is None and beta["error_rate"]["passed"] is None
    status, _ = await call(h, "GET", "/api/rollout/health", key=other_key)
    assert status == 403
    status, _ = await call(h, "GET", "/api/rollout/health?period=1y", admin=True)
    assert status == 400
