"""``/healthz`` (the process answers), ``/readyz`` (it can reach its database) and
``/metrics`` (Prometheus text; with ``serve --workers N``, the sum over every worker of
this replica, whichever worker answers the scrape; behind a bearer token when
``AI_GATEWAY_METRICS_TOKEN`` is set, compared in constant time)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import JSONResponse, Response

from ai_gateway.api.deps import GatewayDep
from ai_gateway.errors import AuthenticationFailed
from ai_gateway.metrics_multiprocess import aggregated_registry

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database answers")
async def readyz(gateway: GatewayDep) -> Response:
    try:
        await gateway.db.run(gateway.db.ping)
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": gateway.db.dialect})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    gateway = request.app.state.gateway
    _check_token(gateway.settings.metrics_token, request.headers.get("authorization"))
    registry = aggregated_registry() or gateway.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _check_token(configured: str | None, header: str | None) -> None:
    if not configured:
        return
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), configured.encode()
    ):
        raise AuthenticationFailed(
            "missing or wrong metrics token (AI_GATEWAY_METRICS_TOKEN)",
            code="invalid_metrics_token",
        )
