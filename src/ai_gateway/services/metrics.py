"""The operator's figures over every client: ``/api/ai-gateway/metrics`` sends them and
the operator's analytics page draws them (the caller has checked it is an admin).

Totals, breakdowns and the daily series come from the daily roll-up; percentiles from the
latency histogram; recent requests page through the log by time. See docs/PERFORMANCE.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from ai_gateway.services.schemas import CallPublic, CallsPublic, CostSavings, Latency, UsageTotals
from ai_gateway.services.scope import Page, Period, period_of, window_for
from ai_gateway.storage import analytics
from ai_gateway.storage.alerts import unpriced_models
from ai_gateway.storage.db import Database
from ai_gateway.storage.savings import cost_savings
from ai_gateway.storage.usage import count_quarantined

__all__ = ["MetricsPublic", "read_metrics"]


class ClientUsage(UsageTotals):
    client_id: str
    client_name: str


class ProviderUsage(UsageTotals):
    provider: str


class ModelUsage(UsageTotals):
    model_id: str
    latency: Latency


class DayPoint(UsageTotals):
    day: str
    p50: float
    p95: float
    p99: float


class UnpricedModelPublic(BaseModel):
    """A model that was called while it had no price (those calls are logged with cost
    0 and ``unpriced``) and still has none."""

    model: str
    first_seen: datetime


class UsageQuarantineSummary(BaseModel):
    """Usage rows the database refused (listed by ``/api/ai-gateway/usage-quarantine``)."""

    count: int


class MetricsPublic(BaseModel):
    period: Period
    since: str
    totals: UsageTotals
    latency: Latency
    top_clients: list[ClientUsage]
    by_provider: list[ProviderUsage]
    by_model: list[ModelUsage]
    series: list[DayPoint]
    recent_requests: CallsPublic
    unpriced_models: list[UnpricedModelPublic]
    #: Response cache + provider prompt caches over every client, per day.
    savings: CostSavings
    usage_quarantine: UsageQuarantineSummary


async def read_metrics(db: Database, *, days: int, page: Page) -> MetricsPublic:
    """Every client's figures over the last ``days``; ``page`` pages the recent requests."""
    window = window_for(days)

    def run(s: Session) -> dict[str, Any]:
        totals = analytics.totals(s, window=window, client_id=None)
        return {
            "totals": totals,
            "latency": analytics.overall_percentiles(s, window=window, client_id=None),
            "top_clients": analytics.top_clients(s, window=window, limit=10),
            "by_provider": analytics.by_dimension(
                s, window=window, client_id=None, dimension="provider"
            ),
            "by_model": analytics.model_usage(s, window=window, client_id=None),
            "series": analytics.daily_series(s, window=window, client_id=None),
            "savings": cost_savings(s, window=window, client_id=None),
            "recent": analytics.recent_requests(
                s, window=window, client_id=None, limit=page.limit, offset=page.offset
            ),
            "unpriced_models": [
                UnpricedModelPublic(model=m, first_seen=at) for m, at in unpriced_models(s)
            ],
            "usage_quarantine": UsageQuarantineSummary(count=count_quarantined(s)),
        }

    def in_session() -> dict[str, Any]:
        with db.session() as s:
            return run(s)

    found = await db.run(in_session)
    recent = found.pop("recent")
    return MetricsPublic(
        period=period_of(days),
        since=window.first_day.isoformat(),
        recent_requests=CallsPublic(
            data=[CallPublic(**r) for r in recent], count=found["totals"]["requests"]
        ),
        **found,
    )
