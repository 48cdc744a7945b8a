"""``GET /api/rollout/health``: the migration's stage and its gates over a period (admin);
the report is :func:`ai_gateway.services.rollout_report.read_rollout_health`'s."""

from __future__ import annotations

from fastapi import APIRouter

from ai_gateway.api.common import ERRORS, PeriodDep
from ai_gateway.api.deps import AdminDep, GatewayDep
from ai_gateway.services import rollout_report
from ai_gateway.services.rollout_report import RolloutHealthPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/rollout", tags=["rollout"], responses=ERRORS)


@router.get("/health", summary="The rollout stage and the seed's gates over a period")
async def read_rollout_health(
    gateway: GatewayDep, _admin: AdminDep, days: PeriodDep
) -> RolloutHealthPublic:
    return await rollout_report.read_rollout_health(gateway.db, days=days)
