"""What the caches hold, as the REST API and the operator's cache page show it.

The response cache: admins see every entry, a client key only entries of its own scope
(``client:<id>:...``), never global ones or another client's, beside the money the cache
saved. The semantic cache (admins only): an entry's question, never its answer or its
vector.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from ai_gateway.cache.base import EntryInfo, EntryQuery
from ai_gateway.cache.semantic import SemanticCache
from ai_gateway.cache.service import ResponseCache
from ai_gateway.services.auth import Principal
from ai_gateway.services.schemas import Money, Savings
from ai_gateway.services.scope import Page, Period, period_of, read_scoped, scope_client, window_for
from ai_gateway.storage.analytics import cache_savings
from ai_gateway.storage.db import Database
from ai_gateway.storage.semantic_cache import SemanticEntryInfo

__all__ = [
    "CachePublic",
    "EntryPublic",
    "SemanticEntriesPublic",
    "SemanticEntryPublic",
    "read_cache",
    "read_semantic_entries",
]


class EntryPublic(BaseModel):
    key: str
    model_id: str
    client_id: str | None
    size_bytes: int
    hits: int
    created_at: datetime
    expires_at: datetime
    cost_usd: Money
    saved_usd: Money

    @classmethod
    def of(cls, e: EntryInfo) -> EntryPublic:
        return cls(
            key=e.key,
            model_id=e.model_id,
            client_id=e.client_id,
            size_bytes=e.size_bytes,
            hits=e.hits,
            created_at=datetime.fromtimestamp(e.created_at, UTC),
            expires_at=datetime.fromtimestamp(e.expires_at, UTC),
            cost_usd=e.cost_usd,
            saved_usd=e.saved_usd,
        )


class CachePublic(BaseModel):
    period: Period
    data: list[EntryPublic]
    count: int
    savings: Savings


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


async def read_cache(
    db: Database,
    cache: ResponseCache,
    principal: Principal,
    *,
    days: int,
    page: Page,
    client_id: str | None = None,
    model: str | None = None,
) -> CachePublic:
    """The entries ``principal`` may see and what the cache saved over ``days``."""
    tenant = scope_client(principal, client_id)
    query = EntryQuery(client_id=tenant, model=model, limit=page.limit, offset=page.offset)
    entries = await cache.list_entries(query)
    if not principal.is_admin:
        # Global-scope entries hold answers for everyone: not one client's to see.
        entries = [e for e in entries if e.client_id == tenant]
    savings = await read_scoped(
        db, principal, tenant, cache_savings, window=window_for(days), client_id=tenant
    )
    return CachePublic(
        period=period_of(days),
        data=[EntryPublic.of(e) for e in entries],
        count=len(entries),
        savings=Savings(**savings),
    )


async def read_semantic_entries(
    semantic: SemanticCache, *, page: Page, client_id: str | None = None
) -> SemanticEntriesPublic:
    """One page of the semantic cache's entries (the caller has checked it is an admin)."""
    rows, count = await semantic.list_entries(
        client_id=client_id, limit=page.limit, offset=page.offset
    )
    return SemanticEntriesPublic(data=[SemanticEntryPublic.of(r) for r in rows], count=count)
