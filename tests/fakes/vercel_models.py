"""A fake upstream gateway ``GET /v1/models`` (Vercel AI Gateway's shape) on loopback."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def model(model_id: str, **pricing: str) -> dict[str, Any]:
    return {
        "id": model_id,
        "object": "model",
        "created": 1_700_000_000,
        "owned_by": model_id.split("/")[0],
        "name": model_id,
        "type": "language",
        "context_window": 128_000,
        "pricing": pricing,
    }


@dataclass
class FakeModelsEndpoint:
    """Answers with ``body`` (a JSON document, or raw bytes) and ``status``."""

    body: Any = None
    status: int = 200
    authorizations: list[str | None] = field(default_factory=list)
    base_url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/v1/models", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization"))
        if isinstance(self.body, bytes):
            return web.Response(status=self.status, body=self.body)
        return web.json_response(self.body, status=self.status)
