import json
from decimal import Decimal

import pytest

from ai_gateway.metering.alerts import AlertDeliveryError, AlertMessage, EmailChannel
from tests.fakes.alert_sinks import SmtpSink, free_port, smtp

ALERT = AlertMessage(
    subject="Budget at 90% for Padaria Pão Quente",
    text="Usage R$ 135,00 of R$ 150,00 this month.",
    payload={"client_id": "c1", "threshold": 90, "usage": Decimal("135.0000000001")},
)

__all__ = ["smtp"]


async def test_the_alert_arrives_with_subject_body_and_payload(smtp: SmtpSink) -> None:
    channel = EmailChannel(
        host="127.0.0.1",
        port=smtp.port,
        sender="gw@example.com",
        recipients=["ops@example.com", "owner@example.com"],
    )
    await channel.send(ALERT)

    [(mail_from, rcpt_tos, msg)] = smtp.messages
    assert mail_from == "gw@example.com"
    assert rcpt_tos == ["ops@example.com", "owner@example.com"]
    assert msg["Subject"] == ALERT.subject
    assert msg["To"] == "ops@example.com, owner@example.com"
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().strip() == ALERT.text
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "alert.json"
    assert json.loads(attachment.get_content()) == {
        "client_id": "c1",
        "threshold": 90,
        "usage": "135.0000000001",
    }


async def test_an_alert_without_payload_is_plain_text(smtp: SmtpSink) -> None:
    channel = EmailChannel(
        host="127.0.0.1", port=smtp.port, sender="gw@example.com", recipients=["ops@example.com"]
    )
    await channel.send(AlertMessage(subject="Hi", text="Just text."))
    [(_, _, msg)] = smtp.messages
    assert not msg.is_multipart()
    assert msg.get_content().strip() == "Just text."


async def test_an_unreachable_relay_is_a_delivery_error() -> None:
    port = free_port()
    channel = EmailChannel(
        host="127.0.0.1",
        port=port,
        sender="gw@example.com",
        recipients=["ops@example.com"],
        timeout=1,
    )
    with pytest.raises(AlertDeliveryError) as caught:
        await channel.send(ALERT)
    assert caught.value.channel == "email"
    assert f"127.0.0.1:{port}" in caught.value.message


def test_an_email_channel_needs_a_recipient() -> None:
    with pytest.raises(ValueError):
        EmailChannel(host="127.0.0.1", port=25, sender="gw@example.com", recipients=[])
