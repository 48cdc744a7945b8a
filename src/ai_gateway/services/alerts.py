"""Alert settings of the operator and of each client, and the "send a test alert" action.

Where alerts go lives in three places: the operator's contacts in the shared config
(``admin_alert_email``, ``admin_alert_webhook``), each client's on its row
(``contact_email``, ``alert_webhook_url``), and the webhook signing secrets in the vault
(``webhook:admin``, ``webhook:<client_id>``); the thresholds are the client's budget's
(``client_budgets.alert_thresholds``). :class:`AlertService` reads them as one
:class:`AlertSettings`, stores a signing secret (generated here and shown once, or the
operator's own), and sends a test alert through the very channels the budget and anomaly
alerts use (:mod:`ai_gateway.metering.alerts`: SMTP and the HMAC-signed webhook),
reporting each channel's outcome by a stable code. Each action is audited; the clear
secret is never logged or audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import aiohttp
from yarl import URL

from ai_gateway.changes import Publish
from ai_gateway.errors import InvalidRequest
from ai_gateway.metering.alerting import ADMIN_WEBHOOK_SECRET, webhook_secret_id
from ai_gateway.metering.alerts import AlertChannel, AlertDeliveryError, AlertMessage
from ai_gateway.metering.alerts.email import EmailChannel
from ai_gateway.metering.alerts.webhook import WebhookChannel
from ai_gateway.metering.alerts.webhook_urls import Resolver, check_webhook_url, system_resolver
from ai_gateway.settings import Settings
from ai_gateway.storage import secrets as secrets_store
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.budgets import effective_budget
from ai_gateway.storage.clients import get_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.shared_config import get_shared_config
from ai_gateway.vault import MasterKey

__all__ = ["AlertService", "AlertSettings", "TestDelivery", "TestReport"]

#: A test should answer while the operator waits: one attempt, a short timeout.
_TEST_TIMEOUT_S: Final = 5.0


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """Where one owner's alerts go (``client_id`` None: the operator's)."""

    client_id: str | None
    email: str | None
    webhook_url: str | None
    #: the signing secret, masked (``None``: none stored, so webhooks are not sent)
    webhook_secret: str | None
    #: the budget's thresholds (a client's only)
    thresholds: list[int]
    smtp_configured: bool
    master_key_configured: bool


@dataclass(frozen=True, slots=True)
class TestDelivery:
    channel: str  # "email" | "webhook"
    #: the e-mail address, or the webhook's host only (its path may hold a token)
    recipient: str
    ok: bool
    #: why it was not delivered: smtp_not_configured, webhook_secret_missing,
    #: webhook_not_public, alert_delivery_failed (None when it was)
    code: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TestReport:
    client_id: str | None
    deliveries: list[TestDelivery]

    @property
    def code(self) -> str | None:
        """``no_alert_contact`` when there was nowhere to send the test."""
        return None if self.deliveries else "no_alert_contact"


class AlertService:
    """Built by the gateway when it starts (it needs the HTTP session)."""

    def __init__(
        self,
        db: Database,
        *,
        settings: Settings,
        master: MasterKey | None,
        http: aiohttp.ClientSession,
        publish: Publish,
        resolve: Resolver = system_resolver,
    ) -> None:
        self._db = db
        self._settings = settings
        self._master = master
        self._http = http
        self._publish = publish
        self._resolve = resolve

    async def read(self, client_id: str | None = None) -> AlertSettings:
        def run() -> AlertSettings:
            with self._db.session() as s:
                thresholds: list[int] = []
                if client_id is None:
                    config = get_shared_config(s)
                    email, url, owner = (
                        config.admin_alert_email,
                        config.admin_alert_webhook,
                        None,
                    )
                    secret_id = ADMIN_WEBHOOK_SECRET
                else:
                    client = get_client(s, client_id)
                    email, url, owner = client.contact_email, client.alert_webhook_url, client.id
                    secret_id = webhook_secret_id(client.id)
                    thresholds = list(effective_budget(s, client_id=client.id).alert_thresholds)
                masked = next(
                    (i.masked for i in secrets_store.list_secrets(s) if i.id == secret_id), None
                )
            return AlertSettings(
                client_id=owner,
                email=email,
                webhook_url=url,
                webhook_secret=masked,
                thresholds=thresholds,
                smtp_configured=bool(self._settings.smtp_host),
                master_key_configured=self._master is not None,
            )

        return await self._db.run(run)

    async def set_webhook_secret(
        self, client_id: str | None, *, actor: str, secret: str | None = None
    ) -> tuple[str, str]:
        """Store the signing secret of ``client_id``'s webhook (None: the operator's):
        ``secret``, or a new random one. Returns (the masked form, the clear secret), the
        clear one to show this once."""
        master = self._master
        if master is None:
            raise InvalidRequest(
                "no master key is configured (AI_GATEWAY_MASTER_KEY), so the signing secret "
                "cannot be stored",
                param="secret",
                code="master_key_missing",
            )
        value = (secret or "").strip() or secrets.token_urlsafe(32)
        if len(value) > 512:
            raise InvalidRequest("the secret is longer than 512", param="secret")

        def run() -> tuple[str | None, str]:
            with self._db.write() as s:
                owner = None if client_id is None else get_client(s, client_id).id
                secret_id = ADMIN_WEBHOOK_SECRET if owner is None else webhook_secret_id(owner)
                info = secrets_store.set_secret(s, master=master, secret_id=secret_id, value=value)
                record_audit(
                    s,
                    actor=actor,
                    action="secret.set",
                    client_id=owner,
                    target=secret_id,
                    details={"masked": info.masked},
                )
                return owner, info.masked

        owner, masked = await self._db.run(run)
        await self._publish("clients" if owner else "config", client_id=owner)
        return masked, value

    async def send_test(self, client_id: str | None, *, actor: str) -> TestReport:
        """Send a test alert to every contact of ``client_id`` (None: the operator's) and
        report each channel's outcome; audited as ``alert.test``."""
        found = await self.read(client_id)
        secret = await self._secret(found)
        who = "the operator" if found.client_id is None else f"client {found.client_id}"
        message = AlertMessage(
            subject="[AI Gateway] test alert",
            text=(
                f"This is a test alert for {who}, sent from the dashboard. Budget and "
                "anomaly alerts will arrive the same way."
            ),
            payload={
                "type": "alert.test",
                "client_id": found.client_id,
                "sent_at": datetime.now(UTC).isoformat(),
            },
        )
        deliveries: list[TestDelivery] = []
        if found.email:
            deliveries.append(await self._email(found.email, message))
        if found.webhook_url:
            deliveries.append(await self._webhook(found, secret, message))
        report = TestReport(client_id=found.client_id, deliveries=deliveries)
        await self._db.run(self._audit_test, report, actor)
        return report

    # -- helpers ------------------------------------------------------------------------

    async def _secret(self, found: AlertSettings) -> str | None:
        master = self._master
        if master is None or not found.webhook_url:
            return None
        secret_id = (
            ADMIN_WEBHOOK_SECRET if found.client_id is None else webhook_secret_id(found.client_id)
        )

        def run() -> str | None:
            with self._db.session() as s:
                return secrets_store.get_secret(s, master=master, secret_id=secret_id)

        return await self._db.run(run)

    async def _email(self, address: str, message: AlertMessage) -> TestDelivery:
        if not self._settings.smtp_host:
            return TestDelivery("email", address, ok=False, code="smtp_not_configured")
        channel = EmailChannel(
            host=self._settings.smtp_host,
            port=self._settings.smtp_port,
            sender=self._settings.smtp_from,
            recipients=[address],
            timeout=_TEST_TIMEOUT_S,
        )
        return await _deliver(channel, "email", address, message)

    async def _webhook(
        self, found: AlertSettings, secret: str | None, message: AlertMessage
    ) -> TestDelivery:
        assert found.webhook_url is not None
        host = URL(found.webhook_url).host or "?"
        if found.client_id is not None:
            # Checked again at send time: what the name resolves to may have changed.
            try:
                await check_webhook_url(
                    found.webhook_url,
                    allow_private=self._settings.allow_private_webhooks,
                    resolve=self._resolve,
                )
            except InvalidRequest as exc:
                return TestDelivery("webhook", host, ok=False, code=exc.code, error=exc.message)
        if not secret:
            return TestDelivery("webhook", host, ok=False, code="webhook_secret_missing")
        channel = WebhookChannel(
            http=self._http, url=found.webhook_url, secret=secret, attempts=1, timeout=5.0
        )
        return await _deliver(channel, "webhook", host, message)

    def _audit_test(self, report: TestReport, actor: str) -> None:
        with self._db.write() as s:
            record_audit(
                s,
                actor=actor,
                action="alert.test",
                client_id=report.client_id,
                target=report.client_id or "admin",
                details={
                    "deliveries": [
                        {"channel": d.channel, "ok": d.ok, "code": d.code}
                        for d in report.deliveries
                    ]
                },
            )


async def _deliver(
    channel: AlertChannel, name: str, recipient: str, message: AlertMessage
) -> TestDelivery:
    try:
        await channel.send(message)
    except AlertDeliveryError as exc:
        return TestDelivery(
            name, recipient, ok=False, code="alert_delivery_failed", error=exc.message
        )
    return TestDelivery(name, recipient, ok=True)
