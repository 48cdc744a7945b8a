"""The model registry: prices, capabilities, aliases, active flag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ai_gateway.storage.tables import AiModel

__all__ = ["ModelInfo", "list_models"]


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
