"""Aggregates over the usage log for the anomaly checks: calls, errors and cost in a window.

Refused calls (``status = 'rejected'``: budget, unknown model, bad input) are the caller's
doing, not a failure of the gateway or its upstreams, so they count neither as calls nor as
errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ai_gateway.storage.tables import UsageLog
from ai_gateway.storage.types import Money

__all__ = ["WindowStats", "window_stats"]


@dataclass(frozen=True, slots=True)
class WindowStats:
    calls: int
    errors: int
    cost_usd: Decimal


def window_stats(session: Session, *, start: datetime, end: datetime) -> WindowStats:
    """Totals for ``start <= created_at < end``."""
    calls, errors, cost = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((UsageLog.status == "error", 1), else_=0)), 0),
            func.coalesce(func.sum(UsageLog.cost_usd, type_=Money()), 0),
        ).where(
            UsageLog.created_at >= start,
            UsageLog.created_at < end,
            UsageLog.status != "rejected",
        )
    ).one()
    return WindowStats(int(calls), int(errors), Decimal(cost))
