"""``/api/analytics/gateway``: one client's analytics. A client key gets its own; an admin
key names the client with ``client_id``. Latency percentiles are exact (computed in the
database over the client's calls); fallbacks and conversations are paged; the
conversation table also comes as CSV."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.responses import Response

from ai_gateway.api.common import (
    ERRORS,
    Money,
    Page,
    PageDep,
    Period,
    PeriodDep,
    Source,
    SourceParam,
    read_scoped,
    scope_client,
    window_for,
)
from ai_gateway.api.deps import GatewayDep, PrincipalDep
from ai_gateway.errors import NotFound
from ai_gateway.gateway import Gateway
from ai_gateway.i18n.csv_export import CONVERSATION_HEADERS, write_csv
from ai_gateway.services.auth import Principal
from ai_gateway.services.schemas import (
    CallPublic,
    CallsPublic,
    CostSavings,
    Latency,
    Savings,
    UsageTotals,
)
from ai_gateway.storage import analytics
from ai_gateway.storage.clients import get_client
from ai_gateway.storage.savings import cost_savings

__all__ = ["router"]

router = APIRouter(prefix="/api/analytics/gateway", tags=["analytics"], responses=ERRORS)

#: Languages of the spreadsheet form of the CSV export.
CsvLocale = Literal["en", "pt_BR"]
ClientParam = Annotated[
    str | None, Query(max_length=64, description="admin keys: the client to report on")
]
_CSV_MAX_ROWS = 100_000


class ModelAnalytics(UsageTotals):
    model_id: str
    latency: Latency


class EndpointAnalytics(UsageTotals):
    endpoint: str


class DayPoint(UsageTotals):
    day: str
    p50: float
    p95: float
    p99: float


class AnalyticsPublic(BaseModel):
    client_id: str
    period: Period
    source: Source
    since: str
    totals: UsageTotals
    latency: Latency
    by_model: list[ModelAnalytics]
    by_endpoint: list[EndpointAnalytics]
    cache: Savings
    series: list[DayPoint]
    fallback_count: int
    #: Response cache + provider prompt caches: money saved per day, cost reduction %.
    savings: CostSavings


class ConversationPublic(BaseModel):
    conversation_id: str
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: Money
    cost_brl: Money
    errors: int
    cache_hits: int = 0
    avg_latency_ms: float = 0.0
    first_at: datetime
    last_at: datetime


class ConversationsPublic(BaseModel):
    data: list[ConversationPublic]
    count: int


async def _tenant(gateway: Gateway, principal: Principal, client_id: str | None) -> str:
    tenant = scope_client(principal, client_id, required=True)
    assert tenant is not None
    if principal.is_admin:

        def exists() -> str:
            with gateway.db.session() as s:
                return get_client(s, tenant).id

        return await gateway.db.run(exists)
    return tenant


def _summary(s: Session, *, client_id: str, days: int, source: Source) -> dict[str, Any]:
    window = window_for(days, source)
    totals = analytics.totals(s, window=window, client_id=client_id)
    return {
        "totals": totals,
        "latency": analytics.overall_percentiles(s, window=window, client_id=client_id),
        "by_model": analytics.model_usage(s, window=window, client_id=client_id),
        "by_endpoint": analytics.by_endpoint(s, window=window, client_id=client_id),
        "cache": analytics.cache_savings(s, window=window, client_id=client_id),
        "series": analytics.daily_series(s, window=window, client_id=client_id),
        "fallback_count": totals["fallbacks"],
        "savings": cost_savings(s, window=window, client_id=client_id),
    }


@router.get("", summary="A client's usage, latency, cache and fallbacks")
async def read_analytics(
    gateway: GatewayDep,
    principal: PrincipalDep,
    days: PeriodDep,
    client_id: ClientParam = None,
    source: SourceParam = "all",
) -> AnalyticsPublic:
    tenant = await _tenant(gateway, principal, client_id)
    found = await read_scoped(
        gateway, principal, tenant, _summary, client_id=tenant, days=days, source=source
    )
    return AnalyticsPublic(
        client_id=tenant,
        period=f"{days}d",
        source=source,
        since=window_for(days).first_day.isoformat(),
        **found,
    )


async def _page_of(
    gateway: Gateway,
    principal: Principal,
    client_id: str | None,
    read: Callable[..., tuple[list[dict[str, Any]], int]],
    *,
    days: int,
    source: Source,
    page: Page,
) -> tuple[list[dict[str, Any]], int]:
    """One page of a client's rows (``read`` is a paged storage function) and the count."""
    tenant = await _tenant(gateway, principal, client_id)
    rows, count = await read_scoped(
        gateway,
        principal,
        tenant,
        read,
        window=window_for(days, source),
        client_id=tenant,
        limit=page.limit,
        offset=page.offset,
    )
    return rows, count


@router.get("/fallbacks", summary="A client's fallback events, newest first")
async def read_fallbacks(
    gateway: GatewayDep,
    principal: PrincipalDep,
    days: PeriodDep,
    page: PageDep,
    client_id: ClientParam = None,
    source: SourceParam = "all",
) -> CallsPublic:
    rows, count = await _page_of(
        gateway,
        principal,
        client_id,
        analytics.fallback_events,
        days=days,
        source=source,
        page=page,
    )
    return CallsPublic(data=[CallPublic(**r) for r in rows], count=count)


@router.get("/conversations", summary="Usage per conversation, latest first")
async def read_conversations(
    gateway: GatewayDep,
    principal: PrincipalDep,
    days: PeriodDep,
    page: PageDep,
    client_id: ClientParam = None,
    source: SourceParam = "all",
) -> ConversationsPublic:
    rows, count = await _page_of(
        gateway, principal, client_id, analytics.conversations, days=days, source=source, page=page
    )
    return ConversationsPublic(data=[ConversationPublic(**r) for r in rows], count=count)


_CSV_COLUMNS = (
    "conversation_id",
    "requests",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "cost_brl",
    "errors",
    "cache_hits",
    "avg_latency_ms",
    "first_at",
    "last_at",
)


def _csv(
    s: Session, *, client_id: str, days: int, source: Source, locale: str | None = None
) -> str:
    rows: Iterator[dict[str, Any]] = analytics.iter_conversations(
        s, window=window_for(days, source), client_id=client_id, limit=_CSV_MAX_ROWS
    )
    timezone = get_client(s, client_id).timezone if locale else "UTC"
    return write_csv(
        rows, _CSV_COLUMNS, locale=locale, timezone=timezone, headers=CONVERSATION_HEADERS
    )


@router.get(
    "/conversations.csv",
    summary="The conversation table as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export_conversations(
    gateway: GatewayDep,
    principal: PrincipalDep,
    days: PeriodDep,
    client_id: ClientParam = None,
    source: SourceParam = "all",
    locale: Annotated[
        CsvLocale | None,
        Query(
            description="pt_BR: ';' separators, comma decimals, UTF-8 BOM, the client's "
            "local time and translated headers (for a spreadsheet); en: the same in "
            "English; none: the machine form (',', dot decimals, UTC ISO times)"
        ),
    ] = None,
) -> Response:
    tenant = await _tenant(gateway, principal, client_id)
    body = await read_scoped(
        gateway,
        principal,
        tenant,
        _csv,
        client_id=tenant,
        days=days,
        source=source,
        locale=locale,
    )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="conversations-{days}d.csv"'},
    )


@router.get("/conversations/{conversation_id}", summary="One conversation's calls")
async def read_conversation(
    gateway: GatewayDep,
    principal: PrincipalDep,
    conversation_id: Annotated[str, Path(min_length=1, max_length=200)],
    page: PageDep,
    client_id: ClientParam = None,
) -> CallsPublic:
    tenant = await _tenant(gateway, principal, client_id)
    rows, count = await read_scoped(
        gateway,
        principal,
        tenant,
        analytics.conversation_calls,
        client_id=tenant,
        conversation_id=conversation_id,
        limit=page.limit,
        offset=page.offset,
    )
    if count == 0:
        raise NotFound(f"no conversation '{conversation_id}' for this client")
    return CallsPublic(data=[CallPublic(**r) for r in rows], count=count)
