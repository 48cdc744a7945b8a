"""``GET /api/requests`` and ``GET /api/requests/{id}``: the request explorer.

The reads and their tenant wall are :mod:`ai_gateway.services.requests`'s (the explorer's
pages read through them too); this module parses the query into filters.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from ai_gateway.api.common import ERRORS, MAX_PAGE_SIZE
from ai_gateway.api.deps import GatewayDep, PrincipalDep
from ai_gateway.services import requests as explorer
from ai_gateway.services.requests import RequestDetail, RequestsPage
from ai_gateway.storage.request_log import RequestFilters

__all__ = ["read_request", "read_requests", "router"]

router = APIRouter(prefix="/api/requests", tags=["requests"], responses=ERRORS)

_Text = Annotated[str | None, Query(max_length=200)]


@router.get("", summary="Calls, newest first, filtered and paged by cursor")
async def read_requests(
    gateway: GatewayDep,
    principal: PrincipalDep,
    client_id: Annotated[
        str | None, Query(max_length=64, description="admin keys: one client's calls")
    ] = None,
    model: _Text = None,
    endpoint: _Text = None,
    status: _Text = None,
    route: _Text = None,
    cache: Annotated[str | None, Query(max_length=8, description="hit or miss")] = None,
    fallback: Annotated[str | None, Query(max_length=8, description="yes or no")] = None,
    conversation_id: _Text = None,
    date_from: Annotated[date | None, Query(description="first day, UTC (ISO date)")] = None,
    date_to: Annotated[date | None, Query(description="last day included, UTC")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> RequestsPage:
    filters = RequestFilters.of(
        model=model,
        endpoint=endpoint,
        status=status,
        route=route,
        cache=cache,
        fallback=fallback,
        conversation_id=conversation_id,
        date_from=date_from,
        date_to=date_to,
    )
    return await explorer.explore(
        gateway.db, principal, client_id, filters, limit=limit, cursor=cursor
    )


@router.get("/{request_id}", summary="Every fact of one call")
async def read_request(
    gateway: GatewayDep,
    principal: PrincipalDep,
    request_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> RequestDetail:
    return await explorer.read_request(gateway.db, principal, request_id)
