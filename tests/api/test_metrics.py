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
