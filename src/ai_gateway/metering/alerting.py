"""Alerts as they happen: budget thresholds, auto-pause at the limit, unpriced models, and
the delivery of the scheduled jobs' anomaly alerts.

The pipeline's meter calls :meth:`Alerter.on_usage` after every settlement, on the request
path, so that method does no I/O: it compares usage before and after the call with the
thresholds (:func:`~ai_gateway.rules.budget_rules.crossed_thresholds`), flips the
in-memory pause at once when the limit is reached (the very next call is refused), and
schedules the rest (the database pause, the audit row, the e-mails and webhooks) as an
asyncio task off the request path.

Each alert goes at most once per client + threshold + period + channel: it is claimed by
inserting its ``budget_alerts`` row first (:mod:`ai_gateway.storage.alerts`), so however
many calls, jobs or replicas race over a threshold, one of them sends. A failed delivery
is recorded on its row (``delivered = false``, ``error``) and not retried: a late
duplicate is worse than a logged miss the hourly job's report shows.

Channels per alert: the client's ``contact_email`` and ``alert_webhook_url`` (channels
``email``/``webhook``) and the operator's ``admin_alert_email``/``admin_alert_webhook``
(``admin_email``/``admin_webhook``). E-mail needs ``AI_GATEWAY_SMTP_HOST``; a webhook needs
its signing secret in the vault (``webhook:<client_id>``, ``webhook:admin``), so an
unsigned alert is never sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, Protocol

import aiohttp
import orjson

from ai_gateway.errors import InvalidRequest
from ai_gateway.metering.alerts import AlertChannel, AlertDeliveryError, AlertMessage
from ai_gateway.metering.alerts.base import encode_json
from ai_gateway.metering.alerts.email import EmailChannel
from ai_gateway.metering.alerts.webhook import WebhookChannel
from ai_gateway.metering.alerts.webhook_urls import check_webhook_url
from ai_gateway.rules.budget_rules import crossed_thresholds
from ai_gateway.rules.budget_state import EffectiveBudget, UsageChange
from ai_gateway.settings import Settings
from ai_gateway.storage.alerts import (
    claim_budget_alert,
    claim_gateway_alert,
    finish_budget_alert,
    finish_gateway_alert,
)
from ai_gateway.storage.budgets import set_paused
from ai_gateway.storage.clients import get_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.secrets import get_secret
from ai_gateway.storage.shared_config import get_shared_config
from ai_gateway.vault import MasterKey

__all__ = ["ADMIN_WEBHOOK_SECRET", "Alerter", "PauseMarker", "webhook_secret_id"]

log = logging.getLogger("ai_gateway.alerts")

#: The vault id of the operator's webhook signing secret.
ADMIN_WEBHOOK_SECRET: Final = "webhook:admin"
#: ``gateway_alerts.window_start`` of alerts that are sent once ever (unpriced models).
ONCE: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ACTOR: Final = "system:alerts"
_CLOSE_SECONDS: Final = 10.0


def webhook_secret_id(client_id: str) -> str:
    """The vault id of a client's webhook signing secret."""
    return f"webhook:{client_id}"


class PauseMarker(Protocol):
    """What the alerter needs of the request path's budget guard: flip a client's pause in
    memory, so the next call is refused before the database write lands. A protocol, so
    metering does not import the pipeline above it."""

    def mark_paused(self, client_id: str, paused: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class _Target:
    name: str  # what budget_alerts.channel records
    recipient: str
    channel: AlertChannel


class Alerter:
    """Built once per process (the gateway, or a CLI job run) and closed with it."""

    def __init__(
        self,
        *,
        db: Database,
        settings: Settings,
        master: MasterKey | None,
        http: aiohttp.ClientSession,
        budgets: PauseMarker | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._master = master
        self._http = http
        self._budgets = budgets
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unpriced_seen: set[str] = set()
        self._quarantine_days: set[datetime] = set()

    # -- listeners: the request path, no I/O ----------------------------------------------

    def on_usage(self, change: UsageChange, client_id: str) -> None:
        budget = change.budget
        if budget.limit_value <= 0 or change.after <= change.before:
            return
        crossed = crossed_thresholds(
            before=change.before,
            after=change.after,
            limit=budget.limit_value,
            thresholds=budget.alert_thresholds,
        )
        reached = change.before < budget.limit_value <= change.after
        pause = reached and budget.pause_at_limit and not budget.is_paused
        if pause and self._budgets is not None:
            self._budgets.mark_paused(client_id, True)
        if pause:
            self._spawn(self.pause(client_id, reason="budget limit reached"))
        if crossed:
            self._spawn(self.send_budget_alerts(budget, crossed, usage=change.after))

    def on_unpriced(self, model_id: str) -> None:
        if model_id in self._unpriced_seen:
            return
        self._unpriced_seen.add(model_id)
        message = AlertMessage(
            subject=f"[AI Gateway] model '{model_id}' has no price",
            text=(
                f"A call used '{model_id}', which has no price in the model registry. Its "
                "usage is logged as unpriced (cost 0) until a price is set."
            ),
            payload={"type": "gateway.unpriced_model", "model": model_id},
        )
        self._spawn(
            self.gateway_alert(kind="unpriced_model", scope=model_id, window=ONCE, message=message)
        )

    def on_quarantined(self, rows: int) -> None:
        """The usage writer put ``rows`` in quarantine: tell the operator, once per UTC
        day (claimed in ``gateway_alerts``, so once across replicas too)."""
        now = datetime.now(UTC)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if day in self._quarantine_days:
            return
        self._quarantine_days.add(day)
        message = AlertMessage(
            subject="[AI Gateway] usage rows were refused by the database",
            text=(
                f"The database refused {rows} usage row(s); they are kept in the quarantine "
                "table with the reason (ai-gateway usage quarantine list). Every other row "
                "was written and the budgets still count the refused rows. Further refusals "
                "today are counted in ai_gateway_usage_quarantined_total, not alerted."
            ),
            payload={"type": "gateway.usage_quarantined", "rows": rows, "at": now.isoformat()},
        )
        self._spawn(
            self.gateway_alert(
                kind="usage_quarantined", scope="global", window=day, message=message
            )
        )

    # -- actions, shared with the scheduled jobs ------------------------------------------

    async def pause(self, client_id: str, *, reason: str) -> bool:
        """Pause the client's budget in the database (audited) and in this process."""
        if self._budgets is not None:
            self._budgets.mark_paused(client_id, True)
        return await self._db.run(self._pause_sync, client_id, reason)

    def _pause_sync(self, client_id: str, reason: str) -> bool:
        with self._db.write() as session:
            return set_paused(
                session, client_id=client_id, paused=True, actor=_ACTOR, reason=reason
            )

    async def send_budget_alerts(
        self, budget: EffectiveBudget, thresholds: list[int], *, usage: Decimal
    ) -> int:
        """Send each threshold's alert on every configured channel, once; the number sent."""
        if budget.period_start is None or not thresholds:
            return 0
        client_name, targets = await self._db.run(self._budget_targets, budget.client_id)
        targets = [t for t in targets if await self._may_reach(t)]
        sent = 0
        for threshold in thresholds:
            message = _budget_message(budget, client_name, threshold, usage)
            for target in targets:
                alert_id = await self._db.run(
                    claim_budget_alert,
                    self._db,
                    client_id=budget.client_id,
                    threshold=threshold,
                    period_start=budget.period_start,
                    channel=target.name,
                    recipient=target.recipient,
                )
                if alert_id is None:
                    continue
                error = await _deliver(target, message)
                await self._db.run(finish_budget_alert, self._db, alert_id=alert_id, error=error)
                sent += error is None
        return sent

    async def gateway_alert(
        self, *, kind: str, scope: str, window: datetime, message: AlertMessage
    ) -> bool:
        """Record an anomaly once per kind + scope + window and tell the operator; False
        when it was recorded already."""
        alert_id = await self._db.run(
            claim_gateway_alert,
            self._db,
            kind=kind,
            scope=scope,
            window_start=window,
            details=orjson.loads(encode_json(message.payload)),  # Decimals as strings
        )
        if alert_id is None:
            return False
        targets = await self._db.run(self._admin_targets)
        errors = [e for t in targets if (e := await _deliver(t, message)) is not None]
        if not targets:
            errors = ["no admin alert channel is configured"]
        error = "; ".join(errors) or None
        await self._db.run(finish_gateway_alert, self._db, alert_id=alert_id, error=error)
        return True

    async def _may_reach(self, target: _Target) -> bool:
        """A client's webhook is checked again when it is used: the name it was saved
        with may resolve to a private address by now (see ``webhook_urls``)."""
        if target.name != "webhook":
            return True
        try:
            await check_webhook_url(
                target.recipient, allow_private=self._settings.allow_private_webhooks
            )
        except InvalidRequest as exc:
            log.warning("webhook alert skipped", extra={"code": exc.code, "error": exc.message})
            return False
        return True

    # -- task bookkeeping -----------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("alert task failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for every scheduled alert (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        try:
            async with asyncio.timeout(_CLOSE_SECONDS):
                await self.drain()
        except TimeoutError:
            log.error("alerts still pending at shutdown", extra={"pending": len(self._tasks)})
            for task in self._tasks:
                task.cancel()

    # -- who to tell (blocking; run in a thread) ------------------------------------------

    def _budget_targets(self, client_id: str) -> tuple[str, list[_Target]]:
        with self._db.session() as session:
            client = get_client(session, client_id)
            own_secret = self._secret(session, webhook_secret_id(client_id))
        targets = self._admin_targets(prefix="admin_")
        if client.contact_email:
            email = self._email(client.contact_email)
            if email is not None:
                targets.insert(0, _Target("email", client.contact_email, email))
        if client.alert_webhook_url:
            hook = self._webhook(client.alert_webhook_url, own_secret, f"client {client.name}")
            if hook is not None:
                targets.insert(0, _Target("webhook", client.alert_webhook_url, hook))
        return client.name, targets

    def _admin_targets(self, prefix: str = "") -> list[_Target]:
        with self._db.session() as session:
            config = get_shared_config(session)
            email_to, hook_url = config.admin_alert_email, config.admin_alert_webhook
            secret = self._secret(session, ADMIN_WEBHOOK_SECRET) if hook_url else None
        targets: list[_Target] = []
        if email_to and (email := self._email(email_to)) is not None:
            targets.append(_Target(f"{prefix}email", email_to, email))
        if hook_url and (hook := self._webhook(hook_url, secret, "the admin")) is not None:
            targets.append(_Target(f"{prefix}webhook", hook_url, hook))
        return targets

    def _secret(self, session: Any, secret_id: str) -> str | None:
        if self._master is None:
            return None
        return get_secret(session, master=self._master, secret_id=secret_id)

    def _email(self, recipient: str) -> EmailChannel | None:
        if not self._settings.smtp_host:
            log.warning("e-mail alert skipped: AI_GATEWAY_SMTP_HOST is not set")
            return None
        return EmailChannel(
            host=self._settings.smtp_host,
            port=self._settings.smtp_port,
            sender=self._settings.smtp_from,
            recipients=[recipient],
        )

    def _webhook(self, url: str, secret: str | None, owner: str) -> WebhookChannel | None:
        if not secret:
            log.warning("webhook alert skipped: no signing secret in the vault for %s", owner)
            return None
        return WebhookChannel(http=self._http, url=url, secret=secret)


async def _deliver(target: _Target, message: AlertMessage) -> str | None:
    try:
        await target.channel.send(message)
    except AlertDeliveryError as exc:
        log.warning("alert delivery failed", extra={"channel": target.name, "error": exc.message})
        return exc.message
    return None


def _budget_message(
    budget: EffectiveBudget, client_name: str, threshold: int, usage: Decimal
) -> AlertMessage:
    unit = budget.budget_type.upper() if budget.budget_type != "tokens" else "tokens"
    text = (
        f"Client '{client_name}' has used {usage} of its {budget.limit_value} {unit} "
        f"{budget.period} budget ({threshold}% threshold reached)."
    )
    if threshold >= 100 and budget.pause_at_limit:
        text += " Its calls are paused until the period resets or an admin raises the limit."
    return AlertMessage(
        subject=f"[AI Gateway] {client_name}: {threshold}% of the {budget.period} budget used",
        text=text,
        payload={
            "type": "budget.threshold",
            "client_id": budget.client_id,
            "client_name": client_name,
            "threshold": threshold,
            "usage": usage,
            "limit": budget.limit_value,
            "budget_type": budget.budget_type,
            "period": budget.period,
            "period_start": budget.period_start.isoformat() if budget.period_start else None,
            "pause_at_limit": budget.pause_at_limit,
        },
    )
