"""Wiring of the dashboard into the FastAPI app: page routers, static files, the two page
errors (sign in again; not for your role)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from ai_gateway.web import admin_views, auth_views, client_views
from ai_gateway.web.render import (
    ForbiddenPage,
    SignInRequired,
    on_forbidden_page,
    on_sign_in_required,
)

__all__ = ["install_web"]

_STATIC = Path(__file__).parent / "static"


def install_web(app: FastAPI) -> None:
    """Add the dashboard (``/signin``, ``/dashboard/...``, ``/static/...``) to ``app``."""
    for router in (auth_views.router, admin_views.router, client_views.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    app.add_exception_handler(SignInRequired, on_sign_in_required)
    app.add_exception_handler(ForbiddenPage, on_forbidden_page)
