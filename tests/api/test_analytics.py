"""``/api/analytics/gateway``: one client's analytics, exact percentiles, paging, the
drill-down, the CSV export, and the wall around another client's data."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from tests.api.client import call
from tests.api.usage_rows import usage_row, write_rows
from tests.harness import Harness

BASE = "/api/analytics/gateway"


def seed(h: Harness) -> str:
    other, _ = h.new_client("globex")
    a = h.client.id
    write_rows(
        h.db,
        [
            usage_row(a, conversation_id="c1", latency_ms=100),
            usage_row(
                a,
                conversation_id="c1",
                latency_ms=200,
                cache_hit=True,
                saved_usd=Decimal("0.002"),
                saved_brl=Decimal("0.01"),
            ),
            usage_row(a, conversation_id="c1", latency_ms=300),
            usage_row(
                a,
                conversation_id='=HYPERLINK("http://x")',
                latency_ms=400,
                model_used="groq/llama-3.3-70b",
                provider="groq",
                fallback_from="openai/gpt-4o-mini",
                fallback_attempts=2,
                fallback_reason="rate_limited",
            ),
            usage_row(
                a,
                latency_ms=50,
                status="error",
                error_code="upstream_failed",
                cost_usd=Decimal(0),
                cost_brl=Decimal(0),
            ),
            usage_row(a, conversation_id="old", latency_ms=999, days_ago=40),
            usage_row(other.id, conversation_id="globex-only", latency_ms=5000),
        ],
    )
    return other.id


async def test_client_analytics_are_exact_and_its_own(harness: Harness) -> None:
    h = harness
    other_id = seed(h)
    status, report = await call(h, "GET", BASE)
    assert status == 200 and report["client_id"] == h.client.id and report["period"] == "30d"
    totals = report["totals"]
    assert (totals["requests"], totals["errors"], totals["cache_hits"]) == (5, 1, 1)
    assert totals["fallbacks"] == 1 and totals["error_rate"] == 0.2
    assert totals["cost_brl"] == "0.0200000000"
    models = {m["model_id"]: m for m in report["by_model"]}
    # percentile_cont over 50, 100, 200, 300 (the groq call is another model)
    assert models["openai/gpt-4o-mini"]["latency"] == {"p50": 150.0, "p95": 285.0, "p99": 297.0}
    assert models["groq/llama-3.3-70b"]["latency"]["p50"] == 400.0
    assert models["openai/gpt-4o-mini"]["cache_hit_rate"] == 0.25
    assert report["cache"]["hits"] == 1 and report["cache"]["saved_brl"] == "0.0100000000"
    assert report["fallback_count"] == 1
    assert sum(p["requests"] for p in report["series"]) == 5
    assert other_id not in str(report) and "5000" not in str(report["latency"])

    _, longer = await call(h, "GET", BASE + "?period=60d")
    assert longer["totals"]["requests"] == 6

    status, fallbacks = await call(h, "GET", BASE + "/fallbacks")
    assert status == 200 and fallbacks["count"] == 1
    assert fallbacks["data"][0]["fallback_reason"] == "rate_limited"

    status, page = await call(h, "GET", BASE + "/conversations?limit=1")
    assert status == 200 and page["count"] == 2 and len(page["data"]) == 1
    _, page2 = await call(h, "GET", BASE + "/conversations?limit=1&offset=1")
    assert {page["data"][0]["conversation_id"], page2["data"][0]["conversation_id"]} == {
        "c1",
        '=HYPERLINK("http://x")',
    }

    status, calls = await call(h, "GET", BASE + "/conversations/c1")
    assert status == 200 and calls["count"] == 3
    assert [c["latency_ms"] for c in calls["data"]] == [100, 200, 300]
    status, _ = await call(h, "GET", BASE + "/conversations/globex-only")
    assert status == 404

    status, text = await call(h, "GET", BASE + "/conversations.csv")
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["conversation_id"] for r in rows} == {"c1", '\'=HYPERLINK("http://x")'}
    assert {r["requests"] for r in rows} == {"3", "1"}


async def test_admin_names_the_client_and_bad_input_is_a_4xx(harness: Harness) -> None:
    h = harness
    other_id = seed(h)
    status, report = await call(h, "GET", BASE + f"?client_id={other_id}", admin=True)
    assert status == 200 and report["totals"]["requests"] == 1
    assert report["latency"]["p50"] == 5000.0
    cases = [
        (BASE, True, 400),  # an admin must name the client
        (BASE + "?client_id=nope", True, 404),
        (BASE + f"?client_id={other_id}", False, 403),
        (BASE + "/conversations?client_id=' OR 1=1 --", False, 403),
        (BASE + "?period=1y", False, 400),
        (BASE + "?period=", False, 400),
        (BASE + "/conversations?limit=-1", False, 400),
        (BASE + "/conversations?offset=abc", False, 400),
        (BASE + "/fallbacks?limit=0", False, 400),
        (BASE + "/conversations/" + "x" * 300, False, 400),
    ]
    for path, admin, expected in cases:
        status, error = await call(h, "GET", path, admin=admin)
        assert status == expected, (path, error)
    status, page = await call(h, "GET", BASE + "/conversations?limit=99999")
    assert len(page["data"]) == 2
    assert status == 200  # capped


async def test_legacy_and_gateway_sources_are_shown_apart(harness: Harness) -> None:
    """The migration's toggle: imported legacy usage, gateway calls, or both."""
    h = harness
    write_rows(
        h.db,
        [
            usage_row(
                h.client.id,
                route="legacy",
                conversation_id="old-1",
                latency_ms=900,
                cost_brl=Decimal("0.0100000000"),
                days_ago=2,
            ),
            usage_row(
                h.client.id,
                route="legacy",
                conversation_id="old-1",
                latency_ms=700,
                cost_brl=Decimal("0.0100000000"),
                days_ago=2,
            ),
            usage_row(
                h.client.id,
                route="gateway",
                conversation_id="new-1",
                latency_ms=100,
                cache_hit=True,
            ),
            usage_row(h.client.id, route="direct", conversation_id="new-2", latency_ms=300),
        ],
    )
    seen = {}
    for source in ("all", "gateway", "legacy"):
        status, body = await call(
            h, "GET", "/api/analytics/gateway", params={"source": source, "period": "7d"}
        )
        assert status == 200 and body["source"] == source
        seen[source] = body
    assert [seen[s]["totals"]["requests"] for s in ("all", "gateway", "legacy")] == [4, 2, 2]
    assert Decimal(seen["legacy"]["totals"]["cost_brl"]) == Decimal("0.02")
    assert seen["legacy"]["latency"]["p50"] == 800.0
    assert sum(p["requests"] for p in seen["legacy"]["series"]) == 2
    assert [m["model_id"] for m in seen["legacy"]["by_model"]] == ["openai/gpt-4o-mini"]
    status, legacy_conversations = await call(
        h, "GET", "/api/analytics/gateway/conversations", params={"source": "legacy"}
    )
    assert [c["conversation_id"] for c in legacy_conversations["data"]] == ["old-1"]
    status, csv_text = await call(
        h, "GET", "/api/analytics/gateway/conversations.csv", params={"source": "gateway"}
    )
    ids = {r["conversation_id"] for r in csv.DictReader(io.StringIO(csv_text))}
    assert ids == {"new-1", "new-2"}
    status, error = await call(h, "GET", "/api/analytics/gateway", params={"source": "old"})
    assert status == 400 and error["error"]["param"] == "source"


async def test_usage_is_broken_down_by_endpoint(harness: Harness) -> None:
    h = harness
    write_rows(
        h.db,
        [
            usage_row(h.client.id),
            usage_row(h.client.id, endpoint="embeddings", cost_brl=Decimal("0.0001")),
            usage_row(h.client.id, endpoint="embeddings", cost_brl=Decimal("0.0002")),
            usage_row(
                h.client.id,
                endpoint="audio.transcriptions",
                cost_usd=Decimal("0.006"),
                cost_brl=Decimal("0.03"),
            ),
        ],
    )
    status, report = await call(h, "GET", BASE)
    assert status == 200
    by_endpoint = {e["endpoint"]: e for e in report["by_endpoint"]}
    assert set(by_endpoint) == {"chat.completions", "embeddings", "audio.transcriptions"}
    assert by_endpoint["embeddings"]["requests"] == 2
    assert by_endpoint["embeddings"]["cost_brl"] == "0.0003000000"
    assert report["by_endpoint"][0]["endpoint"] == "audio.transcriptions"  # dearest first
