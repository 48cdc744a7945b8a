"""``AI_GATEWAY_CACHE_REPLAY_DELAY_MS`` paces a cached stream's replay: each chunk with
content waits that long, so a client animating text sees a live-looking pace."""

from __future__ import annotations

import time

import aiohttp
import pytest

from tests.harness import Harness

DELAY_MS = 100
BODY = {
    "model": "openai/gpt-4o-mini",
    "temperature": 0,
    "stream": True,
    "messages": [{"role": "user", "content": "quais são as formas de pagamento aceitas?"}],
}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"cache_replay_delay_ms": DELAY_MS}


async def _stream(h: Harness) -> tuple[str, int, float]:
    started = time.perf_counter()
    async with (
        aiohttp.ClientSession() as session,
        session.post(h.url + "/v1/chat/completions", json=BODY, headers=h.headers()) as resp,
    ):
        text = await resp.text()
        return (
            resp.headers["x-ai-gateway-cache"],
            text.count("data: {"),
            time.perf_counter() - started,
        )


async def test_a_replay_is_paced(harness: Harness) -> None:
    assert (await _stream(harness))[0] == "MISS"
    state, chunks, seconds = await _stream(harness)
    assert state == "HIT" and chunks > 4
    # Every chunk that carries a choice waits once (the usage chunk does not).
    assert seconds >= (chunks - 1) * DELAY_MS / 1000
