"""``AlertService``: the operator's and a client's alert settings, the signing secret
(shown once, stored sealed, audited masked) and the test alert, really sent through the
SMTP channel (to an aiosmtpd sink) and the HMAC-signed webhook (to a loopback receiver,
which the operator allows here). On SQLite and PostgreSQL."""

from __future__ import annotations

import aiohttp
import orjson
import pytest

from ai_gateway.metering.alerts.webhook import SIGNATURE_HEADER, sign
from ai_gateway.services.alerts import AlertService
from ai_gateway.storage.clients import update_client
from ai_gateway.storage.tables import Secret
from tests.fakes.alert_sinks import SmtpSink, WebhookReceiver, free_port, receiver, smtp
from tests.harness import Harness

ACTOR = "admin-key:test"

__all__ = ["receiver", "smtp"]


@pytest.fixture
def settings_overrides(smtp: SmtpSink) -> dict[str, object]:
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "allow_private_webhooks": True}


async def test_the_operator_test_alert_reaches_smtp_and_the_signed_webhook(
    harness: Harness, smtp: SmtpSink, receiver: WebhookReceiver
) -> None:
    alerts = harness.gateway.alerts
    nothing = await alerts.send_test(None, actor=ACTOR)
    assert (nothing.code, nothing.deliveries) == ("no_alert_contact", [])

    harness.configure(admin_alert_email="ops@operator.example", admin_alert_webhook=receiver.url)
    report = await alerts.send_test(None, actor=ACTOR)
    by_channel = {d.channel: d for d in report.deliveries}
    assert by_channel["email"].ok and by_channel["email"].recipient == "ops@operator.example"
    assert by_channel["webhook"].code == "webhook_secret_missing"  # unsigned: never sent
    assert by_channel["webhook"].recipient == "127.0.0.1"  # the host only: no URL token
    assert receiver.deliveries == []
    (_sender, rcpt, message) = smtp.messages[-1]
    assert rcpt == ["ops@operator.example"] and "test alert" in str(message["Subject"])

    masked, secret = await alerts.set_webhook_secret(None, actor=ACTOR)
    assert secret not in masked and len(secret) >= 32
    (stored,) = harness.audits("secret.set")
    assert stored.target == "webhook:admin" and secret not in str(stored.details)
    with harness.db.session() as s:
        row = s.get(Secret, "webhook:admin")
        assert row is not None and secret.encode() not in row.ciphertext

    report = await alerts.send_test(None, actor=ACTOR)
    assert all(d.ok for d in report.deliveries), report
    (delivery,) = receiver.deliveries
    assert delivery.headers[SIGNATURE_HEADER] == sign(delivery.body, secret)
    assert orjson.loads(delivery.body)["payload"]["type"] == "alert.test"
    tests = harness.audits("alert.test")
    assert len(tests) == 3 and tests[-1].details["deliveries"][0]["ok"] is True
    assert (await alerts.read(None)).webhook_secret == masked


async def test_a_client_test_alert_goes_to_its_own_contacts(
    harness: Harness, smtp: SmtpSink, receiver: WebhookReceiver
) -> None:
    alerts, client = harness.gateway.alerts, harness.client
    await harness.gateway.tenants.update_client(
        client.id,
        actor=ACTOR,
        changes={"contact_email": "bot@acme.example", "alert_webhook_url": receiver.url},
    )
    _masked, secret = await alerts.set_webhook_secret(client.id, actor=ACTOR, secret="s3cret!")
    assert secret == "s3cret!"
    found = await alerts.read(client.id)
    assert found.thresholds == [80, 90, 100] and found.email == "bot@acme.example"
    report = await alerts.send_test(client.id, actor=ACTOR)
    assert [d.ok for d in report.deliveries] == [True, True]
    assert smtp.messages[-1][1] == ["bot@acme.example"]
    assert receiver.deliveries[0].headers[SIGNATURE_HEADER] == sign(
        receiver.deliveries[0].body, "s3cret!"
    )
    assert harness.audits("alert.test")[0].client_id == client.id


async def test_failures_are_reported_by_code(harness: Harness, receiver: WebhookReceiver) -> None:
    """A relay that refuses the connection, and a client webhook that became private while
    the operator does not allow it: each channel says why, nothing raises."""
    with harness.db.write() as s:
        update_client(
            s,
            client_id=harness.client.id,
            changes={"contact_email": "bot@acme.example", "alert_webhook_url": receiver.url},
        )
    settings = harness.settings.model_copy(
        update={"smtp_port": free_port(), "allow_private_webhooks": False}
    )
    async with aiohttp.ClientSession() as http:
        strict = AlertService(
            harness.db,
            settings=settings,
            master=harness.gateway.master,
            http=http,
            publish=harness.gateway.publish_change,
        )
        report = await strict.send_test(harness.client.id, actor=ACTOR)
    codes = {d.channel: d.code for d in report.deliveries}
    assert codes == {"email": "alert_delivery_failed", "webhook": "webhook_not_public"}
    assert receiver.deliveries == []
