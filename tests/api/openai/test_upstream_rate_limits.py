"""A fallback chain whose every model answers 429 is a 429 for the caller, with the
soonest upstream ``Retry-After``, not a 502 (which would tell the client to give up)."""

from __future__ import annotations

import time
from email.utils import formatdate

import aiohttp
import orjson

from ai_gateway.providers._http import retry_after_seconds
from tests.harness import Harness

MESSAGES = [{"role": "user", "content": "hello"}]
CHAIN = {
    "model": "openai/gpt-4o",
    "messages": MESSAGES,
    "fallback_models": ["anthropic/claude-3-5-sonnet", "google/gemini-2.0-flash"],
}


async def _post(h: Harness, body: dict[str, object]) -> tuple[int, dict[str, str], bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(h.url + "/v1/chat/completions", json=body, headers=h.headers()) as resp,
    ):
        return resp.status, dict(resp.headers), await resp.read()


async def test_every_model_refusing_with_429_is_a_429_with_the_soonest_retry_after(
    harness: Harness,
) -> None:
    harness.fake.enqueue_failure("openai", status=429, headers={"retry-after": "20"})
    harness.fake.enqueue_failure("anthropic", status=429, headers={"retry-after": "3"})
    harness.fake.enqueue_failure("google", status=429, headers={"retry-after-ms": "7500"})
    status, headers, raw = await _post(harness, CHAIN)
    assert status == 429
    assert headers["Retry-After"] == "3"
    error = orjson.loads(raw)["error"]
    assert error["type"] == "rate_limit_error" and error["code"] == "upstream_rate_limited"
    assert len(harness.fake.requests) == 3


async def test_a_stream_refused_everywhere_is_a_429_too(harness: Harness) -> None:
    harness.fake.enqueue_failure("openai", status=429, headers={"retry-after": "9"})
    harness.fake.enqueue_failure("anthropic", status=429)
    harness.fake.enqueue_failure("google", status=429, headers={"retry-after": "4"})
    status, headers, _ = await _post(harness, {**CHAIN, "stream": True})
    assert status == 429 and headers["Retry-After"] == "4"


async def test_without_any_retry_after_the_429_has_none(harness: Harness) -> None:
    for provider in ("openai", "anthropic", "google"):
        harness.fake.enqueue_failure(provider, status=429)
    status, headers, _ = await _post(harness, CHAIN)
    assert status == 429 and "Retry-After" not in headers


async def test_a_chain_with_a_server_error_is_still_a_502(harness: Harness) -> None:
    harness.fake.enqueue_failure("openai", status=429, headers={"retry-after": "2"})
    harness.fake.enqueue_failure("anthropic", status=500)
    harness.fake.enqueue_failure("google", status=429)
    status, _, raw = await _post(harness, CHAIN)
    assert status == 502 and orjson.loads(raw)["error"]["type"] == "upstream_error"


def test_retry_after_reads_seconds_milliseconds_and_dates() -> None:
    now = time.time()
    assert retry_after_seconds({"retry-after": "12"}) == 12
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    dated = retry_after_seconds({"retry-after": formatdate(now + 30, usegmt=True)}, now=now)
    assert dated is not None and 29 <= dated <= 30  # HTTP dates have whole seconds
    assert retry_after_seconds({"retry-after": "-5"}) == 0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({"retry-after": "nan"}) is None
    assert retry_after_seconds({}) is None
