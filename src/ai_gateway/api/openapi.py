"""The OpenAPI document, built once, in one stated order.

FastAPI describes its own routers; the model routes are raw ASGI handlers outside it, so
their paths are added (chat, then the codec routes); then FastAPI's 422 answers, which the
error handlers never give, become the 400 they do give.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ai_gateway.api.errors import drop_validation_errors
from ai_gateway.api.openai.schema import describe_chat_route

__all__ = ["install_openapi"]


def install_openapi(api: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        schema = get_openapi(title=api.title, version=api.version, routes=api.routes)
        describe_chat_route(schema)
        drop_validation_errors(schema)
        api.openapi_schema = schema
        return schema

    api.openapi = openapi  # type: ignore[method-assign]
