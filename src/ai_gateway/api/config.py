"""``/api/ai-gateway/config``: the one shared configuration (admin only).

The reading and the change are :mod:`ai_gateway.services.config`'s (the setup page's
too): provider keys go into the vault sealed with the master key and only ever come back
masked; a change bumps the row's version, is audited in the same transaction, and every
replica reloads its config cache.
``POST /test`` sends one tiny request through every configured provider.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, SecretStr

from ai_gateway.api.common import ERRORS, Email, actor
from ai_gateway.api.deps import AdminDep, GatewayDep
from ai_gateway.gateway import Gateway
from ai_gateway.pipeline.config_cache import ConfigSnapshot
from ai_gateway.pipeline.routing import GATEWAY_PROVIDER
from ai_gateway.providers.base import ChatRequest, ProviderError, Target, Upstream
from ai_gateway.services import config as config_service
from ai_gateway.services.config import ConfigPublic
from ai_gateway.storage.models_registry import ModelInfo
from ai_gateway.storage.secrets import SECRET_NAMES

__all__ = ["router"]

router = APIRouter(prefix="/api/ai-gateway/config", tags=["config"], responses=ERRORS)

ProviderName = Literal["gateway", "openai", "anthropic", "groq", "google"]
Seconds = Annotated[Decimal, Field(gt=0, le=3600, max_digits=8, decimal_places=3)]
_TEST_TIMEOUT_S = 15.0


def _header_safe(key: SecretStr) -> SecretStr:
    """A provider key travels in an HTTP header: visible ASCII only. A newline or a control
    character would be refused by the HTTP client on every later call (a 500 each time)."""
    value = key.get_secret_value()
    if not all("!" <= ch <= "~" for ch in value):
        raise ValueError("a provider key may only hold visible ASCII characters (no spaces)")
    return key


ProviderKey = Annotated[
    SecretStr, Field(min_length=8, max_length=512), AfterValidator(_header_safe)
]


class ConfigUpdate(BaseModel):
    """Only the fields sent change. ``provider_keys`` are sealed in the vault."""

    model_config = ConfigDict(extra="forbid")
    cache_enabled: bool | None = None
    cache_ttl_seconds: int | None = Field(None, ge=1, le=30 * 86400)
    cache_scope: Literal["client", "global"] | None = None
    cache_nondeterministic: bool | None = None
    cache_count_tokens: bool | None = None
    default_model: str | None = Field(None, min_length=1, max_length=128)
    fallback_chain: list[Annotated[str, Field(max_length=128)]] | None = Field(None, max_length=10)
    connect_timeout_s: Seconds | None = None
    read_timeout_s: Seconds | None = None
    total_timeout_s: Seconds | None = None
    max_retries: int | None = Field(None, ge=0, le=5)
    base_urls: dict[ProviderName, HttpUrl] | None = None
    admin_alert_email: Email | None = None
    admin_alert_webhook: HttpUrl | None = None
    provider_keys: dict[ProviderName, ProviderKey] | None = None


class ProviderCheck(BaseModel):
    provider: str
    model: str | None
    ok: bool
    latency_ms: int | None
    error: str | None
    #: Stable kind of the failure (``auth``, ``timeout``, ``no_active_model``...), which the
    #: dashboard translates; ``error`` is the provider's own words.
    error_code: str | None = None


class ConfigTestPublic(BaseModel):
    data: list[ProviderCheck]
    count: int


@router.get("", summary="The shared configuration (provider keys masked)")
async def read_config(gateway: GatewayDep, _admin: AdminDep) -> ConfigPublic:
    return await config_service.read_config(gateway.db)


@router.put("", summary="Change the shared configuration")
async def update_config(gateway: GatewayDep, admin: AdminDep, body: ConfigUpdate) -> ConfigPublic:
    return await config_service.update_config(
        gateway.db,
        gateway.config,
        master=gateway.master,
        publish=gateway.publish_change,
        actor=actor(admin),
        changes=body.model_dump(exclude_unset=True, exclude={"provider_keys"}, mode="json"),
        keys={k: v.get_secret_value() for k, v in (body.provider_keys or {}).items()},
    )


def _test_model(snapshot: ConfigSnapshot, provider: str) -> ModelInfo | None:
    if provider == GATEWAY_PROVIDER:
        return snapshot.resolve_model(snapshot.default_model)
    candidates = sorted(
        (m for m in snapshot.models.values() if m.is_active and m.provider == provider),
        key=lambda m: m.id,
    )
    return candidates[0] if candidates else None


async def _probe(gateway: Gateway, snapshot: ConfigSnapshot, provider: str) -> ProviderCheck:
    model = _test_model(snapshot, provider)
    if model is None:
        return ProviderCheck(
            provider=provider,
            model=None,
            ok=False,
            latency_ms=None,
            error="no active model",
            error_code="no_active_model",
        )
    options = dict(snapshot.provider_options.get(provider, {}))
    if provider == GATEWAY_PROVIDER:
        options["byok"] = {p: k for p, k in snapshot.keys.items() if p != GATEWAY_PROVIDER}
    upstream = Upstream(
        base_url=snapshot.base_urls.get(provider, ""),
        api_key=snapshot.keys.get(provider),
        timeouts=snapshot.timeouts,
        options=options,
    )
    request = ChatRequest(
        model=model.id,
        messages=[{"role": "user", "content": "ping"}],
        params={"max_tokens": 1},
    )
    target = Target(model_id=model.id, provider=model.provider, upstream_model=model.model_name)
    started = time.perf_counter()
    error: str | None = None
    code: str | None = None
    try:
        async with asyncio.timeout(_TEST_TIMEOUT_S):
            await gateway.providers[provider].complete(request, target, upstream)
    except ProviderError as exc:
        error, code = exc.message, exc.reason
    except TimeoutError:
        error, code = f"no answer within {_TEST_TIMEOUT_S:.0f} s", "timeout"
    return ProviderCheck(
        provider=provider,
        model=model.id,
        ok=error is None,
        latency_ms=round((time.perf_counter() - started) * 1000),
        error=error,
        error_code=code,
    )


@router.post("/test", summary="Send one tiny request through each configured provider")
async def test_providers(gateway: GatewayDep, _admin: AdminDep) -> ConfigTestPublic:
    snapshot = await gateway.config.get()
    names = [
        p
        for p in SECRET_NAMES
        if p in gateway.providers and (p in snapshot.keys or p in snapshot.base_urls)
    ]
    checks = await asyncio.gather(*(_probe(gateway, snapshot, p) for p in names))
    return ConfigTestPublic(data=list(checks), count=len(checks))
