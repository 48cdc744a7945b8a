"""Sign-in, sign-out, the language switch and ``/dashboard`` (which sends each role home)."""

from __future__ import annotations

import hmac
import logging
import secrets
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import RedirectResponse, Response

from ai_gateway.api.session import (
    CSRF_COOKIE,
    check_csrf,
    clear_session,
    read_session,
    start_session,
)
from ai_gateway.errors import AuthenticationFailed, GatewayError
from ai_gateway.gateway import Gateway
from ai_gateway.i18n import LOCALE_COOKIE, LOCALES, pick_locale, translations
from ai_gateway.services.auth import Principal
from ai_gateway.storage.audit import record_audit
from ai_gateway.storage.rollout_health import SIGN_IN_ACTION
from ai_gateway.web.render import PageDep, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
log = logging.getLogger("ai_gateway.web")

_MAX_FORM_BYTES = 8192


async def read_form(request: Request) -> dict[str, str]:
    """A small urlencoded form (no multipart: the dashboard posts only short fields)."""
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/dashboard"


def _sign_in_page(
    request: Request, *, error: str | None = None, status: int = 200, key_hint: str = ""
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "signin.html",
        {
            "signin_csrf": token,
            "error": error,
            "next": _safe_next(request.query_params.get("next")),
            "key_hint": key_hint,
        },
        status=status,
    )
    response.set_cookie(
        CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict", path="/signin"
    )
    return response


@router.get("/signin")
async def sign_in_form(request: Request) -> Response:
    if read_session(request) is not None:
        return RedirectResponse("/dashboard", status_code=303)
    return _sign_in_page(request)


@router.post("/signin")
async def sign_in(request: Request) -> Response:
    form = await read_form(request)
    _ = translations(pick_locale(request)).gettext
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(form.get("csrf_token", ""), expected):
        return _sign_in_page(request, error=_("The form expired; please try again."), status=403)
    key = form.get("api_key", "").strip()
    gateway: Gateway = request.app.state.gateway
    try:
        principal = await gateway.auth.authenticate(key) if key else None
    except AuthenticationFailed:
        principal = None
    except GatewayError:
        return _sign_in_page(request, error=_("The gateway is unavailable; try again."), status=503)
    if principal is None:
        return _sign_in_page(request, error=_("Invalid or revoked API key."), status=401)
    await _record_sign_in(gateway, principal)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    start_session(request, response, key_id=principal.key_id, plain_key=key)
    response.delete_cookie(CSRF_COOKIE, path="/signin")
    return response


async def _record_sign_in(gateway: Gateway, principal: Principal) -> None:
    """Audit the sign-in: the rollout gate "dashboard used by > 80 % of clients" counts
    these. A failed write costs the user nothing: the sign-in goes on."""

    def write() -> None:
        with gateway.db.write() as s:
            record_audit(
                s,
                actor=f"{principal.role}-key:{principal.key_id}",
                action=SIGN_IN_ACTION,
                client_id=principal.client_id,
            )

    try:
        await gateway.db.run(write)
    except SQLAlchemyError:
        log.warning("could not record a dashboard sign-in", exc_info=True)


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    form = await read_form(request)
    session = read_session(request)
    if session is not None:
        check_csrf(request, session, form.get("csrf_token"))
    response = RedirectResponse("/signin", status_code=303)
    clear_session(response)
    return response


@router.get("/lang/{locale}")
async def switch_language(request: Request, locale: str) -> Response:
    response = RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    if locale in LOCALES:
        response.set_cookie(
            LOCALE_COOKIE, locale, max_age=365 * 86400, samesite="lax", httponly=True, path="/"
        )
    return response


@router.get("/dashboard")
async def home(viewer: PageDep) -> Response:
    if viewer.principal.is_admin:
        return RedirectResponse("/dashboard/ai-gateway/analytics", status_code=303)
    return RedirectResponse("/dashboard/analytics", status_code=303)
