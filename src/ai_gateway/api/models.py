"""``/api/ai-gateway/models``: the model registry. Any key may read the active models;
admins add, change (a price change is kept in ``model_price_history``) and deactivate
them (deactivation keeps the row and its history: old usage still points at it).
The registry lives in the config snapshot, so every change reloads it at once. Reads and
changes are :class:`~ai_gateway.services.models.ModelService`'s (the pages' too)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from ai_gateway.api.common import ERRORS, actor
from ai_gateway.api.deps import AdminDep, GatewayDep, PrincipalDep
from ai_gateway.services.models import ModelPublic, ModelsPublic, check_provider

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


@router.get("", summary="Active models, by provider and name")
async def read_models(
    gateway: GatewayDep,
    principal: PrincipalDep,
    capability: Capability | None = None,
    include_inactive: Annotated[bool, Query(description="admin keys only")] = False,
) -> ModelsPublic:
    return await gateway.model_service.read_models(
        principal, capability=capability, include_inactive=include_inactive
    )


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
