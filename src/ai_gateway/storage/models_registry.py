"""The model registry: prices, capabilities, aliases, active flag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ai_gateway.errors import Conflict, InvalidRequest, NotFound
from ai_gateway.storage.tables import AiModel, ModelPriceHistory, utcnow

__all__ = [
    "MODEL_KINDS",
    "ModelInfo",
    "PriceChange",
    "apply_prices",
    "create_model",
    "get_model",
    "list_models",
    "price_history",
    "update_model",
]


#: What a model does; each kind is served by its own endpoints.
MODEL_KINDS = ("chat", "embedding", "transcription")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    provider: str
    model_name: str
    display_name: str
    input_price_per_1m: Decimal | None
    output_price_per_1m: Decimal | None
    cached_input_price_per_1m: Decimal | None
    context_window: int | None
    capabilities: tuple[str, ...]
    aliases: tuple[str, ...]
    is_active: bool
    created_at: datetime
    #: chat, embedding or transcription (see ``MODEL_KINDS``)
    kind: str = "chat"
    price_per_minute: Decimal | None = None
    #: USD per 1M prompt tokens written to the provider's prompt cache (Anthropic: 1.25x
    #: the input price for the 5-minute cache); ``None``: writes cost the input price.
    cache_write_price_per_1m: Decimal | None = None

    @classmethod
    def of(cls, row: AiModel) -> ModelInfo:
        return cls(
            row.id,
            row.provider,
            row.model_name,
            row.display_name,
            row.input_price_per_1m,
            row.output_price_per_1m,
            row.cached_input_price_per_1m,
            row.context_window,
            tuple(row.capabilities),
            tuple(row.aliases),
            row.is_active,
            row.created_at,
            row.kind,
            row.price_per_minute,
            row.cache_write_price_per_1m,
        )


def list_models(session: Session, *, active_only: bool = True) -> list[ModelInfo]:
    query = select(AiModel).order_by(AiModel.provider, AiModel.model_name)
    if active_only:
        query = query.where(AiModel.is_active.is_(True))
    return [ModelInfo.of(r) for r in session.scalars(query)]


@dataclass(frozen=True, slots=True)
class PriceChange:
    """A model's new USD prices per 1M tokens (``cached_input`` / ``cache_write`` None:
    leave it as it is)."""

    model_id: str
    input_per_1m: Decimal
    output_per_1m: Decimal
    cached_input_per_1m: Decimal | None = None
    cache_write_per_1m: Decimal | None = None


def apply_prices(
    session: Session, *, changes: list[PriceChange], source: str, now: datetime
) -> list[str]:
    """Write the prices that differ from the registry, each with a ``model_price_history``
    row, in the caller's transaction. Returns the ids of the models that changed."""
    changed: list[str] = []
    for change in changes:
        row = session.get(AiModel, change.model_id, with_for_update=True)
        if row is None:
            continue
        cached = (
            row.cached_input_price_per_1m
            if change.cached_input_per_1m is None
            else change.cached_input_per_1m
        )
        write = (
            row.cache_write_price_per_1m
            if change.cache_write_per_1m is None
            else change.cache_write_per_1m
        )
        new = (change.input_per_1m, change.output_per_1m, cached, write)
        old = (
            row.input_price_per_1m,
            row.output_price_per_1m,
            row.cached_input_price_per_1m,
            row.cache_write_price_per_1m,
        )
        if new == old:
            continue
        (
            row.input_price_per_1m,
            row.output_price_per_1m,
            row.cached_input_price_per_1m,
            row.cache_write_price_per_1m,
        ) = new
        row.updated_at = now
        _record_prices(session, row, source, at=now)
        changed.append(row.id)
    session.flush()
    return changed


_PRICE_FIELDS = (
    "input_price_per_1m",
    "output_price_per_1m",
    "cached_input_price_per_1m",
    "cache_write_price_per_1m",
)
_MODEL_FIELDS = (
    "provider",
    "model_name",
    "display_name",
    *_PRICE_FIELDS,
    "context_window",
    "kind",
    "price_per_minute",
    "capabilities",
    "aliases",
    "is_active",
)


def _record_prices(
    session: Session, row: AiModel, source: str, *, at: datetime | None = None
) -> None:
    """One ``model_price_history`` row with the model's current prices."""
    session.add(
        ModelPriceHistory(
            model_id=row.id,
            input_price_per_1m=row.input_price_per_1m,
            output_price_per_1m=row.output_price_per_1m,
            cached_input_price_per_1m=row.cached_input_price_per_1m,
            cache_write_price_per_1m=row.cache_write_price_per_1m,
            source=source,
            effective_at=at or utcnow(),
        )
    )


def get_model(session: Session, *, model_id: str) -> ModelInfo:
    row = session.get(AiModel, model_id)
    if row is None:
        raise NotFound(f"no model '{model_id}'", code="model_not_found")
    return ModelInfo.of(row)


def create_model(
    session: Session, *, model_id: str, values: dict[str, Any], source: str = "api"
) -> ModelInfo:
    """Add a model; its first prices open its price history."""
    if session.get(AiModel, model_id) is not None:
        raise Conflict(f"a model '{model_id}' exists already; change it with PUT")
    unknown = set(values) - set(_MODEL_FIELDS)
    if unknown:
        raise InvalidRequest(f"cannot set {', '.join(sorted(unknown))}")
    row = AiModel(id=model_id, **values)
    session.add(row)
    session.flush()
    _record_prices(session, row, source)
    return ModelInfo.of(row)


def update_model(
    session: Session, *, model_id: str, changes: dict[str, Any], source: str = "api"
) -> tuple[ModelInfo, bool]:
    """Change a model; returns it and whether its prices moved (then recorded in
    ``model_price_history``, so old usage keeps the price of its day)."""
    row = session.get(AiModel, model_id)
    if row is None:
        raise NotFound(f"no model '{model_id}'", code="model_not_found")
    unknown = set(changes) - set(_MODEL_FIELDS)
    if unknown:
        raise InvalidRequest(f"cannot change {', '.join(sorted(unknown))}")
    repriced = any(
        field in changes and changes[field] != getattr(row, field) for field in _PRICE_FIELDS
    )
    for field, value in changes.items():
        setattr(row, field, value)
    session.flush()
    if repriced:
        _record_prices(session, row, source)
    return ModelInfo.of(row), repriced


def price_history(session: Session, *, model_id: str) -> list[ModelPriceHistory]:
    query = (
        select(ModelPriceHistory)
        .where(ModelPriceHistory.model_id == model_id)
        .order_by(ModelPriceHistory.effective_at, ModelPriceHistory.id)
    )
    return list(session.scalars(query))
