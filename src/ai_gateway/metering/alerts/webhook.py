"""Webhook alerts: a signed JSON POST, retried on transient failures.

The receiver checks ``X-AI-Gateway-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw
body under the shared secret, before trusting it. The body also carries the ``timestamp``
sent in ``X-AI-Gateway-Timestamp``, so the signature covers it and a receiver can refuse
old replays. Every attempt of one delivery sends the same bytes and the same
``X-AI-Gateway-Delivery`` id, so a receiver that saw a "failed" attempt can de-duplicate.

Retried: connection errors, timeouts, 5xx and 429, with exponential back-off (capped).
Not retried: other 4xx, which another attempt would not fix. The secret never appears in
a log or an error, and the URL is reported by host only (it may hold a token).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import ClassVar, Final

import aiohttp
from yarl import URL

from ai_gateway.metering.alerts.base import (
    AlertChannel,
    AlertDeliveryError,
    AlertMessage,
    encode_json,
)

__all__ = ["DELIVERY_HEADER", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookChannel", "sign"]

logger = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "X-AI-Gateway-Signature"
TIMESTAMP_HEADER: Final = "X-AI-Gateway-Timestamp"
DELIVERY_HEADER: Final = "X-AI-Gateway-Delivery"


def sign(body: bytes, secret: str) -> str:
    """The signature header value for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookChannel(AlertChannel):
    name: ClassVar[str] = "webhook"

    def __init__(
        self,
        *,
        http: aiohttp.ClientSession,
        url: str,
        secret: str,
        attempts: int = 3,
        backoff_base: float = 0.2,
        backoff_cap: float = 5.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if not secret:
            raise ValueError("a webhook channel needs a signing secret")
        self._http = http
        self._url = url
        self._secret = secret
        self._attempts = attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._sleep = sleep
        self._host = URL(url).host or "?"

    def __repr__(self) -> str:
        return f"WebhookChannel(host={self._host!r})"

    async def send(self, alert: AlertMessage) -> None:
        timestamp = str(int(self._clock()))
        body = encode_json(
            {
                "subject": alert.subject,
                "text": alert.text,
                "payload": alert.payload,
                "timestamp": int(timestamp),
            }
        )
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, self._secret),
            TIMESTAMP_HEADER: timestamp,
            DELIVERY_HEADER: uuid.uuid4().hex,
        }
        last = "no attempt made"
        for attempt in range(1, self._attempts + 1):
            outcome = await self._attempt(body, headers)
            if outcome is None:
                return
            retryable, last = outcome
            if not retryable:
                break
            if attempt < self._attempts:
                delay = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
                logger.warning(
                    "webhook to %s failed (%s), attempt %d/%d; retrying in %.2fs",
                    self._host,
                    last,
                    attempt,
                    self._attempts,
                    delay,
                )
                await self._sleep(delay)
        raise AlertDeliveryError(f"webhook to {self._host} failed: {last}", channel=self.name)

    async def _attempt(self, body: bytes, headers: dict[str, str]) -> tuple[bool, str] | None:
        """``None`` on success, else (retryable, reason)."""
        try:
            async with self._http.post(
                self._url, data=body, headers=headers, timeout=self._timeout
            ) as resp:
                status = resp.status
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            return True, type(exc).__name__
        except aiohttp.ClientError as exc:  # a bad URL or a broken answer: retrying won't help
            return False, type(exc).__name__
        if 200 <= status < 300:
            return None
        return status >= 500 or status == 429, f"HTTP {status}"
