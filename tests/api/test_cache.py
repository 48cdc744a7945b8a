"""``/api/ai-gateway/cache``: entries and savings, and invalidation that a client key
can only aim at its own entries."""

from __future__ import annotations

from decimal import Decimal

from tests.api.client import call
from tests.api.usage_rows import usage_row, write_rows
from tests.harness import Harness


def chat(text: str) -> dict[str, object]:
    return {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}]}


async def test_cache_entries_savings_and_invalidation(harness: Harness) -> None:
    h = harness
    other, other_key = h.new_client("globex")
    for text in ("one", "two"):
        assert (await call(h, "POST", "/v1/chat/completions", json=chat(text)))[0] == 200
    assert (await call(h, "POST", "/v1/chat/completions", key=other_key, json=chat("x")))[0] == 200
    write_rows(
        h.db,
        [
            usage_row(
                h.client.id, cache_hit=True, saved_usd=Decimal("0.01"), saved_brl=Decimal("0.05")
            )
        ],
    )

    status, own = await call(h, "GET", "/api/ai-gateway/cache")
    assert status == 200 and own["count"] == 2
    assert {e["client_id"] for e in own["data"]} == {h.client.id}
    assert own["savings"]["hits"] == 1 and own["savings"]["saved_brl"] == "0.0500000000"
    _, theirs = await call(h, "GET", "/api/ai-gateway/cache", key=other_key)
    [their_entry] = theirs["data"]
    assert theirs["savings"]["hits"] == 0

    status, _ = await call(h, "DELETE", f"/api/ai-gateway/cache?key={their_entry['key']}")
    assert status == 404  # not ours: as if it did not exist
    status, _ = await call(h, "DELETE", "/api/ai-gateway/cache?all=true")
    assert status == 403
    status, _ = await call(h, "DELETE", f"/api/ai-gateway/cache?client_id={other.id}")
    assert status == 403
    status, done = await call(h, "DELETE", f"/api/ai-gateway/cache?key={own['data'][0]['key']}")
    assert status == 200 and done["deleted"] == 1
    status, done = await call(h, "DELETE", "/api/ai-gateway/cache?model=openai/gpt-4o-mini")
    assert status == 200 and done["deleted"] == 1
    _, admin_view = await call(h, "GET", "/api/ai-gateway/cache", admin=True)
    assert [e["key"] for e in admin_view["data"]] == [their_entry["key"]]
    status, _ = await call(h, "DELETE", "/api/ai-gateway/cache", admin=True)
    assert status == 400  # no filter: refuse rather than guess
    status, done = await call(h, "DELETE", "/api/ai-gateway/cache?all=true", admin=True)
    assert status == 200 and done["deleted"] == 1
    for method, query in (
        ("GET", "limit=-1"),
        ("GET", "period=2d"),
        ("DELETE", "all=perhaps"),
        ("DELETE", "key=" + "k" * 500),
        ("DELETE", "key=x&model=y"),
    ):
        status, _ = await call(h, method, f"/api/ai-gateway/cache?{query}")
        assert status == 400, query
