"""Real-time budget alerts: a real SMTP sink and a webhook receiver that checks the HMAC;
each alert sent once however many calls cross a threshold together; auto-pause at 100 %;
one alert per unpriced model."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from ai_gateway.errors import ClientPaused
from ai_gateway.metering.alerting import ADMIN_WEBHOOK_SECRET, Alerter, webhook_secret_id
from ai_gateway.metering.alerts import SIGNATURE_HEADER
from ai_gateway.pipeline.budget import BudgetGuard, UsageChange
from ai_gateway.settings import Settings
from ai_gateway.storage.budgets import BudgetSettings, effective_budget, set_client_budget
from ai_gateway.storage.db import Database
from ai_gateway.storage.secrets import set_secret
from ai_gateway.storage.shared_config import update_shared_config
from ai_gateway.storage.tables import AuditLog, BudgetAlert, GatewayAlert
from ai_gateway.vault import MasterKey, generate_master_key
from tests.fakes.alert_sinks import SmtpSink, WebhookReceiver, receiver, smtp
from tests.fakes.seeding import add_client, restore_shared_config, set_counters

SECRET = "whsec-client-secret"
JUNE = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)
JULY = datetime(2025, 7, 1, 3, 0, tzinfo=UTC)

__all__ = ["receiver", "smtp"]


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:  # SQLite and PostgreSQL
    database = Database(database_url)
    yield database
    restore_shared_config(database)
    database.dispose()


@pytest.fixture
async def setup(
    db: Database, smtp: SmtpSink, receiver: WebhookReceiver, tmp_path: Any
) -> AsyncIterator[tuple[Alerter, BudgetGuard, str]]:
    master = MasterKey.from_base64(generate_master_key())
    client = add_client(db, contact_email="owner@acme.test", alert_webhook_url=receiver.url)
    with db.write() as s:
        set_secret(s, master=master, secret_id=webhook_secret_id(client.id), value=SECRET)
        update_shared_config(s, changes={"admin_alert_email": "ops@gateway.test"})
        set_client_budget(
            s,
            client_id=client.id,
            settings=BudgetSettings("brl", Decimal(100), "monthly", (80, 90, 100), True),
            actor="t",
            now=JUNE,
        )
    set_counters(db, client.id, period_start=JUNE, next_reset_at=JULY)
    settings = Settings(
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        scheduler_enabled=False,
        # The receiver is on loopback: the operator allows private webhooks here.
        allow_private_webhooks=True,
    )
    guard = BudgetGuard(db)
    async with aiohttp.ClientSession() as http:
        alerter = Alerter(db=db, settings=settings, master=master, http=http, budgets=guard)
        yield alerter, guard, client.id
        await alerter.close()


def change(db: Database, client_id: str, before: str, after: str) -> UsageChange:
    with db.session() as s:
        budget = effective_budget(s, client_id=client_id)
    return UsageChange(budget, Decimal(before), Decimal(after))


def count(db: Database, table: Any) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


async def test_a_threshold_crossed_by_many_calls_is_sent_once_per_channel(
    db: Database, smtp: SmtpSink, receiver: WebhookReceiver, setup: Any
) -> None:
    alerter, _guard, client_id = setup
    for _ in range(8):  # eight calls settle across 80 % at the same moment
        alerter.on_usage(change(db, client_id, "79", "81"), client_id)
    alerter.on_usage(change(db, client_id, "81", "85"), client_id)  # crosses nothing
    await alerter.drain()

    recipients = sorted(r for _, rcpts, _ in smtp.messages for r in rcpts)
    assert recipients == ["ops@gateway.test", "owner@acme.test"]
    assert "80%" in smtp.messages[0][2]["Subject"]
    [delivery] = receiver.deliveries
    expected = hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers[SIGNATURE_HEADER] == f"sha256={expected}"
    body = json.loads(delivery.body)
    assert body["payload"]["threshold"] == 80 and body["payload"]["usage"] == "81"
    with db.session() as s:
        rows = s.scalars(select(BudgetAlert)).all()
    assert sorted(r.channel for r in rows) == ["admin_email", "email", "webhook"]
    assert all(r.delivered and r.threshold == 80 and r.period_start == JUNE for r in rows)


async def test_reaching_the_limit_pauses_at_once(db: Database, smtp: SmtpSink, setup: Any) -> None:
    alerter, guard, client_id = setup
    await guard.budget_for(client_id)
    alerter.on_usage(change(db, client_id, "95", "100.5"), client_id)
    with pytest.raises(ClientPaused):  # in memory already, before any I/O
        await guard.reserve(client_id, lambda _unit: Decimal(1))
    await alerter.drain()
    with db.session() as s:
        assert effective_budget(s, client_id=client_id).is_paused
        actions = list(s.scalars(select(AuditLog.action)))
    assert actions.count("budget.pause") == 1
    assert sorted({m[2]["Subject"].split(": ")[1] for m in smtp.messages}) == [
        "100% of the monthly budget used"
    ]


async def test_an_unpriced_model_is_reported_once(db: Database, smtp: SmtpSink, setup: Any) -> None:
    alerter, _guard, _client_id = setup
    for _ in range(3):
        alerter.on_unpriced("acme/unknown-model")
    await alerter.drain()
    # another process (a fresh alerter) does not send it again either
    alerter2 = Alerter(
        db=db, settings=alerter._settings, master=None, http=alerter._http, budgets=None
    )
    alerter2.on_unpriced("acme/unknown-model")
    await alerter2.drain()
    assert [m[1] for m in smtp.messages] == [["ops@gateway.test"]]
    with db.session() as s:
        [row] = s.scalars(select(GatewayAlert)).all()
    assert (row.kind, row.scope, row.delivered) == ("unpriced_model", "acme/unknown-model", True)


async def test_a_webhook_without_secret_is_never_sent_unsigned(
    db: Database, receiver: WebhookReceiver, setup: Any
) -> None:
    alerter, _guard, client_id = setup
    with db.write() as s:
        update_shared_config(s, changes={"admin_alert_webhook": receiver.url})
    alerter.on_usage(change(db, client_id, "0", "90"), client_id)
    await alerter.drain()
    # the client's webhook is signed; the admin's has no secret (webhook:admin) so none
    assert len(receiver.deliveries) == 2  # thresholds 80 and 90 to the client's hook
    assert ADMIN_WEBHOOK_SECRET == "webhook:admin"
    assert count(db, BudgetAlert) == 6  # (email, webhook, admin_email) x (80, 90)
    await asyncio.sleep(0)


async def test_a_client_webhook_on_a_private_address_is_not_called_unless_allowed(
    db: Database, smtp: SmtpSink, receiver: WebhookReceiver, setup: Any
) -> None:
    """Checked again when used (a URL saved before the rule, or a name that now resolves
    to a private address): the webhook is skipped, the e-mails still go."""
    alerter, _guard, client_id = setup
    strict = Alerter(
        db=db,
        settings=alerter._settings.model_copy(update={"allow_private_webhooks": False}),
        master=alerter._master,
        http=alerter._http,
    )
    strict.on_usage(change(db, client_id, "79", "81"), client_id)
    await strict.drain()
    assert receiver.deliveries == []
    assert sorted(r for _, rcpts, _ in smtp.messages for r in rcpts) == [
        "ops@gateway.test",
        "owner@acme.test",
    ]
