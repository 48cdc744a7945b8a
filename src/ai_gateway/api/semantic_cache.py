"""``/api/ai-gateway/cache/semantic``: the semantic cache's entries, for admins only.

An entry holds a client's question and its answer; the listing shows the question (the
admin decides whether reuse was right) but never the answer or the vector. Purge takes
one entry, one client's entries, or ``all=true``; the other replicas drop purged entries
from memory when they next find them gone from the database. The listing is
:func:`ai_gateway.services.cache.read_semantic_entries` (the cache page's too).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ai_gateway.api.common import ERRORS, PageDep
from ai_gateway.api.deps import AdminDep, GatewayDep
from ai_gateway.errors import InvalidRequest, NotFound
from ai_gateway.services import cache as cache_service
from ai_gateway.services.cache import SemanticEntriesPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/ai-gateway/cache/semantic", tags=["cache"], responses=ERRORS)

ClientFilter = Annotated[str | None, Query(max_length=64)]
EntryFilter = Annotated[str | None, Query(max_length=64)]


class Purged(BaseModel):
    deleted: int


@router.get("", summary="Semantic cache entries (admin)")
async def read_semantic_entries(
    gateway: GatewayDep, _admin: AdminDep, page: PageDep, client_id: ClientFilter = None
) -> SemanticEntriesPublic:
    return await cache_service.read_semantic_entries(
        gateway.semantic_cache, page=page, client_id=client_id
    )


@router.delete("", summary="Purge one semantic cache entry, a client's, or all (admin)")
async def purge_semantic_entries(
    gateway: GatewayDep,
    _admin: AdminDep,
    entry_id: EntryFilter = None,
    client_id: ClientFilter = None,
    all: Annotated[bool, Query(description="drop every entry of every client")] = False,
) -> Purged:
    if all and (entry_id or client_id):
        raise InvalidRequest(
            "all=true cannot be combined with filters", param="all", code="invalid_filters"
        )
    if not all and not entry_id and not client_id:
        raise InvalidRequest(
            "pass entry_id, client_id or all=true", param="entry_id", code="invalid_filters"
        )
    deleted = await gateway.semantic_cache.purge(client_id=client_id, entry_id=entry_id)
    if entry_id is not None and deleted == 0:
        raise NotFound("no such semantic cache entry")
    return Purged(deleted=deleted)
