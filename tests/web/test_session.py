"""Sign-in, sessions and CSRF over plain HTTP (no browser): the cookie holds no key, a
revoked key or a tampered cookie ends the session, unsafe requests need the token."""

from __future__ import annotations

import base64
import re

import httpx

from ai_gateway.api.session import CSRF_COOKIE, SESSION_COOKIE
from ai_gateway.storage.api_keys import revoke_key
from tests.harness import Harness


async def _signed_in(http: httpx.AsyncClient, key: str) -> str:
    """Sign in like the form does; returns the page's CSRF token."""
    form = await http.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    response = await http.post(
        "/signin", data={"csrf_token": token.group(1), "api_key": key, "next": "/dashboard"}
    )
    assert response.status_code == 303, response.text
    page = await http.get("/dashboard/settings")
    assert page.status_code == 200
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    return csrf.group(1)


async def test_cookie_is_signed_httponly_and_holds_no_key(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        form = await http.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        response = await http.post(
            "/signin", data={"csrf_token": token.group(1), "api_key": harness.key}
        )
    header = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in header
    assert "HttpOnly" in header and "SameSite=lax" in header
    value = response.cookies[SESSION_COOKIE]
    payload = base64.urlsafe_b64decode(value.split(".")[0] + "==").decode()
    assert harness.key not in value and harness.key not in payload
    assert harness.key[5:20] not in payload


async def test_sign_in_refuses_bad_keys_and_forged_forms(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        form = await http.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        wrong = await http.post("/signin", data={"csrf_token": token.group(1), "api_key": "x"})
        assert wrong.status_code == 401 and "Invalid or revoked API key" in wrong.text
        http.cookies.delete(CSRF_COOKIE)
        forged = await http.post("/signin", data={"csrf_token": "guess", "api_key": harness.key})
        assert forged.status_code == 403 and SESSION_COOKIE not in forged.cookies
        # Without a session every page sends the browser to sign in, keeping the target.
        page = await http.get("/dashboard/ai-gateway/setup")
        assert page.status_code == 303
        assert page.headers["location"] == "/signin?next=/dashboard/ai-gateway/setup"


async def test_api_accepts_the_session_with_csrf_on_unsafe_methods(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        csrf = await _signed_in(http, harness.key)
        assert (await http.get("/api/budget/config")).status_code == 200
        body = {"budget_type": "brl", "limit": "50", "period": "monthly"}
        refused = await http.post("/api/budget/config", json=body)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"
        wrong = await http.post("/api/budget/config", json=body, headers={"X-CSRF-Token": "x"})
        assert wrong.status_code == 403
        foreign = await http.post(
            "/api/budget/config",
            json=body,
            headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403
        ok = await http.post("/api/budget/config", json=body, headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 200, ok.text
        # A client session is still a client: the admin API stays closed.
        assert (await http.get("/api/ai-gateway/config")).status_code == 403
        bad = await http.post(
            "/api/budget/config",
            json={**body, "limit": "-1"},
            headers={"X-CSRF-Token": csrf},
        )
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "limit"


async def test_revoked_key_or_tampered_cookie_ends_the_session(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        await _signed_in(http, harness.key)
        value = http.cookies[SESSION_COOKIE]
        body, signature = value.split(".")
        http.cookies.set(SESSION_COOKIE, body + "." + signature[::-1], domain="127.0.0.1")
        assert (await http.get("/dashboard/settings")).status_code == 303
        assert (await http.get("/api/budget/config")).status_code == 401

    async with httpx.AsyncClient(base_url=harness.url) as http:
        await _signed_in(http, harness.key)
        principal = await harness.gateway.auth.authenticate(harness.key)
        with harness.db.write() as s:
            revoke_key(s, key_id=principal.key_id)
        harness.gateway.auth.invalidate()
        page = await http.get("/dashboard/settings")
        assert page.status_code == 303 and page.headers["location"].startswith("/signin")


async def test_sign_out_needs_the_token_and_clears_the_cookie(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        csrf = await _signed_in(http, harness.key)
        assert (await http.post("/signout", data={"csrf_token": "nope"})).status_code == 403
        out = await http.post("/signout", data={"csrf_token": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/signin"
        assert SESSION_COOKIE not in http.cookies
        assert (await http.get("/dashboard/analytics")).status_code == 303


async def test_budget_bar_fragment_for_polling(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        await _signed_in(http, harness.key)
        fragment = await http.get("/dashboard/budget-bar")
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith("<section") and 'id="budget-progress"' in fragment.text
    assert "<html" not in fragment.text
