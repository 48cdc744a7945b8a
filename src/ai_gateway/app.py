"""The ASGI application: the hot model routes, the FastAPI routers, the lifespan.

``/v1/chat/completions`` and the other model routes are dispatched before FastAPI sees the
request (one runner, one codec per route: :mod:`ai_gateway.api.endpoints`); everything
else goes through FastAPI, which also serves the OpenAPI document (the model routes are
described there too).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from ai_gateway import __version__
from ai_gateway.api import (
    alerts,
    analytics,
    billing,
    budget,
    cache,
    clients,
    config,
    cron,
    health,
    keys,
    limits,
    metrics,
    requests,
    rollout,
    semantic_cache,
    usage_quarantine,
    whatsapp,
)
from ai_gateway.api import models as registry
from ai_gateway.api.endpoints import codec_endpoints
from ai_gateway.api.errors import install_error_handlers
from ai_gateway.api.openai import models, responses
from ai_gateway.api.openapi import install_openapi
from ai_gateway.edge.guard import RequestGuard
from ai_gateway.gateway import Gateway
from ai_gateway.logs import bind_request_id, configure_logging
from ai_gateway.settings import Settings
from ai_gateway.web.routes import install_web

__all__ = ["GatewayApp", "create_app", "create_app_from_env"]


class GatewayApp:
    """The outer ASGI callable: the request guard (``edge/guard.py``: header encoding,
    concurrency ceiling, body size, security headers), then one string comparison
    routes the hot path."""

    def __init__(self, api: FastAPI, settings: Settings) -> None:
        self.api = api
        # The /v1 model routes: one codec each over the same pipeline, raw ASGI.
        self.endpoints = codec_endpoints(lambda: api.state.gateway)
        self.guard = RequestGuard(
            self._route,
            max_body_bytes=settings.max_body_bytes,
            max_concurrent=settings.max_concurrent_requests,
            # These read their own bodies, each with its own cap (25 MB for audio).
            own_body_paths=frozenset(self.endpoints),
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.guard(scope, receive, send)

    async def _route(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        endpoint = self.endpoints.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is not None:
            await endpoint(scope, receive, send)  # binds the id its response carries
        else:
            if scope["type"] == "http":
                bind_request_id(uuid.uuid4().hex)  # every log line of this request carries it
            await self.api(scope, receive, send)


def create_app(settings: Settings) -> GatewayApp:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Gateway.running(settings) as gateway:
            app.state.gateway = gateway
            yield

    api = FastAPI(
        title="AI Gateway",
        version=__version__,
        lifespan=lifespan,
        # /docs is served by the dashboard from vendored Swagger UI files (no CDN);
        # ReDoc would need one, so it is off.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    install_error_handlers(api)
    api.include_router(health.router)
    api.include_router(models.router)
    api.include_router(responses.router)
    # The REST API (SPEC §5), one router per resource.
    for router in (
        config.router,
        registry.router,
        metrics.router,
        usage_quarantine.router,
        cache.router,
        analytics.router,
        billing.router,
        clients.router,
        keys.router,
        cron.router,
        whatsapp.router,
        budget.router,
        rollout.router,
        limits.router,
        requests.router,
        semantic_cache.router,
        alerts.router,
    ):
        api.include_router(router)
    # The dashboard (/signin, /dashboard/..., /static/...): pages over the same routers.
    install_web(api)
    install_openapi(api)
    return GatewayApp(api, settings)


def create_app_from_env() -> GatewayApp:
    """Factory for ``uvicorn --factory``: settings from the environment."""
    settings = Settings()
    # Each worker of ``serve --workers N`` is a fresh process: without this its log lines
    # would lose their fields (the error of a failed usage flush among them).
    configure_logging(settings.log_level)
    return create_app(settings)
