"""``/api/budget/*``: a client's budget settings and its current-usage view.

A thin router: writes go to the gateway's ``BudgetService`` (validated, audited, the
guard told, the plan's ceiling enforced: ``400 budget_above_plan_ceiling``), reads to
``storage.budgets`` and ``metering.current_usage`` (the one current-usage view) in the
tenant's session. Client keys see and change their own budget; admin keys name a client
with ``client_id``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ai_gateway.api.common import ERRORS, Money, actor, read_scoped, scope_client
from ai_gateway.api.deps import GatewayDep, PrincipalDep
from ai_gateway.metering.current_usage import CurrentUsage, current_usage
from ai_gateway.rules.budget_rules import DEFAULT_THRESHOLDS, parse_amount
from ai_gateway.storage.budgets import (
    BudgetSettings,
    EffectiveBudget,
    effective_budget,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/budget", tags=["budget"], responses=ERRORS)

ClientParam = Annotated[str | None, Query(max_length=64, description="admin keys: the client")]


class BudgetConfigPublic(BaseModel):
    client_id: str
    is_custom: bool
    budget_type: str
    limit: Money
    period: str
    alert_thresholds: list[int]
    pause_at_limit: bool
    is_paused: bool

    @classmethod
    def of(cls, budget: EffectiveBudget) -> BudgetConfigPublic:
        return cls(
            client_id=budget.client_id,
            is_custom=budget.is_custom,
            budget_type=budget.budget_type,
            limit=budget.limit_value,
            period=budget.period,
            alert_thresholds=list(budget.alert_thresholds),
            pause_at_limit=budget.pause_at_limit,
            is_paused=budget.is_paused,
        )


class BudgetConfigUpdate(BaseModel):
    """Checked by ``rules.budget_rules`` (the ``param`` of a 400 names the field)."""

    budget_type: str
    #: a decimal string ("12.50"); a whole JSON number is taken too, a fractional one not
    limit: str | int | float
    period: str
    alert_thresholds: list[Any] = list(DEFAULT_THRESHOLDS)
    pause_at_limit: bool = False


class CurrentUsagePublic(BaseModel):
    client_id: str
    usage: Money
    limit: Money
    percentage: Money
    remaining: Money
    budget_type: str
    period: str
    period_start: str
    period_end: str
    days_left: int
    projected_usage: Money

    @classmethod
    def of(cls, view: CurrentUsage) -> CurrentUsagePublic:
        return cls(
            client_id=view.client_id,
            usage=view.usage,
            limit=view.limit,
            percentage=view.percentage,
            remaining=view.remaining,
            budget_type=view.budget_type,
            period=view.period,
            period_start=view.period_start.isoformat(),
            period_end=view.period_end.isoformat(),
            days_left=view.days_left,
            projected_usage=view.projected_usage,
        )


def _client(principal: Any, client_id: str | None) -> str:
    tenant = scope_client(principal, client_id, required=True)
    assert tenant is not None
    return tenant


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
    tenant = _client(principal, client_id)
    budget = await read_scoped(gateway, principal, tenant, effective_budget, client_id=tenant)
    return BudgetConfigPublic.of(budget)


@router.post("/config", summary="Set a client's own budget")
async def write_budget(
    gateway: GatewayDep,
    principal: PrincipalDep,
    body: BudgetConfigUpdate,
    client_id: ClientParam = None,
) -> BudgetConfigPublic:
    tenant = _client(principal, client_id)
    budget = await gateway.budget_service.set_client_budget(
        tenant, _settings(body), actor=actor(principal)
    )  # the service publishes the change: re-read on every replica
    return BudgetConfigPublic.of(budget)


@router.delete("/config", summary="Drop a client's own budget: its plan's default applies")
async def reset_budget(
    gateway: GatewayDep, principal: PrincipalDep, client_id: ClientParam = None
) -> BudgetConfigPublic:
    tenant = _client(principal, client_id)
    budget = await gateway.budget_service.clear_client_budget(tenant, actor=actor(principal))
    return BudgetConfigPublic.of(budget)


@router.get("/current-usage", summary="Usage of the current period, days left, projection")
async def read_current_usage(
    gateway: GatewayDep, principal: PrincipalDep, client_id: ClientParam = None
) -> CurrentUsagePublic:
    tenant = _client(principal, client_id)
    view = await read_scoped(gateway, principal, tenant, current_usage, client_id=tenant)
    return CurrentUsagePublic.of(view)
