"""Dashboard sessions: an API key, signed in once, becomes a signed cookie.

The cookie holds the key's id, the first 16 hex digits of its SHA-256 and a random CSRF
token, signed with HMAC-SHA256 (a secret from ``AI_GATEWAY_SESSION_SECRET``, else derived
from the vault's master key). It never holds the key: a stolen cookie dies when the key is
revoked, because every request re-checks the key through the ``Authenticator``.

CSRF: every unsafe request made with the cookie must carry the session's token, in the
``X-CSRF-Token`` header (fetch, HTMX) or a ``csrf_token`` form field; a foreign ``Origin``
is refused as well. The sign-in form, before any session exists, uses a double-submit
token (a cookie and a hidden field that must match).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ai_gateway.errors import AuthenticationFailed, PermissionDenied
from ai_gateway.gateway import Gateway
from ai_gateway.services.auth import Principal
from ai_gateway.storage.api_keys import hash_key

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "WebSession",
    "clear_session",
    "has_session",
    "read_session",
    "session_principal",
    "start_session",
]

SESSION_COOKIE = "aigw_session"
CSRF_COOKIE = "aigw_signin_csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_MAX_AGE_S = 12 * 3600
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FINGERPRINT_LEN = 16

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WebSession:
    key_id: str
    fingerprint: str
    csrf: str
    issued_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _secret(request: Request) -> bytes:
    """The signing secret, computed once per app: the setting, else HMAC(master key)."""
    state = request.app.state
    cached: bytes | None = getattr(state, "web_session_secret", None)
    if cached is not None:
        return cached
    gateway: Gateway = state.gateway
    if gateway.settings.session_secret:
        secret = hashlib.sha256(gateway.settings.session_secret.encode()).digest()
    elif gateway.master is not None:
        secret = hmac.new(gateway.master.raw, b"ai-gateway web session", hashlib.sha256).digest()
    else:
        log.warning(
            "no AI_GATEWAY_SESSION_SECRET and no master key: dashboard sessions end on restart"
        )
        secret = os.urandom(32)
    state.web_session_secret = secret
    return secret


def _sign(secret: bytes, payload: bytes) -> str:
    return _b64(hmac.new(secret, payload, hashlib.sha256).digest())


def read_session(request: Request) -> WebSession | None:
    """The request's session if its cookie is present, untampered and not expired."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or raw.count(".") != 1:
        return None
    body, signature = raw.split(".")
    try:
        payload = _unb64(body)
    except ValueError:
        return None
    if not hmac.compare_digest(signature, _sign(_secret(request), payload)):
        return None
    try:
        data: dict[str, Any] = orjson.loads(payload)
        session = WebSession(str(data["k"]), str(data["f"]), str(data["c"]), int(data["t"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    if time.time() - session.issued_at > SESSION_MAX_AGE_S:
        return None
    return session


def has_session(request: Request) -> bool:
    return SESSION_COOKIE in request.cookies


def start_session(request: Request, response: Response, *, key_id: str, plain_key: str) -> None:
    """Set the cookie for a key that has just been authenticated."""
    data = {
        "k": key_id,
        "f": hash_key(plain_key)[:_FINGERPRINT_LEN],
        "c": secrets.token_urlsafe(24),
        "t": int(time.time()),
    }
    payload = orjson.dumps(data)
    response.set_cookie(
        SESSION_COOKIE,
        f"{_b64(payload)}.{_sign(_secret(request), payload)}",
        max_age=SESSION_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def check_csrf(request: Request, session: WebSession, submitted: str | None) -> None:
    """Refuse an unsafe request without the session's token or from another origin."""
    if request.method in _SAFE_METHODS:
        return
    token = submitted or request.headers.get(CSRF_HEADER) or ""
    if not _same_origin(request) or not hmac.compare_digest(token, session.csrf):
        raise PermissionDenied("missing or wrong CSRF token; reload the page", code="csrf_failed")


async def session_principal(
    request: Request, gateway: Gateway, *, verify_csrf: bool = True
) -> tuple[Principal, WebSession]:
    """The caller of a cookie request: the session's key, still active; CSRF checked from
    the header unless ``verify_csrf`` is False (a form view then checks its field)."""
    session = read_session(request)
    if session is None:
        raise AuthenticationFailed("the session expired or is invalid; sign in again")
    principal = await gateway.auth.authenticate_key_id(session.key_id, session.fingerprint)
    if verify_csrf:
        check_csrf(request, session, None)
    return principal, session
