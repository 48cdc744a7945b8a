"""What every codec route gets from the one pipeline: budget refusals before any call (in
the route's error shape), fallback, and streams that are metered when cut or abandoned."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import httpx
import pytest

from ai_gateway.storage.budgets import increment_budget_usage
from tests.api.endpoints.helpers import rows
from tests.fakes.fake_providers import Behaviour
from tests.harness import Harness

CHAT_BODIES = {
    "/v1/messages": {
        "model": "openai/gpt-4o",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "hi"}],
    },
    "/v1/responses": {"model": "openai/gpt-4o", "input": "hi", "store": False},
}
EMBED = {"model": "openai/text-embedding-3-small", "input": "hi"}


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/responses", "/v1/embeddings"])
async def test_an_exhausted_budget_is_refused_before_any_call(harness: Harness, path: str) -> None:
    client, key = harness.new_client("broke", plan="free")
    with harness.db.write() as s:
        increment_budget_usage(s, client_id=client.id, amount=Decimal("10"))
    body = CHAT_BODIES.get(path, EMBED)
    async with httpx.AsyncClient(base_url=harness.url) as http:
        response = await http.post(path, json=body, headers=harness.headers(key))
    assert response.status_code == 402
    payload = response.json()
    if path == "/v1/messages":
        assert payload["error"]["type"] == "billing_error"
    else:
        assert payload["error"]["code"] == "budget_exceeded"
    assert harness.fake.requests == []
    await harness.drain()
    [row] = rows(harness)
    assert row.status == "rejected" and row.endpoint == path.removeprefix("/v1/")


async def test_embeddings_fall_back_on_a_retryable_failure(harness: Harness) -> None:
    harness.fake.enqueue_failure("openai", status=503)
    body = {**EMBED, "fallback_models": ["simulated/demo-embed"]}
    async with httpx.AsyncClient(base_url=harness.url) as http:
        response = await http.post("/v1/embeddings", json=body, headers=harness.headers())
    assert response.status_code == 200
    assert response.headers["x-ai-gateway-model"] == "simulated/demo-embed"
    assert "x-ai-gateway-fallback" in response.headers
    await harness.drain()
    [row] = rows(harness)
    assert row.fallback_from == "openai/text-embedding-3-small" and row.endpoint == "embeddings"


async def test_a_chat_chain_does_not_leak_into_embeddings(harness: Harness) -> None:
    harness.fake.enqueue_failure("openai", status=503)
    harness.configure(fallback_chain=["openai/gpt-4o-mini", "groq/llama-3.3-70b"])
    async with httpx.AsyncClient(base_url=harness.url) as http:
        response = await http.post("/v1/embeddings", json=EMBED, headers=harness.headers())
    assert response.status_code == 502  # no chat model was tried for an embedding
    assert [r.provider for r in harness.fake.requests] == ["openai"]
    harness.configure(fallback_chain=[])


@pytest.mark.parametrize(
    ("path", "error_event"), [("/v1/messages", b"event: error"), ("/v1/responses", b"event: error")]
)
async def test_a_cut_stream_ends_with_the_routes_error_event_and_is_metered(
    harness: Harness, path: str, error_event: bytes
) -> None:
    harness.fake.enqueue("openai", Behaviour(cut_after_chunks=3, text="one two three four five"))
    async with httpx.AsyncClient(base_url=harness.url) as http:
        response = await http.post(
            path, json={**CHAT_BODIES[path], "stream": True}, headers=harness.headers()
        )
    assert response.status_code == 200
    assert error_event in response.content
    assert b"message_stop" not in response.content
    assert b"response.completed" not in response.content
    await harness.drain()
    [row] = rows(harness)
    assert row.status == "cut" and row.output_tokens > 0 and row.cost_usd > 0


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/responses"])
async def test_a_client_abandoning_a_stream_is_billed_for_what_was_generated(
    harness: Harness, path: str
) -> None:
    harness.fake.enqueue("openai", Behaviour(text=" ".join(["word"] * 200), chunk_delay=0.02))
    async with aiohttp.ClientSession() as session:
        resp = await session.post(
            harness.url + path,
            headers=harness.headers(),
            json={**CHAT_BODIES[path], "stream": True},
        )
        for _ in range(12):  # a few events arrived
            await resp.content.readline()
        resp.close()  # and the client goes away
    for _ in range(100):
        await harness.drain()
        if rows(harness):
            break
        await asyncio.sleep(0.05)
    [row] = rows(harness)
    assert row.status == "abandoned" and row.endpoint == path.removeprefix("/v1/")
    assert 0 < row.output_tokens < 200
    assert row.cost_usd > 0 and harness.budget_usage(harness.client.id) == row.cost_brl


async def test_rate_limits_apply_to_every_route_in_its_error_shape(harness: Harness) -> None:
    from tests.api.client import call

    h = harness
    await call(h, "PUT", f"/api/clients/{h.client.id}/limits", admin=True, json={"rpm": 3})
    async with httpx.AsyncClient(base_url=h.url) as http:
        served = [
            await http.post(path, json=body, headers=h.headers())
            for path, body in (
                ("/v1/embeddings", EMBED),
                ("/v1/messages", CHAT_BODIES["/v1/messages"]),
                ("/v1/responses", CHAT_BODIES["/v1/responses"]),
            )
        ]
        assert [r.status_code for r in served] == [200, 200, 200]
        assert served[0].headers["x-ratelimit-remaining-requests"] == "2"
        upstream = len(h.fake.requests)
        refused = await http.post(
            "/v1/messages", json=CHAT_BODIES["/v1/messages"], headers=h.headers()
        )
        limited = await http.post("/v1/embeddings", json=EMBED, headers=h.headers())
    assert refused.status_code == limited.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limit_error"  # Anthropic's shape
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"  # OpenAI's
    assert int(refused.headers["retry-after"]) >= 1
    assert len(h.fake.requests) == upstream
