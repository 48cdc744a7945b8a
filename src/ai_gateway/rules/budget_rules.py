"""Rules a budget's settings must follow, which alert thresholds a call crosses, and the
ceiling a plan puts on its clients' own limits.

Every writer (REST API, dashboard, CLI, jobs) goes through :func:`validate_budget`, so a
budget that the database would accept but the enforcement code would misread (a zero
limit, thresholds out of order, a float limit that is not exact) is refused at the door
with a message that names the field. So is a limit the columns cannot hold: past
:data:`LIMIT_MAX`, or finer than :data:`~ai_gateway.rules.money.MONEY_SCALE` places (it
would be rounded, 1e-11 USD to a limit of zero). The maximum is the same on both engines,
so a budget valid on SQLite is valid on PostgreSQL and back.

:func:`crossed_thresholds` is what makes alerts fire "as soon as a call crosses" a
threshold: it compares usage before and after one increment, so concurrent calls each
see only the thresholds their own increment crossed, and none is reported twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from itertools import pairwise
from typing import Final, Literal, get_args

from ai_gateway.errors import InvalidRequest
from ai_gateway.rules.money import MONEY_QUANTUM, MONEY_SCALE
from ai_gateway.rules.periods import PERIODS

__all__ = [
    "BUDGET_TYPES",
    "CEILING_CODE",
    "DEFAULT_THRESHOLDS",
    "LIMIT_MAX",
    "TOO_LARGE_CODE",
    "BudgetType",
    "check_amount",
    "check_plan_ceiling",
    "crossed_thresholds",
    "parse_amount",
    "validate_budget",
]

BudgetType = Literal["tokens", "brl", "usd"]
BUDGET_TYPES: Final[tuple[str, ...]] = get_args(BudgetType)
DEFAULT_THRESHOLDS: Final[tuple[int, ...]] = (80, 90, 100)
#: The largest limit (or ceiling) in any unit. The budget columns hold 922,337,203.68 on
#: SQLite (a 64-bit count of 1e-10 units) and far more on PostgreSQL; the usage counter
#: shares the type and may run past the limit by the calls in flight, so the maximum keeps
#: 22 million units of room above it on both engines.
LIMIT_MAX: Final = Decimal(900_000_000)
#: The error code of a client's own limit above its plan's ceiling.
CEILING_CODE: Final = "budget_above_plan_ceiling"
#: The error code of a limit or ceiling past LIMIT_MAX.
TOO_LARGE_CODE: Final = "value_too_large"

# Wide enough that quantizing any value up to LIMIT_MAX to 10 places never rounds.
_EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN)
_MAX_CHARS = 100
#: The stable code of "not a usable number" (the dashboard translates codes).
_NAN = "not_a_number"


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
    check_amount(limit, budget_type=budget_type, param="limit")
    if period not in PERIODS:
        raise InvalidRequest(
            f"period '{period}' is not one of {', '.join(PERIODS)}",
            param="period",
            code="unknown_period",
        )
    _check_thresholds(thresholds)


def parse_amount(value: object, *, param: str = "limit") -> Decimal:
    """A limit as sent on the wire (a decimal string, or a whole JSON number) -> Decimal.

    A fractional JSON number is refused: it reached us as a binary float, not exact."""
    if isinstance(value, bool):
        raise InvalidRequest(f"{param} must be a decimal number", param=param, code=_NAN)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidRequest(f"{param} must be a finite number", param=param, code=_NAN)
        if not value.is_integer():
            raise InvalidRequest(
                f'{param} must be a string such as "12.50" or a whole number',
                param=param,
                code=_NAN,
            )
        return Decimal(int(value))
    if isinstance(value, str) and len(value) <= _MAX_CHARS:
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise InvalidRequest(
                f"{param} '{value}' is not a number", param=param, code=_NAN
            ) from None
    raise InvalidRequest(f"{param} must be a decimal number", param=param, code=_NAN)


def check_amount(value: object, *, budget_type: str, param: str) -> None:
    """A limit or ceiling the columns hold exactly: a finite decimal in (0, LIMIT_MAX],
    at most 10 decimal places, whole for tokens."""
    # bool is an int, and a float is not exact money: both are refused.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidRequest(f"{param} must be a decimal number", param=param, code=_NAN)
    amount = Decimal(value)
    if not amount.is_finite():
        raise InvalidRequest(f"{param} must be a finite number", param=param, code=_NAN)
    if amount <= 0:
        raise InvalidRequest(
            f"{param} must be greater than 0", param=param, code="limit_not_positive"
        )
    if amount > LIMIT_MAX:
        raise InvalidRequest(
            f"{param} must be at most {LIMIT_MAX}", code=TOO_LARGE_CODE, param=param
        )
    with localcontext(_EXACT):
        if amount != amount.quantize(MONEY_QUANTUM):
            raise InvalidRequest(
                f"{param} has more than {MONEY_SCALE} decimal places",
                param=param,
                code="too_many_decimals",
            )
    if budget_type == "tokens" and amount != amount.to_integral_value():
        raise InvalidRequest(
            f"a tokens {param} must be a whole number", param=param, code="limit_not_whole"
        )


def check_plan_ceiling(
    *, budget_type: str, limit: Decimal, plan: str, plan_type: str, client_max: Decimal | None
) -> None:
    """A client's own budget must stay under its plan's ceiling, in the plan's unit (a
    limit in another unit cannot be compared, so it would go around the ceiling)."""
    if client_max is None:
        return
    ceiling = f"{_plain(client_max)} {plan_type}"
    if budget_type != plan_type:
        raise InvalidRequest(
            f"plan '{plan}' caps its clients' budgets at {ceiling}: set a {plan_type} budget "
            f"of at most {ceiling}",
            code=CEILING_CODE,
            param="budget_type",
        )
    if limit > client_max:
        raise InvalidRequest(
            f"limit {_plain(limit)} is above the ceiling of {ceiling} that plan '{plan}' "
            "sets for its clients",
            code=CEILING_CODE,
            param="limit",
        )


def crossed_thresholds(
    *, before: Decimal, after: Decimal, limit: Decimal, thresholds: Sequence[int]
) -> list[int]:
    """Thresholds (percent of ``limit``) that usage reached by going from ``before`` to
    ``after``: reaching exactly 80 % crosses 80; a usage already past it does not again."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    # Compare usage*100 with threshold*limit: exact, no division.
    return [t for t in thresholds if before * 100 < t * limit <= after * 100]


def _plain(amount: Decimal) -> str:
    """800.0000000000 -> '800', 12.5000000000 -> '12.5' (no exponent)."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


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
