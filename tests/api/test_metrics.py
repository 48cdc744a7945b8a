"""``/api/ai-gateway/metrics``: every client's totals, breakdowns, chart series and
percentiles, all from the roll-ups the usage writer keeps."""

from __future__ import annotations

from decimal import Decimal

from tests.api.client import call
from tests.api.usage_rows import usage_row, write_rows
from tests.harness import Harness


async def test_metrics_over_every_client(harness: Harness) -> None:
    h = harness
    big, _ = h.new_client("big-spender")
    rows = [usage_row(h.client.id, latency_ms=ms) for ms in range(100, 1100, 100)]
    rows += [
        usage_row(
            big.id,
            model_used="anthropic/claude-3-opus",
            provider="anthropic",
            cost_usd=Decimal("1"),
            cost_brl=Decimal("5"),
            latency_ms=2000,
            days_ago=3,
        ),
        usage_row(big.id, status="error", latency_ms=50, cost_usd=Decimal(0), cost_brl=Decimal(0)),
        usage_row(big.id, days_ago=20),  # outside 7d
    ]
    write_rows(h.db, rows)
    status, m = await call(h, "GET", "/api/ai-gateway/metrics?period=7d&limit=5", admin=True)
    assert status == 200
    assert m["totals"]["requests"] == 12 and m["totals"]["errors"] == 1
    assert Decimal(m["totals"]["cost_usd"]) == Decimal("1.01")
    assert Decimal(m["totals"]["cost_brl"]) == Decimal("5.05")
    assert [c["client_name"] for c in m["top_clients"]] == ["big-spender", "acme"]
    providers = {p["provider"]: p["requests"] for p in m["by_provider"]}
    assert providers == {"openai": 11, "anthropic": 1}
    assert {x["model_id"] for x in m["by_model"]} == {
        "openai/gpt-4o-mini",
        "anthropic/claude-3-opus",
    }
    assert sum(p["requests"] for p in m["series"]) == 12 and len(m["series"]) == 2
    assert [p["day"] for p in m["series"]] == sorted(p["day"] for p in m["series"])
    # Histogram percentiles: within the 5 % bucket width of the true values.
    assert abs(m["latency"]["p50"] - 500) / 500 < 0.06
    assert abs(m["latency"]["p99"] - 2000) / 2000 < 0.06
    assert m["recent_requests"]["count"] == 12 and len(m["recent_requests"]["data"]) == 5
    _, month = await call(h, "GET", "/api/ai-gateway/metrics?period=30d", admin=True)
    assert month["totals"]["requests"] == 13

    for query in ("period=1y", "period=7", "limit=-1", "offset=-3", "period=7d;DROP TABLE x"):
        status, _ = await call(h, "GET", f"/api/ai-gateway/metrics?{query}", admin=True)
        assert status == 400, query
    status, capped = await call(
        h, "GET", "/api/ai-gateway/metrics?period=7d&limit=1000000", admin=True
    )
    assert status == 200 and len(capped["recent_requests"]["data"]) == 12


async def test_a_model_called_without_a_price_is_reported_until_priced(harness: Harness) -> None:
    import asyncio

    from sqlalchemy import update

    from ai_gateway.storage.tables import AiModel, UsageLog

    h = harness
    with h.db.write() as s:
        s.execute(
            update(AiModel)
            .where(AiModel.id == "openai/gpt-4o")
            .values(
                input_price_per_1m=None, output_price_per_1m=None, cached_input_price_per_1m=None
            )
        )
    h.gateway.config.invalidate()
    status, _ = await call(
        h,
        "POST",
        "/v1/chat/completions",
        json={"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "price?"}]},
    )
    assert status == 200
    await h.drain()
    with h.db.session() as s:
        row = s.query(UsageLog).one()
    assert row.unpriced and row.cost_usd == 0 and row.input_price_per_1m is None
    for _ in range(100):  # the alerter records it off the request path
        status, metrics = await call(h, "GET", "/api/ai-gateway/metrics", admin=True)
        if metrics["unpriced_models"]:
            break
        await asyncio.sleep(0.05)
    assert [u["model"] for u in metrics["unpriced_models"]] == ["openai/gpt-4o"]
    status, _ = await call(
        h,
        "PUT",
        "/api/ai-gateway/models/openai/gpt-4o",
        admin=True,
        json={"input_price_per_1m": "2.50", "output_price_per_1m": "10.00"},
    )
    assert status == 200
    assert (await call(h, "GET", "/api/ai-gateway/metrics", admin=True))[1]["unpriced_models"] == []
