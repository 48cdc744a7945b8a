"""Budget rows and the seed's three budget functions, atomic on SQLite and PostgreSQL.

``increment_budget_usage`` is ONE ``UPDATE ... SET current_usage = current_usage + :amount``
statement: the database serialises concurrent increments on the row (PostgreSQL's row lock,
SQLite's write lock), so no increment is ever lost, from any number of tasks or processes.

Budget *settings* (a client's own budget, a plan's default and ceiling) are validated with
:mod:`ai_gateway.rules.budget_rules` before anything is written, and every change is
audited in the same transaction. When a change moves a budget to another unit or period,
the current period's usage is recomputed from the usage log (the counter in the old unit
would be meaningless); raising a limit above the usage lifts a pause.

A client's own limit is checked against its plan's ceiling (``client_max``) under a shared
lock of the plan row, and a new ceiling brings the budgets above it under it while it
holds the plan row exclusively: whichever commits first, no budget ends above its plan's
ceiling. Locks go plan row first, then client rows, everywhere, so writers cannot
deadlock. The caller is :class:`ai_gateway.services.budgets.BudgetService`, which also
holds the only period rollover (:func:`roll_over_period`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ai_gateway.errors import InvalidRequest, NotFound
from ai_gateway.rules.budget_rules import (
    DEFAULT_THRESHOLDS,
    check_amount,
    check_plan_ceiling,
    validate_budget,
)
from ai_gateway.rules.budget_state import EffectiveBudget
from ai_gateway.rules.periods import period_bounds
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.tables import Client, ClientBudget, PlanBudget, UsageLog

__all__ = [
    "BudgetSettings",
    "EffectiveBudget",
    "PlanCeiling",
    "PlanInfo",
    "budgets_due_for_reset",
    "clear_client_budget",
    "effective_budget",
    "enforce_plan_ceiling",
    "get_plan",
    "increment_budget_usage",
    "is_budget_exceeded",
    "list_budget_client_ids",
    "list_plans",
    "reset_budget_usage",
    "reset_client_period",
    "roll_over_period",
    "set_client_budget",
    "set_paused",
    "set_plan_budget",
]


@dataclass(frozen=True, slots=True)
class PlanInfo:
    plan: str
    budget_type: str
    limit_value: Decimal
    period: str
    alert_thresholds: list[int]
    pause_at_limit: bool
    markup_percent: Decimal
    #: the highest limit a client of this plan may set itself, in ``budget_type``
    client_max: Decimal | None = None

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
            row.client_max,
        )


@dataclass(frozen=True, slots=True)
class PlanCeiling:
    """A new ceiling for a plan's clients (``client_max`` None: no ceiling)."""

    client_max: Decimal | None


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
        client_max=plan.client_max,
        plan_budget_type=plan.budget_type,
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
    """Give the client its own budget (``is_custom``); validated first (its plan's ceiling
    too), audited."""
    settings.validate()
    _lock_plan_of(session, client_id)
    row, before = _locked_row(session, client_id)
    check_plan_ceiling(
        budget_type=settings.budget_type,
        limit=Decimal(settings.limit),
        plan=before.plan,
        plan_type=before.plan_budget_type,
        client_max=before.client_max,
    )
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
    return _clear(session, row, before, actor=actor, now=now, details=None)


def _clear(
    session: Session,
    row: ClientBudget,
    before: EffectiveBudget,
    *,
    actor: str,
    now: datetime | None,
    details: dict[str, Any] | None,
) -> EffectiveBudget:
    row.is_custom = False
    row.budget_type = row.limit_value = row.period = None
    row.alert_thresholds = row.pause_at_limit = None
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="budget.clear",
        client_id=row.client_id,
        target=f"client:{row.client_id}",
        details=details,
    )
    return _after_change(session, before, actor=actor, now=now)


def set_plan_budget(
    session: Session,
    *,
    plan: str,
    settings: BudgetSettings | None,
    actor: str,
    now: datetime | None = None,
    ceiling: PlanCeiling | None = None,
) -> PlanInfo:
    """Change a plan's default budget (every client without its own budget follows it)
    and/or its ceiling on its clients' own limits (``ceiling``; None keeps it)."""
    if settings is not None:
        settings.validate()
    row = session.get(PlanBudget, plan, with_for_update=True)
    if row is None:
        raise NotFound(f"no plan '{plan}'")
    new_type = settings.budget_type if settings is not None else row.budget_type
    new_limit = Decimal(settings.limit) if settings is not None else row.limit_value
    if ceiling is None and row.client_max is not None and new_type != row.budget_type:
        raise InvalidRequest(
            f"plan '{plan}' has a ceiling of {row.client_max.normalize():f} {row.budget_type} "
            f"on its clients' budgets: give client_max in {new_type} (or none) with the new "
            "type",
            param="client_max",
        )
    if ceiling is not None and ceiling.client_max is not None:
        _check_ceiling(plan, ceiling.client_max, budget_type=new_type, plan_limit=new_limit)
    elif ceiling is None and row.client_max is not None:
        _check_ceiling(plan, row.client_max, budget_type=new_type, plan_limit=new_limit)
    if settings is not None:
        _set_plan_default(session, row, settings, actor=actor, now=now)
    if ceiling is not None:
        row.client_max = ceiling.client_max
        session.flush()
        record_audit(
            session,
            actor=actor,
            action="plan_budget.ceiling",
            target=f"plan:{plan}",
            details={
                "client_max": None if ceiling.client_max is None else str(ceiling.client_max),
                "budget_type": row.budget_type,
            },
        )
        if ceiling.client_max is not None:
            _bring_under_ceiling(session, row, actor=actor, now=now)
    return PlanInfo.of(row)


def _check_ceiling(
    plan: str, client_max: Decimal, *, budget_type: str, plan_limit: Decimal
) -> None:
    check_amount(client_max, budget_type=budget_type, param="client_max")
    if client_max < plan_limit:
        raise InvalidRequest(
            f"client_max {client_max.normalize():f} is below plan '{plan}''s own limit of "
            f"{plan_limit.normalize():f} {budget_type}: its clients could not even set the "
            "default",
            param="client_max",
        )


def _set_plan_default(
    session: Session, row: PlanBudget, settings: BudgetSettings, *, actor: str, now: datetime | None
) -> None:
    followers = list(
        session.scalars(
            select(ClientBudget.client_id)
            .join(Client, Client.id == ClientBudget.client_id)
            .where(Client.plan == row.plan, ClientBudget.is_custom.is_(False))
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
        target=f"plan:{row.plan}",
        details=settings.as_details(),
    )
    for before in befores:
        _after_change(session, before, actor=actor, now=now)


def enforce_plan_ceiling(
    session: Session, *, client_id: str, actor: str, now: datetime | None = None
) -> bool:
    """Bring one client's own budget under its plan's ceiling (after it moved to another
    plan); True if that changed it (audited)."""
    plan_name = session.scalar(select(Client.plan).where(Client.id == client_id))
    if plan_name is None:
        raise NotFound(f"no budget for client '{client_id}'")
    plan = session.get(PlanBudget, plan_name, with_for_update=True)
    if plan is None or plan.client_max is None:
        return False
    return _bring_under_ceiling(session, plan, actor=actor, now=now, only=client_id) > 0


def _bring_under_ceiling(
    session: Session,
    plan: PlanBudget,
    *,
    actor: str,
    now: datetime | None,
    only: str | None = None,
) -> int:
    """Own budgets above a new ceiling are lowered to it; those in another unit (which
    cannot be compared with it) go back to the plan's default. Each change is audited;
    returns how many changed."""
    assert plan.client_max is not None
    scope = [] if only is None else [ClientBudget.client_id == only]
    over = list(
        session.scalars(
            select(ClientBudget.client_id)
            .join(Client, Client.id == ClientBudget.client_id)
            .where(
                *scope,
                Client.plan == plan.plan,
                ClientBudget.is_custom.is_(True),
                or_(
                    ClientBudget.budget_type != plan.budget_type,
                    ClientBudget.limit_value > plan.client_max,
                ),
            )
            .order_by(ClientBudget.client_id)
        )
    )
    ceiling = {"client_max": str(plan.client_max), "budget_type": plan.budget_type}
    for client_id in over:
        row, before = _locked_row(session, client_id)
        if before.budget_type != plan.budget_type:
            _clear(session, row, before, actor=actor, now=now, details={"plan_ceiling": ceiling})
            continue
        row.limit_value = plan.client_max
        session.flush()
        record_audit(
            session,
            actor=actor,
            action="budget.clamp",
            client_id=client_id,
            target=f"client:{client_id}",
            details={"previous_limit": str(before.limit_value), "plan_ceiling": ceiling},
        )
        _after_change(session, before, actor=actor, now=now)
    return len(over)


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


def roll_over_period(
    session: Session, *, client_id: str, actor: str, now: datetime
) -> tuple[EffectiveBudget, bool]:
    """The one rollover, for the request path and the reset job alike: start the period
    containing ``now`` if the stored one has ended (usage 0, unpaused, audited; re-checked
    under the row lock, so racing callers roll over once). A budget that never had a
    period gets its first bounds and keeps its usage (nothing is reset, nothing audited).
    Returns the budget and whether it rolled over."""
    _row, before = _locked_row(session, client_id)
    if before.next_reset_at is None:
        start, next_reset = period_bounds(period=before.period, tz=before.timezone, now=now)
        reset_budget_usage(
            session,
            client_id=client_id,
            period_start=start,
            next_reset_at=next_reset,
            keep_usage=True,
        )
        return effective_budget(session, client_id=client_id), False
    if before.next_reset_at > now:
        return before, False
    after = reset_client_period(session, client_id=client_id, actor=actor, now=now)
    assert after is not None
    return after, True


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


def _lock_plan_of(session: Session, client_id: str) -> None:
    """Share-lock the client's plan row: a new ceiling (which locks it exclusively) waits
    for this write, or this write sees the new ceiling."""
    plan = session.scalar(select(Client.plan).where(Client.id == client_id))
    if plan is None:
        raise NotFound(f"no budget for client '{client_id}'")
    session.get(PlanBudget, plan, with_for_update={"read": True})


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
