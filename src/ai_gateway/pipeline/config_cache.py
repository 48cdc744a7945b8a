"""The shared config, its decrypted keys and the model registry, read through a cache.

The request path reads a frozen :class:`ConfigSnapshot` from memory. It is rebuilt when it
is five minutes old, or at once when an admin changes the config or a model, in any
process: :mod:`ai_gateway.changes` calls :meth:`ConfigCache.invalidate` and reloads it off
the request path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ai_gateway.cache.service import CacheSettings
from ai_gateway.errors import ConfigurationError
from ai_gateway.providers.base import Timeouts
from ai_gateway.ratelimit.rules import RateLimitTable
from ai_gateway.settings import Settings
from ai_gateway.storage.db import Database
from ai_gateway.storage.models_registry import ModelInfo, list_models
from ai_gateway.storage.rate_limits import load_rate_limit_table
from ai_gateway.storage.secrets import get_secret
from ai_gateway.storage.shared_config import get_shared_config
from ai_gateway.storage.tables import SharedGatewayConfig
from ai_gateway.vault import MasterKey

__all__ = ["CONFIG_TTL_SECONDS", "ConfigCache", "ConfigSnapshot"]

log = logging.getLogger("ai_gateway.config")

CONFIG_TTL_SECONDS = 300.0
_SECRET_COLUMNS = ("gateway", "openai", "anthropic", "groq", "google")


@dataclass(frozen=True, slots=True)
class ConfigSnapshot:
    version: int
    loaded_at: float
    #: The response cache's settings, handed to :class:`ResponseCache` on every reload.
    cache: CacheSettings
    #: Cached answers count against budgets (a metering rule, not the cache's).
    cache_count_tokens: bool
    default_model: str
    fallback_chain: tuple[str, ...]
    timeouts: Timeouts
    base_urls: MappingProxyType[str, str]
    provider_options: MappingProxyType[str, Any]
    keys: MappingProxyType[str, str] = field(repr=False)
    models: MappingProxyType[str, ModelInfo]
    aliases: MappingProxyType[str, str]
    admin_alert_email: str | None
    admin_alert_webhook: str | None
    max_retries: int = 0
    rate_limits: RateLimitTable = field(default_factory=RateLimitTable)
    #: Attempt plans built from this snapshot (``routing.plan_attempts``), shared by calls.
    attempt_plans: dict[tuple[Any, ...], tuple[Any, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def resolve_model(self, name: str) -> ModelInfo | None:
        """A registry model by id or alias, active or not."""
        model = self.models.get(name)
        if model is None and name in self.aliases:
            model = self.models.get(self.aliases[name])
        return model

    def active_model_ids(self) -> list[str]:
        return sorted(m.id for m in self.models.values() if m.is_active)


def _load(session: Session, master: MasterKey | None, settings: Settings) -> ConfigSnapshot:
    row: SharedGatewayConfig = get_shared_config(session)
    keys: dict[str, str] = {}
    for name in _SECRET_COLUMNS:
        secret_id = getattr(row, f"{name}_secret_id")
        if not secret_id:
            continue
        if master is None:
            log.error("provider key set but no master key to open it", extra={"secret": name})
            continue
        value = get_secret(session, master=master, secret_id=secret_id)
        if value:
            keys[name] = value
    base_urls = {k: str(v) for k, v in (row.base_urls or {}).items() if v}
    for provider in _SECRET_COLUMNS:
        override = settings.provider_base_url_override(provider)
        if override:
            base_urls[provider] = override
    models = {m.id: m for m in list_models(session, active_only=False)}
    aliases = {alias: m.id for m in models.values() for alias in m.aliases if alias not in models}
    return ConfigSnapshot(
        version=row.version,
        loaded_at=time.monotonic(),
        cache=CacheSettings(
            enabled=row.cache_enabled,
            default_ttl_seconds=row.cache_ttl_seconds,
            scope="global" if row.cache_scope == "global" else "client",
            allow_nondeterministic=row.cache_nondeterministic,
        ),
        cache_count_tokens=row.cache_count_tokens,
        default_model=row.default_model,
        fallback_chain=tuple(row.fallback_chain or ()),
        timeouts=Timeouts(
            connect=float(row.connect_timeout_s),
            read=float(row.read_timeout_s),
            total=float(row.total_timeout_s),
        ),
        base_urls=MappingProxyType(base_urls),
        provider_options=MappingProxyType(dict(row.provider_options or {})),
        keys=MappingProxyType(keys),
        models=MappingProxyType(models),
        aliases=MappingProxyType(aliases),
        admin_alert_email=row.admin_alert_email,
        admin_alert_webhook=row.admin_alert_webhook,
        max_retries=row.max_retries,
        rate_limits=load_rate_limit_table(session),
    )


def _read_version(session: Session) -> int:
    version = session.scalar(select(SharedGatewayConfig.version).where(SharedGatewayConfig.id == 1))
    if version is None:
        raise ConfigurationError("the shared gateway config row is missing")
    return int(version)


class ConfigCache:
    """Holds the current snapshot; ``get`` is a memory read unless it is stale."""

    def __init__(
        self,
        db: Database,
        master: MasterKey | None,
        settings: Settings,
        *,
        ttl: float = CONFIG_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._master = master
        self._settings = settings
        self._ttl = ttl
        self._clock = clock
        self._snapshot: ConfigSnapshot | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[ConfigSnapshot], None]] = []
        self.loads = 0

    def on_reload(self, listener: Callable[[ConfigSnapshot], None]) -> None:
        self._listeners.append(listener)

    @property
    def current(self) -> ConfigSnapshot:
        """The last snapshot, stale or not (for synchronous readers; ``get`` first)."""
        if self._snapshot is None:
            raise RuntimeError("the config cache has not been loaded yet")
        return self._snapshot

    def _fresh(self, snapshot: ConfigSnapshot | None) -> bool:
        return snapshot is not None and self._clock() - snapshot.loaded_at < self._ttl

    async def get(self) -> ConfigSnapshot:
        snapshot = self._snapshot
        if snapshot is not None and self._fresh(snapshot):
            return snapshot
        async with self._lock:
            if self._snapshot is not None and self._fresh(self._snapshot):
                return self._snapshot
            try:
                return await self.reload()
            except SQLAlchemyError:
                if self._snapshot is None:
                    raise
                # Serve the last config while the database is away; retry in a minute.
                log.warning("config reload failed; serving the last snapshot")
                self._snapshot = replace(self._snapshot, loaded_at=self._clock() - self._ttl + 60.0)
                return self._snapshot

    async def reload(self) -> ConfigSnapshot:
        snapshot = await self._db.run(self._load_sync)
        self._snapshot = snapshot
        self.loads += 1
        for listener in self._listeners:
            listener(snapshot)
        return snapshot

    def _load_sync(self) -> ConfigSnapshot:
        with self._db.session() as session:
            snapshot = _load(session, self._master, self._settings)
        # Stamp with the injectable clock so tests can age it.
        return _restamp(snapshot, self._clock())

    def invalidate(self) -> None:
        """Mark the snapshot stale; the next ``get`` reloads it."""
        if self._snapshot is not None:
            self._snapshot = replace(self._snapshot, loaded_at=float("-inf"))

    async def check_version(self) -> bool:
        """Reload if the database holds a newer version; True when it did."""
        version = await self._db.run(self._version_sync)
        current = self._snapshot
        if current is None or version != current.version:
            await self.reload()
            return True
        return False

    def _version_sync(self) -> int:
        with self._db.session() as session:
            return _read_version(session)


def _restamp(snapshot: ConfigSnapshot, now: float) -> ConfigSnapshot:
    return replace(snapshot, loaded_at=now)
