"""``/docs`` works offline (Swagger UI from vendored files, never a CDN); ``/`` sends a
person to the sign-in page; there is no ReDoc (it would need a CDN)."""

from __future__ import annotations

import re

import httpx

from tests.harness import Harness


async def test_docs_use_only_local_assets(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        page = await http.get("/docs")
        assert page.status_code == 200
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        urls = re.findall(r"url: '([^']+)'", page.text)
        assert assets and all(a.startswith("/") for a in assets), assets
        assert urls == ["/openapi.json"]
        for asset in assets:
            assert (await http.get(asset)).status_code == 200, asset
        assert "cdn" not in page.text.lower()
        assert (await http.get("/redoc")).status_code == 404
        root = await http.get("/")
        assert root.status_code == 307 and root.headers["location"] == "/signin"
