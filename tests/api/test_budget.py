"""``/api/budget/config`` and ``/api/budget/current-usage``: a client's own budget, set,
read back, cleared; bad values refused with the field named; tenants kept apart."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ai_gateway.storage.tables import AuditLog
from tests.api.client import call
from tests.harness import Harness

BUDGET = {
    "budget_type": "usd",
    "limit": "12.50",
    "period": "weekly",
    "alert_thresholds": [50, 80, 100],
    "pause_at_limit": True,
}


async def test_set_read_and_clear_a_clients_budget(harness: Harness) -> None:
    status, plan_default = await call(harness, "GET", "/api/budget/config")
    assert status == 200 and plan_default["is_custom"] is False
    assert plan_default["budget_type"] == "brl" and Decimal(plan_default["limit"]) == 5000
    status, saved = await call(harness, "POST", "/api/budget/config", json=BUDGET)
    assert status == 200
    assert Decimal(saved.pop("limit")) == Decimal("12.5")
    assert saved == {
        "client_id": harness.client.id,
        "is_custom": True,
        "budget_type": "usd",
        "period": "weekly",
        "alert_thresholds": [50, 80, 100],
        "pause_at_limit": True,
        "is_paused": False,
    }
    status, read = await call(harness, "GET", "/api/budget/config")
    assert Decimal(read.pop("limit")) == Decimal("12.5") and read == saved
    status, usage = await call(harness, "GET", "/api/budget/current-usage")
    assert status == 200 and Decimal(usage["limit"]) == Decimal("12.5")
    assert usage["period"] == "weekly" and Decimal(usage["usage"]) == 0
    assert usage["days_left"] >= 1
    status, cleared = await call(harness, "DELETE", "/api/budget/config")
    assert status == 200 and cleared["is_custom"] is False and cleared["budget_type"] == "brl"
    with harness.db.session() as s:
        audits = s.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.client_id == harness.client.id)
        )
    assert audits and audits >= 2


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"limit": "-5"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "lots"}, "limit"),
        ({"budget_type": "euros"}, "budget_type"),
        ({"period": "yearly"}, "period"),
        ({"alert_thresholds": [90, 80]}, "alert_thresholds"),
        ({"alert_thresholds": [0, 100]}, "alert_thresholds"),
        ({"alert_thresholds": [80, 150]}, "alert_thresholds"),
    ],
)
async def test_bad_values_name_the_field_and_save_nothing(
    harness: Harness, change: dict[str, object], param: str
) -> None:
    status, body = await call(harness, "POST", "/api/budget/config", json=BUDGET | change)
    assert status == 400 and body["error"]["param"] == param
    assert (await call(harness, "GET", "/api/budget/config"))[1]["is_custom"] is False


async def test_tenants_are_walls(harness: Harness) -> None:
    other, other_key = harness.new_client("neighbour")
    status, _ = await call(harness, "GET", "/api/budget/config", params={"client_id": other.id})
    assert status == 403
    status, _ = await call(
        harness, "POST", "/api/budget/config", json=BUDGET, params={"client_id": other.id}
    )
    assert status == 403
    # The admin may name any client; the neighbour sees its own change.
    status, _ = await call(
        harness,
        "POST",
        "/api/budget/config",
        json=BUDGET,
        admin=True,
        params={"client_id": other.id},
    )
    assert status == 200
    assert (await call(harness, "GET", "/api/budget/config", key=other_key))[1]["is_custom"]
    assert (await call(harness, "GET", "/api/budget/config"))[1]["is_custom"] is False
