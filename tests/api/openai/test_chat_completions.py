"""``POST /v1/chat/completions`` end to end: the official SDK, every provider, fallback,
the breaker, streaming (finished, cut, abandoned), cache, metering and bad input."""

from __future__ import annotations

import asyncio
import io
from decimal import Decimal

import aiohttp
import orjson
import pytest
from multidict import CIMultiDict
from openai import AsyncOpenAI, OpenAI
from sqlalchemy import select

from ai_gateway.storage.tables import UsageLog
from tests.fakes.fake_providers import Behaviour
from tests.harness import PROVIDER_KEYS, Harness

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]


def sdk(h: Harness, key: str | None = None) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=h.url + "/v1", api_key=key or h.key, max_retries=0)


async def post(
    h: Harness, body: object, *, key: str | None = None, raw: bytes | None = None, **headers: str
) -> tuple[int, CIMultiDict[str], dict]:
    data: object = raw if raw is not None else orjson.dumps(body)
    if isinstance(data, bytes) and len(data) > 1_000_000:
        data = io.BytesIO(data)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            h.url + "/v1/chat/completions",
            data=data,
            headers={**h.headers(key), "Content-Type": "application/json", **headers},
        ) as resp,
    ):
        payload = await resp.read()
        return resp.status, CIMultiDict(resp.headers), orjson.loads(payload) if payload else {}


def rows(h: Harness) -> list[UsageLog]:
    with h.db.session() as s:
        return list(s.scalars(select(UsageLog).order_by(UsageLog.id)))


async def test_openai_sdk_non_streaming_sends_the_shared_key(harness: Harness) -> None:
    client = sdk(harness)
    raw = await client.chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=MESSAGES, extra_headers={"X-Conversation-Id": "c-1"}
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "Fake openai answer to: hello"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    assert raw.headers["x-ai-gateway-cache"] == "MISS"
    assert raw.headers["x-ai-gateway-provider"] == "openai"
    assert raw.headers["x-ai-gateway-model"] == "openai/gpt-4o-mini"
    assert raw.headers["x-request-id"]
    upstream = harness.fake.last_request("openai")
    assert upstream.headers["authorization"] == f"Bearer {PROVIDER_KEYS['openai']}"
    assert harness.key not in str(upstream.headers)
    assert upstream.body["model"] == "gpt-4o-mini"
    await client.close()

    await harness.drain()
    [row] = rows(harness)
    assert (row.client_id, row.conversation_id, row.status) == (harness.client.id, "c-1", "success")
    assert row.route == "direct" and row.provider == "openai"
    expected = (
        Decimal(row.input_tokens - row.cached_tokens) * Decimal("0.15")
        + Decimal(row.cached_tokens) * Decimal("0.075")
        + Decimal(row.output_tokens) * Decimal("0.60")
    ) / Decimal(1_000_000)
    assert row.cost_usd == expected.quantize(Decimal("1e-10"))
    assert row.exchange_rate == Decimal("5.00")
    assert row.cost_brl == (row.cost_usd * Decimal("5.00")).quantize(Decimal("1e-10"))
    assert harness.budget_usage(harness.client.id) == row.cost_brl


async def test_sync_sdk_in_a_thread(harness: Harness) -> None:
    def call() -> str | None:
        with OpenAI(base_url=harness.url + "/v1", api_key=harness.key, max_retries=0) as c:
            out = c.chat.completions.create(model="groq/llama-3.3-70b", messages=MESSAGES)
            return out.choices[0].message.content

    assert await asyncio.to_thread(call) == "Fake groq answer to: hello"


@pytest.mark.parametrize(
    "model",
    [
        "openai/gpt-4o",
        "anthropic/claude-3-5-sonnet",
        "groq/llama-3.3-70b",
        "google/gemini-2.0-flash",
    ],
)
async def test_every_provider_streams_through_the_sdk(harness: Harness, model: str) -> None:
    provider = model.split("/")[0]
    client = sdk(harness)
    stream = await client.chat.completions.create(
        model=model, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    text, usage = "", None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage:
            usage = chunk.usage
    await client.close()
    assert text == f"Fake {provider} answer to: hello"
    assert usage is not None and usage.completion_tokens > 0
    await harness.drain()
    [row] = rows(harness)
    assert row.is_stream and row.status == "success" and row.model_used == model
    assert row.output_tokens == usage.completion_tokens
    assert row.ttft_ms is not None
    key_header = {"anthropic": "x-api-key", "google": "x-goog-api-key"}.get(
        provider, "authorization"
    )
    assert PROVIDER_KEYS[provider] in harness.fake.last_request(provider).headers[key_header]


async def test_fallback_on_a_retryable_failure(harness: Harness) -> None:
    harness.fake.enqueue_failure("openai", status=503)
    status, headers, body = await post(
        harness,
        {
            "model": "openai/gpt-4o",
            "messages": MESSAGES,
            "fallback_models": ["anthropic/claude-3-5-sonnet"],
        },
    )
    assert status == 200
    assert headers["x-ai-gateway-model"] == "anthropic/claude-3-5-sonnet"
    assert "openai/gpt-4o->anthropic/claude-3-5-sonnet" in headers["x-ai-gateway-fallback"]
    assert body["choices"][0]["message"]["content"] == "Fake anthropic answer to: hello"
    await harness.drain()
    [row] = rows(harness)
    assert row.fallback_from == "openai/gpt-4o" and row.fallback_attempts == 1
    assert row.fallback_reason == "server_error" and row.model_used == "anthropic/claude-3-5-sonnet"


async def test_rate_limit_and_timeout_fall_back_too(harness: Harness) -> None:
    harness.configure(read_timeout_s=Decimal("0.3"))
    harness.fake.enqueue_failure("openai", status=429)
    harness.fake.enqueue("groq", hang=True)
    status, headers, _ = await post(
        harness,
        {
            "model": "openai/gpt-4o",
            "messages": MESSAGES,
            "fallback_models": ["groq/llama-3.3-70b", "google/gemini-2.0-flash"],
        },
    )
    assert status == 200
    assert headers["x-ai-gateway-model"] == "google/gemini-2.0-flash"
    assert "attempts=2" in headers["x-ai-gateway-fallback"]


async def test_a_provider_400_does_not_fall_back(harness: Harness) -> None:
    harness.fake.enqueue_failure("openai", status=400)
    status, _, body = await post(
        harness,
        {
            "model": "openai/gpt-4o",
            "messages": MESSAGES,
            "fallback_models": ["anthropic/claude-3-5-sonnet"],
        },
    )
    assert status == 400
    assert body["error"]["code"] == "upstream_bad_request"
    assert harness.fake.requests_for("anthropic") == []


async def test_whole_chain_failing_is_a_502_and_is_logged(harness: Harness) -> None:
    harness.fake.enqueue_failure("openai", status=500)
    harness.fake.enqueue_failure("anthropic", status=529)
    status, _, body = await post(
        harness,
        {
            "model": "openai/gpt-4o",
            "messages": MESSAGES,
            "fallback_models": ["anthropic/claude-3-5-sonnet"],
        },
    )
    assert status == 502 and body["error"]["type"] == "upstream_error"
    await harness.drain()
    [row] = rows(harness)
    assert row.status == "error" and row.cost_usd == 0
    assert harness.budget_usage(harness.client.id) == 0


async def test_breaker_skips_a_dead_provider(harness: Harness) -> None:
    for _ in range(5):
        harness.fake.enqueue_failure("groq", status=500)
    body = {
        "model": "groq/llama-3.3-70b",
        "messages": MESSAGES,
        "fallback_models": ["openai/gpt-4o-mini"],
    }
    for _ in range(5):
        assert (await post(harness, body, **{"Cache-Control": "no-store"}))[0] == 200
    calls = len(harness.fake.requests_for("groq"))
    status, headers, _ = await post(harness, body, **{"Cache-Control": "no-store"})
    assert status == 200 and headers["x-ai-gateway-model"] == "openai/gpt-4o-mini"
    assert len(harness.fake.requests_for("groq")) == calls  # not even tried
    assert "reason=circuit_open" in headers["x-ai-gateway-fallback"]


async def test_cache_hit_costs_nothing_and_saves_money(harness: Harness) -> None:
    body = {"model": "openai/gpt-4o", "messages": MESSAGES, "temperature": 0}
    first = await post(harness, body)
    second = await post(harness, {"temperature": 0, "messages": MESSAGES, "model": "openai/gpt-4o"})
    assert first[1]["x-ai-gateway-cache"] == "MISS" and second[1]["x-ai-gateway-cache"] == "HIT"
    assert second[2] == first[2]
    assert len(harness.fake.requests_for("openai")) == 1
    await harness.drain()
    miss, hit = rows(harness)
    assert hit.cache_hit and hit.cost_usd == 0 and hit.saved_usd == miss.cost_usd > 0
    assert hit.saved_brl == miss.cost_brl
    assert harness.budget_usage(harness.client.id) == miss.cost_brl


async def test_gateway_route_passes_byok_and_fallbacks(harness: Harness) -> None:
    _client, key = harness.new_client("via-gateway", use_ai_gateway=True)
    harness.gateway.pipeline._gateway_enabled = True  # ENABLE_AI_GATEWAY, as set at start-up
    status, headers, _ = await post(
        harness,
        {
            "model": "anthropic/claude-3-5-sonnet",
            "messages": MESSAGES,
            "fallback_models": ["openai/gpt-4o"],
        },
        key=key,
    )
    assert status == 200 and headers["x-ai-gateway-provider"] == "anthropic"
    sent = harness.fake.last_request("gateway")
    assert sent.headers["authorization"] == f"Bearer {PROVIDER_KEYS['gateway']}"
    assert sent.body["model"] == "anthropic/claude-3-5-sonnet"
    gateway_options = sent.body["providerOptions"]["gateway"]
    assert gateway_options["models"] == ["openai/gpt-4o"]
    assert gateway_options["byok"]["anthropic"][0]["apiKey"] == PROVIDER_KEYS["anthropic"]
    assert harness.fake.requests_for("anthropic") == []
    await harness.drain()
    assert rows(harness)[0].route == "gateway"


async def test_stream_cut_ends_with_an_error_event_and_is_metered(harness: Harness) -> None:
    harness.fake.enqueue("openai", Behaviour(cut_after_chunks=3, text="one two three four five"))
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            harness.url + "/v1/chat/completions",
            headers=harness.headers(),
            json={"model": "openai/gpt-4o", "messages": MESSAGES, "stream": True},
        ) as resp,
    ):
        assert resp.status == 200
        events = (await resp.read()).decode().strip().split("\n\n")
    assert '"code":"stream_cut"' in events[-1]
    assert "[DONE]" not in events[-1]
    await harness.drain()
    [row] = rows(harness)
    assert row.status == "cut" and row.output_tokens > 0 and row.cost_usd > 0


async def test_client_abandoning_a_stream_is_billed_for_what_was_generated(
    harness: Harness,
) -> None:
    harness.fake.enqueue("openai", Behaviour(text=" ".join(["word"] * 200), chunk_delay=0.02))
    async with aiohttp.ClientSession() as session:
        resp = await session.post(
            harness.url + "/v1/chat/completions",
            headers=harness.headers(),
            json={"model": "openai/gpt-4o", "messages": MESSAGES, "stream": True},
        )
        for _ in range(10):  # a few events arrived
            await resp.content.readline()
        resp.close()  # and the client goes away
    for _ in range(100):
        await harness.drain()
        if rows(harness):
            break
        await asyncio.sleep(0.05)
    [row] = rows(harness)
    assert row.status == "abandoned"
    assert 0 < row.output_tokens < 200
    assert row.cost_usd > 0 and harness.budget_usage(harness.client.id) == row.cost_brl


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"model": "openai/gpt-4o"}', "messages is required"),
        (b'{"messages": []}', "non-empty list"),
        (b'{"messages": [{"role": "wizard", "content": "x"}]}', "role must be one of"),
        (
            b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": 99999999999}',
            "max_tokens",
        ),
        (b'{"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}', "temperature"),
        (b'{"messages": [{"role": "user", "content": 5}]}', "content"),
        (b'{"messages": [{"role": "user", "content": "x"}], "stream": "yes"}', "stream"),
    ],
)
async def test_bad_input_is_a_400_and_never_goes_upstream(
    harness: Harness, raw: bytes, message: str
) -> None:
    status, _, body = await post(harness, None, raw=raw)
    assert status == 400
    assert message in body["error"]["message"]
    assert body["error"]["type"] == "invalid_request_error"
    assert harness.fake.requests == []


async def test_a_body_over_the_limit_is_a_413(harness: Harness) -> None:
    huge = {"messages": [{"role": "user", "content": "x" * 2_000_000}]}
    status, _, body = await post(harness, huge)
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    assert harness.fake.requests == []


async def test_keys_and_models_are_checked(harness: Harness) -> None:
    assert (await post(harness, {"messages": MESSAGES}, key="aigw_wrong"))[0] == 401
    status, _, body = await post(harness, {"messages": MESSAGES}, key=harness.admin_key)
    assert status == 403
    status, _, body = await post(harness, {"model": "openai/gpt-9", "messages": MESSAGES})
    assert status == 404 and "openai/gpt-4o-mini" in body["error"]["message"]
    async with (
        aiohttp.ClientSession() as session,
        session.post(harness.url + "/v1/chat/completions", json={"messages": MESSAGES}) as resp,
    ):
        assert resp.status == 401


async def test_models_list(harness: Harness) -> None:
    client = sdk(harness)
    models = {m.id: m async for m in client.models.list()}
    await client.close()
    # The seed's six chat models, the simulated trio, embeddings and transcriptions
    # (simulated/demo-chat is seeded by 0012 and kept by 0011: counted once).
    assert "openai/gpt-4o" in models and "simulated/demo-chat" in models and len(models) == 16
    kinds = [m.model_extra["kind"] for m in models.values() if m.model_extra]
    assert (kinds.count("chat"), kinds.count("embedding"), kinds.count("transcription")) == (
        7,
        4,
        5,
    )
    whisper = models["openai/whisper-1"].model_extra
    assert whisper is not None and whisper["pricing"]["per_minute_usd"] == "0.006000"


async def test_budget_exhausted_is_402_and_paused_is_403(harness: Harness) -> None:
    from ai_gateway.storage.budgets import increment_budget_usage

    client, key = harness.new_client("broke", plan="free")
    with harness.db.write() as s:
        increment_budget_usage(s, client_id=client.id, amount=Decimal("10"))
    status, _, body = await post(harness, {"messages": MESSAGES}, key=key)
    assert status == 402 and body["error"]["code"] == "budget_exceeded"
    _paused, paused_key = harness.new_client("paused", status="paused")
    status, _, body = await post(harness, {"messages": MESSAGES}, key=paused_key)
    assert status == 403
    assert harness.fake.requests == []


async def test_call_ai_uses_the_same_pipeline(harness: Harness) -> None:
    result = await harness.gateway.call_ai(
        harness.client.id,
        [{"role": "user", "content": "hi from the bot"}],
        model="openai/gpt-4o-mini",
        conversation_id="whatsapp:5511999",
    )
    assert result.content == "Fake openai answer to: hi from the bot"
    assert result.cost_usd > 0 and result.cost_brl == result.cost_usd * 5
    assert result.provider == "openai" and not result.cache_hit
    await harness.drain()
    [row] = rows(harness)
    assert row.conversation_id == "whatsapp:5511999"


async def test_upstream_telemetry_is_logged_and_request_ids_propagate(harness: Harness) -> None:
    _client, key = harness.new_client("telemetry", use_ai_gateway=True)
    harness.gateway.pipeline._gateway_enabled = True
    status, headers, _ = await post(
        harness,
        {"model": "openai/gpt-4o", "messages": MESSAGES},
        key=key,
        **{"X-Request-Id": "bot-req-42"},
    )
    assert status == 200 and headers["x-request-id"] == "bot-req-42"
    status, headers, _ = await post(
        harness, {"messages": MESSAGES}, key=key, **{"X-Request-Id": "bad id with spaces"}
    )
    assert len(headers["x-request-id"]) == 32  # replaced by a generated one
    await harness.drain()
    row = next(r for r in rows(harness) if r.request_id == "bot-req-42")
    assert row.upstream_provider == "openai"
    assert row.upstream_cache == "MISS"
    assert row.upstream_request_id
    assert row.telemetry and row.telemetry.get("upstream_cost") == "0.00012"
