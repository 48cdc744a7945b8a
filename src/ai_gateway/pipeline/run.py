"""The call path, in order — the only module that knows it:

    auth + parse (the endpoint runner / call_ai) -> plan: flags -> model -> rate limits
    -> budget -> cache key  ->  look up: exact -> semantic  ->  answer: the dispatcher's
    chain with fallback (complete or open a stream) or the cached entry (returned or
    replayed)  ->  meter  ->  store in the cache  ->  close: reservation, ticket, slot

Plain, streamed and replayed calls run the same steps (:meth:`ChatPipeline._plan`,
``_look_up``, ``_call_upstream``, ``_record_*``, ``_store``, ``_close``); a stream runs the
ones after its first byte in its own generator, when iteration ends. Every outcome,
including refusals and failures, is metered exactly once: a call either settles its
budget reservation with what it really cost or releases it, and finishes its rate-limit
ticket (slot freed, token estimate replaced by the real tokens).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from ai_gateway.cache import ResponseCache
from ai_gateway.cache.base import CachedEntry
from ai_gateway.cache.semantic import SemanticCache, SemanticProbe
from ai_gateway.cache.service import CacheDecision, CoalesceSlot
from ai_gateway.cache.stream import StreamAccumulator, completion_to_chunks, with_usage
from ai_gateway.errors import GatewayError
from ai_gateway.pipeline.budget import BudgetGuard, Reservation
from ai_gateway.pipeline.config_cache import ConfigCache, ConfigSnapshot
from ai_gateway.pipeline.dispatch import ChainFailed, Dispatched, Dispatcher
from ai_gateway.pipeline.estimate import reservation_estimator
from ai_gateway.pipeline.meter import CallFacts, Meter
from ai_gateway.pipeline.outcome import CallMeta, CallResult, FallbackInfo, response_headers
from ai_gateway.pipeline.rate_limit import RateLimitGuard
from ai_gateway.pipeline.rates import RateHolder
from ai_gateway.pipeline.routing import (
    Attempt,
    choose_route,
    plan_attempts,
    resolve_model,
    served_route,
)
from ai_gateway.pipeline.validation import GatewayOptions
from ai_gateway.providers.base import ChatRequest, ChunkStream, Completion, ProviderError, Usage
from ai_gateway.ratelimit.limiter import Ticket
from ai_gateway.storage.clients import ClientInfo
from ai_gateway.storage.models_registry import ModelInfo
from ai_gateway.tracing import span

__all__ = ["ChatPipeline", "StreamCall"]

_T = TypeVar("_T")


def _ms(since: float) -> int:
    return int((time.perf_counter() - since) * 1000)


def _answer(accumulator: StreamAccumulator | None) -> Any:
    """What a stream said so far, as one completion body (kept only on opt-in)."""
    return accumulator.body() if accumulator is not None else None


def _tokens(usage: Usage | None) -> int:
    return usage.input_tokens + usage.output_tokens if usage is not None else 0


@dataclass(slots=True)
class _Plan:
    client: ClientInfo
    request: ChatRequest
    meta: CallMeta
    route: str
    attempts: tuple[Attempt, ...]
    reservation: Reservation
    decision: CacheDecision
    started: float
    ticket: Ticket | None = None
    #: Seconds spent awaiting the provider (the dispatcher's calls, each streamed chunk,
    #: an identical in-flight call this one coalesced on) or pacing a cached stream's
    #: replay on purpose: what the overhead leaves out.
    upstream: float = 0.0
    #: The semantic cache's state for this call (``None``: not opted in / not eligible).
    semantic: SemanticProbe | None = None

    @property
    def rate_limit_headers(self) -> dict[str, str]:
        return self.ticket.headers() if self.ticket is not None else {}

    def facts(self, status: str, *, answer: Any = None, **values: Any) -> CallFacts:
        if self.client.store_bodies:  # the LGPD opt-in; everyone else: nothing kept
            values["bodies"] = {
                "request": {
                    "model": self.request.model,
                    "messages": self.request.messages,
                    "params": self.request.params,
                },
                "response": answer,
                "retention_days": self.client.body_retention_days,
            }
        if status == "success":
            since = self.meta.received if self.meta.received is not None else self.started
            values["overhead_seconds"] = time.perf_counter() - since - self.upstream
        return CallFacts(
            client_id=self.client.id,
            request_id=self.meta.request_id,
            conversation_id=self.meta.conversation_id,
            model_requested=self.request.model,
            route=self.route,
            status=status,
            endpoint=self.meta.endpoint,
            is_stream=self.request.stream,
            cache_lookup=self.decision.key is not None,
            audio_seconds=self.request.audio_seconds,
            **values,
        )


class ChatPipeline:
    def __init__(
        self,
        *,
        config: ConfigCache,
        budgets: BudgetGuard,
        cache: ResponseCache,
        dispatcher: Dispatcher,
        meter: Meter,
        rates: RateHolder,
        gateway_enabled: bool,
        limits: RateLimitGuard | None = None,
        semantic: SemanticCache | None = None,
    ) -> None:
        self._config = config
        self._budgets = budgets
        self._cache = cache
        self._dispatcher = dispatcher
        self._meter = meter
        self._rates = rates
        self._gateway_enabled = gateway_enabled
        self._limits = limits or RateLimitGuard()
        self._semantic = semantic

    # -- shared first half -------------------------------------------------------------

    async def _plan(
        self,
        client: ClientInfo,
        request: ChatRequest,
        options: GatewayOptions,
        meta: CallMeta,
        started: float,
    ) -> _Plan:
        """Flags, model, rate limits, budget reservation and the cache key, in that order.
        A refusal is metered here, once, as ``rejected``."""
        with span("gateway.plan") as current:
            snapshot: ConfigSnapshot = await self._config.get()
            route = choose_route(global_flag=self._gateway_enabled, client=client)
            try:
                model = resolve_model(
                    snapshot, request.model or snapshot.default_model, kind=request.kind
                )
                request.model = model.id
                route = served_route(route, model)
                attempts = plan_attempts(
                    snapshot,
                    route=route,
                    model=model,
                    requested_fallbacks=options.fallback_models,
                    client=client,
                )
                ticket, reservation = await self._admit(snapshot, client, request, attempts)
            except GatewayError as exc:
                self._meter.record(
                    CallFacts(
                        client_id=client.id,
                        request_id=meta.request_id,
                        conversation_id=meta.conversation_id,
                        model_requested=request.model or snapshot.default_model,
                        route=route,
                        status="rejected",
                        endpoint=meta.endpoint,
                        is_stream=request.stream,
                        latency_ms=_ms(started),
                        error_code=exc.code,
                        error_message=exc.message,
                    ),
                    None,
                )
                raise
            decision = self._cache.key_for(
                request, client.id, cache_control=meta.cache_control, ttl_seconds=meta.cache_ttl
            )
            plan = _Plan(
                client, request, meta, route, attempts, reservation, decision, started, ticket
            )
            if self._semantic is not None:
                plan.semantic = self._semantic.probe(request, client, decision)
            if current is not None:
                current.set_attribute("ai_gateway.model", model.id)
                current.set_attribute("ai_gateway.route", route)
                current.set_attribute("ai_gateway.attempts", len(attempts))
            return plan

    async def _admit(
        self,
        snapshot: ConfigSnapshot,
        client: ClientInfo,
        request: ChatRequest,
        attempts: tuple[Attempt, ...],
    ) -> tuple[Ticket | None, Reservation]:
        """The rate limits, then the budget; a budget refusal hands the limiter's ticket
        back, so a refused call holds nothing."""
        estimate = reservation_estimator(request, [a.model for a in attempts], self._rates.rate)
        ticket = await self._limits.admit(
            client_id=client.id,
            plan=client.plan,
            table=snapshot.rate_limits,
            provider=attempts[0].provider,
            tokens=int(estimate("tokens")),
            lease_seconds=snapshot.timeouts.total + 60,
        )
        try:
            reservation = await self._budgets.reserve(client.id, estimate)
        except BaseException:
            self._limits.finish(ticket, tokens=0, served_by=None)
            raise
        return ticket, reservation

    # -- the steps after the plan, the same for every call ----------------------------

    async def _look_up(self, plan: _Plan, stack: AsyncExitStack) -> _Found:
        """The cache step: the exact answer (or, for a follower, its leader's), else one of
        the same meaning. A miss keeps its slot open on ``stack``: identical calls wait for
        this one's answer."""
        if plan.decision.key is None:
            return _Found()
        slot = await stack.enter_async_context(self._cache.coalesce(plan.decision))
        plan.upstream += slot.waited  # a follower waited for its leader's call
        if slot.entry is not None:
            return _Found(slot, slot.entry)
        similar = await self._semantic_lookup(plan)
        if similar is None:
            return _Found(slot)
        # The semantic answer becomes the exact answer to this wording too (waiters get it;
        # the same wording again embeds nothing) — in client scope only: in global scope
        # the exact key is shared, and a semantic answer never is.
        if plan.decision.owner is not None:
            await slot.fill(similar)
        return _Found(slot, similar, semantic=True)

    async def _semantic_lookup(self, plan: _Plan) -> CachedEntry | None:
        if plan.semantic is None or self._semantic is None:
            return None
        return await self._semantic.lookup(
            plan.semantic,
            client=plan.client,
            request_id=plan.meta.request_id,
            conversation_id=plan.meta.conversation_id,
        )

    async def _call_upstream(self, plan: _Plan, call: Awaitable[Dispatched[_T]]) -> Dispatched[_T]:
        """The dispatcher's walk down the chain, its wait counted as upstream time; a chain
        that failed is metered here, once, and raised as the caller's error."""
        waited = time.perf_counter()
        try:
            return await call
        except ChainFailed as failed:
            self._meter.record(
                plan.facts(
                    "error",
                    latency_ms=_ms(plan.started),
                    attempts=failed.attempts,
                    error_code=failed.error.code,
                    error_message=failed.error.message,
                    provider=failed.attempts[-1]["provider"] if failed.attempts else None,
                ),
                plan.reservation,
            )
            raise failed.error from None
        finally:
            plan.upstream += time.perf_counter() - waited

    def _record_hit(self, plan: _Plan, found: _Found) -> CallResult:
        """Meter a cached answer (saved cost, no upstream) and say what it was."""
        assert found.entry is not None
        entry, model = found.entry, _hit_model(plan, found.entry)
        usage = Usage(
            entry.usage.input_tokens,
            entry.usage.output_tokens,
            entry.usage.cached_tokens,
            entry.usage.cache_write_tokens,
        )
        with span("gateway.cache_hit"):
            metered = self._meter.record(
                plan.facts(
                    "success",
                    model=model,
                    provider=model.provider,
                    usage=usage,
                    latency_ms=_ms(plan.started),
                    ttft_ms=_ms(plan.started),
                    cache_hit=True,
                    cache_semantic=found.semantic,
                    saved_usd=entry.cost_usd,
                    answer=entry.body,
                ),
                plan.reservation,
            )
        return CallResult(
            body=with_usage(entry.body, entry.usage),
            request_id=plan.meta.request_id,
            model=model.id,
            provider=model.provider,
            route=plan.route,
            cache_hit=True,
            cache_semantic=found.semantic,
            usage=usage,
            cost_usd=metered.cost_usd,
            cost_brl=metered.cost_brl,
            exchange_rate=metered.rate,
            latency_ms=_ms(plan.started),
        )

    async def _store(
        self,
        plan: _Plan,
        found: _Found,
        body: dict[str, Any],
        *,
        model_id: str,
        usage: Usage,
        cost_usd: Decimal,
        pieces: dict[int, list[int]] | None = None,
    ) -> None:
        """A fresh answer goes into the call's slot (its waiters, the exact cache) and the
        semantic index; a call that was not cacheable has no slot and stores nothing."""
        if found.slot is None:
            return
        entry = self._cache.build_entry(
            plan.decision, body, model_id=model_id, usage=usage, cost_usd=cost_usd, pieces=pieces
        )
        await found.slot.fill(entry)
        if self._semantic is not None:
            self._semantic.store_later(plan.semantic, entry)

    async def _close(
        self, plan: _Plan, stack: AsyncExitStack, tokens: int = 0, served_by: str | None = None
    ) -> None:
        """The last step of every call, however it ended: the budget reservation given back
        (a no-op once metering settled it), the rate-limit ticket finished with the real
        tokens, the cache slot let go."""
        self._budgets.release(plan.reservation)
        self._limits.finish(plan.ticket, tokens=tokens, served_by=served_by)
        await stack.aclose()

    # -- non-streamed ------------------------------------------------------------------

    async def complete(
        self, client: ClientInfo, request: ChatRequest, options: GatewayOptions, meta: CallMeta
    ) -> CallResult:
        plan = await self._plan(client, request, options, meta, time.perf_counter())
        stack = AsyncExitStack()
        tokens, served_by = 0, None
        try:
            found = await self._look_up(plan, stack)
            if found.entry is not None:
                result = self._record_hit(plan, found)
            else:
                done = await self._call_upstream(
                    plan, self._dispatcher.complete(plan.request, plan.attempts)
                )
                result = self._record_completion(plan, done)
                tokens, served_by = _tokens(result.usage), done.attempt.provider
                await self._store(
                    plan,
                    found,
                    result.body,
                    model_id=result.model,
                    usage=result.usage,
                    cost_usd=result.cost_usd,
                )
            result.rate_limit_headers = plan.rate_limit_headers
            return result
        finally:
            await self._close(plan, stack, tokens, served_by)

    def _record_completion(self, plan: _Plan, done: Dispatched[Completion]) -> CallResult:
        completion, attempt = done.value, done.attempt
        latency = _ms(plan.started)
        metered = self._meter.record(
            plan.facts(
                "success",
                model=attempt.model,
                provider=attempt.target.provider,
                usage=completion.usage,
                telemetry=completion.telemetry,
                latency_ms=latency,
                ttft_ms=latency,
                fallback=done.fallback,
                attempts=done.attempts or None,
                answer=completion.body,
            ),
            plan.reservation,
        )
        return CallResult(
            body=completion.body,
            request_id=plan.meta.request_id,
            model=attempt.model.id,
            provider=attempt.target.provider,
            route=plan.route,
            cache_hit=False,
            usage=completion.usage,
            cost_usd=metered.cost_usd,
            cost_brl=metered.cost_brl,
            exchange_rate=metered.rate,
            latency_ms=latency,
            fallback=done.fallback,
            telemetry=completion.telemetry,
        )

    # -- streamed ----------------------------------------------------------------------

    async def stream(
        self, client: ClientInfo, request: ChatRequest, options: GatewayOptions, meta: CallMeta
    ) -> StreamCall:
        """Open a stream. Errors before the first byte (refusals, the whole chain failing)
        raise here, so the HTTP layer can still answer with a status code; after that the
        stream's own generator meters and closes the call when iteration ends."""
        plan = await self._plan(client, request, options, meta, time.perf_counter())
        stack = AsyncExitStack()
        try:
            found = await self._look_up(plan, stack)
            if found.entry is not None:
                model = _hit_model(plan, found.entry)
                return StreamCall(
                    plan,
                    self._replayed(plan, stack, found),
                    model=model.id,
                    provider=model.provider,
                    cache_hit=True,
                    semantic=found.semantic,
                )
            done = await self._call_upstream(
                plan, self._dispatcher.open_stream(plan.request, plan.attempts)
            )
        except BaseException:
            await self._close(plan, stack)
            raise
        return StreamCall(
            plan,
            self._relayed(plan, stack, found, done),
            model=done.attempt.model.id,
            provider=done.attempt.target.provider,
            fallback=done.fallback,
        )

    async def _replayed(
        self, plan: _Plan, stack: AsyncExitStack, found: _Found
    ) -> AsyncGenerator[dict[str, Any], None]:
        """A cached answer as chunks, paced by the deployment's replay delay."""
        assert found.entry is not None
        entry, delay = found.entry, self._cache.replay_delay_seconds
        chunks = completion_to_chunks(
            with_usage(entry.body, entry.usage),
            include_usage=plan.request.include_usage,
            pieces=entry.pieces,
        )
        try:
            for chunk in chunks:
                if delay and chunk["choices"]:
                    await asyncio.sleep(delay)
                    plan.upstream += delay
                yield chunk
        finally:
            self._record_hit(plan, found)
            await self._close(plan, stack)

    async def _relayed(
        self, plan: _Plan, stack: AsyncExitStack, found: _Found, done: Dispatched[ChunkStream]
    ) -> AsyncGenerator[dict[str, Any], None]:
        """The provider's chunks as they come; a cut stream ends with an error chunk."""
        stream, attempt = done.value, done.attempt
        keep = found.slot is not None or plan.client.store_bodies
        accumulator = StreamAccumulator() if keep else None
        status, ttft, error = "abandoned", None, None
        chunks = _timed(stream, plan)
        try:
            try:
                async for chunk in chunks:
                    if ttft is None:
                        ttft = _ms(plan.started)
                    if accumulator is not None:
                        accumulator.add(chunk)
                    yield chunk
                status = "success"
            except ProviderError as exc:
                status, error = "cut", exc
                yield {
                    "error": {
                        "message": f"the upstream stream was cut: {exc.message}",
                        "type": "upstream_error",
                        "code": "stream_cut",
                    }
                }
        finally:
            await chunks.aclose()
            await stream.aclose()
            metered = self._meter.record(
                plan.facts(
                    status,
                    model=attempt.model,
                    provider=attempt.target.provider,
                    usage=stream.usage,
                    telemetry=stream.telemetry,
                    latency_ms=_ms(plan.started),
                    ttft_ms=ttft,
                    fallback=done.fallback,
                    attempts=done.attempts or None,
                    error_code="stream_cut" if error else None,
                    error_message=error.message if error else None,
                    answer=_answer(accumulator) if plan.client.store_bodies else None,
                ),
                plan.reservation,
            )
            if status == "success" and accumulator is not None:
                accumulator.mark_ended()
                if accumulator.complete:
                    await self._store(
                        plan,
                        found,
                        accumulator.body(),
                        model_id=attempt.model.id,
                        usage=stream.usage,
                        cost_usd=metered.cost_usd,
                        pieces=accumulator.pieces(),
                    )
            await self._close(plan, stack, _tokens(stream.usage), attempt.provider)


@dataclass(slots=True)
class _Found:
    """The cache step's answer: the slot this call holds (``None``: not cacheable) and the
    answer found in it, exact or of the same meaning (``None``: go upstream)."""

    slot: CoalesceSlot | None = None
    entry: CachedEntry | None = None
    semantic: bool = False


def _hit_model(plan: _Plan, entry: CachedEntry) -> ModelInfo:
    """The registry model that produced a cached answer (the chain's first if it left)."""
    return next(
        (a.model for a in plan.attempts if a.model.id == entry.model_id), plan.attempts[0].model
    )


async def _timed(stream: ChunkStream, plan: _Plan) -> AsyncGenerator[dict[str, Any], None]:
    """``stream``'s chunks, adding the time spent waiting for each to ``plan.upstream``."""
    chunks = stream.__aiter__()
    while True:
        waited = time.perf_counter()
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return
        finally:
            plan.upstream += time.perf_counter() - waited
        yield chunk


class StreamCall:
    """An open streamed call, as the HTTP layer sees it: what to put in the headers, and
    the chunks (OpenAI chunk dicts; a final ``{"error": ...}`` dict if the upstream cut
    the stream). The pipeline's generator meters and closes the call when iteration ends,
    however it ends — finished, cut, or abandoned by a client that went away."""

    def __init__(
        self,
        plan: _Plan,
        chunks: AsyncGenerator[dict[str, Any], None],
        *,
        model: str,
        provider: str,
        cache_hit: bool = False,
        semantic: bool = False,
        fallback: FallbackInfo | None = None,
    ) -> None:
        self._plan = plan
        self._chunks = chunks
        self.model = model
        self.provider = provider
        self.cache_hit = cache_hit
        self.semantic = semantic
        self.fallback = fallback

    @property
    def request_id(self) -> str:
        return self._plan.meta.request_id

    def headers(self) -> dict[str, str]:
        return response_headers(
            request_id=self.request_id,
            cache_hit=self.cache_hit,
            semantic=self.semantic,
            provider=self.provider,
            model=self.model,
            fallback=self.fallback,
            rate_limits=self._plan.rate_limit_headers,
        )

    def __aiter__(self) -> AsyncGenerator[dict[str, Any], None]:
        # The generator itself (not a wrapper around it), so closing the iterator runs its
        # ``finally`` — the metering — at once.
        return self._chunks
