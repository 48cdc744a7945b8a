"""The one shared configuration as the operator sees and changes it: ``GET`` and ``PUT
/api/ai-gateway/config`` and the setup page. Provider keys are sealed in the vault with the
master key and only ever leave masked; a change is checked first (nothing is written when
a value is wrong), written with its audit row in one transaction, then published so every
replica reloads its config cache.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from ai_gateway.changes import Publish
from ai_gateway.errors import InvalidRequest
from ai_gateway.pipeline.config_cache import ConfigCache, ConfigSnapshot
from ai_gateway.services.schemas import Money
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.db import Database
from ai_gateway.storage.secrets import SECRET_NAMES, list_secrets, set_secret
from ai_gateway.storage.shared_config import get_shared_config, update_shared_config
from ai_gateway.storage.tables import SharedGatewayConfig
from ai_gateway.vault import MasterKey

__all__ = ["ConfigPublic", "read_config", "update_config"]

#: The fields a change may set to null (to remove an alert destination).
_NULLABLE = ("admin_alert_email", "admin_alert_webhook")


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


def _check_models(snapshot: ConfigSnapshot, changes: dict[str, Any]) -> None:
    default = changes.get("default_model")
    if default is not None:
        model = snapshot.resolve_model(default)
        if model is None or not model.is_active:
            raise InvalidRequest(
                f"default_model '{default}' is not an active model; known: "
                + ", ".join(snapshot.active_model_ids()),
                param="default_model",
                code="model_not_active",
            )
        changes["default_model"] = model.id
    chain = changes.get("fallback_chain")
    if chain is not None:
        unknown = [m for m in chain if snapshot.resolve_model(m) is None]
        if unknown:
            raise InvalidRequest(
                f"unknown models in fallback_chain: {', '.join(unknown)}",
                param="fallback_chain",
                code="unknown_models",
            )


def _normalized(snapshot: ConfigSnapshot, changes: dict[str, Any], keys: dict[str, str]) -> None:
    """Refuse what cannot be written, and bring the rest to the row's own form."""
    for name in list(changes):
        if changes[name] is None and name not in _NULLABLE:
            raise InvalidRequest(f"{name} cannot be null", param=name, code="field_required")
    if not changes and not keys:
        raise InvalidRequest("send at least one field to change", code="nothing_to_change")
    _check_models(snapshot, changes)
    if changes.get("base_urls"):
        changes["base_urls"] = {k: v.rstrip("/") for k, v in changes["base_urls"].items()}
    for name in ("connect_timeout_s", "read_timeout_s", "total_timeout_s"):
        if name in changes:
            changes[name] = Decimal(str(changes[name]))


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}


async def update_config(
    db: Database,
    config: ConfigCache,
    *,
    master: MasterKey | None,
    publish: Publish,
    actor: str,
    changes: dict[str, Any],
    keys: dict[str, str],
) -> ConfigPublic:
    """Apply ``changes`` (JSON values of the fields sent) and seal ``keys`` (provider name
    -> clear key); return the configuration as :func:`read_config` reads it."""
    _normalized(await config.get(), changes, keys)
    if keys and master is None:
        raise InvalidRequest(
            "no master key is configured (AI_GATEWAY_MASTER_KEY), so provider keys cannot "
            "be stored",
            param="provider_keys",
            code="master_key_missing",
        )

    def run() -> int:
        with db.write() as s:
            for name, value in keys.items():
                assert master is not None
                set_secret(s, master=master, secret_id=name, value=value)
                changes[f"{name}_secret_id"] = name
            version = update_shared_config(s, changes=changes).version
            details = {k: v for k, v in changes.items() if not k.endswith("_secret_id")}
            record_audit(
                s,
                actor=actor,
                action="config.update",
                target="shared_gateway_config",
                details={**_jsonable(details), "provider_keys_set": sorted(keys)},
            )
            return version

    version = await db.run(run)
    # The write bumped the version itself; this reloads here, and on every replica.
    await publish("config", version=version)
    return await read_config(db)
