"""Rate limits over REST (admin only): a client's own limits, a plan's defaults, and the
ceilings of the shared provider keys.

``PUT`` replaces the whole setting: a field left out or ``null`` means "follow the plan"
for a client and "no limit" for a plan or a key. Validation, the write, the audit row
and the reload of the limits every request reads all belong to
:class:`~ai_gateway.services.rate_limits.RateLimitService`; this module only translates.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from ai_gateway.api.common import ERRORS, actor
from ai_gateway.api.deps import AdminDep, GatewayDep
from ai_gateway.ratelimit.rules import MAX_LIMIT, Limits
from ai_gateway.services.rate_limits import ClientLimits, PlanLimits, ProviderLimits

__all__ = ["router"]

router = APIRouter(tags=["rate limits"], responses=ERRORS)

ClientId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Plan = Annotated[str, Path(min_length=1, max_length=32)]
ProviderName = Annotated[str, Path(min_length=1, max_length=32)]
_LIMIT = f"1 to {MAX_LIMIT}; null: none"


#: A number, not only an integer: ``1e9`` is a whole number in JSON, and a value beyond
#: the bound must be refused by the service with the bound named, not by the parser.
Number = int | float


class LimitsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rpm: Number | None = Field(None, description=f"Requests per minute ({_LIMIT})")
    tpm: Number | None = Field(None, description=f"Tokens per minute ({_LIMIT})")
    concurrency: Number | None = Field(None, description=f"Requests in flight ({_LIMIT})")


class CeilingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rpm: Number | None = Field(None, description=f"Requests per minute granted ({_LIMIT})")
    tpm: Number | None = Field(None, description=f"Tokens per minute granted ({_LIMIT})")


class LimitsPublic(BaseModel):
    rpm: int | None
    tpm: int | None
    concurrency: int | None

    @classmethod
    def of(cls, limits: Limits) -> LimitsPublic:
        return cls(rpm=limits.rpm, tpm=limits.tpm, concurrency=limits.concurrency)


class ClientLimitsPublic(BaseModel):
    client_id: str
    client_name: str
    plan: str
    own: LimitsPublic = Field(description="The client's own limits (null: follows the plan)")
    plan_limits: LimitsPublic
    effective: LimitsPublic = Field(description="What is enforced (null: unlimited)")

    @classmethod
    def of(cls, view: ClientLimits) -> ClientLimitsPublic:
        return cls(
            client_id=view.client_id,
            client_name=view.client_name,
            plan=view.plan,
            own=LimitsPublic.of(view.own),
            plan_limits=LimitsPublic.of(view.plan_limits),
            effective=LimitsPublic.of(view.effective),
        )


class PlanLimitsPublic(LimitsPublic):
    plan: str

    @classmethod
    def of_plan(cls, view: PlanLimits) -> PlanLimitsPublic:
        return cls(plan=view.plan, **view.limits.as_dict())


class ProviderLimitsPublic(BaseModel):
    provider: str
    rpm: int | None
    tpm: int | None

    @classmethod
    def of(cls, view: ProviderLimits) -> ProviderLimitsPublic:
        return cls(provider=view.provider, **view.ceiling.as_dict())


@router.get("/api/clients/{client_id}/limits", summary="A client's rate limits")
async def read_client_limits(
    gateway: GatewayDep, _admin: AdminDep, client_id: ClientId
) -> ClientLimitsPublic:
    return ClientLimitsPublic.of(await gateway.limits.read_client(client_id))


@router.put("/api/clients/{client_id}/limits", summary="Set a client's own rate limits")
async def put_client_limits(
    gateway: GatewayDep, admin: AdminDep, client_id: ClientId, body: LimitsUpdate
) -> ClientLimitsPublic:
    view = await gateway.limits.update_client(
        client_id, body.model_dump(), actor=actor(admin), clear=True
    )
    return ClientLimitsPublic.of(view)


@router.get("/api/plans/{plan}/limits", summary="A plan's default rate limits")
async def read_plan_limits(gateway: GatewayDep, _admin: AdminDep, plan: Plan) -> PlanLimitsPublic:
    return PlanLimitsPublic.of_plan(await gateway.limits.read_plan(plan))


@router.put("/api/plans/{plan}/limits", summary="Set a plan's default rate limits")
async def put_plan_limits(
    gateway: GatewayDep, admin: AdminDep, plan: Plan, body: LimitsUpdate
) -> PlanLimitsPublic:
    view = await gateway.limits.update_plan(plan, body.model_dump(), actor=actor(admin), clear=True)
    return PlanLimitsPublic.of_plan(view)


@router.get("/api/providers/{provider}/limits", summary="A shared provider key's ceiling")
async def read_provider_limits(
    gateway: GatewayDep, _admin: AdminDep, provider: ProviderName
) -> ProviderLimitsPublic:
    return ProviderLimitsPublic.of(await gateway.limits.read_provider(provider))


@router.put(
    "/api/providers/{provider}/limits",
    summary="Set what a provider grants the shared key (shared fairly between tenants)",
)
async def put_provider_limits(
    gateway: GatewayDep, admin: AdminDep, provider: ProviderName, body: CeilingUpdate
) -> ProviderLimitsPublic:
    view = await gateway.limits.update_provider(
        provider, body.model_dump(), actor=actor(admin), clear=True
    )
    return ProviderLimitsPublic.of(view)
