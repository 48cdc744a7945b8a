from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from ai_gateway.jobs import run_job
from ai_gateway.storage.budgets import effective_budget
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import AuditLog
from tests.fakes.seeding import add_client, set_counters

MAY = datetime(2025, 5, 1, 3, 0, tzinfo=UTC)
JUNE = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)
JULY = datetime(2025, 7, 1, 3, 0, tzinfo=UTC)


async def test_ended_periods_restart_in_the_client_timezone(db: Database, make_ctx) -> None:
    ended = add_client(db, "ended")
    tokyo = add_client(db, "tokyo", timezone="Asia/Tokyo")
    current = add_client(db, "current")
    set_counters(
        db,
        ended.id,
        current_usage=Decimal(50),
        is_paused=True,
        period_start=MAY,
        next_reset_at=JUNE,
    )
    set_counters(db, tokyo.id, current_usage=Decimal(9), period_start=MAY, next_reset_at=JUNE)
    set_counters(db, current.id, current_usage=Decimal(7), period_start=JUNE, next_reset_at=JULY)

    outcome = await run_job(make_ctx(), "reset-budget-periods")

    assert outcome.status == "ok"
    assert sorted(outcome.result["reset"]) == sorted([ended.id, tokyo.id])
    with db.session() as s:
        a = effective_budget(s, client_id=ended.id)
        t = effective_budget(s, client_id=tokyo.id)
        c = effective_budget(s, client_id=current.id)
        audited = list(
            s.scalars(select(AuditLog.client_id).where(AuditLog.action == "budget.reset"))
        )
    assert (a.current_usage, a.is_paused, a.period_start, a.next_reset_at) == (
        Decimal(0),
        False,
        JUNE,
        JULY,
    )
    assert (t.period_start, t.next_reset_at) == (
        datetime(2025, 5, 31, 15, 0, tzinfo=UTC),  # June 1st, 00:00 in Tokyo
        datetime(2025, 6, 30, 15, 0, tzinfo=UTC),
    )
    assert c.current_usage == Decimal(7)
    assert sorted(audited) == sorted([ended.id, tokyo.id])

    again = await run_job(make_ctx(), "reset-budget-periods")
    assert again.result == {"due": 0, "reset": []}
