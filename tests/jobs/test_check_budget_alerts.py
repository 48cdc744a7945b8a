from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from ai_gateway.jobs import run_job
from ai_gateway.storage.budgets import BudgetSettings, effective_budget, set_client_budget
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import BudgetAlert
from tests.fakes.alert_sinks import SmtpSink
from tests.fakes.seeding import add_client, set_counters

JUNE = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)
JULY = datetime(2025, 7, 1, 3, 0, tzinfo=UTC)


async def test_missed_thresholds_are_sent_once_and_the_limit_pauses(
    db: Database, smtp: SmtpSink, make_ctx
) -> None:
    client = add_client(db, contact_email="owner@acme.test")
    quiet = add_client(db, "quiet", contact_email="quiet@acme.test")
    with db.write() as s:
        set_client_budget(
            s,
            client_id=client.id,
            settings=BudgetSettings("brl", Decimal(100), "monthly", (80, 90, 100), True),
            actor="t",
            now=JUNE,
        )
    set_counters(db, client.id, current_usage=Decimal(95), period_start=JUNE, next_reset_at=JULY)
    set_counters(db, quiet.id, current_usage=Decimal(1), period_start=JUNE, next_reset_at=JULY)

    first = await run_job(make_ctx(), "check-budget-alerts")
    assert first.result == {"clients_checked": 2, "alerts_sent": 2, "paused": []}
    assert sorted(m[2]["Subject"].split(": ")[1] for m in smtp.messages) == [
        "80% of the monthly budget used",
        "90% of the monthly budget used",
    ]
    assert (await run_job(make_ctx(), "check-budget-alerts")).result["alerts_sent"] == 0

    set_counters(db, client.id, current_usage=Decimal(100))
    third = await run_job(make_ctx(), "check-budget-alerts")
    assert third.result == {"clients_checked": 2, "alerts_sent": 1, "paused": [client.id]}
    with db.session() as s:
        assert effective_budget(s, client_id=client.id).is_paused
        thresholds = sorted(s.scalars(select(BudgetAlert.threshold)))
    assert thresholds == [80, 90, 100]
    assert len(smtp.messages) == 3
