"""``/api/keys``: revoke a key (admin only). The authenticator forgets it at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from ai_gateway.api.common import ERRORS, actor
from ai_gateway.api.deps import AdminDep, GatewayDep
from ai_gateway.storage.api_keys import KeyInfo

__all__ = ["router"]

router = APIRouter(prefix="/api/keys", tags=["keys"], responses=ERRORS)


@router.delete("/{key_id}", summary="Revoke a key")
async def revoke(
    gateway: GatewayDep,
    admin: AdminDep,
    key_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
) -> KeyInfo:
    key = await gateway.tenants.revoke_key(key_id, actor=actor(admin), own_key_id=admin.key_id)
    return key
