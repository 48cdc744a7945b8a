"""A tiny HTTP helper for the REST API tests: JSON in, (status, JSON) out, with a key."""

from __future__ import annotations

from typing import Any

import httpx

from tests.harness import Harness

__all__ = ["call"]


async def call(
    h: Harness,
    method: str,
    path: str,
    *,
    key: str | None = None,
    admin: bool = False,
    **kwargs: Any,
) -> tuple[int, Any]:
    token = h.admin_key if admin else (key or h.key)
    async with httpx.AsyncClient(base_url=h.url, timeout=30) as http:
        response = await http.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        if response.status_code >= 400:
            assert set(body["error"]) == {"message", "type", "code", "param"}
        return response.status_code, body
    return response.status_code, response.text
