from decimal import Decimal

import pytest

from ai_gateway.errors import InvalidRequest
from ai_gateway.rules.budget_rules import (
    CEILING_CODE,
    LIMIT_MAX,
    check_amount,
    check_plan_ceiling,
    crossed_thresholds,
    parse_amount,
    validate_budget,
)


def test_a_sensible_budget_passes() -> None:
    validate_budget(
        budget_type="brl", limit=Decimal("150.00"), period="monthly", thresholds=[80, 90, 100]
    )
    validate_budget(budget_type="tokens", limit=1_000_000, period="daily", thresholds=[50])


@pytest.mark.parametrize(
    ("kwargs", "param", "words"),
    [
        ({"budget_type": "eur"}, "budget_type", "budget_type 'eur'"),
        ({"limit": Decimal(0)}, "limit", "greater than 0"),
        ({"limit": Decimal("-5")}, "limit", "greater than 0"),
        ({"limit": 1.5}, "limit", "decimal"),
        ({"limit": True}, "limit", "decimal"),
        ({"limit": Decimal("NaN")}, "limit", "finite"),
        ({"budget_type": "tokens", "limit": Decimal("10.5")}, "limit", "whole"),
        ({"period": "yearly"}, "period", "period 'yearly'"),
        ({"thresholds": []}, "alert_thresholds", "non-empty"),
        ({"thresholds": [0, 50]}, "alert_thresholds", "0 is not"),
        ({"thresholds": [80, 101]}, "alert_thresholds", "101 is not"),
        ({"thresholds": [80.0]}, "alert_thresholds", "80.0 is not"),
        ({"thresholds": [90, 80]}, "alert_thresholds", "ascending"),
        ({"thresholds": [80, 80]}, "alert_thresholds", "ascending"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict, param: str, words: str) -> None:
    settings = {
        "budget_type": "usd",
        "limit": Decimal(10),
        "period": "weekly",
        "thresholds": [80, 90, 100],
    }
    settings.update(kwargs)
    with pytest.raises(InvalidRequest) as caught:
        validate_budget(**settings)
    assert caught.value.param == param
    assert words in caught.value.message
    assert caught.value.status == 400


def test_reaching_a_threshold_exactly_crosses_it() -> None:
    crossed = crossed_thresholds(
        before=Decimal("79.99"), after=Decimal("80"), limit=Decimal(100), thresholds=[80, 90, 100]
    )
    assert crossed == [80]


def test_one_big_call_crosses_several() -> None:
    crossed = crossed_thresholds(
        before=Decimal(10), after=Decimal(120), limit=Decimal(100), thresholds=[80, 90, 100]
    )
    assert crossed == [80, 90, 100]


def test_a_threshold_already_passed_is_not_crossed_again() -> None:
    assert (
        crossed_thresholds(
            before=Decimal(80), after=Decimal(85), limit=Decimal(100), thresholds=[80, 90, 100]
        )
        == []
    )
    assert (
        crossed_thresholds(
            before=Decimal(85), after=Decimal(85), limit=Decimal(100), thresholds=[80, 90, 100]
        )
        == []
    )


def test_thresholds_of_an_odd_limit_are_exact() -> None:
    # 80 % of 0.03 is 0.024 exactly; no float error may move the boundary.
    limit = Decimal("0.03")
    assert crossed_thresholds(
        before=Decimal("0.0239999999"), after=Decimal("0.024"), limit=limit, thresholds=[80]
    ) == [80]
    assert (
        crossed_thresholds(
            before=Decimal("0.02"), after=Decimal("0.0239999999"), limit=limit, thresholds=[80]
        )
        == []
    )


def test_a_non_positive_limit_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        crossed_thresholds(before=Decimal(0), after=Decimal(1), limit=Decimal(0), thresholds=[80])


# -- what the columns hold, wire input, plan ceilings ------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (LIMIT_MAX + 1, f"at most {LIMIT_MAX}"),
        (Decimal("1e9999"), f"at most {LIMIT_MAX}"),
        (Decimal("1e-11"), "10 decimal places"),
        (Decimal("-0"), "greater than 0"),
        (Decimal("Infinity"), "finite"),
        (Decimal("sNaN"), "finite"),
    ],
)
def test_amounts_the_columns_cannot_hold_are_refused(value: Decimal, words: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_amount(value, budget_type="usd", param="client_max")
    assert caught.value.param == "client_max" and words in caught.value.message


def test_the_maximum_and_the_finest_amount_pass() -> None:
    check_amount(LIMIT_MAX, budget_type="tokens", param="limit")
    check_amount(Decimal("0.0000000001"), budget_type="usd", param="limit")
    check_amount(Decimal("1.0000000000000000"), budget_type="usd", param="limit")  # exact


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12.50", Decimal("12.50")), (" 7 ", Decimal(7)), (100, Decimal(100)), (1e3, Decimal(1000))],
)
def test_wire_limits_parse_exactly(raw: object, expected: Decimal) -> None:
    assert parse_amount(raw) == expected


@pytest.mark.parametrize("raw", ["lots", 12.5, float("inf"), float("nan"), True, None, "9" * 101])
def test_wire_limits_that_are_not_exact_numbers_are_refused(raw: object) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_amount(raw)
    assert caught.value.param == "limit"


def test_a_plan_ceiling_names_itself_and_holds_in_its_unit_only() -> None:
    common = {"plan": "pro", "plan_type": "brl", "client_max": Decimal("800.0000000000")}
    check_plan_ceiling(budget_type="brl", limit=Decimal(800), **common)
    check_plan_ceiling(
        budget_type="tokens", limit=Decimal(10**8), plan="pro", plan_type="brl", client_max=None
    )
    with pytest.raises(InvalidRequest) as above:
        check_plan_ceiling(budget_type="brl", limit=Decimal("800.01"), **common)
    assert (above.value.code, above.value.param) == (CEILING_CODE, "limit")
    assert "800 brl" in above.value.message and "800.01" in above.value.message
    with pytest.raises(InvalidRequest) as other_unit:
        check_plan_ceiling(budget_type="tokens", limit=Decimal(1), **common)
    assert (other_unit.value.code, other_unit.value.param) == (CEILING_CODE, "budget_type")
