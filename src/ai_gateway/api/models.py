"""``/api/ai-gateway/models``: the model registry. Any key may read the active models;
admins add, change (a price change is kept in ``model_price_history``) and deactivate
them (deactivation keeps the row and its history: old usage still points at it).
The registry lives in the config snapshot, so every change reloads it at once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from ai_gateway.api.common import ERRORS, Money, actor
from ai_gateway.api.deps import AdminDep, GatewayDep, PrincipalDep
from ai_gateway.errors import InvalidRequest
from ai_gateway.services.models import check_provider
from ai_gateway.storage.models_registry import (
    ModelInfo,
    list_models,
)

__all__ = ["ModelCreate", "ModelUpdate", "check_provider", "router"]

router = APIRouter(prefix="/api/ai-gateway/models", tags=["models"], responses=ERRORS)

Capability = Literal["chat", "vision", "tools", "json", "streaming", "embeddings", "transcription"]
Kind = Literal["chat", "embedding", "transcription"]
Price = Annotated[Decimal, Field(ge=0, le=100_000, max_digits=18, decimal_places=6)]
ModelId = Annotated[
    str, Path(min_length=3, max_length=128, pattern=r"^[a-z0-9_-]+/[A-Za-z0-9._:-]+$")
]


class ModelBase(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelCreate(ModelBase):
    id: str = Field(min_length=3, max_length=128, pattern=r"^[a-z0-9_-]+/[A-Za-z0-9._:-]+$")
    provider: str = Field(max_length=32)
    model_name: str = Field(min_length=1, max_length=128)
    display_name: str = Field(min_length=1, max_length=128)
    input_price_per_1m: Price | None = None
    output_price_per_1m: Price | None = None
    cached_input_price_per_1m: Price | None = None
    kind: Kind = "chat"
    #: USD per minute of audio, for transcription models.
    price_per_minute: Price | None = None
    cache_write_price_per_1m: Price | None = None
    context_window: int | None = Field(None, ge=1, le=100_000_000)
    capabilities: list[Capability] = Field(
        default_factory=lambda: list[Capability](["chat"]), max_length=7
    )
    aliases: list[Annotated[str, Field(max_length=128)]] = Field(
        default_factory=list, max_length=20
    )


class ModelUpdate(ModelBase):
    provider: str | None = Field(None, max_length=32)
    model_name: str | None = Field(None, min_length=1, max_length=128)
    display_name: str | None = Field(None, min_length=1, max_length=128)
    input_price_per_1m: Price | None = None
    output_price_per_1m: Price | None = None
    cached_input_price_per_1m: Price | None = None
    kind: Kind | None = None
    price_per_minute: Price | None = None
    cache_write_price_per_1m: Price | None = None
    context_window: int | None = Field(None, ge=1, le=100_000_000)
    capabilities: list[Capability] | None = Field(None, max_length=7)
    aliases: list[Annotated[str, Field(max_length=128)]] | None = Field(None, max_length=20)
    is_active: bool | None = None


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


@router.get("", summary="Active models, by provider and name")
async def read_models(
    gateway: GatewayDep,
    principal: PrincipalDep,
    capability: Capability | None = None,
    include_inactive: Annotated[bool, Query(description="admin keys only")] = False,
) -> ModelsPublic:
    if include_inactive and not principal.is_admin:
        raise InvalidRequest(
            "include_inactive is for admin keys", param="include_inactive", code="admin_only"
        )

    def run() -> list[ModelInfo]:
        with gateway.db.session() as s:
            return list_models(s, active_only=not include_inactive)

    models = [
        m for m in await gateway.db.run(run) if capability is None or capability in m.capabilities
    ]
    return ModelsPublic(data=[ModelPublic.of(m) for m in models], count=len(models))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Add a model")
async def create(gateway: GatewayDep, admin: AdminDep, body: ModelCreate) -> ModelPublic:
    values = body.model_dump(exclude={"id"})
    return ModelPublic.of(
        await gateway.model_service.add_model(body.id, actor=actor(admin), values=values)
    )


@router.put("/{model_id:path}", summary="Change a model (price changes are kept in history)")
async def update(
    gateway: GatewayDep, admin: AdminDep, model_id: ModelId, body: ModelUpdate
) -> ModelPublic:
    changes = body.model_dump(exclude_unset=True)
    model = await gateway.model_service.change_model(model_id, actor=actor(admin), changes=changes)
    return ModelPublic.of(model)


@router.delete("/{model_id:path}", summary="Deactivate a model (its history is kept)")
async def deactivate(gateway: GatewayDep, admin: AdminDep, model_id: ModelId) -> ModelPublic:
    return ModelPublic.of(await gateway.model_service.deactivate(model_id, actor=actor(admin)))
