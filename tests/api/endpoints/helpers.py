"""Shared checks of the endpoint tests: the usage rows, and what a row must cost."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from ai_gateway.storage.tables import UsageLog
from tests.harness import Harness

__all__ = ["RATE", "assert_priced", "rows"]

#: The exchange rate the harness runs on (PTAX unreachable: the documented fallback).
RATE = Decimal("5.00")
_QUANTUM = Decimal("1e-10")


def rows(h: Harness) -> list[UsageLog]:
    with h.db.session() as s:
        return list(s.scalars(select(UsageLog).order_by(UsageLog.created_at, UsageLog.id)))


def assert_priced(row: UsageLog, usd: Decimal) -> None:
    """``row`` cost exactly ``usd`` (at the storage scale) and its BRL at the rate."""
    exact = usd.quantize(_QUANTUM)
    assert row.cost_usd == exact
    assert row.exchange_rate == RATE
    assert row.cost_brl == (exact * RATE).quantize(_QUANTUM)
    assert row.unpriced is False
