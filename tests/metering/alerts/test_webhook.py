import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest

from ai_gateway.metering.alerts import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AlertDeliveryError,
    AlertMessage,
    WebhookChannel,
)
from tests.fakes.alert_sinks import free_port, receiver

SECRET = "whsec-super-secret-value"
ALERT = AlertMessage(
    subject="Budget at 100%",
    text="Client paused.",
    payload={"client_id": "c1", "threshold": 100, "usage_brl": Decimal("150.0000000000")},
)

__all__ = ["receiver"]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Sleeps(list[float]):
    async def __call__(self, delay: float) -> None:
        self.append(delay)


def channel(http, url: str, sleeps: Sleeps, **kwargs) -> WebhookChannel:
    return WebhookChannel(
        http=http, url=url, secret=SECRET, clock=lambda: 1_750_000_000.9, sleep=sleeps, **kwargs
    )


async def test_the_body_is_signed_with_the_secret(http, receiver) -> None:
    await channel(http, receiver.url, Sleeps()).send(ALERT)

    [delivery] = receiver.deliveries
    expected = hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers[SIGNATURE_HEADER] == f"sha256={expected}"
    assert delivery.headers[TIMESTAMP_HEADER] == "1750000000"
    assert delivery.headers["Content-Type"] == "application/json"
    assert json.loads(delivery.body) == {
        "subject": "Budget at 100%",
        "text": "Client paused.",
        "payload": {"client_id": "c1", "threshold": 100, "usage_brl": "150.0000000000"},
        "timestamp": 1750000000,
    }


async def test_a_wrong_secret_does_not_verify(http, receiver) -> None:
    await channel(http, receiver.url, Sleeps()).send(ALERT)
    [delivery] = receiver.deliveries
    forged = hmac.new(b"other", delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers[SIGNATURE_HEADER] != f"sha256={forged}"


async def test_it_retries_after_two_server_errors(http, receiver) -> None:
    receiver.statuses = [500, 503]
    sleeps = Sleeps()
    await channel(http, receiver.url, sleeps).send(ALERT)
    assert len(receiver.deliveries) == 3
    assert sleeps == [0.2, 0.4]
    # Every attempt is the same delivery: same bytes, same signature, same id.
    assert len({d.body for d in receiver.deliveries}) == 1
    assert len({d.headers["X-AI-Gateway-Delivery"] for d in receiver.deliveries}) == 1


async def test_rate_limiting_is_retried(http, receiver) -> None:
    receiver.statuses = [429]
    await channel(http, receiver.url, Sleeps()).send(ALERT)
    assert len(receiver.deliveries) == 2


async def test_it_fails_clearly_after_all_attempts_without_leaking(http, receiver, caplog):
    receiver.statuses = [500, 502, 500]
    sleeps = Sleeps()
    with caplog.at_level(logging.DEBUG), pytest.raises(AlertDeliveryError) as caught:
        await channel(http, receiver.url, sleeps).send(ALERT)
    assert len(receiver.deliveries) == 3
    assert sleeps == [0.2, 0.4]
    assert caught.value.channel == "webhook"
    assert caught.value.message == "webhook to 127.0.0.1 failed: HTTP 500"
    for text in (caplog.text, str(caught.value), repr(caught.value.__cause__)):
        assert SECRET not in text
        assert "url-token-do-not-log" not in text


async def test_a_client_error_is_not_retried(http, receiver) -> None:
    receiver.statuses = [404]
    sleeps = Sleeps()
    with pytest.raises(AlertDeliveryError, match="HTTP 404"):
        await channel(http, receiver.url, sleeps).send(ALERT)
    assert len(receiver.deliveries) == 1
    assert sleeps == []


async def test_connection_errors_are_retried_with_capped_backoff(http) -> None:
    sleeps = Sleeps()
    url = f"http://127.0.0.1:{free_port()}/hook"
    with pytest.raises(AlertDeliveryError, match="ClientConnectorError"):
        await channel(http, url, sleeps, attempts=5, backoff_base=1.0, backoff_cap=2.5).send(ALERT)
    assert sleeps == [1.0, 2.0, 2.5, 2.5]


async def test_real_backoff_sleeps_are_short(http, receiver) -> None:
    receiver.statuses = [500]
    ch = WebhookChannel(http=http, url=receiver.url, secret=SECRET, backoff_base=0.01)
    await ch.send(ALERT)
    assert len(receiver.deliveries) == 2
    assert SECRET not in repr(ch)


def test_a_channel_needs_a_secret_and_an_attempt(http) -> None:
    with pytest.raises(ValueError):
        WebhookChannel(http=http, url="http://127.0.0.1/h", secret="")
    with pytest.raises(ValueError):
        WebhookChannel(http=http, url="http://127.0.0.1/h", secret="s", attempts=0)
