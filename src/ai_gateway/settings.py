"""The one settings object: everything the environment configures, validated once.

Nothing else in the package reads ``os.environ``; the CLI and the app build a ``Settings``
and pass it down. Defaults give a working embedded service (a SQLite file) with no set-up.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DATA_DIR", "PROVIDER_BASE_URL_ENV", "Settings"]

DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "ai-gateway"

#: Environment variables that override a provider's base URL from the shared config.
PROVIDER_BASE_URL_ENV = {
    "gateway": "AI_GATEWAY_GATEWAY_BASE_URL",
    "openai": "AI_GATEWAY_OPENAI_BASE_URL",
    "anthropic": "AI_GATEWAY_ANTHROPIC_BASE_URL",
    "groq": "AI_GATEWAY_GROQ_BASE_URL",
    "google": "AI_GATEWAY_GOOGLE_BASE_URL",
}


class Settings(BaseSettings):
    """Validated configuration from ``AI_GATEWAY_*`` (and ``ENABLE_AI_GATEWAY``)."""

    model_config = SettingsConfigDict(env_prefix="AI_GATEWAY_", extra="ignore", frozen=True)

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    redis_url: str | None = None
    master_key: str | None = Field(default=None, repr=False)
    admin_key: str | None = Field(default=None, repr=False)
    cron_secret: str | None = Field(default=None, repr=False)
    #: when set, ``GET /metrics`` needs ``Authorization: Bearer <this token>``
    metrics_token: str | None = Field(default=None, repr=False)
    #: signs the dashboard's session cookies; default: derived from the master key
    session_secret: str | None = Field(default=None, repr=False)
    enable_ai_gateway: bool = Field(
        default=False,
        validation_alias=AliasChoices("ENABLE_AI_GATEWAY", "AI_GATEWAY_ENABLE_AI_GATEWAY"),
    )
    gateway_base_url: str | None = None
    openai_base_url: str | None = None
    anthropic_base_url: str | None = None
    groq_base_url: str | None = None
    google_base_url: str | None = None
    ptax_base_url: str = "https://olinda.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata"
    whatsapp_verify_token: str | None = Field(default=None, repr=False)
    whatsapp_app_secret: str | None = Field(default=None, repr=False)
    whatsapp_graph_base_url: str = "https://graph.facebook.com/v21.0"
    #: The model a voice note is transcribed with, the model an image is read by, and the
    #: longest voice note the bot listens to (longer ones get a polite reply, no call).
    whatsapp_transcription_model: str = "groq/whisper-large-v3-turbo"
    whatsapp_vision_model: str = "openai/gpt-4o-mini"
    whatsapp_max_voice_seconds: int = Field(default=300, gt=0)
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    #: Connection hygiene of ``serve`` (see ai_gateway.edge): seconds to send a whole
    #: request head, a whole body, and idle between keep-alive requests.
    header_timeout: float = Field(default=10.0, gt=0, le=3600)
    body_timeout: float = Field(default=30.0, gt=0, le=3600)
    keepalive_timeout: int = Field(default=5, ge=1, le=3600)
    #: Per process: open connections (then the longest-idle one is closed to make room)
    #: and requests in flight (then a fast 503); /healthz and /readyz are always served.
    max_connections: int = Field(default=4096, ge=1, le=1_000_000)
    max_concurrent_requests: int = Field(default=1024, ge=1, le=1_000_000)
    #: Proxies whose X-Forwarded-Proto/For are believed (uvicorn's forwarded_allow_ips).
    forwarded_allow_ips: str = "127.0.0.1"
    #: Days a stored /v1/responses answer can be continued (previous_response_id).
    responses_retention_days: int = Field(default=30, gt=0, le=3650)
    usage_flush_interval: float = Field(default=0.5, gt=0)
    usage_batch_size: int = Field(default=500, gt=0)
    #: Write usage batches in a child process (off the event loop's GIL); off: a thread.
    usage_writer_process: bool = True
    #: raw usage rows older than this are deleted by ``prune-usage-logs`` (None: kept)
    usage_retention_days: int | None = Field(default=None, ge=1)
    usage_retention_batch: int = Field(default=5000, gt=0)
    #: where pruned rows are archived first (gzipped JSON lines); None: just deleted
    usage_archive_dir: Path | None = None
    scheduler_enabled: bool = True
    #: Milliseconds between the chunks of a replayed cached stream (0: as fast as the
    #: client reads); for clients that animate text at the pace of a live model.
    cache_replay_delay_ms: float = Field(default=0.0, ge=0, le=1000)
    #: The embedding model (a registry id) the semantic cache embeds questions with,
    #: called through the gateway and metered to the client whose question it is.
    semantic_cache_model: str = "openai/text-embedding-3-small"
    #: The cosine similarity a semantic hit needs unless the client sets its own.
    semantic_cache_threshold: float = Field(default=0.93, ge=0.5, le=1.0)
    #: Bounds of the semantic cache's in-memory index (scopes kept, entries per scope).
    semantic_cache_max_scopes: int = Field(default=1024, ge=1, le=1_000_000)
    semantic_cache_max_entries: int = Field(default=1000, ge=1, le=100_000)
    log_level: str = "INFO"
    #: OTLP/HTTP traces endpoint (``http://collector:4318/v1/traces``); None: no traces
    otlp_endpoint: str | None = None
    otel_service_name: str = "ai-gateway"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "ai-gateway@localhost"
    #: Let a client's alert webhook point at a loopback or private address (off: such a
    #: URL is refused, so a webhook cannot reach the operator's own network: SSRF).
    allow_private_webhooks: bool = False

    @field_validator("database_url")
    @classmethod
    def _non_blank(cls, value: str | None) -> str | None:
        return value or None

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file inside ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'ai-gateway.db'}"

    def provider_base_url_override(self, provider: str) -> str | None:
        """The environment's base URL for ``provider``, which wins over the shared config."""
        value = getattr(self, f"{provider}_base_url", None)
        return str(value) if value else None
