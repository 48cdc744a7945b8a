"""Wiring of the dashboard into the FastAPI app: page routers, static files, the two page
errors (sign in again; not for your role), ``/`` (to the sign-in page) and ``/docs``
(Swagger UI from the vendored files: it works offline, with no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from ai_gateway.api.errors import on_gateway_error, on_http_error
from ai_gateway.errors import GatewayError
from ai_gateway.web import (
    admin_views,
    auth_views,
    client_views,
    operator_views,
    request_views,
)
from ai_gateway.web.render import (
    ForbiddenPage,
    SignInRequired,
    error_page,
    on_forbidden_page,
    on_sign_in_required,
    wants_page,
)

__all__ = ["install_web"]

_STATIC = Path(__file__).parent / "static"
_SWAGGER = "/static/vendor/swagger-ui"


def install_web(app: FastAPI) -> None:
    """Add the dashboard (``/signin``, ``/dashboard/...``, ``/static/...``) to ``app``."""
    for router in (
        auth_views.router,
        admin_views.router,
        operator_views.router,
        client_views.router,
        request_views.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    app.add_exception_handler(SignInRequired, on_sign_in_required)
    app.add_exception_handler(ForbiddenPage, on_forbidden_page)
    # A dashboard page that fails answers with a page; the REST API keeps its JSON.
    app.add_exception_handler(GatewayError, _on_gateway_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_api_route("/", _root, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs", _docs, methods=["GET"], include_in_schema=False)


async def _on_gateway_error(request: Request, exc: Exception) -> Response:
    """A page that hits an error (an unknown client id...) answers with an HTML page in
    the viewer's language."""
    assert isinstance(exc, GatewayError)
    if wants_page(request) and exc.status < 500:
        return await error_page(request, status=exc.status, code=exc.code or "invalid_request")
    return await on_gateway_error(request, exc)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    """An unknown /dashboard/... path (404) or method: an HTML page, not raw JSON."""
    assert isinstance(exc, StarletteHTTPException)
    if wants_page(request) and exc.status_code in (403, 404, 405):
        code = {403: "forbidden", 404: "not_found", 405: "method_not_allowed"}[exc.status_code]
        return await error_page(request, status=exc.status_code, code=code)
    return await on_http_error(request, exc)


async def _root(_request: Request) -> Response:
    """A person who opens the server's address lands on the sign-in page."""
    return RedirectResponse("/signin", status_code=307)


async def _docs(_request: Request) -> HTMLResponse:
    """The OpenAPI document in Swagger UI, every asset served by the gateway itself."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="AI Gateway · API",
        swagger_js_url=f"{_SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{_SWAGGER}/swagger-ui.css",
        swagger_favicon_url=f"{_SWAGGER}/favicon-32x32.png",
        swagger_ui_parameters={"defaultModelsExpandDepth": 0},
    )
