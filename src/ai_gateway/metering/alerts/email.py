"""E-mail alerts over SMTP.

Uses the standard library's ``smtplib`` in a worker thread (``asyncio.to_thread``) rather
than an async SMTP client: alerts are rare (at most a few per client per period), so a
thread per send costs nothing, and no dependency is added. The payload travels as a JSON
attachment so a mailbox rule or a script can read the numbers without parsing prose.

No authentication or TLS yet: the operator's relay is expected on a trusted network
(``AI_GATEWAY_SMTP_HOST``); see the report for what is left.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import ClassVar

from ai_gateway.metering.alerts.base import (
    AlertChannel,
    AlertDeliveryError,
    AlertMessage,
    encode_json,
)

__all__ = ["EmailChannel"]

logger = logging.getLogger(__name__)


class EmailChannel(AlertChannel):
    name: ClassVar[str] = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        timeout: float = 10.0,
    ) -> None:
        if not recipients:
            raise ValueError("an e-mail channel needs at least one recipient")
        self._host = host
        self._port = port
        self._sender = sender
        self._recipients = list(recipients)
        self._timeout = timeout

    async def send(self, alert: AlertMessage) -> None:
        await asyncio.to_thread(self._send_blocking, self._build(alert))

    def _build(self, alert: AlertMessage) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = alert.subject
        msg["From"] = self._sender
        msg["To"] = ", ".join(self._recipients)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        msg.set_content(alert.text)
        if alert.payload:
            msg.add_attachment(
                encode_json(alert.payload),
                maintype="application",
                subtype="json",
                filename="alert.json",
            )
        return msg

    def _send_blocking(self, msg: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                refused = smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise AlertDeliveryError(
                f"SMTP delivery via {self._host}:{self._port} failed: {type(exc).__name__}",
                channel=self.name,
            ) from exc
        if refused:
            # Some recipients got it: re-sending would duplicate theirs, so only warn.
            logger.warning(
                "SMTP relay refused %d of %d recipients: %s",
                len(refused),
                len(self._recipients),
                ", ".join(refused),
            )
