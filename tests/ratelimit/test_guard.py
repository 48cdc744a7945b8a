"""The pipeline step: no limits cost nothing, a refusal is OpenAI's 429 with its headers,
and with Redis unreachable the process limits on its own counters."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from redis.asyncio import Redis

from ai_gateway.errors import RateLimited
from ai_gateway.pipeline.rate_limit import RateLimitGuard
from ai_gateway.ratelimit.limiter import Ticket
from ai_gateway.ratelimit.rules import Limits, RateLimitTable
from ai_gateway.ratelimit.shared import RedisLimiter
from tests.conftest import free_port

TABLE = RateLimitTable(
    plans=MappingProxyType({"pro": Limits(rpm=2, tpm=1000)}),
    clients=MappingProxyType({"vip": Limits(concurrency=1)}),
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def _admit(guard: RateLimitGuard, client: str, plan: str, tokens: int = 10) -> Ticket | None:
    return await guard.admit(
        client_id=client, plan=plan, table=TABLE, provider="openai", tokens=tokens, lease_seconds=60
    )


async def test_no_limit_no_ticket() -> None:
    assert await _admit(RateLimitGuard(), "acme", "free") is None


async def test_a_refusal_carries_openais_headers() -> None:
    clock = Clock()
    guard = RateLimitGuard(clock=clock)
    await _admit(guard, "acme", "pro")
    await _admit(guard, "acme", "pro")
    with pytest.raises(RateLimited) as caught:
        await _admit(guard, "acme", "pro")
    error = caught.value
    assert (error.status, error.code) == (429, "rate_limit_exceeded")
    assert error.to_body()["error"]["type"] == "rate_limit_error"
    assert error.headers["retry-after"] == "30" and error.headers["retry-after-ms"] == "30000"
    assert error.headers["x-ratelimit-limit-requests"] == "2"
    assert error.headers["x-ratelimit-remaining-requests"] == "0"
    assert error.headers["x-ratelimit-reset-requests"] == "1m0s"
    assert error.headers["x-ratelimit-remaining-tokens"] == "980"
    assert "limit 2" in error.message and "try again in 30s" in error.message
    clock.now += 30
    assert await _admit(guard, "acme", "pro") is not None
    assert guard.refused == 1


async def test_a_client_limit_overrides_its_plan_field_by_field() -> None:
    guard = RateLimitGuard(clock=Clock())
    first = await _admit(guard, "vip", "pro")
    with pytest.raises(RateLimited, match="concurrent requests"):
        await _admit(guard, "vip", "pro")
    guard.finish(first, tokens=5, served_by="openai")
    guard.finish(first, tokens=5, served_by="openai")  # once only
    assert await _admit(guard, "vip", "pro") is not None


async def test_redis_unreachable_limits_locally() -> None:
    shared = RedisLimiter(Redis.from_url(f"redis://127.0.0.1:{free_port()}/0"))
    guard = RateLimitGuard(shared=shared, clock=Clock())
    try:
        ticket = await _admit(guard, "acme", "pro")
        assert ticket is not None and ticket.shared is False
        await _admit(guard, "acme", "pro")
        with pytest.raises(RateLimited):
            await _admit(guard, "acme", "pro")
        guard.finish(ticket, tokens=1, served_by="openai")
    finally:
        await guard.close()
