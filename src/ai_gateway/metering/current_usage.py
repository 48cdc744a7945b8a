"""A client's budget as people read it: usage, limit, percentage, what is left, days left and
where the period is heading. The REST API, the dashboard and the CLI all show this one view.

The numbers come from the stored counters. A period that has ended but not been reset yet
(no call and no reset job since) is shown as the new, empty period it really is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy.orm import Session

from ai_gateway.rules.periods import days_left, period_bounds, projection
from ai_gateway.storage.budgets import effective_budget

__all__ = ["CurrentUsage", "current_usage"]

_PERCENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CurrentUsage:
    client_id: str
    plan: str
    is_custom: bool
    budget_type: str
    period: str
    timezone: str
    limit: Decimal
    usage: Decimal
    remaining: Decimal
    #: usage as a percentage of the limit, two decimal places (may exceed 100)
    percentage: Decimal
    period_start: datetime
    period_end: datetime
    days_left: int
    projected_usage: Decimal
    projected_percentage: Decimal
    alert_thresholds: list[int]
    pause_at_limit: bool
    is_paused: bool
    #: the highest limit the client may set itself (in its plan's unit), if its plan has one
    plan_client_max: Decimal | None = None


def current_usage(
    session: Session,
    *,
    client_id: str,
    now: datetime | None = None,
    live_usage: Decimal | None = None,
) -> CurrentUsage:
    """The view for ``client_id`` at ``now``. ``live_usage`` (the running gateway's
    in-memory total, ahead of the database by at most a flush) replaces the stored usage
    when it is larger."""
    now = now or datetime.now(UTC)
    budget = effective_budget(session, client_id=client_id)
    usage = budget.current_usage
    start, end = budget.period_start, budget.next_reset_at
    if start is None or end is None or end <= now:
        start, end = period_bounds(period=budget.period, tz=budget.timezone, now=now)
        usage = Decimal(0) if budget.next_reset_at is not None else usage
    elif live_usage is not None:
        usage = max(usage, live_usage)
    limit = budget.limit_value
    projected = projection(usage=usage, start=start, end=end, now=now)
    return CurrentUsage(
        client_id=client_id,
        plan=budget.plan,
        is_custom=budget.is_custom,
        budget_type=budget.budget_type,
        period=budget.period,
        timezone=budget.timezone,
        limit=limit,
        usage=usage,
        remaining=max(Decimal(0), limit - usage),
        percentage=_percent(usage, limit),
        period_start=start,
        period_end=end,
        days_left=days_left(tz=budget.timezone, now=now, next_reset=end),
        projected_usage=projected,
        projected_percentage=_percent(projected, limit),
        alert_thresholds=list(budget.alert_thresholds),
        pause_at_limit=budget.pause_at_limit,
        is_paused=budget.is_paused,
        plan_client_max=budget.client_max,
    )


def _percent(value: Decimal, limit: Decimal) -> Decimal:
    if limit <= 0:
        return Decimal(0)
    return (value * 100 / limit).quantize(_PERCENT, rounding=ROUND_HALF_EVEN)
