"""What the gateway saved: the response cache and the providers' prompt caches, per day
and in total, with the cost reduction they add up to; in analytics (client and admin)
and in billing, exact, and never across tenants."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.api.client import call
from tests.api.usage_rows import usage_row, write_rows
from tests.harness import Harness


def _rows(client_id: str) -> list[dict[str, object]]:
    return [
        # A miss that read 1500 cached prompt tokens: it cost 0.6, caching saved 0.15.
        usage_row(
            client_id,
            cost_usd=Decimal("0.6"),
            cost_brl=Decimal("3"),
            input_tokens=2000,
            cached_tokens=1500,
            cache_write_tokens=0,
            prompt_cache_saved_usd=Decimal("0.15"),
            prompt_cache_saved_brl=Decimal("0.75"),
        ),
        # A dear cache write two days ago: it saved a negative amount.
        usage_row(
            client_id,
            days_ago=2,
            cost_usd=Decimal("0.2"),
            cost_brl=Decimal("1"),
            input_tokens=1200,
            cache_write_tokens=1024,
            prompt_cache_saved_usd=Decimal("-0.01"),
            prompt_cache_saved_brl=Decimal("-0.05"),
        ),
        # A response-cache hit: free, it saved the 0.6 its entry had cost.
        usage_row(
            client_id,
            cache_hit=True,
            cost_usd=Decimal(0),
            cost_brl=Decimal(0),
            saved_usd=Decimal("0.6"),
            saved_brl=Decimal("3"),
        ),
    ]


async def test_savings_and_cost_reduction_per_day_and_in_total(harness: Harness) -> None:
    h = harness
    other, _ = h.new_client("globex")
    write_rows(h.db, _rows(h.client.id) + _rows(other.id))

    status, found = await call(h, "GET", "/api/analytics/gateway?period=7d")
    assert status == 200
    totals = found["savings"]["totals"]
    # spent 0.8; saved 0.6 (response cache) + 0.14 (prompt caches) = 0.74 of 1.54
    assert Decimal(totals["cost_usd"]) == Decimal("0.8")
    assert Decimal(totals["cache_saved_usd"]) == Decimal("0.6")
    assert Decimal(totals["prompt_cache_saved_usd"]) == Decimal("0.14")
    assert Decimal(totals["saved_brl"]) == Decimal("3.7")
    assert Decimal(totals["cost_without_savings_usd"]) == Decimal("1.54")
    assert Decimal(totals["cost_reduction_percent"]) == Decimal("48.05")  # 0.74 / 1.54
    series = found["savings"]["series"]
    assert len(series) == 2
    assert Decimal(series[0]["prompt_cache_saved_usd"]) == Decimal("-0.01")
    assert Decimal(series[1]["cost_reduction_percent"]) == Decimal("55.56")  # 0.75 / 1.35
    usage = found["totals"]
    assert (usage["cached_tokens"], usage["cache_write_tokens"]) == (1500, 1024)
    assert Decimal(usage["prompt_cache_saved_brl"]) == Decimal("0.70")

    status, everyone = await call(h, "GET", "/api/ai-gateway/metrics?period=7d", admin=True)
    assert status == 200
    assert Decimal(everyone["savings"]["totals"]["saved_usd"]) == Decimal("1.48")
    assert Decimal(everyone["savings"]["totals"]["cost_reduction_percent"]) == Decimal("48.05")
    assert everyone["totals"]["cache_write_tokens"] == 2048

    status, legacy = await call(h, "GET", "/api/analytics/gateway?period=7d&source=legacy")
    assert status == 200 and legacy["savings"]["series"] == []
    assert Decimal(legacy["savings"]["totals"]["cost_reduction_percent"]) == 0
    status, routed = await call(h, "GET", "/api/analytics/gateway?period=7d&source=gateway")
    assert routed["savings"]["totals"] == totals  # the usage log adds up to the roll-ups


async def test_billing_shows_prompt_cache_tokens_and_savings(harness: Harness) -> None:
    h = harness
    write_rows(h.db, _rows(h.client.id)[:1])
    month = datetime.now(UTC).strftime("%Y-%m")
    status, found = await call(h, "GET", f"/api/billing/summary?month={month}")
    assert status == 200
    [summary] = found["data"]
    assert (summary["cached_tokens"], summary["cache_write_tokens"]) == (1500, 0)
    assert Decimal(summary["prompt_cache_saved_usd"]) == Decimal("0.15")
    assert Decimal(summary["by_model"][0]["prompt_cache_saved_brl"]) == Decimal("0.75")
