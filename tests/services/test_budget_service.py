"""``BudgetService``, the one owner of budgets: its writes reach the running guard at once
(no caller remembers to forget anything), and the period rollover, on the request path as
in the job, is audited."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from ai_gateway.storage.budgets import BudgetSettings, effective_budget
from ai_gateway.storage.tables import AuditLog
from tests.api.test_budget_pause import chat
from tests.fakes.seeding import set_counters
from tests.harness import Harness

MAY = datetime(2025, 5, 1, 3, 0, tzinfo=UTC)
JUNE = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)


async def test_the_request_path_rolls_a_period_over_with_an_audit_row(harness: Harness) -> None:
    client, key = harness.new_client("sleepy", plan="pro")
    set_counters(
        harness.db,
        client.id,
        current_usage=Decimal(600),
        is_paused=True,
        period_start=MAY,
        next_reset_at=JUNE,
    )
    status, _ = await chat(harness, key)
    assert status == 200  # a new period: usage 0, the pause lifted
    with harness.db.session() as s:
        budget = effective_budget(s, client_id=client.id)
        audits = list(
            s.scalars(
                select(AuditLog).where(
                    AuditLog.client_id == client.id, AuditLog.action == "budget.reset"
                )
            )
        )
    assert budget.next_reset_at is not None and budget.next_reset_at > datetime.now(UTC)
    assert not budget.is_paused
    assert len(audits) == 1
    assert audits[0].details["previous_usage"] == "600.0000000000"
    assert audits[0].actor == "system:budget-period"

    # A second call in the same period rolls nothing over again.
    assert (await chat(harness, key))[0] == 200
    with harness.db.session() as s:
        again = s.scalars(
            select(AuditLog).where(
                AuditLog.client_id == client.id, AuditLog.action == "budget.reset"
            )
        ).all()
    assert len(again) == 1


async def test_a_write_reaches_the_running_guard_at_once(harness: Harness) -> None:
    client, key = harness.new_client("edited", plan="pro")
    assert (await chat(harness, key))[0] == 200  # the guard now holds this client's state
    await harness.drain()
    await harness.gateway.budget_service.set_client_budget(
        client.id, BudgetSettings("tokens", Decimal(1), "daily"), actor="test"
    )
    status, body = await chat(harness, key)  # well within the guard's 5 s state TTL
    assert status == 402 and body["error"]["code"] == "budget_exceeded"

    await harness.gateway.budget_service.clear_client_budget(client.id, actor="test")
    assert (await chat(harness, key))[0] == 200


async def test_a_manual_reset_reaches_the_running_guard_at_once(harness: Harness) -> None:
    client, key = harness.new_client("reset", plan="pro")
    service = harness.gateway.budget_service
    await service.set_client_budget(
        client.id, BudgetSettings("tokens", Decimal(5), "daily"), actor="test"
    )
    assert (await chat(harness, key))[0] == 200
    await harness.drain()
    assert (await chat(harness, key))[0] == 402
    view = await service.reset_period(client.id, actor="test")
    assert view.current_usage == 0
    assert (await chat(harness, key))[0] == 200
