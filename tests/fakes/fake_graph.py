"""A fake WhatsApp Graph API on loopback: ``POST /{version}/{phone_number_id}/messages``,
and media: ``GET /{version}/{media_id}`` (the file's ``url``, ``mime_type``,
``file_size``) then ``GET /media/{media_id}`` (the bytes, bearer token required, as Meta
requires). Add a file with ``graph.add_media(media_id, data, mime_type)``.

It records every request (path, headers, JSON body) and answers like Meta does
(``{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid..."}]}``).
Failures are queued and used once each: ``graph.enqueue_failure(500)``.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

__all__ = ["FakeGraph", "GraphRequest"]

VERSION = "v21.0"


@dataclass
class GraphRequest:
    phone_number_id: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def to(self) -> str:
        return str(self.body.get("to"))

    @property
    def text(self) -> str:
        return str((self.body.get("text") or {}).get("body"))


class FakeGraph:
    def __init__(self) -> None:
        self.requests: list[GraphRequest] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        #: (path, Authorization header) of every media request
        self.media_requests: list[tuple[str, str | None]] = []
        self._failures: deque[int] = deque()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{VERSION}"

    def add_media(self, media_id: str, data: bytes, mime_type: str) -> None:
        self.media[media_id] = (data, mime_type)

    def enqueue_failure(self, status: int = 500) -> None:
        self._failures.append(status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(f"/{VERSION}/{{phone_number_id}}/messages", self._send)
        app.router.add_get(f"/{VERSION}/{{media_id}}", self._media_info)
        app.router.add_get("/media/{media_id}", self._media_bytes)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _send(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        self.requests.append(
            GraphRequest(request.match_info["phone_number_id"], dict(request.headers), body)
        )
        if self._failures:
            status = self._failures.popleft()
            error = {"error": {"message": "fake failure", "type": "OAuthException", "code": 1}}
            return web.json_response(error, status=status)
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
            "messages": [{"id": f"wamid.OUT{next(self._ids):06d}"}],
        }
        return web.json_response(answer)

    def _media_for(self, request: web.Request) -> tuple[bytes, str] | None:
        self.media_requests.append((request.path, request.headers.get("Authorization")))
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return None
        return self.media.get(request.match_info["media_id"])

    async def _media_info(self, request: web.Request) -> web.Response:
        found = self._media_for(request)
        if found is None:
            return web.json_response({"error": {"message": "no such media"}}, status=404)
        media_id = request.match_info["media_id"]
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"http://127.0.0.1:{self.port}/media/{media_id}",
                "mime_type": found[1],
                "file_size": len(found[0]),
                "id": media_id,
            }
        )

    async def _media_bytes(self, request: web.Request) -> web.Response:
        found = self._media_for(request)
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type=found[1].split(";")[0])
