"""A client's budget and its current-usage view, as ``/api/budget/*`` sends them and the
client's pages show them (the budget bar, the settings form).

Reads only, in the tenant's session: changes go to
:class:`~ai_gateway.services.budgets.BudgetService`. Client keys see their own budget;
admin keys name a client.
"""

from __future__ import annotations

from pydantic import BaseModel

from ai_gateway.metering.current_usage import CurrentUsage, current_usage
from ai_gateway.services.auth import Principal
from ai_gateway.services.schemas import Money
from ai_gateway.services.scope import read_scoped, scope_client
from ai_gateway.storage.budgets import EffectiveBudget, effective_budget
from ai_gateway.storage.db import Database

__all__ = [
    "BudgetConfigPublic",
    "CurrentUsagePublic",
    "budget_client",
    "read_budget",
    "read_current_usage",
    "read_effective_budget",
]


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


def budget_client(principal: Principal, client_id: str | None) -> str:
    """The client whose budget this is: a budget is always one client's."""
    tenant = scope_client(principal, client_id, required=True)
    assert tenant is not None
    return tenant


async def read_effective_budget(
    db: Database, principal: Principal, client_id: str | None
) -> EffectiveBudget:
    """The budget that applies to the client: its own, or its plan's default (with the
    plan's ceiling, which the settings form shows)."""
    tenant = budget_client(principal, client_id)
    return await read_scoped(db, principal, tenant, effective_budget, client_id=tenant)


async def read_budget(
    db: Database, principal: Principal, client_id: str | None
) -> BudgetConfigPublic:
    return BudgetConfigPublic.of(await read_effective_budget(db, principal, client_id))


async def read_current_usage(
    db: Database, principal: Principal, client_id: str | None
) -> CurrentUsagePublic:
    """Usage of the current period, days left, projection (the one current-usage view)."""
    tenant = budget_client(principal, client_id)
    view = await read_scoped(db, principal, tenant, current_usage, client_id=tenant)
    return CurrentUsagePublic.of(view)
