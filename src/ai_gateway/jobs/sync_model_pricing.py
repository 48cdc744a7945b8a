"""``sync-model-pricing`` (daily 02:00 UTC): prices from the upstream gateway's model list.

``GET {gateway base URL}/models`` (Vercel AI Gateway: ``https://ai-gateway.vercel.sh/v1``)
answers ``{"object": "list", "data": [{"id": "openai/gpt-4o", ..., "pricing": {"input":
"0.0000025", "output": "0.00001", "input_cache_read": "0.00000125", "input_cache_write":
...}}]}``: decimal *strings* in USD per token. They become USD per 1M tokens exactly
(``Decimal``, never float). Only models the registry knows (by id or alias) are updated;
each change gets a ``model_price_history`` row, and the config version moves so every
replica reloads its registry.

All or nothing: the whole answer is parsed and checked before one transaction writes, so a
failed request or a malformed answer (a missing list, a non-numeric or negative or absurd
price) changes nothing. ``input_cache_write`` has no registry column and is ignored; a
model without ``input_cache_read`` keeps its cached-input price.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import aiohttp

from ai_gateway.errors import UpstreamError
from ai_gateway.jobs.base import Job, JobContext, Schedule
from ai_gateway.storage.models_registry import PriceChange, apply_prices, list_models
from ai_gateway.storage.secrets import get_secret
from ai_gateway.storage.shared_config import get_shared_config, update_shared_config

__all__ = ["DEFAULT_GATEWAY_BASE_URL", "JOB", "parse_prices"]

DEFAULT_GATEWAY_BASE_URL: Final = "https://ai-gateway.vercel.sh/v1"
SOURCE: Final = "vercel-ai-gateway"
_PER_MILLION = Decimal(1_000_000)
_PRICE_QUANTUM = Decimal("0.000001")  # the registry's scale (Money(18, 6))
#: Above this (USD per 1M tokens) a price is taken for garbage, not for a model.
_ABSURD = Decimal(10_000)
_TIMEOUT = aiohttp.ClientTimeout(total=30)


async def run(ctx: JobContext) -> dict[str, Any]:
    url, key, known = await ctx.db.run(_endpoint, ctx)
    payload = await _fetch(ctx.http, url, key)
    changes, unpriced = parse_prices(payload, known)
    changed = await ctx.db.run(_apply, ctx, changes, ctx.clock())
    if changed and ctx.on_config_change is not None:
        ctx.on_config_change()
    return {
        "models_listed": len(payload["data"]),
        "models_matched": len(changes),
        "changed": changed,
        "without_price_upstream": unpriced,
    }


def parse_prices(payload: Any, known: dict[str, str]) -> tuple[list[PriceChange], list[str]]:
    """Price changes for the registry's models (``known``: upstream id or alias -> our id)
    from a ``/models`` answer; raises ``UpstreamError`` if any of it is malformed."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list) or not data:
        raise UpstreamError("the upstream models list has no 'data' array of models")
    changes: dict[str, PriceChange] = {}
    unpriced: list[str] = []
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise UpstreamError("the upstream models list has an entry without an id")
        our_id = known.get(entry["id"])
        if our_id is None:
            continue
        pricing = entry.get("pricing")
        if pricing is None or pricing == {}:
            unpriced.append(our_id)
            continue
        if not isinstance(pricing, dict):
            raise UpstreamError(f"model '{entry['id']}': 'pricing' is not an object")
        cached = pricing.get("input_cache_read")
        write = pricing.get("input_cache_write")
        changes[our_id] = PriceChange(
            model_id=our_id,
            input_per_1m=_per_million(pricing.get("input"), entry["id"], "input"),
            output_per_1m=_per_million(pricing.get("output"), entry["id"], "output"),
            cached_input_per_1m=(
                None if cached is None else _per_million(cached, entry["id"], "input_cache_read")
            ),
            cache_write_per_1m=(
                None if write is None else _per_million(write, entry["id"], "input_cache_write")
            ),
        )
    return list(changes.values()), unpriced


def _per_million(value: Any, model: str, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise UpstreamError(f"model '{model}': pricing.{field} is missing or not a number")
    try:
        per_token = Decimal(value)
    except InvalidOperation as exc:
        raise UpstreamError(f"model '{model}': pricing.{field} is not a number") from exc
    if not per_token.is_finite() or per_token < 0:
        raise UpstreamError(f"model '{model}': pricing.{field} is not a valid price")
    price = (per_token * _PER_MILLION).quantize(_PRICE_QUANTUM)
    if price > _ABSURD:
        raise UpstreamError(f"model '{model}': pricing.{field} = {value} per token is absurd")
    return price


def _endpoint(ctx: JobContext) -> tuple[str, str | None, dict[str, str]]:
    with ctx.db.session() as session:
        config = get_shared_config(session)
        base = (
            ctx.settings.provider_base_url_override("gateway")
            or (config.base_urls or {}).get("gateway")
            or DEFAULT_GATEWAY_BASE_URL
        )
        key = None
        if config.gateway_secret_id and ctx.master is not None:
            key = get_secret(session, master=ctx.master, secret_id=config.gateway_secret_id)
        known: dict[str, str] = {}
        for model in list_models(session, active_only=False):
            for alias in model.aliases:
                known.setdefault(alias, model.id)
            known[model.id] = model.id
    return str(base).rstrip("/") + "/models", key, known


async def _fetch(http: aiohttp.ClientSession, url: str, key: str | None) -> Any:
    headers = {"Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        async with http.get(url, headers=headers, timeout=_TIMEOUT) as resp:
            body = await resp.read()
            status = resp.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UpstreamError(f"fetching the models list failed: {type(exc).__name__}") from exc
    if status != 200:
        raise UpstreamError(f"fetching the models list failed: HTTP {status}")
    try:
        return json.loads(body, parse_float=Decimal)
    except ValueError as exc:
        raise UpstreamError("the upstream models list is not JSON") from exc


def _apply(ctx: JobContext, changes: list[PriceChange], now: datetime) -> list[str]:
    with ctx.db.write() as session:
        changed = apply_prices(session, changes=changes, source=SOURCE, now=now)
        if changed:
            update_shared_config(session, changes={})  # bump the version: replicas reload
    return changed


JOB = Job(
    name="sync-model-pricing",
    description="Update registry prices from the upstream gateway's models list (with history).",
    run=run,
    schedule=Schedule(timedelta(days=1), timedelta(hours=2)),
)
