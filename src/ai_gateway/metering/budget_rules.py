"""Rules a budget's settings must follow, and which alert thresholds a call crosses.

Both the REST API and the CLI validate through :func:`validate_budget`, so a budget that
the database would accept but the enforcement code would misread (a zero limit, thresholds
out of order, a float limit that is not exact) is refused at the door with a message that
names the field.

:func:`crossed_thresholds` is what makes alerts fire "as soon as a call crosses" a
threshold: it compares usage before and after one increment, so concurrent calls each
see only the thresholds their own increment crossed, and none is reported twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise
from typing import Final, Literal, get_args

from ai_gateway.errors import InvalidRequest
from ai_gateway.metering.periods import PERIODS

__all__ = [
    "BUDGET_TYPES",
    "DEFAULT_THRESHOLDS",
    "BudgetType",
    "crossed_thresholds",
    "validate_budget",
]

BudgetType = Literal["tokens", "brl", "usd"]
BUDGET_TYPES: Final[tuple[str, ...]] = get_args(BudgetType)
DEFAULT_THRESHOLDS: Final[tuple[int, ...]] = (80, 90, 100)


def validate_budget(
    *, budget_type: str, limit: Decimal | int, period: str, thresholds: Sequence[int]
) -> None:
    """Raise ``InvalidRequest`` (with ``param`` set) unless the settings are usable."""
    if budget_type not in BUDGET_TYPES:
        raise InvalidRequest(
            f"budget_type '{budget_type}' is not one of {', '.join(BUDGET_TYPES)}",
            param="budget_type",
            code="unknown_budget_type",
        )
    _check_limit(limit, budget_type=budget_type)
    if period not in PERIODS:
        raise InvalidRequest(
            f"period '{period}' is not one of {', '.join(PERIODS)}",
            param="period",
            code="unknown_period",
        )
    _check_thresholds(thresholds)


def crossed_thresholds(
    *, before: Decimal, after: Decimal, limit: Decimal, thresholds: Sequence[int]
) -> list[int]:
    """Thresholds (percent of ``limit``) that usage reached by going from ``before`` to
    ``after``: reaching exactly 80 % crosses 80; a usage already past it does not again."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    # Compare usage*100 with threshold*limit: exact, no division.
    return [t for t in thresholds if before * 100 < t * limit <= after * 100]


def _check_limit(limit: object, *, budget_type: str) -> None:
    # bool is an int, and a float is not exact money: both are refused.
    if isinstance(limit, bool) or not isinstance(limit, Decimal | int):
        raise InvalidRequest("limit must be a decimal number", param="limit", code="not_a_number")
    if isinstance(limit, Decimal) and not limit.is_finite():
        raise InvalidRequest("limit must be a finite number", param="limit", code="not_a_number")
    if limit <= 0:
        raise InvalidRequest(
            "limit must be greater than 0", param="limit", code="limit_not_positive"
        )
    if budget_type == "tokens" and Decimal(limit) != Decimal(limit).to_integral_value():
        raise InvalidRequest(
            "a tokens limit must be a whole number", param="limit", code="limit_not_whole"
        )


def _check_thresholds(thresholds: Sequence[int]) -> None:
    if isinstance(thresholds, str | bytes) or not thresholds:
        raise InvalidRequest(
            "alert_thresholds must be a non-empty list of percentages",
            param="alert_thresholds",
            code="thresholds_empty",
        )
    for value in thresholds:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
            raise InvalidRequest(
                f"alert_thresholds: {value!r} is not a whole percentage from 1 to 100",
                param="alert_thresholds",
                code="threshold_out_of_range",
            )
    if any(a >= b for a, b in pairwise(thresholds)):
        raise InvalidRequest(
            "alert_thresholds must be in strictly ascending order",
            param="alert_thresholds",
            code="thresholds_not_ascending",
        )
