"""The running gateway: every long-lived part, built once at start-up and closed once.

The HTTP app, ``call_ai`` and the jobs all reach the database, the providers and the
caches through one :class:`Gateway`, never through module globals. Background tasks (the
usage writer, the exchange-rate refresher, the config version poll, the key last-used
writer, the replica heartbeat (with Redis), the job scheduler, the WhatsApp bot's
replies) start with it and stop with it; stopping waits for WhatsApp replies in flight,
flushes every usage row and waits for pending alerts. The
:class:`~ai_gateway.metering.alerting.Alerter` listens to the meter (thresholds,
auto-pause, unpriced models).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import aiohttp
import orjson
from redis.asyncio import Redis

from ai_gateway.bootstrap import master_key_for, open_database
from ai_gateway.cache import ResponseCache, create_cache_backend
from ai_gateway.cache.semantic import SemanticCache, SemanticSettings
from ai_gateway.changes import ChangeBus, ChangeKind
from ai_gateway.jobs import JobContext, JobOutcome, Scheduler, run_job
from ai_gateway.metering.alerting import Alerter
from ai_gateway.metering.currency import ExchangeRateService
from ai_gateway.metering.usage_sinks import BatchSink, ProcessSink, ThreadSink
from ai_gateway.metering.usage_writer import UsageWriter
from ai_gateway.metrics import GatewayMetrics
from ai_gateway.pipeline.breaker import BreakerBoard
from ai_gateway.pipeline.config_cache import ConfigCache
from ai_gateway.pipeline.dispatch import Dispatcher
from ai_gateway.pipeline.meter import Meter
from ai_gateway.pipeline.outcome import CallMeta, CallResult
from ai_gateway.pipeline.rate_limit import RateLimitGuard
from ai_gateway.pipeline.rates import RateHolder
from ai_gateway.pipeline.replicas import HEARTBEAT_SECONDS, ReplicaRegistry
from ai_gateway.pipeline.run import ChatPipeline
from ai_gateway.pipeline.semantic_embedder import PipelineEmbedder
from ai_gateway.pipeline.shared_budget import RedisBudgetCounters
from ai_gateway.pipeline.validation import GatewayOptions, parse_chat_request
from ai_gateway.providers import Provider, create_providers
from ai_gateway.providers.base import AudioFile, ChatRequest
from ai_gateway.providers.registry import PROVIDERS
from ai_gateway.ratelimit.shared import RedisLimiter
from ai_gateway.services.alerts import AlertService
from ai_gateway.services.auth import Authenticator, Principal
from ai_gateway.services.budgets import BudgetService
from ai_gateway.services.models import ModelService
from ai_gateway.services.rate_limits import RateLimitService
from ai_gateway.services.tenants import TenantService
from ai_gateway.settings import Settings
from ai_gateway.storage.api_keys import mark_used
from ai_gateway.storage.db import Database
from ai_gateway.storage.usage import WriteResult
from ai_gateway.tracing import configure_tracing, shutdown_tracing, span
from ai_gateway.vault import MasterKey
from ai_gateway.whatsapp.service import WhatsAppService

__all__ = ["Gateway"]

log = logging.getLogger("ai_gateway")

_LAST_USED_SECONDS = 10.0
#: How long a budget admission waits on Redis before it counts as away.
_REDIS_TIMEOUT_SECONDS = 2.0


class Gateway:
    """Build with :meth:`running` (an async context manager): the constructor makes every
    part, wired to the parts it needs; :meth:`start` only starts the background work."""

    def __init__(self, settings: Settings, db: Database, master: MasterKey | None) -> None:
        self.settings = settings
        self.db = db
        self.master = master
        self.config = ConfigCache(db, master, settings)
        self.metrics = GatewayMetrics(
            known_models=lambda: self.config.current.models, providers=PROVIDERS
        )
        self.auth = Authenticator(db)
        # A Redis that stops answering (not only one that refuses) must fail admissions
        # fast: the guard then admits its share instead of every call waiting on it.
        self.shared_budget = (
            RedisBudgetCounters(
                Redis.from_url(
                    settings.redis_url,
                    socket_timeout=_REDIS_TIMEOUT_SECONDS,
                    socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
                )
            )
            if settings.redis_url
            else None
        )
        #: the live replicas that divide a budget while Redis is away (with Redis only)
        self.replicas = ReplicaRegistry(db) if self.shared_budget is not None else None
        self.changes = ChangeBus(db, redis_url=settings.redis_url)
        #: the one owner of budgets; ``budgets`` is its guard on the request path
        self.budget_service = BudgetService(
            db,
            shared=self.shared_budget,
            auth=self.auth,
            publish=self.changes.publish,
            replicas=self.replicas,
        )
        self.budgets = self.budget_service.guard
        # Limits are read from the config snapshot; the service owns their changes.
        self.rate_limiter = RateLimitGuard(
            shared=RedisLimiter(Redis.from_url(settings.redis_url)) if settings.redis_url else None
        )
        self.limits = RateLimitService(db, config=self.config, publish=self.changes.publish)
        #: the one owner of the model registry's changes
        self.model_service = ModelService(db, publish=self.changes.publish)
        #: the one owner of clients and their keys (REST API and operator pages)
        self.tenants = TenantService(
            db,
            config=self.config,
            budgets=self.budget_service,
            publish=self.changes.publish,
            allow_private_webhooks=settings.allow_private_webhooks,
        )
        self.breakers = BreakerBoard(on_change=self._breaker_changed)
        self.cache = ResponseCache(
            create_cache_backend(settings.redis_url),
            replay_delay_seconds=settings.cache_replay_delay_ms / 1000,
        )
        self.semantic_cache = SemanticCache(
            db,
            SemanticSettings(
                threshold=settings.semantic_cache_threshold,
                max_scopes=settings.semantic_cache_max_scopes,
                max_entries=settings.semantic_cache_max_entries,
            ),
        )
        sink: BatchSink = (
            ProcessSink(settings.effective_database_url, log_level=settings.log_level)
            if settings.usage_writer_process
            else ThreadSink(db)
        )
        self.usage = UsageWriter(
            sink,
            spool_dir=settings.data_dir / "spool",
            flush_interval=settings.usage_flush_interval,
            batch_size=settings.usage_batch_size,
            on_flush=self._usage_flushed,
        )
        self.metrics.watch_usage(
            backlog=lambda: self.usage.backlog, spooled=lambda: self.usage.spooled
        )
        self.whatsapp = WhatsAppService(
            settings=settings,
            db=db,
            master=master,
            call_ai=self.call_ai,
            transcribe=self.transcribe,
        )
        self._tasks: list[asyncio.Task[None]] = []
        # One pooled keep-alive session for every provider, made once: no per-request
        # set-up. (A session belongs to a running loop: build the gateway with `running`.)
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=0,
                limit_per_host=0,
                ttl_dns_cache=300,
                keepalive_timeout=60,
                enable_cleanup_closed=True,
            ),
            json_serialize=_dumps,
            auto_decompress=True,
        )
        self.rates = RateHolder(
            ExchangeRateService.from_settings(settings, http=self._http, db=db), db
        )
        self.meter = Meter(
            writer=self.usage,
            budgets=self.budgets,
            rate=lambda: self.rates.rate,
            count_cached_tokens=lambda: self.config.current.cache_count_tokens,
            metrics=self.metrics,
        )
        # Kept on the gateway too: the admin API's provider test calls them directly.
        self.providers: dict[str, Provider] = create_providers(self._http)
        self.alerter = Alerter(
            db=db, settings=settings, master=master, http=self._http, budgets=self.budgets
        )
        #: alert settings and the "send a test alert" action (operator pages, REST API)
        self.alerts = AlertService(
            db, settings=settings, master=master, http=self._http, publish=self.changes.publish
        )
        self.meter.usage_listeners.append(self.alerter.on_usage)
        self.meter.unpriced_listeners.append(self.alerter.on_unpriced)
        self.jobs = JobContext(
            db=db,
            settings=settings,
            master=master,
            http=self._http,
            alerter=self.alerter,
            budgets=self.budget_service,
            on_config_change=self.config.invalidate,
        )
        self.pipeline = ChatPipeline(
            config=self.config,
            budgets=self.budgets,
            cache=self.cache,
            dispatcher=Dispatcher(
                self.providers,
                self.breakers,
                self.metrics,
                max_retries=lambda: self.config.current.max_retries,
            ),
            meter=self.meter,
            rates=self.rates,
            gateway_enabled=settings.enable_ai_gateway,
            limits=self.rate_limiter,
            semantic=self.semantic_cache,
        )
        # The semantic cache embeds a question as the client's own embeddings call.
        self.semantic_cache.embedder = PipelineEmbedder(
            self.pipeline, settings.semantic_cache_model
        )

    @classmethod
    @asynccontextmanager
    async def running(cls, settings: Settings) -> AsyncIterator[Gateway]:
        db = await asyncio.to_thread(open_database, settings)
        gateway = cls(settings, db, master_key_for(settings, db))
        await gateway.start()
        try:
            yield gateway
        finally:
            await gateway.stop()

    async def start(self) -> None:
        """Start what runs in the background; every part already exists."""
        configure_tracing(self.settings.otlp_endpoint, service_name=self.settings.otel_service_name)
        snapshot = await self.config.reload()
        self.cache.settings = snapshot.cache
        self.config.on_reload(lambda snap: setattr(self.cache, "settings", snap.cache))
        await self.rates.start()
        if self.settings.scheduler_enabled:
            scheduler = Scheduler(self.jobs)
            self._tasks.append(asyncio.create_task(scheduler.run_forever(), name="scheduler"))
        self.usage.start()
        await self.whatsapp.start()
        self._subscribe_caches()
        await self.changes.start()
        self._every(_LAST_USED_SECONDS, self._write_last_used, "key-last-used")
        if self.replicas is not None:
            await self.replicas.beat()  # counted before the first call
            self._every(HEARTBEAT_SECONDS, self.replicas.beat, "replica-heartbeat")
        log.info(
            "gateway started",
            extra={"database": self.db.dialect, "redis": bool(self.settings.redis_url)},
        )

    async def stop(self) -> None:
        await self.whatsapp.stop()  # replies in flight finish first; their usage rows follow
        await self.changes.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.semantic_cache.drain()
        await self.usage.stop()
        if self.replicas is not None:
            await self.replicas.leave()
        await self.budgets.drain()
        await self.alerter.close()
        await self._write_last_used()
        await self.auth.close()
        await self.rates.stop()
        await self.cache.close()
        if self.shared_budget is not None:
            await self.shared_budget.close()
        await self.rate_limiter.close()
        await self._http.close()
        self.db.dispose()
        if self.settings.otlp_endpoint:
            await asyncio.to_thread(shutdown_tracing)  # flushes the last spans
        log.info("gateway stopped", extra={"usage_rows_written": self.usage.written})

    async def publish_change(
        self, kind: ChangeKind, *, client_id: str | None = None, version: int | None = None
    ) -> None:
        """Tell this process and every other replica that an admin changed ``kind``
        (see :mod:`ai_gateway.changes`); call it after the change is committed."""
        await self.changes.publish(kind, client_id=client_id, version=version)

    def _subscribe_caches(self) -> None:
        async def reload_config(_client_id: str | None) -> None:
            self.config.invalidate()
            await self.config.get()  # off the request path; serves the last one on failure

        def forget_client(client_id: str | None) -> None:
            self.auth.invalidate(client_id=client_id)
            self.budgets.forget(client_id)

        self.changes.subscribe("config", reload_config)
        self.changes.subscribe("models", reload_config)
        self.changes.subscribe("clients", forget_client)
        self.changes.subscribe("keys", lambda client_id: self.auth.invalidate(client_id=client_id))
        self.changes.subscribe("budgets", self.budgets.forget)
        # Rate limits live in the config snapshot (their service bumps the version itself).
        self.changes.subscribe("limits", reload_config)

    async def run_job(self, name: str) -> JobOutcome:
        """Run a scheduled job now (``POST /api/cron/JOB``), under its lock."""
        return await run_job(self.jobs, name)

    # -- library entry point -------------------------------------------------------------

    async def call_ai(
        self,
        client_id: str,
        messages: list[dict[str, Any]],
        *,
        model: str | None = None,
        conversation_id: str | None = None,
        request_id: str | None = None,
        cache_control: str | None = None,
        **params: Any,
    ) -> CallResult:
        """One chat call for ``client_id``, through the same pipeline as the HTTP endpoint
        (flags, budget, cache, fallback, metering). Raises :class:`GatewayError`."""
        body: dict[str, Any] = {"messages": messages, **params}
        if model is not None:
            body["model"] = model
        body.pop("stream", None)
        request, options = parse_chat_request(body)
        client = await self.auth.client(client_id)
        Principal(key_id="library", role="client", client=client).require_client()
        meta = CallMeta(
            request_id=request_id or uuid.uuid4().hex,
            conversation_id=conversation_id,
            cache_control=cache_control,
        )
        with span("call_ai"):
            return await self.pipeline.complete(client, request, options, meta)

    async def transcribe(
        self,
        client_id: str,
        audio: AudioFile,
        *,
        model: str,
        conversation_id: str | None = None,
        request_id: str | None = None,
        language: str | None = None,
    ) -> CallResult:
        """One transcription for ``client_id`` (``audio`` from
        :func:`~ai_gateway.audio.read_audio_file`), through the same pipeline as
        ``/v1/audio/transcriptions``: budget, cache, fallback, metering per minute."""
        client = await self.auth.client(client_id)
        Principal(key_id="library", role="client", client=client).require_client()
        request = ChatRequest(
            model=model,
            messages=[],
            params={"language": language} if language else {},
            kind="transcription",
            audio=audio,
        )
        meta = CallMeta(
            request_id=request_id or uuid.uuid4().hex,
            conversation_id=conversation_id,
            endpoint="audio.transcriptions",
        )
        return await self.pipeline.complete(client, request, GatewayOptions(None), meta)

    # -- background work -----------------------------------------------------------------

    def _every(self, seconds: float, job: Callable[[], Awaitable[Any]], name: str) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(seconds)
                try:
                    await job()
                except Exception:  # a background job must outlive a failed round
                    log.exception("background job failed", extra={"job": name})

        self._tasks.append(asyncio.create_task(loop(), name=name))

    async def _write_last_used(self) -> None:
        used = self.auth.take_last_used()
        if used:
            await self.db.run(self._mark_used, used)

    def _mark_used(self, used: dict[str, Any]) -> None:
        with self.db.write() as session:
            mark_used(session, key_ids=used)

    def _usage_flushed(self, result: WriteResult) -> None:
        self.metrics.usage_written.inc(result.inserted)
        for client_id, (amount, total) in result.budgets.items():
            self.budgets.flushed(client_id, amount, total)
        if result.quarantined:
            self.metrics.usage_quarantined.inc(result.quarantined)
            self.alerter.on_quarantined(result.quarantined)

    def _breaker_changed(self, provider: str, is_open: bool) -> None:
        self.metrics.set_breaker(provider, is_open)
        log.warning(
            "circuit breaker " + ("opened" if is_open else "closed"), extra={"provider": provider}
        )


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=_json_default).decode()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)
