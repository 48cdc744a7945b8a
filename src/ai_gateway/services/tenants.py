"""The one owner of clients (tenants) and their keys: create a client, change it, issue
and revoke its keys.

The REST API (``/api/clients``, ``/api/keys``) and the operator's dashboard pages both
call :class:`TenantService`, so a value refused by one is refused by the other. Each
change is validated first (nothing is written when a value is wrong), written with its
audit row in one transaction (``actor`` = the admin key), and then published on the
change bus, so every replica drops what it cached about the client within its poll.
The dashboard's switches (the gateway flag, the LGPD opt-in of prompts and answers) and
the rollout change clients through it too. A clear key leaves only in
:meth:`TenantService.issue_key`'s return value: it is never stored, audited or logged
(the audit row names the key's id and prefix).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ai_gateway.changes import Publish
from ai_gateway.errors import InvalidRequest
from ai_gateway.metering.alerts.webhook_urls import Resolver, check_webhook_url, system_resolver
from ai_gateway.pipeline.config_cache import ConfigCache
from ai_gateway.services.budgets import BudgetService
from ai_gateway.storage import api_keys as keys_store
from ai_gateway.storage import clients as clients_store
from ai_gateway.storage.api_keys import KeyInfo
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.clients import ClientInfo
from ai_gateway.storage.db import Database
from ai_gateway.storage.request_bodies import BodySettings, set_body_settings

__all__ = ["REQUIRED_FIELDS", "TenantService"]

#: Fields a change may not set to null.
REQUIRED_FIELDS = ("name", "plan", "use_ai_gateway", "timezone", "status", "semantic_cache")


class TenantService:
    """Built once by the gateway (``gateway.tenants``)."""

    def __init__(
        self,
        db: Database,
        *,
        config: ConfigCache,
        budgets: BudgetService,
        publish: Publish,
        allow_private_webhooks: bool = False,
        resolve: Resolver = system_resolver,
    ) -> None:
        self._db = db
        self._config = config
        self._budgets = budgets
        self._publish = publish
        self._allow_private = allow_private_webhooks
        self._resolve = resolve

    # -- clients ----------------------------------------------------------------------

    async def create_client(
        self,
        *,
        actor: str,
        name: str,
        plan: str = "free",
        use_ai_gateway: bool = False,
        timezone: str = "America/Sao_Paulo",
        contact_email: str | None = None,
    ) -> ClientInfo:
        def run() -> ClientInfo:
            with self._db.write() as s:
                client = clients_store.create_client(
                    s,
                    name=name,
                    plan=plan,
                    use_ai_gateway=use_ai_gateway,
                    timezone=timezone,
                    contact_email=contact_email or None,
                )
                record_audit(
                    s,
                    actor=actor,
                    action="client.create",
                    client_id=client.id,
                    target=client.name,
                    details={"plan": client.plan, "timezone": client.timezone},
                )
                return client

        client = await self._db.run(run)
        await self._publish("clients", client_id=client.id)
        return client

    async def list_clients(self, *, limit: int, offset: int) -> tuple[list[ClientInfo], int]:
        """One page of clients, oldest first, and how many there are in all."""

        def run() -> tuple[list[ClientInfo], int]:
            with self._db.session() as s:
                rows = clients_store.list_clients(s, limit=limit, offset=offset)
                return rows, clients_store.count_clients(s)

        return await self._db.run(run)

    async def roll_out(self, percent: int, *, actor: str) -> tuple[int, int]:
        """Turn the gateway on for the first ``percent`` % of clients (and off for the
        rest): how many have it now, of how many."""

        def run() -> tuple[int, int]:
            with self._db.write() as s:
                enabled, total = clients_store.rollout(s, percent=percent)
                record_audit(
                    s,
                    actor=actor,
                    action="clients.rollout",
                    details={"percent": percent, "enabled": enabled, "total": total},
                )
                return enabled, total

        counts = await self._db.run(run)
        await self._budgets.client_changed()  # publishes "clients" to every replica
        return counts

    async def get_client(self, client_id: str) -> ClientInfo:
        def run() -> ClientInfo:
            with self._db.session() as s:
                return clients_store.get_client(s, client_id)

        return await self._db.run(run)

    async def update_client(
        self, client_id: str, *, actor: str, changes: Mapping[str, Any]
    ) -> ClientInfo:
        """Apply ``changes`` (JSON values: a URL as a string). A plan change puts the
        client's own budget under the new plan's ceiling."""
        changes = dict(changes)
        if not changes:
            raise InvalidRequest("send at least one field to change", code="nothing_to_change")
        for field in REQUIRED_FIELDS:
            if field in changes and changes[field] is None:
                raise InvalidRequest(f"{field} cannot be null", param=field, code="field_required")
        if changes.get("contact_email") == "":
            changes["contact_email"] = None
        if changes.get("alert_webhook_url") == "":
            changes["alert_webhook_url"] = None
        if changes.get("alert_webhook_url") is not None:
            changes["alert_webhook_url"] = await check_webhook_url(
                str(changes["alert_webhook_url"]),
                allow_private=self._allow_private,
                resolve=self._resolve,
            )
        if changes.get("fallback_chain") is not None:
            snapshot = await self._config.get()
            unknown = [m for m in changes["fallback_chain"] if snapshot.resolve_model(m) is None]
            if unknown:
                raise InvalidRequest(
                    f"unknown models in fallback_chain: {', '.join(unknown)}",
                    param="fallback_chain",
                    code="unknown_models",
                )

        def run() -> ClientInfo:
            with self._db.write() as s:
                found = clients_store.get_client(s, client_id)
                client = clients_store.update_client(s, client_id=found.id, changes=changes)
                record_audit(
                    s,
                    actor=actor,
                    action="client.update",
                    client_id=client.id,
                    target=client.name,
                    details=changes,
                )
                return client

        client = await self._db.run(run)
        if "plan" in changes:  # the new plan's ceiling applies to the client's own budget
            await self._budgets.client_moved(client.id, actor=actor)
        else:
            await self._budgets.client_changed(client.id)  # publishes "clients"
        return client

    async def set_body_storage(
        self, client_id: str, *, actor: str, store_bodies: bool, retention_days: int
    ) -> BodySettings:
        """The LGPD opt-in: keep the client's prompts and answers, and for how long
        (turning it off deletes what was kept; see ``storage.request_bodies``).
        ``client_id`` may also be the client's name (the CLI's ``--client``)."""

        def run() -> BodySettings:
            with self._db.write() as s:
                found = set_body_settings(
                    s,
                    client_id=clients_store.get_client(s, client_id).id,
                    store_bodies=store_bodies,
                    retention_days=retention_days,
                )
                record_audit(
                    s,
                    actor=actor,
                    action="client.body_storage",
                    client_id=found.client_id,
                    target=found.client_id,
                    details={"store_bodies": store_bodies, "retention_days": retention_days},
                )
                return found

        found = await self._db.run(run)
        await self._budgets.client_changed(found.client_id)  # the cached key sees it at once
        return found

    # -- keys -------------------------------------------------------------------------

    async def list_keys(self, client_id: str) -> list[KeyInfo]:
        def run() -> list[KeyInfo]:
            with self._db.session() as s:
                client = clients_store.get_client(s, client_id)
                return keys_store.list_keys(s, client_id=client.id)

        return await self._db.run(run)

    async def issue_key(
        self, client_id: str, *, actor: str, name: str | None = None
    ) -> tuple[KeyInfo, str]:
        """A new client key: its row, and the key itself (to show once, never again)."""

        def run() -> tuple[KeyInfo, str]:
            with self._db.write() as s:
                client = clients_store.get_client(s, client_id)
                issued = keys_store.issue_key(
                    s, role="client", client_id=client.id, name=(name or "").strip() or None
                )
                record_audit(
                    s,
                    actor=actor,
                    action="key.issue",
                    client_id=client.id,
                    target=issued.info.prefix,
                    details={"key_id": issued.info.id},
                )
                return issued.info, issued.plain

        info, plain = await self._db.run(run)
        await self._publish("keys", client_id=info.client_id)
        return info, plain

    async def revoke_key(
        self, key_id: str, *, actor: str, own_key_id: str | None = None
    ) -> KeyInfo:
        """Revoke a key (by id or prefix); the key making the change cannot revoke itself."""
        if own_key_id is not None and key_id == own_key_id:
            raise InvalidRequest(
                "a key cannot revoke itself; use another admin key", code="cannot_revoke_self"
            )

        def run() -> KeyInfo:
            with self._db.write() as s:
                key = keys_store.revoke_key(s, key_id=key_id)
                if own_key_id is not None and key.id == own_key_id:
                    raise InvalidRequest(
                        "a key cannot revoke itself; use another admin key",
                        code="cannot_revoke_self",
                    )
                record_audit(
                    s,
                    actor=actor,
                    action="key.revoke",
                    client_id=key.client_id,
                    target=key.prefix,
                    details={"key_id": key.id},
                )
                return key

        key = await self._db.run(run)
        await self._publish("keys", client_id=key.client_id)
        return key
