"""``/api/keys``: revoke a key (admin only). The authenticator forgets it at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from ai_gateway.api.clients import KeyPublic
from ai_gateway.api.common import ERRORS, actor
from ai_gateway.api.deps import AdminDep, GatewayDep
from ai_gateway.errors import InvalidRequest
from ai_gateway.storage.api_keys import KeyInfo, revoke_key
from ai_gateway.storage.audit import record_audit

__all__ = ["router"]

router = APIRouter(prefix="/api/keys", tags=["keys"], responses=ERRORS)


@router.delete("/{key_id}", summary="Revoke a key")
async def revoke(
    gateway: GatewayDep,
    admin: AdminDep,
    key_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
) -> KeyPublic:
    if key_id == admin.key_id:
        raise InvalidRequest(
            "a key cannot revoke itself; use another admin key", code="cannot_revoke_self"
        )

    def run() -> KeyInfo:
        with gateway.db.write() as s:
            key = revoke_key(s, key_id=key_id)
            record_audit(
                s,
                actor=actor(admin),
                action="key.revoke",
                client_id=key.client_id,
                target=key.prefix,
                details={"key_id": key.id},
            )
            return key

    key = await gateway.db.run(run)
    await gateway.publish_change("keys", client_id=key.client_id)
    return KeyPublic.of(key)
