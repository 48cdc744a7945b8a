"""The ASGI application: routers, error handlers and the gateway's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ai_gateway import __version__
from ai_gateway.api import health
from ai_gateway.api.errors import install_error_handlers
from ai_gateway.gateway import Gateway
from ai_gateway.settings import Settings

__all__ = ["create_app", "create_app_from_env"]


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Gateway.running(settings) as gateway:
            app.state.gateway = gateway
            yield

    app = FastAPI(
        title="AI Gateway",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)
    app.include_router(health.router)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings from the environment."""
    return create_app(Settings())
