"""The schema (SPEC §3) as SQLAlchemy 2 typed models.

Only the storage layer imports this module. Migrations in ``migrations/`` are the source of
truth for the database; a test checks that they and these models agree.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ai_gateway.storage.types import Money, UTCDateTime

__all__ = [
    "AiModel",
    "ApiKey",
    "AuditLog",
    "Base",
    "BudgetAlert",
    "CacheDailyTotal",
    "CachePerformance",
    "Client",
    "ClientBudget",
    "ClientRateLimit",
    "ExchangeRate",
    "GatewayAlert",
    "GatewayReplica",
    "JobRun",
    "ModelPriceHistory",
    "PlanBudget",
    "PlanRateLimit",
    "RequestBody",
    "Secret",
    "SemanticCacheEntry",
    "SharedGatewayConfig",
    "StoredResponse",
    "UsageDaily",
    "UsageDailyClient",
    "UsageDailyConversation",
    "UsageDailyEndpoint",
    "UsageDailyTotal",
    "UsageLatencyDaily",
    "UsageLog",
    "UsageMonthly",
    "UsageQuarantine",
    "WhatsAppMessage",
    "WhatsAppNumber",
    "new_id",
    "utcnow",
]

AutoId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A 32-hex-digit id that sorts by creation time (48-bit ms clock + 80 random bits),
    so B-tree inserts stay append-mostly even for the usage log."""
    return f"{int(time.time() * 1000):012x}{os.urandom(10).hex()}"


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Secret(Base):
    """A provider key sealed with AES-256-GCM; ``masked`` is all the API ever shows."""

    __tablename__ = "secrets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(32))
    masked: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SharedGatewayConfig(Base):
    """The single configuration row (``id = 1`` enforced by a CHECK constraint)."""

    __tablename__ = "shared_gateway_config"
    __table_args__ = (
        CheckConstraint("id = 1", name="ck_shared_gateway_config_single_row"),
        CheckConstraint("cache_scope IN ('client', 'global')", name="ck_cache_scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    gateway_secret_id: Mapped[str | None] = mapped_column(String(64))
    openai_secret_id: Mapped[str | None] = mapped_column(String(64))
    anthropic_secret_id: Mapped[str | None] = mapped_column(String(64))
    groq_secret_id: Mapped[str | None] = mapped_column(String(64))
    google_secret_id: Mapped[str | None] = mapped_column(String(64))
    base_urls: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    provider_options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cache_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    cache_ttl_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    cache_scope: Mapped[str] = mapped_column(String(16), default="client")
    cache_nondeterministic: Mapped[bool] = mapped_column(Boolean, default=False)
    cache_count_tokens: Mapped[bool] = mapped_column(Boolean, default=False)
    default_model: Mapped[str] = mapped_column(String(128), default="openai/gpt-4o-mini")
    fallback_chain: Mapped[list[Any]] = mapped_column(JSON, default=list)
    connect_timeout_s: Mapped[Decimal] = mapped_column(Money(8, 3), default=Decimal("5"))
    read_timeout_s: Mapped[Decimal] = mapped_column(Money(8, 3), default=Decimal("60"))
    total_timeout_s: Mapped[Decimal] = mapped_column(Money(8, 3), default=Decimal("120"))
    max_retries: Mapped[int] = mapped_column(Integer, default=0)
    admin_alert_email: Mapped[str | None] = mapped_column(String(320))
    admin_alert_webhook: Mapped[str | None] = mapped_column(String(2048))
    #: {provider: {"rpm": N, "tpm": N}}: what each provider grants the shared key.
    provider_rate_limits: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AiModel(Base):
    __tablename__ = "ai_models_registry"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    model_name: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(128))
    input_price_per_1m: Mapped[Decimal | None] = mapped_column(Money(18, 6))
    output_price_per_1m: Mapped[Decimal | None] = mapped_column(Money(18, 6))
    cached_input_price_per_1m: Mapped[Decimal | None] = mapped_column(Money(18, 6))
    cache_write_price_per_1m: Mapped[Decimal | None] = mapped_column(Money(18, 6))
    #: chat, embedding or transcription: which endpoint may call the model.
    kind: Mapped[str] = mapped_column(String(16), default="chat", server_default="chat")
    #: USD per minute of audio (transcription models, which have no tokens).
    price_per_minute: Mapped[Decimal | None] = mapped_column(Money(18, 6))
    context_window: Mapped[int | None] = mapped_column(Integer)
    capabilities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ModelPriceHistory(Base):
    __tablename__ = "model_price_history"
    __table_args__ = (Index("ix_price_history_model_time", "model_id", "effective_at"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("ai_models_registry.id"))
    input_price_per_1m: Mapped[Decimal | None] = mapped_column(Money(18, 6))
    output_price_per_1m: Mapped[Decimal | None] = mapped_column(Money(18, 6))
    cached_input_price_per_1m: Mapped[Decimal | None] = mapped_column(Money(18, 6))
    cache_write_price_per_1m: Mapped[Decimal | None] = mapped_column(Money(18, 6))
    source: Mapped[str] = mapped_column(String(64))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Client(Base):
    __tablename__ = "clients"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'paused', 'suspended')", name="ck_client_status"),
        Index("ix_clients_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    plan: Mapped[str] = mapped_column(ForeignKey("plan_budgets.plan"))
    use_ai_gateway: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str] = mapped_column(String(64), default="America/Sao_Paulo")
    status: Mapped[str] = mapped_column(String(16), default="active")
    contact_email: Mapped[str | None] = mapped_column(String(320))
    alert_webhook_url: Mapped[str | None] = mapped_column(String(2048))
    fallback_chain: Mapped[list[Any] | None] = mapped_column(JSON)
    #: Mark long stable prompt prefixes for Anthropic's prompt cache (``None``: follow
    #: ``provider_options.anthropic.cache_breakpoints`` of the shared config).
    prompt_cache_breakpoints: Mapped[bool | None] = mapped_column(Boolean)
    # LGPD: prompts and answers are kept only when the client (or the operator) opts in.
    store_bodies: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    body_retention_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    #: Opt-in to the semantic cache (reuse an answer to a question of the same meaning).
    semantic_cache: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: The cosine similarity a semantic hit needs (``None``: the gateway's default).
    semantic_cache_threshold: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ApiKey(Base):
    """A key is stored only as its SHA-256; ``prefix`` is what people see."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'client')", name="ck_api_key_role"),
        CheckConstraint(
            "(role = 'admin' AND client_id IS NULL) OR (role = 'client' AND client_id IS NOT NULL)",
            name="ck_api_key_client",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str | None] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UsageLog(Base):
    """One row per call. Prices and the exchange rate used are copied in, so a row keeps the
    cost of its day whatever the registry says later."""

    __tablename__ = "gateway_usage_logs"
    __table_args__ = (
        Index("ix_usage_client_time", "client_id", "created_at"),
        Index("ix_usage_model_time", "model_used", "created_at"),
        Index("ix_usage_time", "created_at"),
        Index("ix_usage_client_conversation", "client_id", "conversation_id", "created_at"),
        # One client's latency percentiles (per model, per day) read only this index:
        # a client's rows are scattered over the table, so a heap visit per row is what
        # made per-client analytics slow at 5M rows (docs/PERFORMANCE.md).
        Index("ix_usage_client_latency", "client_id", "created_at", "model_used", "latency_ms"),
        # Fallback events are a few % of calls: a partial index lists them directly.
        Index(
            "ix_usage_client_fallbacks",
            "client_id",
            "created_at",
            postgresql_where=text("fallback_from IS NOT NULL"),
            sqlite_where=text("fallback_from IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    conversation_id: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str] = mapped_column(String(64))
    model_requested: Mapped[str] = mapped_column(String(128))
    model_used: Mapped[str | None] = mapped_column(String(128))
    provider: Mapped[str | None] = mapped_column(String(32))
    route: Mapped[str] = mapped_column(String(16))
    endpoint: Mapped[str] = mapped_column(
        String(32), default="chat.completions", server_default="chat.completions"
    )
    is_stream: Mapped[bool] = mapped_column(Boolean, default=False)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cached_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    cost_brl: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    exchange_rate: Mapped[Decimal] = mapped_column(Money(18, 6))
    input_price_per_1m: Mapped[Decimal | None] = mapped_column(Money(18, 6))
    output_price_per_1m: Mapped[Decimal | None] = mapped_column(Money(18, 6))
    cached_input_price_per_1m: Mapped[Decimal | None] = mapped_column(Money(18, 6))
    cache_write_price_per_1m: Mapped[Decimal | None] = mapped_column(Money(18, 6))
    #: Prompt tokens written to the provider's prompt cache (part of ``input_tokens``).
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: What the provider's prompt cache saved on this call (negative after a dear write).
    prompt_cache_saved_usd: Mapped[Decimal] = mapped_column(
        Money(), default=Decimal(0), server_default="0"
    )
    prompt_cache_saved_brl: Mapped[Decimal] = mapped_column(
        Money(), default=Decimal(0), server_default="0"
    )
    unpriced: Mapped[bool] = mapped_column(Boolean, default=False)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    ttft_ms: Mapped[int | None] = mapped_column(Integer)
    cache_hit: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The hit came from the semantic cache (a question of the same meaning), not the exact one.
    cache_semantic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    saved_usd: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    saved_brl: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    fallback_from: Mapped[str | None] = mapped_column(String(128))
    fallback_attempts: Mapped[int] = mapped_column(Integer, default=0)
    fallback_reason: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    upstream_request_id: Mapped[str | None] = mapped_column(String(200))
    upstream_provider: Mapped[str | None] = mapped_column(String(64))
    upstream_cache: Mapped[str | None] = mapped_column(String(32))
    telemetry: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsageQuarantine(Base):
    """Usage rows the database refused (the dead letters of the usage writer), kept whole
    with the refusal so nothing is lost and the operator can see, fix and replay them.

    No foreign key on ``client_id``: a missing client may be the very reason."""

    __tablename__ = "gateway_usage_quarantine"
    __table_args__ = (Index("ix_usage_quarantine_time", "quarantined_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    #: the record as the spool file writes it (row, budget amount, cache lookup)
    payload: Mapped[str] = mapped_column(Text)
    #: the row's budget amount was added to the client's budget when it was quarantined
    budget_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    quarantined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CachePerformance(Base):
    __tablename__ = "gateway_cache_performance"
    __table_args__ = (
        UniqueConstraint("day", "client_id", "model_id", name="uq_cache_perf_day"),
        Index("ix_cache_perf_client_day", "client_id", "day"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    model_id: Mapped[str] = mapped_column(String(128))
    hits: Mapped[int] = mapped_column(Integer, default=0)
    #: The part of ``hits`` the semantic cache served.
    semantic_hits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    misses: Mapped[int] = mapped_column(Integer, default=0)
    tokens_saved: Mapped[int] = mapped_column(BigInteger, default=0)
    saved_usd: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    saved_brl: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))


class CacheDailyTotal(Base):
    """:class:`CachePerformance` of every client together, per UTC day x model: the
    operator's cache view and its daily savings read a few hundred rows for 90 days
    instead of summing the per-client rows (~273k at 500 clients), docs/PERFORMANCE.md."""

    __tablename__ = "gateway_cache_daily_totals"
    __table_args__ = (UniqueConstraint("day", "model_id", name="uq_cache_daily_totals"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))
    model_id: Mapped[str] = mapped_column(String(128))
    hits: Mapped[int] = mapped_column(BigInteger, default=0)
    semantic_hits: Mapped[int] = mapped_column(BigInteger, default=0)
    misses: Mapped[int] = mapped_column(BigInteger, default=0)
    tokens_saved: Mapped[int] = mapped_column(BigInteger, default=0)
    saved_usd: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    saved_brl: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))


class _UsageSums:
    """The sums every usage roll-up keeps."""

    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_hits: Mapped[int] = mapped_column(BigInteger, default=0)
    fallbacks: Mapped[int] = mapped_column(BigInteger, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cached_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    cost_brl: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    prompt_cache_saved_usd: Mapped[Decimal] = mapped_column(
        Money(), default=Decimal(0), server_default="0"
    )
    prompt_cache_saved_brl: Mapped[Decimal] = mapped_column(
        Money(), default=Decimal(0), server_default="0"
    )
    latency_ms_sum: Mapped[int] = mapped_column(BigInteger, default=0)


class UsageDaily(_UsageSums, Base):
    """The usage log summed per UTC day x client x model x provider, kept by the usage writer
    in the same transaction as the rows: one client's views and monthly billing read these
    instead of every call (see docs/PERFORMANCE.md)."""

    __tablename__ = "gateway_usage_daily"
    __table_args__ = (
        UniqueConstraint("day", "client_id", "model_id", "provider", name="uq_usage_daily"),
        Index("ix_usage_daily_client_day", "client_id", "day"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    model_id: Mapped[str] = mapped_column(String(128))
    provider: Mapped[str] = mapped_column(String(32))


class UsageDailyTotal(_UsageSums, Base):
    """Every client together, per UTC day x model x provider: the operator's totals,
    breakdowns and series read a few hundred rows for 90 days, whatever the client count."""

    __tablename__ = "gateway_usage_daily_totals"
    __table_args__ = (
        UniqueConstraint("day", "model_id", "provider", name="uq_usage_daily_totals"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))
    model_id: Mapped[str] = mapped_column(String(128))
    provider: Mapped[str] = mapped_column(String(32))


class UsageMonthly(_UsageSums, Base):
    """Per calendar month (UTC) x client x model x provider: monthly billing of every
    client reads a few thousand rows."""

    __tablename__ = "gateway_usage_monthly"
    __table_args__ = (
        UniqueConstraint("month", "client_id", "model_id", "provider", name="uq_usage_monthly"),
        Index("ix_usage_monthly_client", "client_id", "month"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7))
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    model_id: Mapped[str] = mapped_column(String(128))
    provider: Mapped[str] = mapped_column(String(32))


class UsageDailyClient(_UsageSums, Base):
    """Per UTC day x client, every model together: the operator's top-clients ranking."""

    __tablename__ = "gateway_usage_daily_clients"
    __table_args__ = (UniqueConstraint("day", "client_id", name="uq_usage_daily_clients"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))


class UsageDailyEndpoint(_UsageSums, Base):
    """Per UTC day x client x endpoint: one client's breakdown by endpoint reads a few
    rows per day instead of every call (a heap visit per call: the slowest part of the
    client's analytics at 20M rows, docs/PERFORMANCE.md), and it survives the retention
    of the raw rows like every roll-up."""

    __tablename__ = "gateway_usage_daily_endpoints"
    __table_args__ = (
        UniqueConstraint("day", "client_id", "endpoint", name="uq_usage_daily_endpoints"),
        Index("ix_usage_daily_endpoints_client_day", "client_id", "day"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    endpoint: Mapped[str] = mapped_column(String(32))


class UsageDailyConversation(Base):
    """Per client x UTC day x conversation: what one client's conversation table shows
    (calls, tokens, cost, errors, cache hits, the latency sum, the first and last call),
    so it reads a few rows per conversation and day instead of every call (a heap visit
    per call at 20M rows, docs/PERFORMANCE.md). Calls without a conversation are not
    kept. The unique key leads with the client: it is also the index the table reads."""

    __tablename__ = "gateway_usage_daily_conversations"
    __table_args__ = (
        UniqueConstraint(
            "client_id", "day", "conversation_id", name="uq_usage_daily_conversations"
        ),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    day: Mapped[str] = mapped_column(String(10))
    conversation_id: Mapped[str] = mapped_column(String(200))
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_hits: Mapped[int] = mapped_column(BigInteger, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    cost_brl: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    latency_ms_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UsageLatencyDaily(Base):
    """A latency histogram per UTC day x model (all clients): ``bucket_ms`` is the lower
    bound of a log-scale bucket about 5 % wide, so percentiles over all clients are read
    from a few thousand rows with a bounded error instead of sorting millions of calls."""

    __tablename__ = "gateway_latency_daily"
    __table_args__ = (UniqueConstraint("day", "model_id", "bucket_ms", name="uq_latency_daily"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))
    model_id: Mapped[str] = mapped_column(String(128))
    bucket_ms: Mapped[int] = mapped_column(Integer)
    calls: Mapped[int] = mapped_column(BigInteger, default=0)


class PlanBudget(Base):
    __tablename__ = "plan_budgets"
    __table_args__ = (
        CheckConstraint("budget_type IN ('tokens', 'brl', 'usd')", name="ck_plan_budget_type"),
        CheckConstraint("period IN ('daily', 'weekly', 'monthly')", name="ck_plan_period"),
    )

    plan: Mapped[str] = mapped_column(String(32), primary_key=True)
    budget_type: Mapped[str] = mapped_column(String(8))
    limit_value: Mapped[Decimal] = mapped_column(Money())
    period: Mapped[str] = mapped_column(String(8))
    alert_thresholds: Mapped[list[Any]] = mapped_column(JSON)
    pause_at_limit: Mapped[bool] = mapped_column(Boolean, default=False)
    markup_percent: Mapped[Decimal] = mapped_column(Money(8, 4), default=Decimal(30))
    #: the highest limit its clients may set themselves, in ``budget_type`` (NULL: none)
    client_max: Mapped[Decimal | None] = mapped_column(Money())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ClientBudget(Base):
    """Counters for a client's current period. With ``is_custom`` false, the limit, type,
    period, thresholds and pause flag come from the client's plan at read time."""

    __tablename__ = "client_budgets"
    __table_args__ = (
        CheckConstraint(
            "budget_type IS NULL OR budget_type IN ('tokens', 'brl', 'usd')",
            name="ck_client_budget_type",
        ),
        CheckConstraint(
            "period IS NULL OR period IN ('daily', 'weekly', 'monthly')", name="ck_client_period"
        ),
        Index("ix_client_budgets_next_reset", "next_reset_at"),
    )

    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), primary_key=True)
    is_custom: Mapped[bool] = mapped_column(Boolean, default=False)
    budget_type: Mapped[str | None] = mapped_column(String(8))
    limit_value: Mapped[Decimal | None] = mapped_column(Money())
    period: Mapped[str | None] = mapped_column(String(8))
    alert_thresholds: Mapped[list[Any] | None] = mapped_column(JSON)
    pause_at_limit: Mapped[bool | None] = mapped_column(Boolean)
    current_usage: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BudgetAlert(Base):
    __tablename__ = "budget_alerts"
    __table_args__ = (
        UniqueConstraint(
            "client_id", "threshold", "period_start", "channel", name="uq_budget_alert_once"
        ),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    threshold: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str | None] = mapped_column(String(2048))
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GatewayAlert(Base):
    __tablename__ = "gateway_alerts"
    __table_args__ = (UniqueConstraint("kind", "scope", "window_start", name="uq_gateway_alert"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(128), default="global")
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExchangeRate(Base):
    __tablename__ = "exchange_rates"
    __table_args__ = (Index("ix_exchange_rates_pair_time", "base", "quote", "fetched_at"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Money(18, 6))
    source: Mapped[str] = mapped_column(String(64))
    quoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditLog(Base):
    __tablename__ = "audit_logs"
    __table_args__ = (Index("ix_audit_time", "created_at"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(32), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GatewayReplica(Base):
    """One row per running gateway process with shared budget counters, beaten every few
    seconds: while Redis is away each process admits its share of a budget's remainder
    (see :mod:`ai_gateway.pipeline.replicas`)."""

    __tablename__ = "gateway_replicas"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class JobRun(Base):
    """The lock and last run of each scheduled job (one row per job name)."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class WhatsAppNumber(Base):
    """A WhatsApp Business number a client owns. Its Graph API access token is sealed in the
    vault as secret ``whatsapp:<phone_number_id>``, never stored here."""

    __tablename__ = "whatsapp_numbers"
    __table_args__ = (
        CheckConstraint(
            "history_length >= 0 AND history_length <= 100", name="ck_whatsapp_history_length"
        ),
    )

    phone_number_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    model: Mapped[str] = mapped_column(String(128))
    system_prompt: Mapped[str | None] = mapped_column(Text)
    history_length: Mapped[int] = mapped_column(Integer, default=10)
    language: Mapped[str] = mapped_column(String(16), default="pt-BR")
    replies: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WhatsAppMessage(Base):
    """Every message in or out of a WhatsApp number. ``wamid`` is unique: claiming an
    inbound message is an INSERT that a redelivery (or a racing delivery) cannot repeat."""

    __tablename__ = "whatsapp_messages"
    __table_args__ = (
        CheckConstraint("direction IN ('in', 'out')", name="ck_whatsapp_direction"),
        Index("ix_whatsapp_messages_contact", "phone_number_id", "contact_wa_id", "id"),
        Index("ix_whatsapp_messages_client_time", "client_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    phone_number_id: Mapped[str] = mapped_column(ForeignKey("whatsapp_numbers.phone_number_id"))
    contact_wa_id: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(3))
    wamid: Mapped[str | None] = mapped_column(String(255), unique=True)
    message_type: Mapped[str] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _limit_checks(table: str) -> tuple[CheckConstraint, ...]:
    return tuple(
        CheckConstraint(f"{column} IS NULL OR {column} >= 1", name=f"ck_{table}_{column}")
        for column in ("rpm", "tpm", "concurrency")
    )


class PlanRateLimit(Base):
    """A plan's default rate limits; a NULL column is no limit."""

    __tablename__ = "plan_rate_limits"
    __table_args__ = _limit_checks("plan_rate_limits")

    plan: Mapped[str] = mapped_column(ForeignKey("plan_budgets.plan"), primary_key=True)
    rpm: Mapped[int | None] = mapped_column(Integer)
    tpm: Mapped[int | None] = mapped_column(Integer)
    concurrency: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ClientRateLimit(Base):
    """A client's own rate limits; a NULL column follows the client's plan."""

    __tablename__ = "client_rate_limits"
    __table_args__ = _limit_checks("client_rate_limits")

    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), primary_key=True)
    rpm: Mapped[int | None] = mapped_column(Integer)
    tpm: Mapped[int | None] = mapped_column(Integer)
    concurrency: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class StoredResponse(Base):
    """A stored ``/v1/responses`` answer and the conversation up to it, so a later call's
    ``previous_response_id`` continues it. Owned by one client; expired rows are never read."""

    __tablename__ = "stored_responses"
    __table_args__ = (
        Index("ix_stored_responses_client", "client_id", "created_at"),
        Index("ix_stored_responses_expiry", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    model: Mapped[str] = mapped_column(String(128))
    conversation: Mapped[list[Any]] = mapped_column(JSON)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RequestBody(Base):
    """A call's prompt and answer, kept only for a client that opted in
    (``clients.store_bodies``), until ``expires_at`` (its retention). Written by the usage
    writer in the same batch as the call's usage row; deleted by the daily purge."""

    __tablename__ = "request_bodies"
    __table_args__ = (
        Index("ix_request_bodies_client", "client_id", "created_at"),
        Index("ix_request_bodies_expiry", "expires_at"),
    )

    usage_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    request: Mapped[Any] = mapped_column(JSON, nullable=True)
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SemanticCacheEntry(Base):
    """One answer of the semantic cache: the embedded question (``vector``, float32
    little-endian: a similarity, not money), the scope it may be reused in (client, model,
    system prompt, earlier turns and answer-changing parameters, hashed) and the answer
    (a ``CachedEntry`` as bytes). In the database so every replica loads the same entries."""

    __tablename__ = "semantic_cache_entries"
    __table_args__ = (
        Index("ix_semantic_cache_scope", "client_id", "scope_hash", "created_at"),
        Index("ix_semantic_cache_expiry", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    scope_hash: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str] = mapped_column(String(128))
    embed_model: Mapped[str] = mapped_column(String(128))
    dimensions: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    #: The literals (numbers, dates, names) a hit must share with the question.
    literals: Mapped[list[Any]] = mapped_column(JSON)
    query_text: Mapped[str] = mapped_column(Text)
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    cost_usd: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    hits: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
