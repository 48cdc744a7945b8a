"""One boundary for errors over HTTP: everything leaves in the OpenAI error shape.

Bad input is a 4xx with a message that says what is wrong; anything unexpected is logged
with its traceback and leaves as a bare 500 that reveals nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ai_gateway.errors import GatewayError

__all__ = [
    "drop_validation_errors",
    "error_response",
    "gateway_error_response",
    "install_error_handlers",
    "on_gateway_error",
    "on_http_error",
]

log = logging.getLogger("ai_gateway.api")

#: Stable codes of the errors FastAPI/Starlette raise themselves (routing, methods).
_HTTP_CODES = {
    401: "invalid_api_key",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def error_response(
    status: int,
    message: str,
    *,
    error_type: str | None = None,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {
        "error": {
            "message": message,
            "type": error_type or _TYPES.get(status, "api_error"),
            "code": code,
            "param": param,
        }
    }
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def gateway_error_response(exc: GatewayError) -> Response:
    return Response(
        orjson.dumps(exc.to_body()),
        status_code=exc.status,
        media_type="application/json",
        headers=exc.headers or None,
    )


async def on_gateway_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    if exc.status >= 500:
        log.error("gateway error", extra={"code": exc.code, "error": exc.message})
    return gateway_error_response(exc)


async def _on_validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    message = f"{where}: {first.get('msg', 'invalid value')}" if where else "invalid request"
    return error_response(400, message, code="invalid_value", param=where or None)


async def on_http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = 400 if exc.status_code == 422 else exc.status_code
    headers = dict(exc.headers) if exc.headers else None
    code = _HTTP_CODES.get(status, "invalid_request" if status < 500 else "internal_error")
    return error_response(status, str(exc.detail), headers=headers, code=code)


async def _on_unexpected(_request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return error_response(
        500, "internal error; the operator can find it in the logs", code="internal_error"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, on_gateway_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)


def drop_validation_errors(schema: dict[str, Any]) -> None:
    """Make the OpenAPI document say what the handlers do: invalid input is a 400 in the
    error shape, never FastAPI's default 422 ``HTTPValidationError``."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if responses.pop("422", None) is not None and "400" not in responses:
                responses["400"] = {
                    "description": "Malformed or invalid request",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                    },
                }
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
