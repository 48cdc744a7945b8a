"""The rate-limit step of the call path: admit a call under its client's limits and its
provider key's ceiling, or refuse it with 429 and OpenAI's headers.

Cheap on purpose: the limits come from the config snapshot in memory (no database), a
client and a key without any limit cost nothing, and with Redis the admission is one Lua
call. The finish (slot freed, token estimate corrected) runs off the request path. When
Redis is unreachable the call is limited by this process's own counters rather than
refused or let through unlimited.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

from redis.exceptions import RedisError

from ai_gateway.errors import RateLimited
from ai_gateway.ratelimit.limiter import (
    LimitRequest,
    LocalLimiter,
    Ticket,
    Verdict,
    rate_headers,
    window_of,
)
from ai_gateway.ratelimit.rules import RateLimitTable
from ai_gateway.ratelimit.shared import RedisLimiter
from ai_gateway.storage.tables import new_id

__all__ = ["RateLimitGuard"]

log = logging.getLogger("ai_gateway.ratelimit")

_WHAT = {
    "requests": "requests per minute (rpm)",
    "tokens": "tokens per minute (tpm)",
    "concurrency": "concurrent requests",
}


class RateLimitGuard:
    def __init__(
        self, *, shared: RedisLimiter | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._local = LocalLimiter()
        self._shared = shared
        self._clock = clock
        self._background: set[asyncio.Task[None]] = set()
        self.refused = 0

    async def admit(
        self,
        *,
        client_id: str,
        plan: str,
        table: RateLimitTable,
        provider: str,
        tokens: int,
        lease_seconds: float,
    ) -> Ticket | None:
        """A ticket for the admitted call (None when nothing limits it), or 429."""
        limits = table.for_client(client_id, plan)
        ceiling = table.for_provider(provider)
        if limits.empty and ceiling.empty:
            return None
        request = LimitRequest(client_id, limits, provider, ceiling, tokens, lease_seconds)
        ticket_id, now = new_id(), self._clock()
        shared = self._shared is not None
        verdict: Verdict | None = None
        if self._shared is not None:
            try:
                verdict = await self._shared.acquire(request, ticket_id, now)
            except RedisError:
                log.warning("shared rate limits unavailable; limiting locally")
                shared = False
        if verdict is None:
            verdict = self._local.acquire_now(request, ticket_id, now)
        if not verdict.admitted:
            self.refused += 1
            raise _refusal(request, verdict)
        return Ticket(ticket_id, request, window_of(now), verdict, shared=shared)

    def finish(self, ticket: Ticket | None, *, tokens: int, served_by: str | None) -> None:
        """Free the call's slot and charge its real tokens; at most once per ticket."""
        if ticket is None or ticket.done:
            return
        ticket.done = True
        now = self._clock()
        if not ticket.shared or self._shared is None:
            self._local.finish_now(ticket, tokens=tokens, served_by=served_by, now=now)
            return
        task = asyncio.get_running_loop().create_task(
            self._finish_shared(self._shared, ticket, tokens, served_by, now)
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _finish_shared(
        self, shared: RedisLimiter, ticket: Ticket, tokens: int, served_by: str | None, now: float
    ) -> None:
        try:
            await shared.finish(ticket, tokens=tokens, served_by=served_by, now=now)
        except RedisError:
            # The slot's lease expires on its own; the bucket refills by itself.
            log.warning(
                "shared rate-limit finish failed", extra={"client_id": ticket.request.client_id}
            )

    async def close(self) -> None:
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._shared is not None:
            await self._shared.close()


def _refusal(request: LimitRequest, verdict: Verdict) -> RateLimited:
    reason = verdict.reason or "requests"
    wait = max(verdict.retry_after, 0.001)
    limits = request.limits
    if reason.startswith("provider_"):
        message = (
            f"Rate limit reached on the shared {request.provider} key: this client has used "
            f"its fair share of the key's {reason.removeprefix('provider_')} per minute."
        )
    else:
        limit = {"requests": limits.rpm, "tokens": limits.tpm}.get(reason, limits.concurrency)
        message = f"Rate limit reached for {_WHAT[reason]}: limit {limit}."
        if reason == "tokens":
            message += f" This request needs about {min(request.cost, limits.tpm or 0)} tokens."
    headers = rate_headers(limits, verdict)
    headers["retry-after"] = str(max(1, math.ceil(wait)))
    headers["retry-after-ms"] = str(math.ceil(wait * 1000))
    return RateLimited(
        f"{message} Please try again in {headers['retry-after']}s.",
        code="rate_limit_exceeded",
        headers=headers,
    )
