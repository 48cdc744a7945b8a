"""Checking ``X-Hub-Signature-256``: Meta signs the raw request body with the app secret
(HMAC-SHA256, hex). The comparison is constant-time so response timing does not leak how
much of a forged signature was right."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["sign", "signature_is_valid"]

_PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for ``body`` (also what tests and fakes use)."""
    return _PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_is_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    if not header or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(body, app_secret).encode(), header.strip().encode())
