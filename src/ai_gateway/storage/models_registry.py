"""The model registry: prices, capabilities, aliases, active flag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ai_gateway.storage.tables import AiModel, ModelPriceHistory

__all__ = ["ModelInfo", "PriceChange", "apply_prices", "list_models"]


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
        )


def list_models(session: Session, *, active_only: bool = True) -> list[ModelInfo]:
    query = select(AiModel).order_by(AiModel.provider, AiModel.model_name)
    if active_only:
        query = query.where(AiModel.is_active.is_(True))
    return [ModelInfo.of(r) for r in session.scalars(query)]


@dataclass(frozen=True, slots=True)
class PriceChange:
    """A model's new USD prices per 1M tokens (``cached_input`` None: leave it as it is)."""

    model_id: str
    input_per_1m: Decimal
    output_per_1m: Decimal
    cached_input_per_1m: Decimal | None = None


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
        new = (change.input_per_1m, change.output_per_1m, cached)
        if new == (row.input_price_per_1m, row.output_price_per_1m, row.cached_input_price_per_1m):
            continue
        row.input_price_per_1m, row.output_price_per_1m, row.cached_input_price_per_1m = new
        row.updated_at = now
        session.add(
            ModelPriceHistory(
                model_id=row.id,
                input_price_per_1m=new[0],
                output_price_per_1m=new[1],
                cached_input_price_per_1m=new[2],
                source=source,
                effective_at=now,
            )
        )
        changed.append(row.id)
    session.flush()
    return changed
