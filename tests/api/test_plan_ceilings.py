"""Plan ceilings: the highest limit a plan's clients may give themselves. A client's own
budget above it is refused with ``budget_above_plan_ceiling`` naming the ceiling, for
client and admin keys alike, and budgets already above it are brought under it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from ai_gateway.errors import InvalidRequest
from ai_gateway.storage.budgets import BudgetSettings, PlanCeiling, effective_budget
from ai_gateway.storage.tables import AuditLog
from tests.api.client import call
from tests.api.test_budget_pause import chat
from tests.fakes.seeding import set_counters
from tests.harness import Harness

BRL = {"budget_type": "brl", "period": "monthly", "alert_thresholds": [80, 100]}


async def _ceiling(h: Harness, value: str | None, plan: str = "enterprise") -> None:
    await h.gateway.budget_service.set_plan(
        plan, actor="test", ceiling=PlanCeiling(None if value is None else Decimal(value))
    )


@pytest.mark.parametrize("admin", [False, True], ids=["client-key", "admin-key"])
async def test_a_budget_above_the_ceiling_is_refused_naming_it(
    harness: Harness, admin: bool
) -> None:
    await _ceiling(harness, "8000")
    params = {"client_id": harness.client.id} if admin else None
    status, body = await call(
        harness,
        "POST",
        "/api/budget/config",
        json=BRL | {"limit": "8000.01"},
        admin=admin,
        params=params,
    )
    assert status == 400, body
    assert body["error"]["code"] == "budget_above_plan_ceiling"
    assert body["error"]["param"] == "limit" and "8000 brl" in body["error"]["message"]
    assert (await call(harness, "GET", "/api/budget/config"))[1]["is_custom"] is False

    status, saved = await call(
        harness,
        "POST",
        "/api/budget/config",
        json=BRL | {"limit": "8000"},
        admin=admin,
        params=params,
    )
    assert status == 200 and Decimal(saved["limit"]) == 8000


async def test_another_unit_cannot_go_around_the_ceiling(harness: Harness) -> None:
    await _ceiling(harness, "8000")
    status, body = await call(
        harness,
        "POST",
        "/api/budget/config",
        json=BRL | {"budget_type": "tokens", "limit": "1000"},
    )
    assert status == 400 and body["error"]["code"] == "budget_above_plan_ceiling"
    assert body["error"]["param"] == "budget_type" and "8000 brl" in body["error"]["message"]


async def test_a_client_at_its_limit_cannot_raise_itself_past_the_ceiling(
    harness: Harness,
) -> None:
    """The finding: at its limit, a client set itself 922 million tokens and went on."""
    await _ceiling(harness, "5000")
    set_counters(harness.db, harness.client.id, current_usage=Decimal(5000))
    harness.gateway.budgets.forget(harness.client.id)
    assert (await chat(harness, harness.key))[0] == 402
    for change in ({"budget_type": "tokens", "limit": "900000000"}, {"limit": "900000000"}):
        status, body = await call(harness, "POST", "/api/budget/config", json=BRL | change)
        assert status == 400 and body["error"]["code"] == "budget_above_plan_ceiling"
    assert (await chat(harness, harness.key))[0] == 402


async def test_budgets_above_a_new_ceiling_are_brought_under_it(harness: Harness) -> None:
    same_unit, _ = harness.new_client("rich", plan="enterprise")
    other_unit, _ = harness.new_client("tokens", plan="enterprise")
    below, _ = harness.new_client("modest", plan="enterprise")
    service = harness.gateway.budget_service
    await service.set_client_budget(
        same_unit.id, BudgetSettings("brl", Decimal(20000), "monthly"), actor="test"
    )
    await service.set_client_budget(
        other_unit.id, BudgetSettings("tokens", Decimal(900_000_000), "daily"), actor="test"
    )
    await service.set_client_budget(
        below.id, BudgetSettings("brl", Decimal(100), "weekly"), actor="test"
    )

    await _ceiling(harness, "8000")

    with harness.db.session() as s:
        rich = effective_budget(s, client_id=same_unit.id)
        tokens = effective_budget(s, client_id=other_unit.id)
        modest = effective_budget(s, client_id=below.id)
        actions = {
            (a.client_id, a.action)
            for a in s.scalars(select(AuditLog).where(AuditLog.actor == "test"))
        }
    assert (rich.is_custom, rich.budget_type, rich.limit_value) == (True, "brl", 8000)
    assert (tokens.is_custom, tokens.budget_type, tokens.limit_value) == (False, "brl", 5000)
    assert (modest.limit_value, modest.period) == (100, "weekly")
    assert {(same_unit.id, "budget.clamp"), (other_unit.id, "budget.clear")} <= actions
    assert (None, "plan_budget.ceiling") in actions


async def test_a_ceiling_below_the_plans_own_limit_is_refused(harness: Harness) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await _ceiling(harness, "100")  # enterprise's default is 5000 BRL
    assert refused.value.param == "client_max" and "5000" in refused.value.message
    await _ceiling(harness, None)  # clearing is always allowed


async def test_a_client_moved_to_a_plan_with_a_ceiling_is_brought_under_it(
    harness: Harness,
) -> None:
    mover, _ = harness.new_client("mover", plan="pro")
    await harness.gateway.budget_service.set_client_budget(
        mover.id, BudgetSettings("brl", Decimal(20000), "monthly"), actor="test"
    )
    await _ceiling(harness, "8000")
    status, _ = await call(
        harness, "PATCH", f"/api/clients/{mover.id}", admin=True, json={"plan": "enterprise"}
    )
    assert status == 200
    with harness.db.session() as s:
        budget = effective_budget(s, client_id=mover.id)
    assert (budget.plan, budget.is_custom, budget.limit_value) == ("enterprise", True, 8000)
