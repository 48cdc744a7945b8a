"""The migration's stage and its gates over a period, as ``GET /api/rollout/health``
sends it and the rollout page shows it (the caller has checked it is an admin).

The figures and the gates are :mod:`ai_gateway.services.rollout`'s; this module only
shapes them for the wire (rates and times as numbers, money as strings).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from ai_gateway.services.rollout import RolloutHealth, rollout_health
from ai_gateway.services.schemas import Money
from ai_gateway.services.scope import Period, period_of, window_for
from ai_gateway.storage.db import Database
from ai_gateway.storage.rollout_health import CallGroup

__all__ = ["RolloutHealthPublic", "read_rollout_health"]


class CallGroupPublic(BaseModel):
    """One side of the comparison: calls through the gateway, or legacy calls."""

    requests: int
    errors: int
    error_rate: float | None
    cache_hits: int
    cache_hit_rate: float | None
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cost_brl: Money
    saved_brl: Money
    conversations: int
    cost_per_conversation_brl: Money | None


class AdoptionPublic(BaseModel):
    clients: int
    gateway_clients: int
    dashboard_users: int
    budget_users: int


class GatePublic(BaseModel):
    metric: str
    op: Literal["<", ">"]
    threshold: float
    value: float | None
    passed: bool | None


class StagePublic(BaseModel):
    stage: str
    passed: bool
    gates: list[GatePublic]


class RolloutHealthPublic(BaseModel):
    period: Period
    since: str
    stage: str
    share_percent: float
    gateway: CallGroupPublic
    legacy: CallGroupPublic
    adoption: AdoptionPublic
    metrics: dict[str, float | None]
    stages: list[StagePublic]


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _group(group: CallGroup) -> CallGroupPublic:
    per_conversation = (
        (group.cost_brl / group.conversations).quantize(Decimal("0.000001"))
        if group.conversations
        else None
    )
    return CallGroupPublic(
        requests=group.requests,
        errors=group.errors,
        error_rate=_rate(group.errors, group.requests),
        cache_hits=group.cache_hits,
        cache_hit_rate=_rate(group.cache_hits, group.requests),
        p50_ms=group.p50_ms,
        p95_ms=group.p95_ms,
        p99_ms=group.p99_ms,
        cost_brl=group.cost_brl,
        saved_brl=group.saved_brl,
        conversations=group.conversations,
        cost_per_conversation_brl=per_conversation,
    )


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _public(health: RolloutHealth, *, period: Period, since: str) -> RolloutHealthPublic:
    return RolloutHealthPublic(
        period=period,
        since=since,
        stage=health.stage,
        share_percent=float(health.share_percent),
        gateway=_group(health.groups["gateway"]),
        legacy=_group(health.groups["legacy"]),
        adoption=AdoptionPublic(
            clients=health.adoption.clients,
            gateway_clients=health.adoption.gateway_clients,
            dashboard_users=health.adoption.dashboard_users,
            budget_users=health.adoption.budget_users,
        ),
        metrics={name: _number(value) for name, value in health.metrics.items()},
        stages=[
            StagePublic(
                stage=s.stage,
                passed=s.passed,
                gates=[
                    GatePublic(
                        metric=g.gate.metric,
                        op=g.gate.op,
                        threshold=float(g.gate.threshold),
                        value=_number(g.value),
                        passed=g.passed,
                    )
                    for g in s.gates
                ],
            )
            for s in health.stages
        ],
    )


async def read_rollout_health(db: Database, *, days: int) -> RolloutHealthPublic:
    """The stage and the gates over the last ``days``."""
    window = window_for(days)
    health = await rollout_health(db, window=window)
    return _public(health, period=period_of(days), since=window.first_day.isoformat())
