"""``/api/analytics/gateway``: one client's analytics. A client key gets its own; an admin
key names the client with ``client_id``. The reads and their tenant wall are
:class:`~ai_gateway.services.analytics.ClientAnalytics`'s (the client's analytics page
reads through it too); every route here takes it as one dependency, built from the same
parameters (period, client, source)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from starlette.responses import Response

from ai_gateway.api.common import ERRORS, PageDep, PeriodDep, SourceParam
from ai_gateway.api.deps import GatewayDep, PrincipalDep
from ai_gateway.services.analytics import (
    AnalyticsPublic,
    ClientAnalytics,
    ConversationsPublic,
)
from ai_gateway.services.schemas import CallsPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/analytics/gateway", tags=["analytics"], responses=ERRORS)

#: Languages of the spreadsheet form of the CSV export.
CsvLocale = Literal["en", "pt_BR"]
ClientParam = Annotated[
    str | None, Query(max_length=64, description="admin keys: the client to report on")
]


def _analytics(
    gateway: GatewayDep,
    principal: PrincipalDep,
    days: PeriodDep,
    client_id: ClientParam = None,
    source: SourceParam = "all",
) -> ClientAnalytics:
    """What every route of this router is about; the wall is checked by each read."""
    return ClientAnalytics(gateway.db, principal, client_id, days, source)


AnalyticsDep = Annotated[ClientAnalytics, Depends(_analytics)]


@router.get("", summary="A client's usage, latency, cache and fallbacks")
async def read_analytics(query: AnalyticsDep) -> AnalyticsPublic:
    return await query.summary()


@router.get("/fallbacks", summary="A client's fallback events, newest first")
async def read_fallbacks(query: AnalyticsDep, page: PageDep) -> CallsPublic:
    return await query.fallbacks(page)


@router.get("/conversations", summary="Usage per conversation, latest first")
async def read_conversations(query: AnalyticsDep, page: PageDep) -> ConversationsPublic:
    return await query.conversations(page)


@router.get(
    "/conversations.csv",
    summary="The conversation table as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export_conversations(
    query: AnalyticsDep,
    locale: Annotated[
        CsvLocale | None,
        Query(
            description="pt_BR: ';' separators, comma decimals, UTF-8 BOM, the client's "
            "local time and translated headers (for a spreadsheet); en: the same in "
            "English; none: the machine form (',', dot decimals, UTC ISO times)"
        ),
    ] = None,
) -> Response:
    body = await query.conversations_csv(locale)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="conversations-{query.days}d.csv"'},
    )


@router.get("/conversations/{conversation_id}", summary="One conversation's calls")
async def read_conversation(
    gateway: GatewayDep,
    principal: PrincipalDep,
    conversation_id: Annotated[str, Path(min_length=1, max_length=200)],
    page: PageDep,
    client_id: ClientParam = None,
) -> CallsPublic:
    query = ClientAnalytics(gateway.db, principal, client_id)
    return await query.conversation(conversation_id, page)
