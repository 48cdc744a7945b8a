"""``GET`` / ``DELETE /v1/responses/{id}``: a client's stored Responses answers.

Only the client that stored a response can read or delete it; any other key — another
client's or an admin's — gets the same 404 as an unknown id, so ids cannot be probed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path

from ai_gateway.api.common import ERRORS
from ai_gateway.api.deps import GatewayDep, PrincipalDep
from ai_gateway.errors import NotFound
from ai_gateway.storage.stored_responses import delete_response, get_response

__all__ = ["router"]

router = APIRouter(prefix="/v1/responses", tags=["openai"], responses=ERRORS)

ResponseId = Annotated[str, Path(min_length=1, max_length=64)]


def _not_found(response_id: str) -> NotFound:
    return NotFound(f"no stored response '{response_id}'", code="response_not_found")


@router.get("/{response_id}", summary="A stored response (OpenAI Responses shape)")
async def read_response(
    gateway: GatewayDep, principal: PrincipalDep, response_id: ResponseId
) -> dict[str, Any]:
    if principal.client is None:
        raise _not_found(response_id)
    client_id = principal.client.id

    def read() -> dict[str, Any] | None:
        with gateway.db.tenant_session(client_id) as s:
            stored = get_response(
                s, client_id=client_id, response_id=response_id, now=datetime.now(UTC)
            )
            return stored.body if stored is not None else None

    body = await gateway.db.run(read)
    if body is None:
        raise _not_found(response_id)
    return body


@router.delete("/{response_id}", summary="Delete a stored response")
async def remove_response(
    gateway: GatewayDep, principal: PrincipalDep, response_id: ResponseId
) -> dict[str, Any]:
    if principal.client is None:
        raise _not_found(response_id)
    client_id = principal.client.id

    def remove() -> bool:
        with gateway.db.tenant_session(client_id) as s:
            return delete_response(s, client_id=client_id, response_id=response_id)

    if not await gateway.db.run(remove):
        raise _not_found(response_id)
    return {"id": response_id, "object": "response", "deleted": True}
