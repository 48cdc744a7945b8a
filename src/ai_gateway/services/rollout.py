"""The migration's rollout gates: which stage the rollout is at, and whether the figures
the seed sets for each stage (error rate, overhead, cache hit rate, cost reduction, P95,
dashboard and budget adoption) are met over a window.

The REST route (``GET /api/rollout/health``) and the dashboard page both call
:func:`rollout_health` (through :mod:`ai_gateway.services.rollout_report`, which shapes
it for them), so they cannot disagree. The stage comes from the share of
clients with the gateway flag on; the figures from the usage log (see
``storage/rollout_health.py`` for what "gateway" and "legacy" calls are).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from ai_gateway.storage.analytics import Window
from ai_gateway.storage.db import Database
from ai_gateway.storage.rollout_health import Adoption, CallGroup, adoption, call_groups

__all__ = [
    "STAGES",
    "Gate",
    "GateResult",
    "RolloutHealth",
    "StageResult",
    "current_stage",
    "evaluate",
    "rollout_health",
]

Stage = Literal["off", "beta", "25", "50", "75", "100"]
Metric = Literal[
    "error_rate",
    "overhead_ms",
    "cache_hit_rate",
    "cost_reduction",
    "p95_ms",
    "dashboard_usage",
    "budget_usage",
]
STAGES: tuple[Stage, ...] = ("beta", "25", "50", "75", "100")


@dataclass(frozen=True, slots=True)
class Gate:
    """``metric op threshold``: ``<`` or ``>``, the way the seed writes it."""

    metric: Metric
    op: Literal["<", ">"]
    threshold: Decimal


def _gates(*spec: tuple[Metric, Literal["<", ">"], str]) -> tuple[Gate, ...]:
    return tuple(Gate(metric, op, Decimal(threshold)) for metric, op, threshold in spec)


#: The seed's success figures for each stage (rates in percent, times in ms).
GATES: dict[Stage, tuple[Gate, ...]] = {
    "beta": _gates(("error_rate", "<", "0.1"), ("overhead_ms", "<", "100"),
                   ("cache_hit_rate", ">", "30")),
    "25": _gates(("error_rate", "<", "0.5"), ("cache_hit_rate", ">", "30")),
    "50": _gates(("error_rate", "<", "0.5"), ("cache_hit_rate", ">", "50"),
                 ("cost_reduction", ">", "20"), ("p95_ms", "<", "2000")),
    "75": _gates(("p95_ms", "<", "2000"),),
    "100": _gates(("cache_hit_rate", ">", "60"), ("cost_reduction", ">", "30"),
                  ("dashboard_usage", ">", "80"), ("budget_usage", ">", "50")),
}  # fmt: skip

_OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {"<": operator.lt, ">": operator.gt}


@dataclass(frozen=True, slots=True)
class GateResult:
    gate: Gate
    value: Decimal | None  # None: no data in the window to judge it
    passed: bool | None


@dataclass(frozen=True, slots=True)
class StageResult:
    stage: Stage
    gates: tuple[GateResult, ...]

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)


@dataclass(frozen=True, slots=True)
class RolloutHealth:
    stage: Stage
    share_percent: Decimal
    groups: dict[str, CallGroup]
    adoption: Adoption
    metrics: dict[Metric, Decimal | None]
    stages: tuple[StageResult, ...]


def _percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def current_stage(share_percent: Decimal) -> Stage:
    """Where a rollout stands from the share of clients on the gateway."""
    if share_percent <= 0:
        return "off"
    for stage in ("100", "75", "50", "25"):
        if share_percent >= Decimal(stage):
            return stage
    return "beta"


def figures(groups: dict[str, CallGroup], usage: Adoption) -> dict[Metric, Decimal | None]:
    """The gate metrics of the gateway's calls (overhead: against the legacy calls)."""
    gw, legacy = groups["gateway"], groups["legacy"]
    answered = gw.requests > 0
    overhead = (
        Decimal(str(gw.p50_ms)) - Decimal(str(legacy.p50_ms))
        if gw.p50_ms and legacy.p50_ms
        else None
    )
    return {
        "error_rate": _percent(gw.errors, gw.requests),
        "overhead_ms": overhead,
        "cache_hit_rate": _percent(gw.cache_hits, gw.requests),
        "cost_reduction": _percent(gw.saved_brl, gw.cost_brl + gw.saved_brl) if answered else None,
        "p95_ms": Decimal(str(gw.p95_ms)) if gw.p95_ms else None,
        "dashboard_usage": _percent(usage.dashboard_users, usage.clients),
        "budget_usage": _percent(usage.budget_users, usage.clients),
    }


def evaluate(metrics: dict[Metric, Decimal | None]) -> tuple[StageResult, ...]:
    results = []
    for stage in STAGES:
        gates = []
        for gate in GATES[stage]:
            value = metrics[gate.metric]
            passed = None if value is None else _OPS[gate.op](value, gate.threshold)
            gates.append(GateResult(gate, value, passed))
        results.append(StageResult(stage, tuple(gates)))
    return tuple(results)


async def rollout_health(db: Database, *, window: Window) -> RolloutHealth:
    """Every figure of the rollout page over ``window`` (two reads, off the event loop)."""

    def read() -> tuple[dict[str, CallGroup], Adoption]:
        with db.session() as s:
            return (
                call_groups(s, since=window.since, until=window.until),
                adoption(s, since=window.since),
            )

    groups, usage = await db.run(read)
    share = _percent(usage.gateway_clients, usage.clients) or Decimal(0)
    metrics = figures(groups, usage)
    return RolloutHealth(
        stage=current_stage(share),
        share_percent=share,
        groups=groups,
        adoption=usage,
        metrics=metrics,
        stages=evaluate(metrics),
    )
