"""Rendering pages: one Jinja environment per language, the viewer's principal, and the
two ways a page refuses (back to sign-in; a friendly 403)."""

from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import Depends, Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ai_gateway import __version__
from ai_gateway.api.session import clear_session, session_principal
from ai_gateway.errors import AuthenticationFailed, InternalError, PermissionDenied
from ai_gateway.gateway import Gateway
from ai_gateway.i18n import (
    LOCALES,
    Formatter,
    browser_timezone,
    number_symbols,
    pick_locale,
    translations,
)
from ai_gateway.services.auth import Principal
from ai_gateway.web.messages import (
    GENERIC,
    N_,
    error_catalog,
    reason_catalog,
    reason_label,
    route_label,
    status_label,
)

__all__ = [
    "AdminPageDep",
    "ForbiddenPage",
    "PageDep",
    "SignInRequired",
    "Viewer",
    "error_page",
    "render",
    "wants_page",
]

_TEMPLATES = Path(__file__).parent / "templates"


class SignInRequired(InternalError):
    """No valid session: the page answers with a redirect to ``/signin``."""


class ForbiddenPage(InternalError):
    """The session is valid but this page is not for its role."""


class Viewer:
    """Who is looking at a page, in which language and time zone."""

    def __init__(self, request: Request, principal: Principal, csrf: str) -> None:
        self.request = request
        self.principal = principal
        self.csrf = csrf
        self.locale = pick_locale(request)
        # A client sees its own calendar; the operator, the browser's (else UTC).
        tz = principal.client.timezone if principal.client else browser_timezone(request)
        self.fmt = Formatter(self.locale, tz or "UTC")

    @property
    def gateway(self) -> Gateway:
        gateway: Gateway = self.request.app.state.gateway
        return gateway


def _json(value: Any) -> Markup:
    """JSON safe to place inside a ``<script type="application/json">`` element."""
    text = orjson.dumps(value, default=str).decode()
    # Escaped so no "</script>" can end the element early; JSON stays valid.
    safe = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(safe)  # noqa: S704


@lru_cache(maxsize=len(LOCALES))
def _environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["tojson_safe"] = _json
    env.globals["version"] = __version__
    env.globals["status_label"] = partial(status_label, locale)
    env.globals["reason_label"] = partial(reason_label, locale)
    env.globals["route_label"] = partial(route_label, locale)
    # What app.js needs to speak the page's language: error texts by code, number symbols.
    env.globals["client_i18n"] = {
        "errors": error_catalog(locale),
        "reasons": reason_catalog(locale),
        "generic_codes": sorted(GENERIC),
        "server_messages": locale == "en",
        "number": number_symbols(locale),
    }
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    viewer: Viewer | None = None,
    status: int = 200,
) -> HTMLResponse:
    locale = viewer.locale if viewer else pick_locale(request)
    fmt = viewer.fmt if viewer else Formatter(locale, "UTC")
    page = _environment(locale).get_template(template)
    html = page.render(
        request=request,
        viewer=viewer,
        locale=locale,
        fmt=fmt,
        csrf_token=viewer.csrf if viewer else "",
        **context,
    )
    return HTMLResponse(html, status_code=status)


async def _viewer(request: Request) -> Viewer:
    gateway: Gateway = request.app.state.gateway
    try:
        # Page views that accept a POST check the form's CSRF field themselves.
        principal, session = await session_principal(request, gateway, verify_csrf=False)
    except AuthenticationFailed as exc:
        raise SignInRequired from exc
    return Viewer(request, principal, session.csrf)


async def _admin_viewer(viewer: Annotated[Viewer, Depends(_viewer)]) -> Viewer:
    if not viewer.principal.is_admin:
        raise ForbiddenPage
    return viewer


PageDep = Annotated[Viewer, Depends(_viewer)]
AdminPageDep = Annotated[Viewer, Depends(_admin_viewer)]


async def on_sign_in_required(request: Request, _exc: Exception) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.headers.get("hx-request"):
        response: Response = Response(status_code=204, headers={"HX-Redirect": "/signin"})
    else:
        response = RedirectResponse(f"/signin?next={_quote(target)}", status_code=303)
    clear_session(response)
    return response


async def on_forbidden_page(request: Request, _exc: Exception) -> Response:
    gateway: Gateway = request.app.state.gateway
    try:
        principal, session = await session_principal(request, gateway, verify_csrf=False)
        viewer: Viewer | None = Viewer(request, principal, session.csrf)
    except (AuthenticationFailed, PermissionDenied):
        viewer = None
    return render(request, "forbidden.html", {}, viewer=viewer, status=403)


async def _optional_viewer(request: Request) -> Viewer | None:
    """The signed-in viewer, if any (an error page shows its nav; a stranger gets none)."""
    gateway: Gateway = request.app.state.gateway
    try:
        principal, session = await session_principal(request, gateway, verify_csrf=False)
    except (AuthenticationFailed, PermissionDenied):
        return None
    return Viewer(request, principal, session.csrf)


_TITLES = {403: N_("Not allowed"), 404: N_("Page not found")}


async def error_page(request: Request, *, status: int, code: str) -> HTMLResponse:
    """A dashboard error as a page in the viewer's language (never raw JSON)."""
    viewer = await _optional_viewer(request)
    locale = viewer.locale if viewer else pick_locale(request)
    gettext = translations(locale).gettext
    title = gettext(_TITLES.get(status, N_("Something went wrong")))
    message = error_catalog(locale).get(code) or error_catalog(locale)["internal_error"]
    context = {"status": status, "code": code, "title": title, "message": message}
    return render(request, "error.html", context, viewer=viewer, status=status)


def wants_page(request: Request) -> bool:
    """A browser navigating to a dashboard page (not htmx, not the REST API)."""
    return (
        request.url.path.startswith("/dashboard")
        and not request.headers.get("hx-request")
        and "text/html" in request.headers.get("accept", "")
    )


def _quote(path: str) -> str:
    return quote(path, safe="/")
