"""``ResponseCache``: the one object the request pipeline talks to about caching.

Per request the pipeline does::

    decision = cache.key_for(request, client_id, cache_control=headers.get("cache-control"))
    if decision.key is None:                      # disabled, opted out, not cacheable
        ...call upstream...
    else:
        async with cache.coalesce(decision) as slot:
            if slot.entry is not None:            # HIT (stored, or produced by a leader)
                ...serve slot.entry.body (or completion_to_chunks for a stream)...
            else:                                 # MISS: this request goes upstream
                ...call upstream...
                entry = cache.build_entry(decision, body, model_id=..., usage=..., cost_usd=...)
                await slot.fill(entry)

Coalescing is *in-process*: with 50 identical concurrent requests on one replica, the
first goes upstream and the others wait for its entry. Replicas do not coordinate (a
distributed lock would put a Redis round-trip and a lock timeout on every miss); with N
replicas at most N identical calls go upstream at once.

If the leader fails, is cancelled, or never calls ``fill`` (a cut stream, an upstream
error), its waiters wake with no entry and each goes upstream *itself*, uncoalesced. That
bounds a waiter's latency at two upstream calls instead of queueing it behind a chain of
failing leaders; the cost is one burst of parallel calls after a failure. Waiters also
stop waiting after ``coalesce_timeout_seconds``, so a hung leader cannot hang them.

Backend failures (:class:`CacheUnavailable`) on the request path are logged and treated
as misses: the cache is an optimisation, and a Redis outage must not become a gateway
outage. The management operations have no answer to fall back on, so there the failure
becomes :class:`~ai_gateway.errors.StorageError` (503) for the admin API to render.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ai_gateway.cache.base import (
    ALL_ENTRIES,
    CacheBackend,
    CachedEntry,
    CacheUnavailable,
    EntryInfo,
    EntryQuery,
)
from ai_gateway.cache.keys import (
    DEFAULT_TEMPERATURE_THRESHOLD,
    CachePolicy,
    Scope,
    cache_key,
    not_cacheable_reason,
)
from ai_gateway.cache.stream import with_usage
from ai_gateway.errors import StorageError
from ai_gateway.providers.base import ChatRequest, Usage

__all__ = [
    "CacheDecision",
    "CacheSettings",
    "CoalesceSlot",
    "ResponseCache",
    "parse_cache_control",
]

_log = logging.getLogger(__name__)

_MAX_AGE = re.compile(r"^max-age\s*=\s*\"?(\d+)\"?$")


@dataclass(slots=True, frozen=True)
class CacheSettings:
    """The admin's cache configuration (from the shared gateway config row)."""

    enabled: bool = True
    default_ttl_seconds: int = 3600
    #: A request's own ``max-age`` may shorten or lengthen the TTL, but not past this.
    max_ttl_seconds: int = 7 * 24 * 3600
    scope: Scope = "client"
    temperature_threshold: float = DEFAULT_TEMPERATURE_THRESHOLD
    allow_nondeterministic: bool = False
    coalesce_timeout_seconds: float = 300.0

    @property
    def policy(self) -> CachePolicy:
        return CachePolicy(self.temperature_threshold, self.allow_nondeterministic)


@dataclass(slots=True, frozen=True)
class CacheDecision:
    """What to do for one request. ``key is None`` means "bypass the cache entirely" and
    ``reason`` says why. ``lookup=False, store=True`` is ``Cache-Control: no-cache``:
    fetch a fresh answer and refresh the entry with it. ``owner`` is the client id the
    entry belongs to (``None`` in global scope)."""

    key: str | None
    reason: str | None = None
    ttl_seconds: int = 0
    lookup: bool = False
    store: bool = False
    owner: str | None = None


@dataclass(slots=True, frozen=True)
class _CacheControl:
    no_store: bool = False
    no_cache: bool = False
    max_age: int | None = None


def parse_cache_control(value: str | None) -> _CacheControl:
    """The request directives we honour: ``no-store``, ``no-cache``, ``max-age=N``."""
    if not value:
        return _CacheControl()
    no_store = no_cache = False
    max_age: int | None = None
    for raw in value.split(","):
        directive = raw.strip().lower()
        if directive == "no-store":
            no_store = True
        elif directive == "no-cache":
            no_cache = True
        elif match := _MAX_AGE.match(directive):
            max_age = int(match.group(1))
    return _CacheControl(no_store=no_store, no_cache=no_cache, max_age=max_age)


@dataclass(slots=True)
class CoalesceSlot:
    """Yielded by :meth:`ResponseCache.coalesce`. ``entry`` is set on a hit; otherwise
    the holder goes upstream and calls :meth:`fill` with the result."""

    key: str
    entry: CachedEntry | None = None
    leader: bool = False
    #: Seconds spent waiting for an identical in-flight request (its upstream call).
    waited: float = 0.0
    _cache: ResponseCache | None = field(default=None, repr=False)
    _ttl: int = 0
    _store: bool = False
    _filled: CachedEntry | None = field(default=None, repr=False)

    @property
    def hit(self) -> bool:
        return self.entry is not None

    async def fill(self, entry: CachedEntry) -> None:
        """Store the fresh answer (if the decision allows) and hand it to the waiters."""
        self._filled = entry
        if self._store and self._cache is not None:
            await self._cache.store(self.key, entry, self._ttl)


class ResponseCache:
    """Decisions, lookups, stores, coalescing and the admin operations over one backend."""

    def __init__(
        self,
        backend: CacheBackend,
        settings: CacheSettings | None = None,
        *,
        replay_delay_seconds: float = 0.0,
    ) -> None:
        self.backend = backend
        self.settings = settings or CacheSettings()
        #: Pause between replayed chunks (0: as fast as the client reads). A deployment
        #: setting, not an admin one: it trades a hit's latency for a live-looking pace.
        self.replay_delay_seconds = replay_delay_seconds
        self._inflight: dict[str, asyncio.Future[CachedEntry | None]] = {}

    # -- per request -----------------------------------------------------------------------

    def key_for(
        self,
        request: ChatRequest,
        client_id: str,
        *,
        cache_control: str | None = None,
        ttl_seconds: int | None = None,
    ) -> CacheDecision:
        """Decide for ``request``. ``ttl_seconds`` is a gateway header's TTL (e.g.
        ``x-ai-gateway-cache-ttl``); ``Cache-Control: max-age`` wins over it."""
        settings = self.settings
        if not settings.enabled:
            return CacheDecision(None, "cache disabled")
        control = parse_cache_control(cache_control)
        if control.no_store:
            return CacheDecision(None, "no-store")
        reason = not_cacheable_reason(request, settings.policy)
        if reason is not None:
            return CacheDecision(None, reason)
        ttl = settings.default_ttl_seconds
        if ttl_seconds is not None:
            ttl = ttl_seconds
        if control.max_age is not None:
            ttl = control.max_age
        ttl = min(ttl, settings.max_ttl_seconds)
        if ttl <= 0:
            return CacheDecision(None, "ttl 0")
        owner = None if settings.scope == "global" else client_id
        return CacheDecision(
            key=cache_key(request, scope=settings.scope, client_id=client_id),
            reason="no-cache" if control.no_cache else None,
            ttl_seconds=ttl,
            lookup=not control.no_cache,
            store=True,
            owner=owner,
        )

    def build_entry(
        self,
        decision: CacheDecision,
        body: dict[str, Any],
        *,
        model_id: str,
        usage: Usage,
        cost_usd: Decimal,
        pieces: dict[int, list[int]] | None = None,
    ) -> CachedEntry:
        """An entry owned by the decision's scope. ``model_id`` is the model that answered
        (after any fallback), so invalidating a model drops the answers it produced. The
        body always gets a ``usage`` (see :func:`~ai_gateway.cache.stream.with_usage`)."""
        return CachedEntry(
            body=with_usage(body, usage),
            model_id=model_id,
            client_id=decision.owner,
            usage=usage,
            cost_usd=cost_usd,
            pieces=pieces,
        )

    async def lookup(self, key: str) -> CachedEntry | None:
        try:
            return await self.backend.get(key)
        except CacheUnavailable as exc:
            _log.warning("cache lookup failed, serving as a miss: %s", exc)
            return None

    async def store(self, key: str, entry: CachedEntry, ttl_seconds: int) -> None:
        try:
            await self.backend.set(key, entry, ttl_seconds)
        except CacheUnavailable as exc:
            _log.warning("cache store failed, answer not cached: %s", exc)

    @asynccontextmanager
    async def coalesce(self, decision: CacheDecision) -> AsyncIterator[CoalesceSlot]:
        """Serve from the cache, wait for an identical in-flight request, or lead one.
        See the module docstring for what happens when a leader fails."""
        if decision.key is None:
            raise ValueError(f"nothing to coalesce: {decision.reason}")
        key = decision.key
        slot = CoalesceSlot(key, _cache=self, _ttl=decision.ttl_seconds, _store=decision.store)
        if not decision.lookup:
            # no-cache asks for a fresh answer: neither read nor wait for someone else's.
            yield slot
            return
        future = self._inflight.get(key)
        if future is None:
            slot.entry = await self.lookup(key)
            if slot.entry is not None:
                yield slot
                return
            # Re-check: an identical request may have become leader during the lookup.
            future = self._inflight.get(key)
        if future is not None:
            # A hit from the leader, or (entry None) the leader failed and this request
            # goes upstream on its own, uncoalesced.
            waiting = time.perf_counter()
            slot.entry = await self._await_leader(key, future)
            slot.waited = time.perf_counter() - waiting
            yield slot
            return
        future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        slot.leader = True
        try:
            yield slot
        finally:
            if self._inflight.get(key) is future:
                del self._inflight[key]
            future.set_result(slot._filled)

    async def _await_leader(
        self, key: str, future: asyncio.Future[CachedEntry | None]
    ) -> CachedEntry | None:
        try:
            # shield: a cancelled waiter must not cancel the future the others share.
            produced = await asyncio.wait_for(
                asyncio.shield(future), self.settings.coalesce_timeout_seconds
            )
        except TimeoutError:
            _log.warning("coalesced request waited too long for its leader: %s", key)
            return None
        if produced is None:
            return None
        # Read it back so the hit is counted on the entry; fall back to the leader's copy
        # when it could not be stored (too big for memory, backend down, not storable).
        stored = await self.lookup(key)
        # A private copy: waiters must not share one mutable body.
        return stored or CachedEntry.from_bytes(produced.to_bytes())

    # -- management --------------------------------------------------------------------------

    async def list_entries(self, query: EntryQuery = ALL_ENTRIES) -> list[EntryInfo]:
        async with _as_storage_error():
            return await self.backend.list_entries(query)

    async def invalidate_entry(self, key: str) -> bool:
        async with _as_storage_error():
            return await self.backend.delete(key)

    async def invalidate(self, *, client_id: str | None = None, model: str | None = None) -> int:
        """Drop entries of a client and/or a model. Refuses "no filter" so a caller that
        forgot to pass one cannot wipe everything; use :meth:`invalidate_all` for that."""
        if client_id is None and model is None:
            raise ValueError("pass client_id and/or model, or call invalidate_all()")
        async with _as_storage_error():
            return await self.backend.invalidate(client_id=client_id, model=model)

    async def invalidate_all(self) -> int:
        async with _as_storage_error():
            return await self.backend.invalidate()

    async def close(self) -> None:
        await self.backend.close()


@asynccontextmanager
async def _as_storage_error() -> AsyncIterator[None]:
    try:
        yield
    except CacheUnavailable as exc:
        raise StorageError("the response cache is unavailable") from exc
