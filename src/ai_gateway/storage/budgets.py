"""Budget rows and the seed's three budget functions, atomic on SQLite and PostgreSQL.

``increment_budget_usage`` is ONE ``UPDATE ... SET current_usage = current_usage + :amount``
statement: the database serialises concurrent increments on the row (PostgreSQL's row lock,
SQLite's write lock), so no increment is ever lost, from any number of tasks or processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ai_gateway.errors import NotFound
from ai_gateway.storage.tables import Client, ClientBudget, PlanBudget

__all__ = [
    "EffectiveBudget",
    "PlanInfo",
    "effective_budget",
    "get_plan",
    "increment_budget_usage",
    "is_budget_exceeded",
    "list_plans",
    "reset_budget_usage",
]


@dataclass(frozen=True, slots=True)
class EffectiveBudget:
    """A client's budget as enforced: its own settings, or its plan's."""

    client_id: str
    is_custom: bool
    budget_type: str
    limit_value: Decimal
    period: str
    alert_thresholds: list[int]
    pause_at_limit: bool
    current_usage: Decimal
    period_start: datetime | None
    next_reset_at: datetime | None
    is_paused: bool
    timezone: str
    plan: str


@dataclass(frozen=True, slots=True)
class PlanInfo:
    plan: str
    budget_type: str
    limit_value: Decimal
    period: str
    alert_thresholds: list[int]
    pause_at_limit: bool
    markup_percent: Decimal

    @classmethod
    def of(cls, row: PlanBudget) -> PlanInfo:
        return cls(
            row.plan,
            row.budget_type,
            row.limit_value,
            row.period,
            list(row.alert_thresholds),
            row.pause_at_limit,
            row.markup_percent,
        )


def list_plans(session: Session) -> list[PlanInfo]:
    return [PlanInfo.of(r) for r in session.scalars(select(PlanBudget).order_by(PlanBudget.plan))]


def get_plan(session: Session, plan: str) -> PlanInfo:
    row = session.get(PlanBudget, plan)
    if row is None:
        raise NotFound(f"no plan '{plan}'")
    return PlanInfo.of(row)


def effective_budget(session: Session, *, client_id: str) -> EffectiveBudget:
    row = session.execute(
        select(ClientBudget, Client.timezone, Client.plan, PlanBudget)
        .join(Client, Client.id == ClientBudget.client_id)
        .join(PlanBudget, PlanBudget.plan == Client.plan)
        .where(ClientBudget.client_id == client_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no budget for client '{client_id}'")
    budget, timezone, plan_name, plan = row
    custom = budget.is_custom

    def pick(own: Any, inherited: Any) -> Any:
        return own if custom and own is not None else inherited

    return EffectiveBudget(
        client_id=client_id,
        is_custom=custom,
        budget_type=pick(budget.budget_type, plan.budget_type),
        limit_value=pick(budget.limit_value, plan.limit_value),
        period=pick(budget.period, plan.period),
        alert_thresholds=list(pick(budget.alert_thresholds, plan.alert_thresholds)),
        pause_at_limit=pick(budget.pause_at_limit, plan.pause_at_limit),
        current_usage=budget.current_usage,
        period_start=budget.period_start,
        next_reset_at=budget.next_reset_at,
        is_paused=budget.is_paused,
        timezone=timezone,
        plan=plan_name,
    )


def increment_budget_usage(session: Session, *, client_id: str, amount: Decimal) -> Decimal:
    """Add ``amount`` to the client's current usage atomically; returns the new usage."""
    new_usage = session.execute(
        update(ClientBudget)
        .where(ClientBudget.client_id == client_id)
        .values(current_usage=ClientBudget.current_usage + amount)
        .returning(ClientBudget.current_usage)
    ).scalar_one_or_none()
    if new_usage is None:
        raise NotFound(f"no budget for client '{client_id}'")
    return Decimal(new_usage)


def reset_budget_usage(
    session: Session,
    *,
    client_id: str,
    period_start: datetime | None = None,
    next_reset_at: datetime | None = None,
    keep_usage: bool = False,
) -> None:
    """Start a new period: usage back to zero, a budget pause lifted. ``keep_usage`` only
    records the period bounds (a budget's first period, whose usage is already right)."""
    values: dict[str, Any] = {"period_start": period_start, "next_reset_at": next_reset_at}
    if not keep_usage:
        values.update(current_usage=Decimal(0), is_paused=False)
    result = session.execute(
        update(ClientBudget).where(ClientBudget.client_id == client_id).values(**values)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"no budget for client '{client_id}'")


def is_budget_exceeded(session: Session, *, client_id: str) -> bool:
    budget = effective_budget(session, client_id=client_id)
    return budget.is_paused or budget.current_usage >= budget.limit_value
