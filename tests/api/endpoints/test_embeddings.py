"""``POST /v1/embeddings``: the official SDK (base64 by default), float, OpenAI, Google,
the upstream gateway, the simulated provider, the tenant cache, metering and bad input."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from openai import AsyncOpenAI

from tests.api.endpoints.helpers import assert_priced, rows
from tests.fakes.fake_providers import fake_vector
from tests.harness import PROVIDER_KEYS, Harness

URL = "/v1/embeddings"


async def post(h: Harness, body: object, key: str | None = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=h.url, timeout=30) as http:
        return await http.post(URL, json=body, headers=h.headers(key))


async def test_openai_sdk_embeddings_are_metered_per_input_token(harness: Harness) -> None:
    client = AsyncOpenAI(base_url=harness.url + "/v1", api_key=harness.key, max_retries=0)
    answer = await client.embeddings.create(
        model="openai/text-embedding-3-small", input=["olá mundo", "second text"]
    )
    await client.close()
    # The SDK asks for base64 and decodes it: the vectors arrive as the upstream sent them.
    assert [d.embedding for d in answer.data] == [
        fake_vector("olá mundo", 0, None),
        fake_vector("second text", 1, None),
    ]
    assert answer.model == "openai/text-embedding-3-small"
    upstream = harness.fake.last_request("openai")
    assert upstream.path.endswith("/embeddings")
    assert upstream.headers["authorization"] == f"Bearer {PROVIDER_KEYS['openai']}"
    assert upstream.body["model"] == "text-embedding-3-small"
    assert upstream.body["encoding_format"] == "float"

    await harness.drain()
    [row] = rows(harness)
    assert (row.endpoint, row.status, row.provider) == ("embeddings", "success", "openai")
    assert row.input_tokens == answer.usage.prompt_tokens > 0 and row.output_tokens == 0
    assert_priced(row, Decimal(row.input_tokens) * Decimal("0.02") / 1_000_000)
    assert harness.budget_usage(harness.client.id) == row.cost_brl


async def test_google_batch_embed_contents_with_dimensions(harness: Harness) -> None:
    response = await post(
        harness,
        {
            "model": "google/gemini-embedding-001",
            "input": "texto em português",
            "dimensions": 5,
            "encoding_format": "float",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == [
        {"object": "embedding", "index": 0, "embedding": fake_vector("texto em português", 0, 5)}
    ]
    sent = harness.fake.last_request("google")
    assert sent.path.endswith("/models/gemini-embedding-001:batchEmbedContents")
    assert sent.headers["x-goog-api-key"] == PROVIDER_KEYS["google"]
    assert sent.body == {
        "requests": [
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "texto em português"}]},
                "outputDimensionality": 5,
            }
        ]
    }
    await harness.drain()
    [row] = rows(harness)
    # Gemini reports no tokens: the row bills the gateway's estimate and says so.
    assert row.input_tokens == body["usage"]["prompt_tokens"] == 5
    assert row.telemetry is not None and row.telemetry["usage_estimated"] is True
    assert_priced(row, Decimal(5) * Decimal("0.15") / 1_000_000)


async def test_gateway_route_sends_embeddings_through_the_upstream_gateway(
    harness: Harness,
) -> None:
    _client, key = harness.new_client("embed-via-gateway", use_ai_gateway=True)
    harness.gateway.pipeline._gateway_enabled = True  # ENABLE_AI_GATEWAY, as at start-up
    response = await post(
        harness, {"model": "openai/text-embedding-3-small", "input": "via gateway"}, key=key
    )
    assert response.status_code == 200, response.text
    sent = harness.fake.last_request("gateway")
    assert sent.path == "/gateway/v1/embeddings"
    assert sent.body["model"] == "openai/text-embedding-3-small"
    assert (
        sent.body["providerOptions"]["gateway"]["byok"]["openai"][0]["apiKey"]
        == (PROVIDER_KEYS["openai"])
    )
    assert harness.fake.requests_for("openai") == []
    await harness.drain()
    assert rows(harness)[0].route == "gateway"


async def test_simulated_embeddings_are_deterministic_and_cached_per_tenant(
    harness: Harness,
) -> None:
    body = {"model": "simulated/demo-embed", "input": ["a", "bb"], "encoding_format": "base64"}
    first = await post(harness, body)
    second = await post(harness, {**body, "encoding_format": "float"})
    assert first.status_code == second.status_code == 200
    assert first.headers["x-ai-gateway-cache"] == "MISS"
    assert second.headers["x-ai-gateway-cache"] == "HIT"  # one entry serves both encodings
    vectors = [d["embedding"] for d in second.json()["data"]]
    assert len(vectors) == 2 and len(vectors[0]) == 256
    assert abs(sum(x * x for x in vectors[0]) - 1) < 1e-9
    assert isinstance(first.json()["data"][0]["embedding"], str)

    _other, other_key = harness.new_client("embed-other")
    third = await post(harness, body, key=other_key)
    assert third.headers["x-ai-gateway-cache"] == "MISS"  # another tenant: its own entry
    assert [d["embedding"] for d in (await post(harness, body, key=other_key)).json()["data"]]

    await harness.drain()
    miss, hit, *_ = rows(harness)
    assert (miss.cache_hit, hit.cache_hit) == (False, True)
    assert hit.cost_usd == 0 and hit.saved_usd == miss.cost_usd > 0
    assert {r.endpoint for r in rows(harness)} == {"embeddings"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": "openai/text-embedding-3-small"}, "input"),
        ({"model": "openai/text-embedding-3-small", "input": []}, "input"),
        ({"model": "openai/text-embedding-3-small", "input": [[1, 2, 3]]}, "input[0]"),
        ({"model": "openai/text-embedding-3-small", "input": [""]}, "input[0]"),
        ({"model": "openai/text-embedding-3-small", "input": "x", "dimensions": 0}, "dimensions"),
        (
            {"model": "openai/text-embedding-3-small", "input": "x", "encoding_format": "hex"},
            "encoding_format",
        ),
        ({"model": "openai/gpt-4o-mini", "input": "x"}, "model"),
    ],
)
async def test_bad_input_is_a_400_without_an_upstream_call(
    harness: Harness, body: dict[str, object], param: str
) -> None:
    response = await post(harness, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert harness.fake.requests == []


async def test_an_embedding_model_on_chat_completions_is_a_400(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        response = await http.post(
            "/v1/chat/completions",
            json={
                "model": "openai/text-embedding-3-small",
                "messages": [{"role": "user", "content": "hi"}],
            },
            headers=harness.headers(),
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "model_kind_mismatch"
    assert harness.fake.requests == []
