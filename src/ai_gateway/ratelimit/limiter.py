"""The limiter's contract and its in-process implementation.

Requests and tokens per minute are **token buckets**: a bucket holds up to the limit,
refills at limit/60 per second, and a call takes 1 request and its estimated tokens. So
``x-ratelimit-reset-*`` means what OpenAI's does, the time until the bucket is full again,
and a burst of a whole minute's quota is allowed only once per minute. A call whose
estimate exceeds the whole TPM is admitted with a full bucket (it could never be
otherwise) and leaves the bucket in debt. Concurrency is a set of leases that expire, so
a replica that dies mid-call frees its slots after ``lease_seconds``.

The ceiling of a shared provider key counts requests and tokens per key and per tenant in
one-minute windows, read as a **sliding window**: the use of the last 60 s is estimated as
the current window plus the previous one weighted by the part of it still inside those
60 s (no burst of twice the ceiling across a minute boundary, two counters per measure).
Fair sharing is simple on purpose: below :data:`CONTENDED` of the ceiling anyone is
admitted; above it (the key is contended) a tenant is admitted only while its own use is
under an equal share, ceiling / active tenants (tenants seen in either window). A heavy
tenant can thus use most of an idle key, but the last part is kept for tenants below
their share. Nobody passes the ceiling.

Each check is all-or-nothing: a refused call takes nothing from any counter. After the
call, :meth:`Limiter.finish` swaps the estimate for the real tokens and frees the slot.
:class:`LocalLimiter` keeps the counters in this process (one replica, or no Redis);
:class:`~ai_gateway.ratelimit.shared.RedisLimiter` runs the same rules in one Lua script.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

from ai_gateway.ratelimit.rules import Limits, ProviderCeiling, go_duration

__all__ = [
    "CONTENDED",
    "LimitRequest",
    "Limiter",
    "LocalLimiter",
    "Ticket",
    "Verdict",
    "rate_headers",
    "window_of",
]

#: Share of a provider key's ceiling after which each tenant is held to an equal share.
CONTENDED = 0.8
WINDOW_SECONDS = 60


def window_of(now: float) -> int:
    return int(now // WINDOW_SECONDS)


@dataclass(frozen=True, slots=True)
class LimitRequest:
    client_id: str
    limits: Limits
    provider: str
    ceiling: ProviderCeiling
    cost: int
    lease_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """``requests_left`` / ``tokens_left`` are the bucket levels after the call (or now,
    when refused); ``retry_after`` is in seconds."""

    admitted: bool
    reason: str | None = None
    retry_after: float = 0.0
    requests_left: float = 0.0
    tokens_left: float = 0.0


@dataclass(slots=True)
class Ticket:
    """One admitted call, until :meth:`Limiter.finish` (at most once)."""

    id: str
    request: LimitRequest
    window: int
    verdict: Verdict
    shared: bool = False
    done: bool = False

    def headers(self) -> dict[str, str]:
        return rate_headers(self.request.limits, self.verdict)


def rate_headers(limits: Limits, verdict: Verdict) -> dict[str, str]:
    """OpenAI's ``x-ratelimit-*`` headers for the limits this client has."""
    headers: dict[str, str] = {}
    for kind, limit, left in (
        ("requests", limits.rpm, verdict.requests_left),
        ("tokens", limits.tpm, verdict.tokens_left),
    ):
        if limit is None:
            continue
        headers[f"x-ratelimit-limit-{kind}"] = str(limit)
        headers[f"x-ratelimit-remaining-{kind}"] = str(max(0, math.floor(left)))
        headers[f"x-ratelimit-reset-{kind}"] = go_duration(max(0.0, limit - left) * 60 / limit)
    return headers


class Limiter(Protocol):
    async def acquire(self, request: LimitRequest, ticket_id: str, now: float) -> Verdict: ...

    async def finish(
        self, ticket: Ticket, *, tokens: int, served_by: str | None, now: float
    ) -> None:
        """Free the slot; correct the token counts from the estimate to ``tokens``
        (charged to ``served_by``'s key when a fallback moved the call)."""
        ...


def _level(state: tuple[float, float] | None, limit: int, now: float) -> float:
    if state is None:
        return float(limit)
    tokens, at = state
    if now > at:
        tokens += (now - at) * limit / WINDOW_SECONDS
    return min(float(limit), tokens)


@dataclass(slots=True)
class _Window:
    id: int
    requests: int = 0
    tokens: int = 0
    by_client: dict[str, list[int]] = field(default_factory=dict)

    def add(self, client_id: str, requests: int, tokens: int) -> None:
        self.requests += requests
        self.tokens += tokens
        mine = self.by_client.setdefault(client_id, [0, 0])
        mine[0] += requests
        mine[1] += tokens


def _fair(limit: int, total: float, mine: float, cost: int, active: int) -> bool:
    """The ceiling rule of the module docstring for one measure."""
    if total + cost > limit:
        return False
    return not (total + cost > CONTENDED * limit and mine + cost > limit / active)


def previous_weight(now: float) -> float:
    """How much of the previous window still lies inside the last 60 seconds."""
    return 1.0 - (now % WINDOW_SECONDS) / WINDOW_SECONDS


def provider_refusal(
    current: _Window, previous: _Window | None, request: LimitRequest, now: float
) -> str | None:
    ceiling, client = request.ceiling, request.client_id
    prev = previous or _Window(current.id - 1)
    weight = previous_weight(now)
    mine_now, mine_before = (
        current.by_client.get(client, [0, 0]),
        prev.by_client.get(client, [0, 0]),
    )
    seen = max(len(current.by_client), len(prev.by_client))
    active = seen + (0 if client in current.by_client or client in prev.by_client else 1)
    requests = prev.requests * weight + current.requests
    mine_requests = mine_before[0] * weight + mine_now[0]
    if ceiling.rpm is not None and not _fair(ceiling.rpm, requests, mine_requests, 1, active):
        return "provider_requests"
    if ceiling.tpm is not None:
        tokens = prev.tokens * weight + current.tokens
        mine_tokens = mine_before[1] * weight + mine_now[1]
        cost = min(request.cost, ceiling.tpm)
        if not _fair(ceiling.tpm, tokens, mine_tokens, cost, active):
            return "provider_tokens"
    return None


class LocalLimiter:
    """The rules of the module docstring, in this process's memory."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._slots: dict[str, dict[str, float]] = {}
        self._windows: dict[str, dict[int, _Window]] = {}

    def _window(self, provider: str, now: float) -> _Window:
        current = window_of(now)
        windows = self._windows.setdefault(provider, {})
        if current not in windows:
            for old in [w for w in windows if w < current - 1]:
                del windows[old]
            windows[current] = _Window(current)
        return windows[current]

    def _previous(self, provider: str, now: float) -> _Window | None:
        return self._windows.get(provider, {}).get(window_of(now) - 1)

    async def acquire(self, request: LimitRequest, ticket_id: str, now: float) -> Verdict:
        return self.acquire_now(request, ticket_id, now)

    def acquire_now(self, request: LimitRequest, ticket_id: str, now: float) -> Verdict:
        limits, client = request.limits, request.client_id
        r = _level(self._buckets.get((client, "r")), limits.rpm, now) if limits.rpm else 0.0
        t = _level(self._buckets.get((client, "t")), limits.tpm, now) if limits.tpm else 0.0
        if limits.rpm and r < 1:
            return Verdict(False, "requests", (1 - r) * 60 / limits.rpm, r, t)
        if limits.tpm:
            need = min(request.cost, limits.tpm)
            if t < need:
                return Verdict(False, "tokens", (need - t) * 60 / limits.tpm, r, t)
        slots = self._slots.setdefault(client, {})
        # Expired leases matter only at the limit: no scan of the calls in flight otherwise.
        if limits.concurrency and len(slots) >= limits.concurrency:
            for tid in [k for k, expires in slots.items() if expires <= now]:
                del slots[tid]
            if len(slots) >= limits.concurrency:
                return Verdict(False, "concurrency", 1.0, r, t)
        window = None
        if not request.ceiling.empty:
            window = self._window(request.provider, now)
            refused = provider_refusal(window, self._previous(request.provider, now), request, now)
            if refused:
                return Verdict(False, refused, WINDOW_SECONDS - now % WINDOW_SECONDS, r, t)
        if limits.rpm:
            r -= 1
            self._buckets[(client, "r")] = (r, now)
        if limits.tpm:
            t -= request.cost
            self._buckets[(client, "t")] = (t, now)
        if limits.concurrency:
            slots[ticket_id] = now + request.lease_seconds
        if window is not None:
            window.add(client, 1, request.cost)
        return Verdict(True, None, 0.0, r, t)

    async def finish(
        self, ticket: Ticket, *, tokens: int, served_by: str | None, now: float
    ) -> None:
        self.finish_now(ticket, tokens=tokens, served_by=served_by, now=now)

    def finish_now(self, ticket: Ticket, *, tokens: int, served_by: str | None, now: float) -> None:
        request, client = ticket.request, ticket.request.client_id
        self._slots.get(client, {}).pop(ticket.id, None)
        delta = tokens - request.cost
        if request.limits.tpm and delta:
            level = _level(self._buckets.get((client, "t")), request.limits.tpm, now)
            self._buckets[(client, "t")] = (min(float(request.limits.tpm), level - delta), now)
        admitted = self._windows.get(request.provider, {}).get(ticket.window)
        if admitted is not None and not request.ceiling.empty:
            if served_by in (None, request.provider):
                admitted.add(client, 0, delta)
                return
            admitted.add(client, -1, -request.cost)
        if served_by is not None and served_by != request.provider:
            self._window(served_by, now).add(client, 1, tokens)
