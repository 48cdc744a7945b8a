"""``/api/billing/summary``: a month's cost per client with the plan's markup, exact."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.api.client import call
from tests.api.usage_rows import usage_row, write_rows
from tests.harness import Harness


async def test_billing_summary_prices_with_the_markup(harness: Harness) -> None:
    h = harness
    other, other_key = h.new_client("globex", plan="free")
    write_rows(
        h.db,
        [
            usage_row(h.client.id, cost_usd=Decimal("0.5"), cost_brl=Decimal("2.5")),
            usage_row(
                h.client.id,
                model_used="groq/llama-3.3-70b",
                provider="groq",
                cost_usd=Decimal("0.25"),
                cost_brl=Decimal("1.25"),
                input_tokens=10,
                output_tokens=5,
            ),
            usage_row(other.id, cost_usd=Decimal("1"), cost_brl=Decimal("5")),
        ],
    )
    month = datetime.now(UTC).strftime("%Y-%m")
    status, own = await call(h, "GET", f"/api/billing/summary?month={month}")
    assert status == 200 and own["count"] == 1
    [summary] = own["data"]
    assert summary["client_id"] == h.client.id and other.id not in str(own)
    assert summary["cost_brl"] == "3.7500000000"
    assert Decimal(summary["markup_percent"]) == Decimal(30)
    assert Decimal(summary["suggested_price_brl"]) == Decimal("4.875")
    assert Decimal(summary["margin_brl"]) == Decimal("1.125")
    assert Decimal(summary["suggested_price_usd"]) == Decimal("0.975")
    assert summary["total_tokens"] == 150 + 15
    assert [line["name"] for line in summary["by_model"]] == [
        "openai/gpt-4o-mini",
        "groq/llama-3.3-70b",
    ]
    assert {line["name"] for line in summary["by_provider"]} == {"openai", "groq"}

    _, everyone = await call(h, "GET", f"/api/billing/summary?month={month}", admin=True)
    assert [s["client_id"] for s in everyone["data"]] == [other.id, h.client.id]
    _, one = await call(h, "GET", f"/api/billing/summary?client_id={other.id}", admin=True)
    assert [s["client_id"] for s in one["data"]] == [other.id]
    _, empty = await call(h, "GET", "/api/billing/summary?month=2001-01")
    assert empty["data"][0]["cost_brl"] == "0" and empty["data"][0]["requests"] == 0

    status, _ = await call(h, "GET", f"/api/billing/summary?client_id={h.client.id}", key=other_key)
    assert status == 403
    for bad in ("2026-13", "26-01", "2026-1", "abc", "2026-00", "1999-12", "2026-01-01"):
        status, _ = await call(h, "GET", f"/api/billing/summary?month={bad}")
        assert status == 400, bad
    status, _ = await call(h, "GET", "/api/billing/summary?client_id=nope", admin=True)
    assert status == 404
