"""Dependencies as named types (``GatewayDep``, ``PrincipalDep``, ``AdminDep``), so routes
declare what they use and who may call them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ai_gateway.api.session import has_session, session_principal
from ai_gateway.errors import PermissionDenied
from ai_gateway.gateway import Gateway
from ai_gateway.services.auth import Principal, bearer_token

__all__ = ["AdminDep", "GatewayDep", "PrincipalDep", "get_gateway", "get_principal"]


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


async def get_principal(request: Request, gateway: GatewayDep) -> Principal:
    """The key of ``Authorization: Bearer``; without that header, the dashboard's session
    cookie (same origin, CSRF token required on unsafe methods)."""
    header = request.headers.get("authorization")
    if header is None and has_session(request):
        principal, _session = await session_principal(request, gateway)
        return principal
    return await gateway.auth.authenticate(bearer_token(header))


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_admin(principal: PrincipalDep) -> Principal:
    if not principal.is_admin:
        raise PermissionDenied("this route is for admin keys only")
    return principal


AdminDep = Annotated[Principal, Depends(get_admin)]
