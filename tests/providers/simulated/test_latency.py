"""The simulated provider's latency model: first token, then a time per word, per model,
the same for the same request."""

import time

import pytest

from ai_gateway.providers.simulated import SimulatedProvider
from ai_gateway.providers.simulated.latency import Timing, timing_for
from tests.providers.helpers import TARGETS, chat, user
from tests.providers.simulated.test_simulated import sim

TARGET = TARGETS["simulated"]
LOAD = {"latency_ms": 300, "word_ms": 35, "jitter": 0.5}


def test_first_token_plus_words_and_no_options_is_immediate() -> None:
    digest = bytes(32)
    assert timing_for({}, "m", digest, stream=False) == Timing(0.0, 0.0)
    timing = timing_for({"latency_ms": 300, "word_ms": 35}, "m", digest, stream=False)
    assert timing == Timing(0.3, 0.035)
    assert abs(timing.total(8) - (0.3 + 7 * 0.035)) < 1e-9
    assert timing.total(40) < 2.0


def test_jitter_is_bounded_and_deterministic() -> None:
    waits = {timing_for(LOAD, "m", bytes([0, b]) + bytes(30), stream=True).first_token
             for b in range(256)}  # fmt: skip
    assert min(waits) == pytest.approx(0.15) and max(waits) == pytest.approx(0.45)
    digest = bytes(range(32))
    assert timing_for(LOAD, "m", digest, stream=True) == timing_for(LOAD, "m", digest, stream=True)


def test_per_model_overrides_and_the_old_stream_option() -> None:
    options = {"latency_ms": 300, "models": {"simulated/fast": {"latency_ms": 50, "word_ms": 5}}}
    assert timing_for(options, "simulated/fast", bytes(32), stream=False) == Timing(0.05, 0.005)
    assert timing_for(options, "simulated/other", bytes(32), stream=False) == Timing(0.3, 0.0)
    # chunk_delay_ms paces streams only, as it always did.
    assert timing_for({"chunk_delay_ms": 20}, "m", bytes(32), stream=True).per_word == 0.02
    assert timing_for({"chunk_delay_ms": 20}, "m", bytes(32), stream=False).per_word == 0.0


async def test_a_non_streamed_answer_waits_for_every_word() -> None:
    provider = SimulatedProvider(None)
    start = time.perf_counter()
    done = await provider.complete(chat(user("x")), TARGET, sim(latency_ms=50, word_ms=10))
    words = len(done.body["choices"][0]["message"]["content"].split())
    assert time.perf_counter() - start >= 0.05 + 0.01 * (words - 1) - 0.01


async def test_a_stream_sends_the_first_word_after_the_first_token_then_one_per_step() -> None:
    provider = SimulatedProvider(None)
    start = time.perf_counter()
    stream = await provider.stream(chat(user("x")), TARGET, sim(latency_ms=50, word_ms=10))
    opened = time.perf_counter() - start
    chunks = [(time.perf_counter(), chunk) async for chunk in stream]
    words = [t for t, c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert opened >= 0.045
    # Lower bounds only (a loaded machine is slower, never faster).
    assert words[-1] - words[0] >= 0.01 * (len(words) - 1) - 0.005
