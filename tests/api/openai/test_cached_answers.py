"""Cached answers through the official ``openai`` SDK: a hit carries the usage its request
asks for whatever the first request asked to see, and a replayed stream arrives in the
deltas of the original."""

from __future__ import annotations

from decimal import Decimal

from openai import AsyncOpenAI
from sqlalchemy import select

from ai_gateway.storage.tables import UsageLog
from tests.fakes.fake_providers import Behaviour
from tests.harness import Harness

MESSAGES = [{"role": "user", "content": "qual o horário de atendimento da loja?"}]
MODEL = "openai/gpt-4o-mini"


def sdk(h: Harness) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=h.url + "/v1", api_key=h.key, max_retries=0)


def rows(h: Harness) -> list[UsageLog]:
    with h.db.session() as s:
        return list(s.scalars(select(UsageLog).order_by(UsageLog.created_at, UsageLog.id)))


async def _stream(client: AsyncOpenAI, *, include_usage: bool) -> tuple[str, list[str], object]:
    extra = {"stream_options": {"include_usage": True}} if include_usage else {}
    raw = await client.chat.completions.with_raw_response.create(
        model=MODEL, messages=MESSAGES, temperature=0, stream=True, **extra
    )
    deltas: list[str] = []
    usage = None
    async for chunk in raw.parse():
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                deltas.append(choice.delta.content)
    return raw.headers["x-ai-gateway-cache"], deltas, usage


async def test_a_stream_stored_without_usage_serves_usage_to_later_hits(
    harness: Harness,
) -> None:
    client = sdk(harness)
    state, first_deltas, first_usage = await _stream(client, include_usage=False)
    assert (state, first_usage) == ("MISS", None)
    upstream = harness.fake.last_request("openai")
    assert upstream.body["stream_options"] == {"include_usage": True}  # always asked for

    state, deltas, usage = await _stream(client, include_usage=True)
    assert state == "HIT"
    assert usage is not None, "a hit asking for usage got `usage: null`"
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    # The replay is cut where the upstream cut it (the fake sends one word per delta).
    assert deltas == first_deltas and len(deltas) > 3

    raw = await client.chat.completions.with_raw_response.create(
        model=MODEL, messages=MESSAGES, temperature=0
    )
    completion = raw.parse()
    assert raw.headers["x-ai-gateway-cache"] == "HIT"
    assert completion.usage is not None, "a non-streamed hit had no `usage`"
    assert completion.usage.prompt_tokens == usage.prompt_tokens
    assert completion.usage.completion_tokens == usage.completion_tokens
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.content == "".join(first_deltas)
    await client.close()

    await harness.drain()
    miss, *hits = rows(harness)
    assert len(hits) == 2 and not miss.cache_hit and miss.cost_usd > 0
    for hit in hits:
        assert hit.cache_hit and hit.cost_usd == Decimal(0) and hit.cost_brl == Decimal(0)
        assert (hit.input_tokens, hit.output_tokens) == (miss.input_tokens, miss.output_tokens)
        assert hit.saved_usd == miss.cost_usd
    assert len(harness.fake.requests_for("openai")) == 1


async def test_a_non_streamed_answer_replays_as_word_sized_deltas(harness: Harness) -> None:
    text = "Abrimos de segunda a sexta das 8h às 18h e aos sábados das 9h às 13h, sem feriados."
    harness.fake.enqueue("openai", Behaviour(text=text))
    client = sdk(harness)
    await client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0)
    state, deltas, usage = await _stream(client, include_usage=True)
    await client.close()
    assert state == "HIT" and usage is not None
    assert "".join(deltas) == text
    assert len(deltas) >= 5 and max(len(d) for d in deltas) <= 16
