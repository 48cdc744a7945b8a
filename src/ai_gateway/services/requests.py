"""The request explorer's reads: ``GET /api/requests`` and ``GET /api/requests/{id}``
send them, the explorer's pages render them.

One page of calls under filters (client, model, endpoint, status, route, cache, fallback,
conversation, a date range), newest first, paged by an opaque cursor; and every fact of
one call. An admin key sees every client (and may name one with ``client_id``); a client
key sees only its own calls -- naming another client is a 403 before any query runs, and
another client's call id is a 404, so ids cannot be probed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from ai_gateway.errors import NotFound
from ai_gateway.services.auth import Principal
from ai_gateway.services.schemas import Money
from ai_gateway.services.scope import read_scoped, scope_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.request_log import (
    RequestFilters,
    clean_text,
    decode_cursor,
    get_request,
    list_requests,
)

__all__ = [
    "RequestDetail",
    "RequestSummary",
    "RequestsPage",
    "StoredBody",
    "explore",
    "read_request",
]


class RequestSummary(BaseModel):
    """One call as the explorer lists it (no prompt or answer)."""

    id: str
    client_id: str
    conversation_id: str | None
    request_id: str
    endpoint: str
    model_requested: str
    model_used: str | None
    provider: str | None
    route: str
    status: str
    is_stream: bool
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost_usd: Money
    cost_brl: Money
    latency_ms: int
    ttft_ms: int | None
    cache_hit: bool
    fallback_from: str | None
    fallback_attempts: int
    error_code: str | None
    created_at: datetime


class RequestsPage(BaseModel):
    data: list[RequestSummary]
    #: Pass it as ``cursor`` for the next page; None on the last page.
    next_cursor: str | None
    has_more: bool


class StoredBody(BaseModel):
    """The prompt and answer, present only when the client opted in to keeping them."""

    request: Any
    response: Any
    expires_at: datetime


class RequestDetail(RequestSummary):
    """Every fact of one call: the prices and exchange rate it was costed with, the
    fallback path, the upstream's ids and headers, the cache facts."""

    cache_write_tokens: int
    exchange_rate: Money
    input_price_per_1m: Money | None
    output_price_per_1m: Money | None
    cached_input_price_per_1m: Money | None
    cache_write_price_per_1m: Money | None
    unpriced: bool
    saved_usd: Money
    saved_brl: Money
    prompt_cache_saved_usd: Money
    prompt_cache_saved_brl: Money
    fallback_reason: str | None
    error_message: str | None
    upstream_request_id: str | None
    upstream_provider: str | None
    upstream_cache: str | None
    #: the attempts of the fallback chain, the upstream generation id, ...
    telemetry: dict[str, Any] | None
    body: StoredBody | None


async def explore(
    db: Database,
    principal: Principal,
    client_id: str | None,
    filters: RequestFilters,
    *,
    limit: int,
    cursor: str | None,
) -> RequestsPage:
    """One page of the calls ``principal`` may see, newest first."""
    tenant = scope_client(principal, clean_text(client_id, "client_id"))
    after = decode_cursor(cursor) if cursor else None
    page = await read_scoped(
        db,
        principal,
        tenant,
        list_requests,
        client_id=tenant,
        filters=filters,
        limit=limit,
        cursor=after,
    )
    return RequestsPage(
        data=[RequestSummary(**row) for row in page.rows],
        next_cursor=page.next_cursor,
        has_more=page.next_cursor is not None,
    )


async def read_request(db: Database, principal: Principal, request_id: str) -> RequestDetail:
    """Every fact of one call (another client's call: not found, so ids cannot be probed)."""
    tenant = None if principal.is_admin else principal.client_id
    found = await read_scoped(
        db, principal, tenant, get_request, client_id=tenant, request_id=request_id
    )
    if found is None:
        raise NotFound(f"no request '{request_id[:64]}' for this key", code="request_not_found")
    return RequestDetail(**found)
