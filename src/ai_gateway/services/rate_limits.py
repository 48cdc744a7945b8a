"""The one owner of rate-limit settings: a client's own limits, a plan's defaults and the
ceilings of the shared provider keys.

Every change goes through :class:`RateLimitService`: the values are validated once
(:func:`~ai_gateway.ratelimit.rules.validate_limits`: a 400 naming the field and its
bound), written with their audit row in one transaction, and the config snapshot that
the request path reads is reloaded at once in this process. The same write bumps the
shared config version, so other replicas (and a server running while the CLI changes a
limit) follow within their version poll, a few seconds; with a change bus
(:mod:`ai_gateway.changes`), the ``update_*`` coroutines also publish ``limits``, which
reaches every replica over Redis at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ai_gateway.changes import Publish
from ai_gateway.errors import InvalidRequest
from ai_gateway.pipeline.config_cache import ConfigCache
from ai_gateway.providers.registry import PROVIDERS
from ai_gateway.ratelimit.rules import (
    FIELDS,
    PROVIDER_FIELDS,
    Limits,
    ProviderCeiling,
    validate_limits,
)
from ai_gateway.storage import rate_limits as store
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.clients import get_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.shared_config import read_version

__all__ = ["ClientLimits", "PlanLimits", "ProviderLimits", "RateLimitService"]


@dataclass(frozen=True, slots=True)
class ClientLimits:
    """A client's own limits, its plan's, and what is enforced (own over plan)."""

    client_id: str
    client_name: str
    plan: str
    own: Limits
    plan_limits: Limits

    @property
    def effective(self) -> Limits:
        return self.own.over(self.plan_limits)

    def as_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_name": self.client_name,
            "plan": self.plan,
            "own": self.own.as_dict(),
            "plan_limits": self.plan_limits.as_dict(),
            "effective": self.effective.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class PlanLimits:
    plan: str
    limits: Limits

    def as_dict(self) -> dict[str, Any]:
        return {"plan": self.plan, **self.limits.as_dict()}


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    provider: str
    ceiling: ProviderCeiling

    def as_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, **self.ceiling.as_dict()}


def _changes(values: Mapping[str, Any], clear: bool, fields: tuple[str, ...]) -> dict[str, Any]:
    checked = validate_limits(values, fields=fields)
    if clear:
        return {name: checked.get(name) for name in fields}
    if not checked:
        raise InvalidRequest(f"give at least one of {', '.join(fields)} (or clear)")
    return checked


class RateLimitService:
    """Reads and changes limits. The synchronous methods take a session (the CLI's
    transaction); the ``update_*`` coroutines run them on the database's worker and then
    reload this process's snapshot."""

    def __init__(
        self,
        db: Database,
        *,
        config: ConfigCache | None = None,
        publish: Publish | None = None,
    ) -> None:
        self._db = db
        self._config = config
        self._publish = publish

    # -- reads ----------------------------------------------------------------------

    def client_limits(self, session: Session, *, client: str) -> ClientLimits:
        info = get_client(session, client)
        return ClientLimits(
            info.id,
            info.name,
            info.plan,
            store.get_client_limits(session, client_id=info.id),
            store.get_plan_limits(session, plan=info.plan),
        )

    def plan_limits(self, session: Session, *, plan: str) -> PlanLimits:
        return PlanLimits(plan, store.get_plan_limits(session, plan=plan))

    def provider_limits(self, session: Session, *, provider: str) -> ProviderLimits:
        _known_provider(provider)
        ceiling = store.get_provider_ceilings(session).get(provider, ProviderCeiling())
        return ProviderLimits(provider, ceiling)

    # -- writes (validated, audited, in the caller's transaction) ---------------------

    def set_client(
        self,
        session: Session,
        *,
        client: str,
        values: Mapping[str, Any],
        actor: str,
        clear: bool = False,
    ) -> ClientLimits:
        """``values`` name the fields to change (``None``: follow the plan); ``clear``
        first drops every own limit, so the client follows its plan again."""
        changes = _changes(values, clear, FIELDS)
        before = self.client_limits(session, client=client)
        store.set_client_limits(session, client_id=before.client_id, values=changes)
        after = self.client_limits(session, client=before.client_id)
        record_audit(
            session,
            actor=actor,
            action="rate_limits.client",
            client_id=after.client_id,
            target=after.client_name,
            details={"before": before.own.as_dict(), "after": after.own.as_dict()},
        )
        return after

    def set_plan(
        self,
        session: Session,
        *,
        plan: str,
        values: Mapping[str, Any],
        actor: str,
        clear: bool = False,
    ) -> PlanLimits:
        changes = _changes(values, clear, FIELDS)
        before = self.plan_limits(session, plan=plan)
        limits = store.set_plan_limits(session, plan=plan, values=changes)
        record_audit(
            session,
            actor=actor,
            action="rate_limits.plan",
            target=plan,
            details={"before": before.limits.as_dict(), "after": limits.as_dict()},
        )
        return PlanLimits(plan, limits)

    def set_provider(
        self,
        session: Session,
        *,
        provider: str,
        values: Mapping[str, Any],
        actor: str,
        clear: bool = False,
    ) -> ProviderLimits:
        changes = _changes(values, clear, PROVIDER_FIELDS)
        before = self.provider_limits(session, provider=provider)
        ceiling = store.set_provider_ceiling(session, provider=provider, values=changes)
        record_audit(
            session,
            actor=actor,
            action="rate_limits.provider",
            target=provider,
            details={"before": before.ceiling.as_dict(), "after": ceiling.as_dict()},
        )
        return ProviderLimits(provider, ceiling)

    # -- the same, from a running server ----------------------------------------------

    async def read_client(self, client: str) -> ClientLimits:
        return await self._db.run(self._read, self.client_limits, {"client": client})

    async def read_plan(self, plan: str) -> PlanLimits:
        return await self._db.run(self._read, self.plan_limits, {"plan": plan})

    async def read_provider(self, provider: str) -> ProviderLimits:
        return await self._db.run(self._read, self.provider_limits, {"provider": provider})

    async def update_provider(
        self, provider: str, values: Mapping[str, Any], *, actor: str, clear: bool = False
    ) -> ProviderLimits:
        kwargs = {"provider": provider, "values": values, "actor": actor, "clear": clear}
        result: ProviderLimits
        result, version = await self._db.run(self._write, self.set_provider, kwargs)
        await self._refresh(None, version)
        return result

    async def update_client(
        self, client: str, values: Mapping[str, Any], *, actor: str, clear: bool = False
    ) -> ClientLimits:
        kwargs = {"client": client, "values": values, "actor": actor, "clear": clear}
        result: ClientLimits
        result, version = await self._db.run(self._write, self.set_client, kwargs)
        await self._refresh(result.client_id, version)
        return result

    async def update_plan(
        self, plan: str, values: Mapping[str, Any], *, actor: str, clear: bool = False
    ) -> PlanLimits:
        kwargs = {"plan": plan, "values": values, "actor": actor, "clear": clear}
        result: PlanLimits
        result, version = await self._db.run(self._write, self.set_plan, kwargs)
        await self._refresh(None, version)
        return result

    def _read(self, method: Any, kwargs: dict[str, Any]) -> Any:
        with self._db.session() as session:
            return method(session, **kwargs)

    def _write(self, method: Any, kwargs: dict[str, Any]) -> tuple[Any, int]:
        """The write and the config version it moved (in the same transaction)."""
        with self._db.write() as session:
            result = method(session, **kwargs)
            return result, read_version(session)

    async def _refresh(self, client_id: str | None, version: int) -> None:
        if self._config is not None:
            self._config.invalidate()
            await self._config.reload()
        if self._publish is not None:  # every other replica, at once over Redis
            await self._publish("limits", client_id=client_id, version=version)


def _known_provider(provider: str) -> None:
    if provider not in PROVIDERS:
        raise InvalidRequest(
            f"unknown provider '{provider}'; use one of {', '.join(sorted(PROVIDERS))}",
            param="provider",
        )
