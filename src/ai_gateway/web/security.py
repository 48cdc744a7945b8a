"""Security headers of HTML pages: what the browser may load, frame and leak.

The dashboard loads only its own vendored files (``/static``): no inline script, no
inline style, no CDN, so an injected ``<script>`` or ``onclick=`` does not run even if
escaping ever failed. Chart data sits in ``<script type="application/json">`` blocks,
which are data, not script, and CSP does not apply to them. FastAPI's API docs
(``/docs``, ``/redoc``) are the one exception: they load Swagger UI / ReDoc from their
CDN and start them with an inline script, allowed by its SHA-256 hash alone.
"""

from __future__ import annotations

import base64
import hashlib
import re

__all__ = ["DASHBOARD_CSP", "DOCS_PATHS", "docs_csp", "security_headers"]

DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
_DOCS_CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
_HSTS = (b"strict-transport-security", b"max-age=31536000")


def docs_csp(html: bytes) -> str:
    """The CSP of an API docs page: its CDN plus the hashes of its own inline scripts."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
        for m in _INLINE_SCRIPT.finditer(html)
    )
    return (
        f"default-src 'self'; script-src {_DOCS_CDN} {hashes}; "
        f"style-src {_DOCS_CDN} https://fonts.googleapis.com 'unsafe-inline'; "
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
        f"font-src https://fonts.gstatic.com; worker-src blob:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


def security_headers(*, https: bool, csp: str) -> list[tuple[bytes, bytes]]:
    """Headers of one HTML response; HSTS only when the request came over https (the
    scheme uvicorn saw, or X-Forwarded-Proto from a trusted proxy)."""
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers without CSP 2
        (b"referrer-policy", b"same-origin"),
    ]
    if https:
        headers.append(_HSTS)
    return headers
