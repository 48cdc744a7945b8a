"""What a budget is as enforced, and what one settled call changed: plain values that
storage reads, the request path enforces and alerting compares with thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

__all__ = ["EffectiveBudget", "UsageChange"]


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
    #: the plan's ceiling on its clients' own limits (in ``plan_budget_type``), if any
    client_max: Decimal | None = None
    plan_budget_type: str = ""


@dataclass(frozen=True, slots=True)
class UsageChange:
    """Usage before and after a settlement: what alerting compares with thresholds."""

    budget: EffectiveBudget
    before: Decimal
    after: Decimal
