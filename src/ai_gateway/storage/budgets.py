"""Budget rows and the seed's three budget functions, atomic on SQLite and PostgreSQL.

``increment_budget_usage`` is ONE ``UPDATE ... SET current_usage = current_usage + :amount``
statement: the database serialises concurrent increments on the row (PostgreSQL's row lock,
SQLite's write lock), so no increment is ever lost, from any number of tasks or processes.

Budget *settings* (a client's own budget, a plan's default) are validated with
:func:`ai_gateway.metering.budget_rules.validate_budget` before anything is written, and
every change is audited in the same transaction. When a change moves a budget to another
unit or period, the current period's usage is recomputed from the usage log (the counter
in the old unit would be meaningless); raising a limit above the usage lifts a pause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ai_gateway.errors import NotFound
from ai_gateway.metering.budget_rules import DEFAULT_THRESHOLDS, validate_budget
from ai_gateway.metering.periods import period_bounds
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.tables import Client, ClientBudget, PlanBudget, UsageLog

__all__ = [
    "BudgetSettings",
    "EffectiveBudget",
    "PlanInfo",
    "budgets_due_for_reset",
    "clear_client_budget",
    "effective_budget",
    "get_plan",
    "increment_budget_usage",
    "is_budget_exceeded",
    "list_budget_client_ids",
    "list_plans",
    "reset_budget_usage",
    "reset_client_period",
    "set_client_budget",
    "set_paused",
    "set_plan_budget",
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


# -- settings: a client's own budget, a plan's default ------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetSettings:
    """What an admin (or a client, for its own budget) sets."""

    budget_type: str
    limit: Decimal
    period: str
    alert_thresholds: Sequence[int] = DEFAULT_THRESHOLDS
    pause_at_limit: bool = False

    def validate(self) -> None:
        validate_budget(
            budget_type=self.budget_type,
            limit=self.limit,
            period=self.period,
            thresholds=list(self.alert_thresholds),
        )

    def apply_to(self, row: ClientBudget | PlanBudget) -> None:
        """Write these settings onto a client's own budget row or a plan's."""
        row.budget_type, row.limit_value, row.period = (
            self.budget_type,
            Decimal(self.limit),
            self.period,
        )
        row.alert_thresholds = list(self.alert_thresholds)
        row.pause_at_limit = self.pause_at_limit

    def as_details(self) -> dict[str, Any]:
        return {
            "budget_type": self.budget_type,
            "limit": str(self.limit),
            "period": self.period,
            "alert_thresholds": list(self.alert_thresholds),
            "pause_at_limit": self.pause_at_limit,
        }


def set_client_budget(
    session: Session,
    *,
    client_id: str,
    settings: BudgetSettings,
    actor: str,
    now: datetime | None = None,
) -> EffectiveBudget:
    """Give the client its own budget (``is_custom``); validated first, audited."""
    settings.validate()
    row, before = _locked_row(session, client_id)
    row.is_custom = True
    settings.apply_to(row)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="budget.set",
        client_id=client_id,
        target=f"client:{client_id}",
        details=settings.as_details(),
    )
    return _after_change(session, before, actor=actor, now=now)


def clear_client_budget(
    session: Session, *, client_id: str, actor: str, now: datetime | None = None
) -> EffectiveBudget:
    """Drop the client's own budget: its plan's default applies again. Audited."""
    row, before = _locked_row(session, client_id)
    row.is_custom = False
    row.budget_type = row.limit_value = row.period = None
    row.alert_thresholds = row.pause_at_limit = None
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="budget.clear",
        client_id=client_id,
        target=f"client:{client_id}",
    )
    return _after_change(session, before, actor=actor, now=now)


def set_plan_budget(
    session: Session,
    *,
    plan: str,
    settings: BudgetSettings,
    actor: str,
    now: datetime | None = None,
) -> PlanInfo:
    """Change a plan's default budget (every client without its own budget follows it)."""
    settings.validate()
    row = session.get(PlanBudget, plan, with_for_update=True)
    if row is None:
        raise NotFound(f"no plan '{plan}'")
    followers = list(
        session.scalars(
            select(ClientBudget.client_id)
            .join(Client, Client.id == ClientBudget.client_id)
            .where(Client.plan == plan, ClientBudget.is_custom.is_(False))
            .order_by(ClientBudget.client_id)
        )
    )
    befores = [_locked_row(session, cid)[1] for cid in followers]
    settings.apply_to(row)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="plan_budget.set",
        target=f"plan:{plan}",
        details=settings.as_details(),
    )
    for before in befores:
        _after_change(session, before, actor=actor, now=now)
    return PlanInfo.of(row)


def set_paused(session: Session, *, client_id: str, paused: bool, actor: str, reason: str) -> bool:
    """Pause or unpause the client's budget; True (and audited) only if it changed, so
    several replicas pausing at once leave one audit row."""
    changed = session.execute(
        update(ClientBudget)
        .where(ClientBudget.client_id == client_id, ClientBudget.is_paused.is_(not paused))
        .values(is_paused=paused)
    ).rowcount  # type: ignore[attr-defined]
    if changed:
        record_audit(
            session,
            actor=actor,
            action="budget.pause" if paused else "budget.unpause",
            client_id=client_id,
            target=f"client:{client_id}",
            details={"reason": reason},
        )
    return bool(changed)


def reset_client_period(
    session: Session,
    *,
    client_id: str,
    actor: str,
    now: datetime | None = None,
    only_if_due: bool = False,
) -> EffectiveBudget | None:
    """Start the period containing ``now`` (client timezone): usage 0, unpaused. Audited.
    With ``only_if_due``, does nothing (None) unless the stored period has ended, so two
    runs racing each other reset once."""
    now = now or datetime.now(UTC)
    _row, before = _locked_row(session, client_id)
    if only_if_due and before.next_reset_at is not None and before.next_reset_at > now:
        return None
    start, next_reset = period_bounds(period=before.period, tz=before.timezone, now=now)
    reset_budget_usage(session, client_id=client_id, period_start=start, next_reset_at=next_reset)
    record_audit(
        session,
        actor=actor,
        action="budget.reset",
        client_id=client_id,
        target=f"client:{client_id}",
        details={
            "previous_usage": str(before.current_usage),
            "was_paused": before.is_paused,
            "period_start": start.isoformat(),
            "next_reset_at": next_reset.isoformat(),
        },
    )
    return effective_budget(session, client_id=client_id)


def budgets_due_for_reset(session: Session, *, now: datetime) -> list[str]:
    """Clients whose stored period has ended."""
    return list(
        session.scalars(
            select(ClientBudget.client_id)
            .where(ClientBudget.next_reset_at <= now)
            .order_by(ClientBudget.client_id)
        )
    )


def list_budget_client_ids(session: Session) -> list[str]:
    return list(session.scalars(select(ClientBudget.client_id).order_by(ClientBudget.client_id)))


def _locked_row(session: Session, client_id: str) -> tuple[ClientBudget, EffectiveBudget]:
    # FOR UPDATE first: the usage writer's increments wait for us, so a recomputed usage
    # cannot lose one (SQLite's write transaction already holds the database lock).
    row = session.get(ClientBudget, client_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no budget for client '{client_id}'")
    return row, effective_budget(session, client_id=client_id)


def _after_change(
    session: Session, before: EffectiveBudget, *, actor: str, now: datetime | None
) -> EffectiveBudget:
    client_id = before.client_id
    after = effective_budget(session, client_id=client_id)
    if after.period != before.period or after.budget_type != before.budget_type:
        now = now or datetime.now(UTC)
        start, next_reset = period_bounds(period=after.period, tz=after.timezone, now=now)
        usage = _logged_usage(session, client_id, after.budget_type, start, now)
        session.execute(
            update(ClientBudget)
            .where(ClientBudget.client_id == client_id)
            .values(current_usage=usage, period_start=start, next_reset_at=next_reset)
        )
        after = effective_budget(session, client_id=client_id)
    if after.is_paused and after.current_usage < after.limit_value:
        set_paused(
            session, client_id=client_id, paused=False, actor=actor, reason="limit above usage"
        )
        after = effective_budget(session, client_id=client_id)
    return after


def _logged_usage(
    session: Session, client_id: str, budget_type: str, start: datetime, end: datetime
) -> Decimal:
    """The usage log's total for a period, in a budget unit (cache hits count no tokens)."""
    if budget_type == "tokens":
        column: Any = UsageLog.input_tokens + UsageLog.output_tokens
        filters = [UsageLog.cache_hit.is_(False)]
    else:
        column = UsageLog.cost_usd if budget_type == "usd" else UsageLog.cost_brl
        filters = []
    total = session.scalar(
        select(func.coalesce(func.sum(column), 0)).where(
            UsageLog.client_id == client_id,
            UsageLog.created_at >= start,
            UsageLog.created_at <= end,
            *filters,
        )
    )
    return Decimal(str(total or 0))
