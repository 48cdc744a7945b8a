"""One client's analytics: usage, latency, cache, fallbacks and conversations.

``/api/analytics/gateway`` and the client's analytics page both read through
:class:`ClientAnalytics`, so they share one tenant wall and one shape: a client key gets
its own data, an admin names the client (which must exist). Latency percentiles are
exact (computed in the database over the client's calls); fallbacks and conversations
are paged; the conversation table also comes as CSV.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from ai_gateway.errors import NotFound
from ai_gateway.i18n.csv_export import CONVERSATION_HEADERS, write_csv
from ai_gateway.services.auth import Principal
from ai_gateway.services.schemas import (
    CallPublic,
    CallsPublic,
    CostSavings,
    Latency,
    Money,
    Savings,
    UsageTotals,
)
from ai_gateway.services.scope import (
    Page,
    Period,
    Source,
    period_of,
    read_scoped,
    scope_client,
    window_for,
)
from ai_gateway.storage import analytics
from ai_gateway.storage.clients import get_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.savings import cost_savings

__all__ = [
    "AnalyticsPublic",
    "ClientAnalytics",
    "ConversationPublic",
    "ConversationsPublic",
    "DayPoint",
    "EndpointAnalytics",
    "ModelAnalytics",
]

_CSV_MAX_ROWS = 100_000
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


@dataclass(frozen=True)
class ClientAnalytics:
    """The analytics of ``client_id`` over the last ``days`` (of ``source``'s calls), as
    ``principal`` may see them. Each read checks the wall first: a client key naming
    another client is refused, an admin must name a client that exists."""

    db: Database
    principal: Principal
    client_id: str | None
    days: int = 30
    source: Source = "all"

    async def tenant(self) -> str:
        """The client these analytics are about (refused or missing: an error)."""
        tenant = scope_client(self.principal, self.client_id, required=True)
        assert tenant is not None
        if self.principal.is_admin:

            def exists() -> str:
                with self.db.session() as s:
                    return get_client(s, tenant).id

            return await self.db.run(exists)
        return tenant

    async def summary(self) -> AnalyticsPublic:
        tenant = await self.tenant()
        found = await read_scoped(
            self.db,
            self.principal,
            tenant,
            _summary,
            client_id=tenant,
            days=self.days,
            source=self.source,
        )
        return AnalyticsPublic(
            client_id=tenant,
            period=period_of(self.days),
            source=self.source,
            since=window_for(self.days).first_day.isoformat(),
            **found,
        )

    async def _page_of(
        self, read: Callable[..., tuple[list[dict[str, Any]], int]], page: Page
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of the client's rows (``read`` is a paged storage function), the count."""
        tenant = await self.tenant()
        return await read_scoped(
            self.db,
            self.principal,
            tenant,
            read,
            window=window_for(self.days, self.source),
            client_id=tenant,
            limit=page.limit,
            offset=page.offset,
        )

    async def fallbacks(self, page: Page) -> CallsPublic:
        """The client's fallback events, newest first."""
        rows, count = await self._page_of(analytics.fallback_events, page)
        return CallsPublic(data=[CallPublic(**r) for r in rows], count=count)

    async def conversations(self, page: Page) -> ConversationsPublic:
        """Usage per conversation, latest first."""
        rows, count = await self._page_of(analytics.conversations, page)
        return ConversationsPublic(data=[ConversationPublic(**r) for r in rows], count=count)

    async def conversations_csv(self, locale: str | None) -> str:
        """The conversation table as CSV (``locale``: the spreadsheet form, see
        :func:`ai_gateway.i18n.csv_export.write_csv`)."""
        tenant = await self.tenant()
        return await read_scoped(
            self.db,
            self.principal,
            tenant,
            _csv,
            client_id=tenant,
            days=self.days,
            source=self.source,
            locale=locale,
        )

    async def conversation(self, conversation_id: str, page: Page) -> CallsPublic:
        """One conversation's calls (any period; none for this client: not found)."""
        tenant = await self.tenant()
        rows, count = await read_scoped(
            self.db,
            self.principal,
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
