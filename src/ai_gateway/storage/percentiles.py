"""Percentiles computed in the database, the same numbers on both engines.

- Exact, over usage rows (one client's calls): PostgreSQL's ``percentile_cont``; on SQLite
  the same linear interpolation written with ``ROW_NUMBER()``/``COUNT()`` windows, so no
  row ever travels to Python.
- From the latency histogram (every client): a running ``SUM() OVER`` per group picks the
  first bucket whose cumulative share reaches the percentile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, cast, func, literal, select
from sqlalchemy.orm import Session

from ai_gateway.storage.rollups import bucket_midpoint
from ai_gateway.storage.tables import UsageLatencyDaily

__all__ = ["PERCENTILES", "exact_percentiles", "histogram_percentiles"]

PERCENTILES = (0.5, 0.95, 0.99)
_NAMES = ("p50", "p95", "p99")


def exact_percentiles(
    session: Session,
    *,
    value: Any,
    group: Any,
    where: Sequence[ColumnElement[bool]],
) -> dict[Any, dict[str, float]]:
    """``{group value: {"p50", "p95", "p99"}}`` of ``value`` over the rows matching
    ``where`` (``group`` None: one group, key None)."""
    key = group if group is not None else literal(None)
    if session.get_bind().dialect.name == "postgresql":
        columns = [func.percentile_cont(p).within_group(value.asc()) for p in PERCENTILES]
        rows = session.execute(select(key, *columns).where(*where).group_by(key)).all()
    else:
        rows = session.execute(_sqlite_percentiles(value, key, where)).all()
    return {
        row[0]: {
            name: round(float(v), 1) if v is not None else 0.0
            for name, v in zip(_NAMES, row[1:], strict=True)
        }
        for row in rows
    }


def _sqlite_percentiles(
    value: Any, key: ColumnElement[Any], where: Sequence[ColumnElement[bool]]
) -> Select[Any]:
    ranked = (
        select(
            key.label("g"),
            value.label("v"),
            func.row_number().over(partition_by=key, order_by=value).label("rn"),
            func.count().over(partition_by=key).label("n"),
        )
        .where(*where)
        .subquery()
    )
    columns = []
    for p in PERCENTILES:
        # percentile_cont: position 1 + (n - 1) p, interpolated between its neighbours.
        position = 1 + (ranked.c.n - 1) * p
        low = cast(position, Integer)
        fraction = position - low
        at_low = func.max(func.iif(ranked.c.rn == low, ranked.c.v, None))
        at_high = func.max(func.iif(ranked.c.rn == low + 1, ranked.c.v, None))
        share = func.max(fraction)
        columns.append(at_low + (func.coalesce(at_high, at_low) - at_low) * share)
    return select(ranked.c.g, *columns).group_by(ranked.c.g)


def histogram_percentiles(
    session: Session, *, since_day: str, by: str | None = None
) -> dict[Any, dict[str, float]]:
    """Percentiles of every call's latency since ``since_day`` from the daily histogram,
    per ``by`` (``"day"``, ``"model_id"`` or None for one overall group)."""
    table = UsageLatencyDaily
    key: ColumnElement[Any] = getattr(table, by) if by else literal("all")
    counts = (
        select(key.label("g"), table.bucket_ms, func.sum(table.calls).label("c"))
        .where(table.day >= since_day)
        .group_by(key, table.bucket_ms)
        .subquery()
    )
    running = select(
        counts.c.g,
        counts.c.bucket_ms,
        func.sum(counts.c.c)
        .over(partition_by=counts.c.g, order_by=counts.c.bucket_ms)
        .label("cum"),
        func.sum(counts.c.c).over(partition_by=counts.c.g).label("total"),
    ).subquery()
    columns = [
        func.min(running.c.bucket_ms).filter(running.c.cum >= running.c.total * p)
        for p in PERCENTILES
    ]
    rows = session.execute(select(running.c.g, *columns).group_by(running.c.g)).all()
    result: dict[Any, dict[str, float]] = {}
    for row in rows:
        group = None if by is None else row[0]
        result[group] = {
            name: bucket_midpoint(int(v)) if v is not None else 0.0
            for name, v in zip(_NAMES, row[1:], strict=True)
        }
    return result
