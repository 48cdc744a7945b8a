"""What the gateway saved, per day: the response cache (answers served without an upstream
call, ``gateway_cache_performance``; every client together ``gateway_cache_daily_totals``)
and the providers' prompt caches (prompt tokens billed at the cached rate, the usage
roll-ups' ``prompt_cache_saved_*``), beside what was actually spent, and the cost
reduction they add up to::

    cost without savings = cost + cache saved + prompt cache saved
    cost reduction       = (cache saved + prompt cache saved) / cost without savings

Both sources are daily roll-ups, so the series costs the same at any log size. A view
filtered by route (one client's ``gateway`` or ``legacy`` usage) adds up its usage rows
instead: the roll-ups have no route dimension.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ai_gateway.storage.analytics import Window, log_day, log_where
from ai_gateway.storage.tables import (
    CacheDailyTotal,
    CachePerformance,
    UsageDaily,
    UsageDailyTotal,
    UsageLog,
)

__all__ = ["cost_savings"]

ZERO = Decimal(0)
_MONEY = (
    "cost_usd",
    "cost_brl",
    "cache_saved_usd",
    "cache_saved_brl",
    "prompt_cache_saved_usd",
    "prompt_cache_saved_brl",
)
_PERCENT = Decimal("0.01")


def cost_savings(session: Session, *, window: Window, client_id: str | None) -> dict[str, Any]:
    """``{totals, series}``: the money fields of :data:`_MONEY`, ``saved_*``,
    ``cost_without_savings_*`` and ``cost_reduction_percent`` (of the USD amounts) for
    the whole window and per UTC day with usage."""
    days: dict[str, dict[str, Decimal]] = {}
    rows = (
        _from_log(session, window, client_id)
        if window.routes
        else _from_rollups(session, window, client_id)
    )
    for day, name, amount in rows:
        point = days.setdefault(day, dict.fromkeys(_MONEY, ZERO))
        point[name] += amount or ZERO
    series = [{"day": day, **_shape(days[day])} for day in sorted(days)]
    total = dict.fromkeys(_MONEY, ZERO)
    for point in days.values():
        for name in _MONEY:
            total[name] += point[name]
    return {"totals": _shape(total), "series": series}


def _shape(point: dict[str, Decimal]) -> dict[str, Any]:
    data: dict[str, Any] = dict(point)
    for unit in ("usd", "brl"):
        saved = point[f"cache_saved_{unit}"] + point[f"prompt_cache_saved_{unit}"]
        data[f"saved_{unit}"] = saved
        data[f"cost_without_savings_{unit}"] = point[f"cost_{unit}"] + saved
    without = data["cost_without_savings_usd"]
    data["cost_reduction_percent"] = (
        (data["saved_usd"] * 100 / without).quantize(_PERCENT, ROUND_HALF_EVEN)
        if without > 0
        else ZERO
    )
    return data


def _from_rollups(
    session: Session, window: Window, client_id: str | None
) -> list[tuple[str, str, Decimal]]:
    # Every client: the roll-ups without a client dimension (the same sums, fewer rows).
    usage: Any = UsageDaily if client_id is not None else UsageDailyTotal
    cache: Any = CachePerformance if client_id is not None else CacheDailyTotal
    first, end = window.days()
    where = [usage.day >= first, usage.day < end]
    cache_where = [cache.day >= first, cache.day < end]
    if client_id is not None:
        where.append(usage.client_id == client_id)
        cache_where.append(cache.client_id == client_id)
    spent = session.execute(
        select(
            usage.day,
            func.sum(usage.cost_usd),
            func.sum(usage.cost_brl),
            func.sum(usage.prompt_cache_saved_usd),
            func.sum(usage.prompt_cache_saved_brl),
        )
        .where(*where)
        .group_by(usage.day)
    ).all()
    cached = session.execute(
        select(cache.day, func.sum(cache.saved_usd), func.sum(cache.saved_brl))
        .where(*cache_where)
        .group_by(cache.day)
    ).all()
    return _rows(spent, cached)


def _from_log(
    session: Session, window: Window, client_id: str | None
) -> list[tuple[str, str, Decimal]]:
    day = log_day(session)
    found = session.execute(
        select(
            day,
            func.sum(UsageLog.cost_usd),
            func.sum(UsageLog.cost_brl),
            func.sum(UsageLog.prompt_cache_saved_usd),
            func.sum(UsageLog.prompt_cache_saved_brl),
            func.sum(UsageLog.saved_usd),
            func.sum(UsageLog.saved_brl),
        )
        .where(*log_where(window, client_id))
        .group_by(day)
    ).all()
    return _rows([r[:5] for r in found], [(r[0], r[5], r[6]) for r in found])


def _rows(spent: Any, cached: Any) -> list[tuple[str, str, Decimal]]:
    rows: list[tuple[str, str, Decimal]] = []
    for day, usd, brl, prompt_usd, prompt_brl in spent:
        rows += [
            (day, "cost_usd", usd),
            (day, "cost_brl", brl),
            (day, "prompt_cache_saved_usd", prompt_usd),
            (day, "prompt_cache_saved_brl", prompt_brl),
        ]
    for day, usd, brl in cached:
        rows += [(day, "cache_saved_usd", usd), (day, "cache_saved_brl", brl)]
    return rows
