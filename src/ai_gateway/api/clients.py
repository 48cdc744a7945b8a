"""``/api/clients``: tenants and their keys (admin only).

Clients and keys are sent as the storage layer's own ``ClientInfo`` and ``KeyInfo``
(never a key's hash: ``KeyInfo`` has none). Every change is audited in the same
transaction, and the in-memory caches that hold a client (the authenticator's keys, the
budget guard's state) forget it at once, so a pause or a plan change applies to the next
request, not after a TTL.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from ai_gateway.api.common import ERRORS, Email, PageDep, actor
from ai_gateway.api.deps import AdminDep, GatewayDep
from ai_gateway.gateway import Gateway
from ai_gateway.storage.api_keys import KeyInfo
from ai_gateway.storage.clients import ClientInfo

__all__ = ["router"]

router = APIRouter(prefix="/api/clients", tags=["clients"], responses=ERRORS)

ClientId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Status = Literal["active", "paused", "suspended"]


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    plan: str = Field("free", max_length=32)
    use_ai_gateway: bool = False
    timezone: str = Field("America/Sao_Paulo", max_length=64)
    contact_email: Email | None = None


class ClientUpdate(BaseModel):
    """Only the fields sent change; ``null`` clears an optional field."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    plan: str | None = Field(None, max_length=32)
    use_ai_gateway: bool | None = None
    timezone: str | None = Field(None, max_length=64)
    status: Status | None = None
    contact_email: Email | None = None
    alert_webhook_url: HttpUrl | None = None
    fallback_chain: list[Annotated[str, Field(max_length=128)]] | None = Field(None, max_length=10)
    #: Anthropic prompt-cache breakpoints on long stable prefixes; ``null``: the config's.
    prompt_cache_breakpoints: bool | None = None
    #: Opt in to the semantic cache (answers reused for questions of the same meaning).
    semantic_cache: bool | None = None
    #: The similarity a semantic hit needs; ``null``: the gateway's default.
    semantic_cache_threshold: float | None = Field(None, ge=0.5, le=1.0)


class ClientsPublic(BaseModel):
    data: list[ClientInfo]
    count: int = Field(description="Every client, not just this page")


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=200)


class KeysPublic(BaseModel):
    data: list[KeyInfo]
    count: int


@dataclass(frozen=True, slots=True)
class KeyIssued(KeyInfo):
    """A new key's facts and, this once, the key itself."""

    key: Annotated[str, Field(description="The key itself: shown this once, never stored")]


class RolloutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    percent: int = Field(ge=0, le=100)


class RolloutPublic(BaseModel):
    percent: int
    enabled: int
    total: int


@router.get("", summary="List clients")
async def read_clients(gateway: GatewayDep, _admin: AdminDep, page: PageDep) -> ClientsPublic:
    rows, count = await gateway.tenants.list_clients(limit=page.limit, offset=page.offset)
    return ClientsPublic(data=rows, count=count)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a client")
async def create(gateway: GatewayDep, admin: AdminDep, body: ClientCreate) -> ClientInfo:
    client = await gateway.tenants.create_client(actor=actor(admin), **body.model_dump())
    return client


@router.post("/rollout", summary="Enable the gateway for the first N % of clients")
async def roll_out(gateway: GatewayDep, admin: AdminDep, body: RolloutRequest) -> RolloutPublic:
    enabled, total = await gateway.tenants.roll_out(body.percent, actor=actor(admin))
    return RolloutPublic(percent=body.percent, enabled=enabled, total=total)


async def _client(gateway: Gateway, client_id: str) -> ClientInfo:
    return await gateway.tenants.get_client(client_id)


@router.get("/{client_id}", summary="One client")
async def read_client(gateway: GatewayDep, _admin: AdminDep, client_id: ClientId) -> ClientInfo:
    return await _client(gateway, client_id)


@router.patch("/{client_id}", summary="Change a client (plan, flags, pause, contacts, chain)")
async def patch_client(
    gateway: GatewayDep, admin: AdminDep, client_id: ClientId, body: ClientUpdate
) -> ClientInfo:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, mode="json")
    client = await gateway.tenants.update_client(client_id, actor=actor(admin), changes=changes)
    return client


@router.get("/{client_id}/keys", summary="A client's keys (never the keys themselves)")
async def read_keys(gateway: GatewayDep, _admin: AdminDep, client_id: ClientId) -> KeysPublic:
    keys = await gateway.tenants.list_keys(client_id)
    return KeysPublic(data=keys, count=len(keys))


@router.post(
    "/{client_id}/keys", status_code=status.HTTP_201_CREATED, summary="Issue a key (shown once)"
)
async def create_key(
    gateway: GatewayDep, admin: AdminDep, client_id: ClientId, body: KeyCreate | None = None
) -> KeyIssued:
    info, plain = await gateway.tenants.issue_key(
        client_id, actor=actor(admin), name=body.name if body else None
    )
    return KeyIssued(**asdict(info), key=plain)
