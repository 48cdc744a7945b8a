"""The one shared configuration as the operator sees it: ``GET /api/ai-gateway/config``
sends it and the setup page shows it. Provider keys only ever leave masked.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ai_gateway.services.schemas import Money
from ai_gateway.storage.db import Database
from ai_gateway.storage.secrets import SECRET_NAMES, list_secrets
from ai_gateway.storage.shared_config import get_shared_config
from ai_gateway.storage.tables import SharedGatewayConfig

__all__ = ["ConfigPublic", "read_config"]


class ConfigPublic(BaseModel):
    cache_enabled: bool
    cache_ttl_seconds: int
    cache_scope: str
    cache_nondeterministic: bool
    cache_count_tokens: bool
    default_model: str
    fallback_chain: list[str]
    connect_timeout_s: Money
    read_timeout_s: Money
    total_timeout_s: Money
    max_retries: int
    base_urls: dict[str, str]
    admin_alert_email: str | None
    admin_alert_webhook: str | None
    provider_keys: dict[str, str | None] = Field(
        description="Masked provider keys (``sk-...abcd``); null when not set"
    )
    version: int
    updated_at: datetime


def _public(row: SharedGatewayConfig, masked: dict[str, str]) -> ConfigPublic:
    keys = {}
    for name in SECRET_NAMES:
        secret_id = getattr(row, f"{name}_secret_id")
        keys[name] = masked.get(secret_id) if secret_id else None
    return ConfigPublic(
        cache_enabled=row.cache_enabled,
        cache_ttl_seconds=row.cache_ttl_seconds,
        cache_scope=row.cache_scope,
        cache_nondeterministic=row.cache_nondeterministic,
        cache_count_tokens=row.cache_count_tokens,
        default_model=row.default_model,
        fallback_chain=list(row.fallback_chain or []),
        connect_timeout_s=row.connect_timeout_s,
        read_timeout_s=row.read_timeout_s,
        total_timeout_s=row.total_timeout_s,
        max_retries=row.max_retries,
        base_urls={k: str(v) for k, v in (row.base_urls or {}).items()},
        admin_alert_email=row.admin_alert_email,
        admin_alert_webhook=row.admin_alert_webhook,
        provider_keys=keys,
        version=row.version,
        updated_at=row.updated_at,
    )


async def read_config(db: Database) -> ConfigPublic:
    """The shared configuration, provider keys masked (the caller has checked it is an
    admin)."""

    def run() -> ConfigPublic:
        with db.session() as s:
            masked = {info.id: info.masked for info in list_secrets(s)}
            return _public(get_shared_config(s), masked)

    return await db.run(run)
