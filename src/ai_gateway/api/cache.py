"""``/api/ai-gateway/cache``: what the response cache holds and what it saved, and
invalidation. Admins see and clear everything; a client key sees and clears only entries
of its own scope (``client:<id>:...``), never global ones or another client's. The
listing is :func:`ai_gateway.services.cache.read_cache` (the cache page's too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ai_gateway.api.common import ERRORS, PageDep, PeriodDep, scope_client
from ai_gateway.api.deps import GatewayDep, PrincipalDep
from ai_gateway.cache.keys import scope_prefix
from ai_gateway.errors import InvalidRequest, NotFound, PermissionDenied
from ai_gateway.services import cache as cache_service
from ai_gateway.services.cache import CachePublic

__all__ = ["router"]

router = APIRouter(prefix="/api/ai-gateway/cache", tags=["cache"], responses=ERRORS)

ClientFilter = Annotated[str | None, Query(max_length=64)]
ModelFilter = Annotated[str | None, Query(max_length=128)]


class Invalidated(BaseModel):
    deleted: int


@router.get("", summary="Cache entries and the money the cache saved")
async def read_cache(
    gateway: GatewayDep,
    principal: PrincipalDep,
    days: PeriodDep,
    page: PageDep,
    client_id: ClientFilter = None,
    model: ModelFilter = None,
) -> CachePublic:
    return await cache_service.read_cache(
        gateway.db, gateway.cache, principal, days=days, page=page, client_id=client_id, model=model
    )


@router.delete("", summary="Invalidate one entry, a client's, a model's, or all")
async def invalidate(
    gateway: GatewayDep,
    principal: PrincipalDep,
    key: Annotated[str | None, Query(max_length=200)] = None,
    client_id: ClientFilter = None,
    model: ModelFilter = None,
    all: Annotated[bool, Query(description="admin keys only: drop every entry")] = False,
) -> Invalidated:
    tenant = scope_client(principal, client_id)
    if key is not None:
        if client_id or model or all:
            raise InvalidRequest(
                "key cannot be combined with other filters", param="key", code="invalid_filters"
            )
        own = scope_prefix("client", tenant) + ":" if tenant else ""
        if not principal.is_admin and not key.startswith(own):
            raise NotFound("no such cache entry for this key")
        if not await gateway.cache.invalidate_entry(key):
            raise NotFound("no such cache entry")
        return Invalidated(deleted=1)
    if all:
        if not principal.is_admin:
            raise PermissionDenied("only admin keys may clear the whole cache")
        if client_id or model:
            raise InvalidRequest(
                "all=true cannot be combined with filters", param="all", code="invalid_filters"
            )
        return Invalidated(deleted=await gateway.cache.invalidate_all())
    if tenant is None and model is None:
        raise InvalidRequest(
            "pass key, client_id, model or all=true", param="key", code="invalid_filters"
        )
    return Invalidated(deleted=await gateway.cache.invalidate(client_id=tenant, model=model))
