from decimal import Decimal

import pytest

from ai_gateway.errors import InvalidRequest
from ai_gateway.rules.budget_rules import crossed_thresholds, validate_budget


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
