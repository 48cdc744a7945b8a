"""``/api/ai-gateway/metrics``: the operator's dashboard data over every client (admin);
the figures are :func:`ai_gateway.services.metrics.read_metrics`'s."""

from __future__ import annotations

from fastapi import APIRouter

from ai_gateway.api.common import ERRORS, PageDep, PeriodDep
from ai_gateway.api.deps import AdminDep, GatewayDep
from ai_gateway.services import metrics as metrics_service
from ai_gateway.services.metrics import MetricsPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/ai-gateway/metrics", tags=["metrics"], responses=ERRORS)


@router.get("", summary="Usage, cost, cache, errors and latency over every client")
async def read_metrics(
    gateway: GatewayDep, _admin: AdminDep, days: PeriodDep, page: PageDep
) -> MetricsPublic:
    return await metrics_service.read_metrics(gateway.db, days=days, page=page)
