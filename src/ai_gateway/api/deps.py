"""Dependencies as named types (``GatewayDep``), so routes declare what they use."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ai_gateway.gateway import Gateway

__all__ = ["GatewayDep", "get_gateway"]


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
