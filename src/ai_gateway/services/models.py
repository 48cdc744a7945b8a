"""The one owner of the model registry's changes: add a model, change it (a price change
opens a ``model_price_history`` row, so old usage keeps the price of its day), disable
and enable it (the row and its history stay: old usage still points at it).

The REST API (``/api/ai-gateway/models``), the operator's setup and models pages (their
list: :meth:`ModelService.read_models`; their buttons: that API) and ``ai-gateway models
add|set|disable`` all call :class:`ModelService`: the provider is checked against the
adapters the gateway has, required fields cannot be nulled, each change is written with
its audit row in one transaction, and ``models`` is published after the commit (the
registry lives in the config snapshot: every replica reloads it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ai_gateway.changes import Publish
from ai_gateway.errors import InvalidRequest
from ai_gateway.providers.registry import PROVIDERS
from ai_gateway.services.auth import Principal
from ai_gateway.services.schemas import Money
from ai_gateway.storage import models_registry as store
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.db import Database
from ai_gateway.storage.models_registry import ModelInfo

__all__ = ["REQUIRED_FIELDS", "ModelPublic", "ModelService", "ModelsPublic", "check_provider"]

#: Fields a change may not set to null.
REQUIRED_FIELDS = (
    "provider",
    "model_name",
    "display_name",
    "kind",
    "capabilities",
    "aliases",
    "is_active",
)


def check_provider(provider: str | None) -> None:
    """Refuse a provider the gateway has no adapter for."""
    if provider is not None and provider not in PROVIDERS:
        raise InvalidRequest(
            f"unknown provider '{provider}'; known: {', '.join(sorted(PROVIDERS))}",
            param="provider",
            code="unknown_provider",
        )


class ModelPublic(BaseModel):
    id: str
    provider: str
    model_name: str
    display_name: str
    input_price_per_1m: Money | None
    output_price_per_1m: Money | None
    cached_input_price_per_1m: Money | None
    kind: str
    price_per_minute: Money | None
    cache_write_price_per_1m: Money | None = None
    context_window: int | None
    capabilities: list[str]
    aliases: list[str]
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, m: ModelInfo) -> ModelPublic:
        return cls(
            id=m.id,
            provider=m.provider,
            model_name=m.model_name,
            display_name=m.display_name,
            input_price_per_1m=m.input_price_per_1m,
            output_price_per_1m=m.output_price_per_1m,
            cached_input_price_per_1m=m.cached_input_price_per_1m,
            kind=m.kind,
            price_per_minute=m.price_per_minute,
            cache_write_price_per_1m=m.cache_write_price_per_1m,
            context_window=m.context_window,
            capabilities=list(m.capabilities),
            aliases=list(m.aliases),
            is_active=m.is_active,
            created_at=m.created_at,
        )


class ModelsPublic(BaseModel):
    data: list[ModelPublic]
    count: int


def _plain(details: Mapping[str, Any]) -> dict[str, Any]:
    """Audit details as JSON: prices as exact strings."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in details.items()}


class ModelService:
    """``source`` names where a price came from in the price history (``api``, ``cli``)."""

    def __init__(self, db: Database, *, publish: Publish, source: str = "api") -> None:
        self._db = db
        self._publish = publish
        self._source = source

    async def read_models(
        self, principal: Principal, *, capability: str | None = None, include_inactive: bool = False
    ) -> ModelsPublic:
        """The registry, by provider and name: the active models (any key), or every model
        (admin keys only); ``capability`` keeps those that have it."""
        if include_inactive and not principal.is_admin:
            raise InvalidRequest(
                "include_inactive is for admin keys", param="include_inactive", code="admin_only"
            )

        def run() -> list[ModelInfo]:
            with self._db.session() as s:
                return store.list_models(s, active_only=not include_inactive)

        models = [
            m for m in await self._db.run(run) if capability is None or capability in m.capabilities
        ]
        return ModelsPublic(data=[ModelPublic.of(m) for m in models], count=len(models))

    async def add_model(self, model_id: str, *, actor: str, values: Mapping[str, Any]) -> ModelInfo:
        values = dict(values)
        check_provider(values.get("provider"))

        def run() -> ModelInfo:
            with self._db.write() as s:
                model = store.create_model(s, model_id=model_id, values=values, source=self._source)
                record_audit(
                    s, actor=actor, action="model.create", target=model.id, details=_plain(values)
                )
                return model

        return await self._changed(await self._db.run(run))

    async def change_model(
        self, model_id: str, *, actor: str, changes: Mapping[str, Any]
    ) -> ModelInfo:
        changes = dict(changes)
        if not changes:
            raise InvalidRequest("send at least one field to change", code="nothing_to_change")
        for field in REQUIRED_FIELDS:
            if field in changes and changes[field] is None:
                raise InvalidRequest(f"{field} cannot be null", param=field, code="field_required")
        check_provider(changes.get("provider"))

        def run() -> ModelInfo:
            with self._db.write() as s:
                model, repriced = store.update_model(
                    s, model_id=model_id, changes=changes, source=self._source
                )
                record_audit(
                    s,
                    actor=actor,
                    action="model.update",
                    target=model.id,
                    details=_plain({**changes, "repriced": repriced}),
                )
                return model

        return await self._changed(await self._db.run(run))

    async def deactivate(self, model_id: str, *, actor: str) -> ModelInfo:
        """Disable a model: callers get 404 for it; its row and history are kept."""

        def run() -> ModelInfo:
            with self._db.write() as s:
                store.get_model(s, model_id=model_id)
                model, _ = store.update_model(
                    s, model_id=model_id, changes={"is_active": False}, source=self._source
                )
                record_audit(s, actor=actor, action="model.deactivate", target=model.id)
                return model

        return await self._changed(await self._db.run(run))

    async def _changed(self, model: ModelInfo) -> ModelInfo:
        await self._publish("models")  # reloads here, and on every replica
        return model
