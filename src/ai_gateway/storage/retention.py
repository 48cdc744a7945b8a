"""Raw usage rows past their retention, taken in small batches (the roll-ups stay).

The dashboards and budgets read the roll-up tables (``gateway_usage_daily`` and the
others), written in the same transaction as each raw row, so raw rows can go after N
days without changing any total. Each batch is its own short transaction over at most
``limit`` rows picked by the ``created_at`` index: no long lock on a table the usage
writer appends to all the time. Without an archive a batch is one ``DELETE ... WHERE id
IN (SELECT id ... ORDER BY created_at LIMIT n)``: the rows never travel to Python
(measured at 20M rows in docs/PERFORMANCE.md, "Analytics and retention at 20M rows").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ai_gateway.storage.tables import UsageLog

__all__ = ["delete_old_usage_rows", "delete_usage_rows", "old_usage_rows"]


def old_usage_rows(session: Session, *, before: datetime, limit: int) -> list[dict[str, Any]]:
    """The oldest raw rows created before ``before``, as plain dicts (for the archive)."""
    rows = session.scalars(
        select(UsageLog)
        .where(UsageLog.created_at < before)
        .order_by(UsageLog.created_at)
        .limit(limit)
    )
    columns = [c.key for c in UsageLog.__table__.columns]
    return [{name: getattr(row, name) for name in columns} for row in rows]


def delete_usage_rows(session: Session, *, ids: list[str]) -> int:
    if not ids:
        return 0
    result = session.execute(delete(UsageLog).where(UsageLog.id.in_(ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delete_old_usage_rows(session: Session, *, before: datetime, limit: int) -> int:
    """Delete the oldest ``limit`` raw rows created before ``before`` in one statement
    (the same rows :func:`old_usage_rows` would pick), without reading them."""
    oldest = (
        select(UsageLog.id)
        .where(UsageLog.created_at < before)
        .order_by(UsageLog.created_at)
        .limit(limit)
        .scalar_subquery()
    )
    result = session.execute(delete(UsageLog).where(UsageLog.id.in_(oldest)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
