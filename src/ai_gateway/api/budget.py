"""``/api/budget/*``: a client's budget settings and its current-usage view.

A thin router: writes go to the gateway's ``BudgetService`` (validated, audited, the
guard told, the plan's ceiling enforced: ``400 budget_above_plan_ceiling``), reads to
:mod:`ai_gateway.services.budget_reads` (the budget and the one current-usage view, in
the tenant's session; the client's pages read them there too). Client keys see and
change their own budget; admin keys name a client with ``client_id``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ai_gateway.api.common import ERRORS, actor
from ai_gateway.api.deps import GatewayDep, PrincipalDep
from ai_gateway.rules.budget_rules import DEFAULT_THRESHOLDS, parse_amount
from ai_gateway.services import budget_reads
from ai_gateway.services.budget_reads import BudgetConfigPublic, CurrentUsagePublic, budget_client
from ai_gateway.storage.budgets import BudgetSettings

__all__ = ["BudgetConfigPublic", "CurrentUsagePublic", "router"]

router = APIRouter(prefix="/api/budget", tags=["budget"], responses=ERRORS)

ClientParam = Annotated[str | None, Query(max_length=64, description="admin keys: the client")]


class BudgetConfigUpdate(BaseModel):
    """Checked by ``rules.budget_rules`` (the ``param`` of a 400 names the field)."""

    budget_type: str
    #: a decimal string ("12.50"); a whole JSON number is taken too, a fractional one not
    limit: str | int | float
    period: str
    alert_thresholds: list[Any] = list(DEFAULT_THRESHOLDS)
    pause_at_limit: bool = False


def _settings(body: BudgetConfigUpdate) -> BudgetSettings:
    return BudgetSettings(
        budget_type=body.budget_type,
        limit=parse_amount(body.limit, param="limit"),
        period=body.period,
        alert_thresholds=list(body.alert_thresholds),
        pause_at_limit=body.pause_at_limit,
    )


@router.get("/config", summary="A client's budget (its own, or its plan's default)")
async def read_budget(
    gateway: GatewayDep, principal: PrincipalDep, client_id: ClientParam = None
) -> BudgetConfigPublic:
    return await budget_reads.read_budget(gateway.db, principal, client_id)


@router.post("/config", summary="Set a client's own budget")
async def write_budget(
    gateway: GatewayDep,
    principal: PrincipalDep,
    body: BudgetConfigUpdate,
    client_id: ClientParam = None,
) -> BudgetConfigPublic:
    tenant = budget_client(principal, client_id)
    budget = await gateway.budget_service.set_client_budget(
        tenant, _settings(body), actor=actor(principal)
    )  # the service publishes the change: re-read on every replica
    return BudgetConfigPublic.of(budget)


@router.delete("/config", summary="Drop a client's own budget: its plan's default applies")
async def reset_budget(
    gateway: GatewayDep, principal: PrincipalDep, client_id: ClientParam = None
) -> BudgetConfigPublic:
    tenant = budget_client(principal, client_id)
    budget = await gateway.budget_service.clear_client_budget(tenant, actor=actor(principal))
    return BudgetConfigPublic.of(budget)


@router.get("/current-usage", summary="Usage of the current period, days left, projection")
async def read_current_usage(
    gateway: GatewayDep, principal: PrincipalDep, client_id: ClientParam = None
) -> CurrentUsagePublic:
    return await budget_reads.read_current_usage(gateway.db, principal, client_id)
