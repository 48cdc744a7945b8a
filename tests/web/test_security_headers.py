"""Security headers of the HTML pages: CSP (vendored assets only, no framing), nosniff,
Referrer-Policy, and HSTS only over https (the scheme, or X-Forwarded-Proto from a
trusted proxy: loopback by default)."""

from __future__ import annotations

import base64
import hashlib
import re

import aiohttp
from playwright.async_api import Page

from ai_gateway.web.security import DASHBOARD_CSP
from tests.harness import Harness
from tests.web.pages import sign_in


async def _get(h: Harness, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(h.url + path, headers=headers, allow_redirects=False) as resp,
    ):
        return resp.status, {k.lower(): v for k, v in resp.headers.items()}, await resp.read()


async def test_signin_has_the_security_headers_and_no_hsts_over_http(harness: Harness) -> None:
    status, headers, _ = await _get(harness, "/signin")
    assert status == 200
    assert headers["content-security-policy"] == DASHBOARD_CSP
    assert "frame-ancestors 'none'" in DASHBOARD_CSP and "script-src 'self';" in DASHBOARD_CSP
    assert "unsafe-inline" not in DASHBOARD_CSP and "unsafe-eval" not in DASHBOARD_CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in headers


async def test_https_through_a_trusted_proxy_gets_hsts(harness: Harness) -> None:
    _, headers, _ = await _get(harness, "/signin", **{"X-Forwarded-Proto": "https"})
    assert headers["strict-transport-security"] == "max-age=31536000"


async def test_every_dashboard_page_has_them(harness: Harness, page: Page) -> None:
    await sign_in(page, harness.url, harness.admin_key)
    for path in (
        "/dashboard/ai-gateway/analytics",
        "/dashboard/ai-gateway/setup",
        "/dashboard/ai-gateway/clients",
        "/dashboard/ai-gateway/models",
        "/dashboard/ai-gateway/cache",
        f"/dashboard/analytics?client_id={harness.client.id}",
        f"/dashboard/settings?client_id={harness.client.id}",
    ):
        response = await page.goto(harness.url + path)
        assert response is not None and response.status == 200, path
        headers = await response.all_headers()
        assert headers["content-security-policy"] == DASHBOARD_CSP, path
        assert headers["x-content-type-options"] == "nosniff", path
        # The markup as served needs no inline script, handler or style.
        html = await response.text()
        assert "<script>" not in html and ' style="' not in html and " onclick=" not in html
        await page.wait_for_selector("body[data-ready='1']")


async def test_api_docs_allow_only_their_own_inline_script(harness: Harness) -> None:
    status, headers, body = await _get(harness, "/docs")
    assert status == 200
    csp = headers["content-security-policy"]
    [script] = re.findall(rb"<script>(.*?)</script>", body, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
    assert f"'sha256-{digest}'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
