"""``/api/ai-gateway/cache/semantic``: the semantic cache's entries, for admins only.

An entry holds a client's question and its answer; the listing shows the question (the
admin decides whether reuse was right) but never the answer or the vector. Purge takes
one entry, one client's entries, or ``all=true``; the other replicas drop purged entries
from memory when they next find them gone from the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ai_gateway.api.common import ERRORS, Money, PageDep
from ai_gateway.api.deps import AdminDep, GatewayDep
from ai_gateway.errors import InvalidRequest, NotFound
from ai_gateway.storage.semantic_cache import SemanticEntryInfo

__all__ = ["router"]

router = APIRouter(prefix="/api/ai-gateway/cache/semantic", tags=["cache"], responses=ERRORS)

ClientFilter = Annotated[str | None, Query(max_length=64)]
EntryFilter = Annotated[str | None, Query(max_length=64)]


class SemanticEntryPublic(BaseModel):
    id: str
    client_id: str
    model_id: str
    embed_model: str
    query: str
    hits: int
    cost_usd: Money
    saved_usd: Money
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, e: SemanticEntryInfo) -> SemanticEntryPublic:
        return cls(
            id=e.id,
            client_id=e.client_id,
            model_id=e.model_id,
            embed_model=e.embed_model,
            query=e.query_text,
            hits=e.hits,
            cost_usd=e.cost_usd,
            saved_usd=e.cost_usd * e.hits,
            created_at=e.created_at,
            expires_at=e.expires_at,
        )


class SemanticEntriesPublic(BaseModel):
    data: list[SemanticEntryPublic]
    count: int


class Purged(BaseModel):
    deleted: int


@router.get("", summary="Semantic cache entries (admin)")
async def read_semantic_entries(
    gateway: GatewayDep, _admin: AdminDep, page: PageDep, client_id: ClientFilter = None
) -> SemanticEntriesPublic:
    rows, count = await gateway.semantic_cache.list_entries(
        client_id=client_id, limit=page.limit, offset=page.offset
    )
    return SemanticEntriesPublic(data=[SemanticEntryPublic.of(r) for r in rows], count=count)


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
