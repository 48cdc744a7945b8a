"""Provider prompt caching priced exactly, per provider, streamed and not: each fake
reports cache reads and writes in its provider's own fields and convention, and the
usage row must bill every prompt token once, at its own rate, in exact decimals."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from openai import AsyncOpenAI
from sqlalchemy import select

from ai_gateway.storage.tables import UsageLog
from tests.fakes.fake_providers import Behaviour
from tests.harness import Harness

TEXT = "um dois três quatro cinco"  # the fakes count 5 completion tokens
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Case:
    model: str
    fake: str  # which fake upstream answers
    prompt: int
    cached: int
    written: int
    #: (normal input, cached, written, output) USD per 1M tokens, from the seed registry
    rates: tuple[str, str, str, str]
    via_gateway: bool = False

    def expected(self) -> tuple[Decimal, Decimal]:
        normal, cached, written, output = (Decimal(r) for r in self.rates)
        cost = (
            (self.prompt - self.cached - self.written) * normal
            + self.cached * cached
            + self.written * written
            + 5 * output
        ) / MILLION
        full = (self.prompt * normal + 5 * output) / MILLION
        return cost, full - cost


CASES = [
    # OpenAI: cached_tokens within prompt_tokens, no write charge.
    Case("openai/gpt-4o-mini", "openai", 2000, 1536, 0, ("0.15", "0.075", "0.15", "0.60")),
    # Groq: same wire format; the seed has no cached price, so reads cost the input rate.
    Case("groq/llama-3.3-70b", "groq", 1800, 1024, 0, ("0.59", "0.59", "0.59", "0.79")),
    # Anthropic: input_tokens excludes reads (0.1x) and writes (1.25x).
    Case("anthropic/claude-3-5-sonnet", "anthropic", 3000, 2000, 500, ("3", "0.30", "3.75", "15")),
    # Gemini: cachedContentTokenCount within promptTokenCount.
    Case("google/gemini-2.0-flash", "google", 2000, 1024, 0, ("0.10", "0.025", "0.10", "0.40")),
    # The upstream gateway in front of Anthropic: OpenAI shape plus cache_creation_input_tokens.
    Case(
        "anthropic/claude-3-opus",
        "gateway",
        4096,
        1024,
        2048,
        ("15", "1.50", "18.75", "75"),
        via_gateway=True,
    ),
]


async def _call(h: Harness, key: str, case: Case, *, stream: bool) -> tuple[int, int]:
    client = AsyncOpenAI(base_url=h.url + "/v1", api_key=key, max_retries=0)
    messages = [{"role": "user", "content": f"preço {case.model} stream={stream}"}]
    try:
        if not stream:
            completion = await client.chat.completions.create(
                model=case.model, messages=messages, extra_headers={"Cache-Control": "no-store"}
            )
            assert completion.choices[0].message.content == TEXT
            usage = completion.usage
        else:
            chunks = await client.chat.completions.create(
                model=case.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
                extra_headers={"Cache-Control": "no-store"},
            )
            usage = None
            async for chunk in chunks:
                usage = chunk.usage or usage
    finally:
        await client.close()
    assert usage is not None and usage.prompt_tokens_details is not None
    return usage.prompt_tokens, usage.prompt_tokens_details.cached_tokens or 0


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("case", CASES, ids=[c.model + "@" + c.fake for c in CASES])
async def test_prompt_cache_tokens_are_priced_exactly(
    harness: Harness, case: Case, stream: bool
) -> None:
    key = harness.key
    if case.via_gateway:
        _client, key = harness.new_client("via-gateway", use_ai_gateway=True)
        harness.gateway.pipeline._gateway_enabled = True  # ENABLE_AI_GATEWAY at start-up
    harness.fake.enqueue(
        case.fake,
        Behaviour(
            text=TEXT,
            prompt_tokens=case.prompt,
            cached_tokens=case.cached,
            cache_write_tokens=case.written,
        ),
    )
    # The answer itself speaks OpenAI: the whole prompt, reads within it.
    assert await _call(harness, key, case, stream=stream) == (case.prompt, case.cached)

    await harness.drain()
    with harness.db.session() as s:
        row = s.scalars(select(UsageLog)).one()
    cost, saved = case.expected()
    assert (row.input_tokens, row.cached_tokens, row.cache_write_tokens) == (
        case.prompt,
        case.cached,
        case.written,
    )
    assert row.output_tokens == 5 and row.status == "success"
    assert row.cost_usd == cost
    assert row.cost_brl == cost * 5  # the 5.00 fallback rate
    assert row.prompt_cache_saved_usd == saved
    assert row.prompt_cache_saved_brl == saved * 5
    anthropic = case.model.startswith("anthropic/")
    assert row.cache_write_price_per_1m == (Decimal(case.rates[2]) if anthropic else None)


SYSTEM = "Você é a assistente da Pizzaria Central e responde pelo WhatsApp. " * 80


async def _system_sent(h: Harness, key: str) -> object:
    client = AsyncOpenAI(base_url=h.url + "/v1", api_key=key, max_retries=0)
    try:
        await client.chat.completions.create(
            model="anthropic/claude-3-5-sonnet",
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": "oi"}],
            extra_headers={"Cache-Control": "no-store"},
        )
    finally:
        await client.close()
    return h.fake.last_request("anthropic").body["system"]


@pytest.mark.usefixtures("restore_shared_state")
async def test_anthropic_breakpoints_follow_the_config_and_the_client(harness: Harness) -> None:
    marked = [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    assert await _system_sent(harness, harness.key) == SYSTEM  # off by default
    _on, on_key = harness.new_client("opted-in", prompt_cache_breakpoints=True)
    assert await _system_sent(harness, on_key) == marked
    harness.configure(provider_options={"anthropic": {"cache_breakpoints": True}})
    await harness.gateway.config.get()
    assert await _system_sent(harness, harness.key) == marked
    _off, off_key = harness.new_client("opted-out", prompt_cache_breakpoints=False)
    assert await _system_sent(harness, off_key) == SYSTEM
