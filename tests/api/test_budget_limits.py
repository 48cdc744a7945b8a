"""Budget limits beyond what the columns hold, or not numbers at all: a 400 naming the field
and the maximum, never a 500, on both engines, for client and admin keys alike."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from ai_gateway.rules.budget_rules import LIMIT_MAX
from tests.api.client import call
from tests.harness import Harness

TOKENS = {"budget_type": "tokens", "period": "monthly", "alert_thresholds": [80, 100]}

TOO_LARGE = [
    "922337204",  # one past what SQLite's scaled integer holds (was an OverflowError)
    "1e30",  # past PostgreSQL's NUMERIC(28, 10) (was decimal.InvalidOperation)
    "1000000000000000000",
    "1e9999",  # what the dashboard form sent ("internal error")
    str(LIMIT_MAX + 1),
]
NOT_A_LIMIT = ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "-0", "0E-10", "1e-999999"]


@pytest.mark.parametrize("admin", [False, True], ids=["client-key", "admin-key"])
@pytest.mark.parametrize("limit", TOO_LARGE)
async def test_a_limit_past_the_column_is_a_400_naming_the_maximum(
    harness: Harness, limit: str, admin: bool
) -> None:
    params = {"client_id": harness.client.id} if admin else None
    status, body = await call(
        harness,
        "POST",
        "/api/budget/config",
        json=TOKENS | {"limit": limit},
        admin=admin,
        params=params,
    )
    assert status == 400, body
    assert body["error"]["param"] == "limit"
    assert str(LIMIT_MAX) in body["error"]["message"]
    assert (await call(harness, "GET", "/api/budget/config"))[1]["is_custom"] is False


async def test_a_json_number_too_large_is_a_400_too(harness: Harness) -> None:
    for raw in ('{"limit": 1e30', '{"limit": 922337204', '{"limit": 1e400'):
        body = raw + ', "budget_type": "tokens", "period": "monthly"}'
        async with httpx.AsyncClient(base_url=harness.url, timeout=30) as http:
            response = await http.post(
                "/api/budget/config",
                content=body,
                headers=harness.headers(**{"Content-Type": "application/json"}),
            )
        assert response.status_code == 400, (raw, response.text)
        assert response.json()["error"]["param"] == "limit"


@pytest.mark.parametrize("limit", NOT_A_LIMIT)
async def test_nan_infinity_and_zeroes_are_refused(harness: Harness, limit: str) -> None:
    status, body = await call(
        harness, "POST", "/api/budget/config", json=TOKENS | {"budget_type": "usd", "limit": limit}
    )
    assert status == 400, body
    assert body["error"]["param"] == "limit"


@pytest.mark.parametrize("limit", ["0.00000000001", "1.00000000001", "1e-11"])
async def test_more_decimals_than_the_column_keeps_are_refused(
    harness: Harness, limit: str
) -> None:
    # 1e-11 USD would be stored as 0 (a limit of nothing) or silently rounded.
    status, body = await call(
        harness, "POST", "/api/budget/config", json=TOKENS | {"budget_type": "usd", "limit": limit}
    )
    assert status == 400, body
    assert body["error"]["param"] == "limit" and "10 decimal places" in body["error"]["message"]


async def test_an_absurdly_long_limit_is_refused(harness: Harness) -> None:
    status, body = await call(
        harness, "POST", "/api/budget/config", json=TOKENS | {"limit": "9" * 5000}
    )
    assert status == 400 and body["error"]["param"] == "limit"


@pytest.mark.parametrize("budget_type", ["tokens", "usd"])
async def test_the_maximum_itself_is_stored_exactly(harness: Harness, budget_type: str) -> None:
    status, saved = await call(
        harness,
        "POST",
        "/api/budget/config",
        json=TOKENS | {"budget_type": budget_type, "limit": str(LIMIT_MAX)},
    )
    assert status == 200, saved
    assert Decimal(saved["limit"]) == LIMIT_MAX
    status, usage = await call(harness, "GET", "/api/budget/current-usage")
    assert status == 200 and Decimal(usage["limit"]) == LIMIT_MAX
