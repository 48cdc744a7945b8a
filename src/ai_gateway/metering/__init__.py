"""Metering: what a call cost (USD, BRL), budget periods and rules, and alert channels.

Pure building blocks: the pipeline's metering step and the scheduled jobs call these; only
:mod:`~ai_gateway.metering.currency` does I/O (the PTAX source and stored quotes).
"""

from ai_gateway.metering.currency import (
    FALLBACK_RATE,
    ExchangeRateService,
    Quote,
    latest_stored_rate,
)
from ai_gateway.metering.pricing import Cost, ModelPrice, compute_cost, to_brl
from ai_gateway.rules.budget_rules import (
    BUDGET_TYPES,
    DEFAULT_THRESHOLDS,
    crossed_thresholds,
    validate_budget,
)
from ai_gateway.rules.periods import PERIODS, days_left, period_bounds, projection

__all__ = [
    "BUDGET_TYPES",
    "DEFAULT_THRESHOLDS",
    "FALLBACK_RATE",
    "PERIODS",
    "Cost",
    "ExchangeRateService",
    "ModelPrice",
    "Quote",
    "compute_cost",
    "crossed_thresholds",
    "days_left",
    "latest_stored_rate",
    "period_bounds",
    "projection",
    "to_brl",
    "validate_budget",
]
