from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from ai_gateway.jobs import run_job
from ai_gateway.storage.db import Database
from ai_gateway.storage.shared_config import update_shared_config
from ai_gateway.storage.tables import GatewayAlert
from tests.fakes.alert_sinks import SmtpSink
from tests.fakes.seeding import add_client, add_usage

WINDOW = datetime(2025, 6, 6, 13, 0, tzinfo=UTC)  # the last full hour before NOW (14:10)


def admin_email(db: Database) -> None:
    with db.write() as s:
        update_shared_config(s, changes={"admin_alert_email": "ops@gateway.test"})


async def test_error_rate_and_cost_spike_alerted_once_per_window(
    db: Database, smtp: SmtpSink, make_ctx
) -> None:
    admin_email(db)
    client = add_client(db)
    for day in range(1, 8):  # the week before: 0.24 USD a day -> 0.01 USD an hour
        add_usage(db, client.id, WINDOW - timedelta(days=day), count=24, cost_usd=Decimal("0.01"))
    add_usage(db, client.id, WINDOW + timedelta(minutes=5), count=18, cost_usd=Decimal("0.01"))
    add_usage(db, client.id, WINDOW + timedelta(minutes=6), count=2, status="error")
    add_usage(db, client.id, WINDOW + timedelta(minutes=7), count=30, status="rejected")
    add_usage(db, client.id, WINDOW + timedelta(minutes=70), count=50, status="error")  # 14:10

    outcome = await run_job(make_ctx(), "check-gateway-alerts")

    assert outcome.result["calls"] == 20 and outcome.result["errors"] == 2
    assert outcome.result["cost_usd"] == "0.2000000000"
    assert outcome.result["baseline_hour_usd"] == "0.0100000000"
    assert outcome.result["alerts_sent"] == ["error_rate", "cost_spike"]
    subjects = sorted(m[2]["Subject"] for m in smtp.messages)
    assert subjects == [
        "[AI Gateway] cost spike in the hour from 2025-06-06 13:00 UTC",
        "[AI Gateway] error rate 10.0% in the hour from 2025-06-06 13:00 UTC",
    ]
    again = await run_job(make_ctx(now=WINDOW + timedelta(minutes=95)), "check-gateway-alerts")
    assert again.result["alerts_sent"] == []
    assert len(smtp.messages) == 2
    with db.session() as s:
        rows = s.scalars(select(GatewayAlert).order_by(GatewayAlert.kind)).all()
    assert [(r.kind, r.window_start, r.delivered) for r in rows] == [
        ("cost_spike", WINDOW, True),
        ("error_rate", WINDOW, True),
    ]


async def test_quiet_or_small_hours_raise_nothing(db: Database, smtp: SmtpSink, make_ctx) -> None:
    admin_email(db)
    client = add_client(db)
    add_usage(db, client.id, WINDOW + timedelta(minutes=1), count=19, status="error")  # < 20 calls
    outcome = await run_job(make_ctx(), "check-gateway-alerts")
    # no history: no baseline, so no spike either
    assert outcome.result["alerts_sent"] == []
    assert smtp.messages == []
