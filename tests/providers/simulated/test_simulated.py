"""The simulated provider: deterministic, metered, failing at the configured rate."""

import time

import pytest

from ai_gateway.providers import ProviderError, Upstream
from ai_gateway.providers.simulated import SimulatedProvider
from tests.providers.helpers import TARGETS, chat, drain, streamed_text, user

TARGET = TARGETS["simulated"]


def sim(**options: object) -> Upstream:
    return Upstream(base_url="", api_key=None, options=dict(options))


async def test_same_request_same_answer() -> None:
    a = await SimulatedProvider(None).complete(chat(user("olá")), TARGET, sim())
    b = await SimulatedProvider(None).complete(chat(user("olá")), TARGET, sim())
    c = await SimulatedProvider(None).complete(chat(user("other")), TARGET, sim())
    text = a.body["choices"][0]["message"]["content"]
    assert text == b.body["choices"][0]["message"]["content"]
    assert text != c.body["choices"][0]["message"]["content"]
    assert a.usage == b.usage
    assert a.usage.output_tokens == -(-len(text) // 4)
    assert a.usage.input_tokens == 1  # "olá" is 3 chars
    assert a.body["model"] == TARGET.model_id


async def test_stream_matches_complete() -> None:
    provider = SimulatedProvider(None)
    completion = await provider.complete(chat(user("hi")), TARGET, sim())
    stream = await provider.stream(chat(user("hi")), TARGET, sim())
    chunks = await drain(stream)
    assert streamed_text(chunks) == completion.body["choices"][0]["message"]["content"]
    assert len(chunks) > 5  # word by word
    assert chunks[-1]["usage"]["completion_tokens"] == completion.usage.output_tokens
    assert stream.finish_reason == "stop"


async def test_max_tokens_cuts_with_length() -> None:
    full = await SimulatedProvider(None).complete(chat(user("hi")), TARGET, sim())
    cut = await SimulatedProvider(None).complete(chat(user("hi"), max_tokens=2), TARGET, sim())
    assert cut.finish_reason == "length"
    assert cut.usage.output_tokens < full.usage.output_tokens
    full_text = full.body["choices"][0]["message"]["content"]
    assert full_text.startswith(cut.body["choices"][0]["message"]["content"])


async def test_failure_rate_bounds_and_determinism() -> None:
    with pytest.raises(ProviderError) as caught:
        await SimulatedProvider(None).complete(chat(user("x")), TARGET, sim(failure_rate=1.0))
    assert (caught.value.reason, caught.value.retryable) == ("server_error", True)

    async def failures(provider: SimulatedProvider) -> list[int]:
        failed = []
        for i in range(200):
            try:
                await provider.complete(chat(user(f"m{i}")), TARGET, sim(failure_rate=0.3))
            except ProviderError:
                failed.append(i)
        return failed

    first = await failures(SimulatedProvider(None))
    assert 30 <= len(first) <= 90
    assert first == await failures(SimulatedProvider(None))


async def test_latency() -> None:
    start = time.perf_counter()
    await SimulatedProvider(None).complete(chat(user("x")), TARGET, sim(latency_ms=100))
    assert time.perf_counter() - start >= 0.09


def _long_system(n: int) -> dict[str, str]:
    return {"role": "system", "content": f"Política da loja número {n}. " * 200}


async def test_a_shared_long_prefix_is_reported_as_cached_like_openai() -> None:
    provider = SimulatedProvider(None)
    system = _long_system(1)  # ~1400 tokens
    first = await provider.complete(chat(system, user("qual o horário?")), TARGET, sim())
    assert first.usage.cached_tokens == 0
    second = await provider.complete(chat(system, user("aceitam pix?")), TARGET, sim())
    cached = second.usage.cached_tokens
    assert cached >= 1024 and cached % 128 == 0 and cached <= second.usage.input_tokens
    assert second.body["usage"]["prompt_tokens_details"]["cached_tokens"] == cached
    other = await provider.complete(chat(_long_system(2), user("aceitam pix?")), TARGET, sim())
    assert other.usage.cached_tokens == 0  # another prefix
    off = await provider.complete(chat(system, user("e cartão?")), TARGET, sim(prompt_cache=False))
    assert off.usage.cached_tokens == 0


def test_short_prompts_and_expired_prefixes_are_not_cached() -> None:
    from ai_gateway.providers.simulated.prefix_cache import PrefixCache

    now = [0.0]
    cache = PrefixCache(ttl_seconds=300, clock=lambda: now[0])
    short = [{"role": "user", "content": "oi"}]
    assert cache.cached_tokens("m", short) == 0 and cache.cached_tokens("m", short) == 0
    long = [{"role": "system", "content": "x" * 8000}, {"role": "user", "content": "a"}]
    assert cache.cached_tokens("m", long) == 0
    assert cache.cached_tokens("m", long) == 1920  # 2000 tokens, in 128-token steps
    now[0] = 301.0
    assert cache.cached_tokens("m", long) == 0
