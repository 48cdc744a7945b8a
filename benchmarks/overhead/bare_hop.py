"""The reference hop: the gateway's own server stack and upstream client, no gateway logic.

uvicorn (uvloop + httptools) serving a raw ASGI callable that reads the request body,
decodes and re-encodes it with orjson, forwards it over one pooled aiohttp session to the
upstream's ``/v1/chat/completions``, and relays the answer: a JSON body decoded and
re-encoded with orjson, a stream passed through chunk by chunk. No auth, routing, budget,
cache or metering. Whatever the gateway costs above this hop is the gateway's own logic;
this hop's cost is what Python itself asks for, measured in the same run.

Run alone: ``python -m benchmarks.overhead.bare_hop --port 9200 --upstream http://...``.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import aiohttp
import orjson
import uvicorn

__all__ = ["BareHop"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON_HEADERS = [(b"content-type", b"application/json")]
_SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


class BareHop:
    """A raw ASGI app: ``POST /v1/chat/completions`` -> upstream, nothing else."""

    def __init__(self, upstream: str) -> None:
        self._url = upstream.rstrip("/") + "/v1/chat/completions"
        self._http: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = await _read_body(receive)
        request = orjson.loads(body)
        assert self._http is not None
        async with self._http.post(
            self._url, data=orjson.dumps(request), headers={"content-type": "application/json"}
        ) as upstream:
            if request.get("stream"):
                await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
                async for chunk in upstream.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
                return
            answer = orjson.dumps(orjson.loads(await upstream.read()))
        await send({"type": "http.response.start", "status": 200, "headers": _JSON_HEADERS})
        await send({"type": "http.response.body", "body": answer})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
                self._http = aiohttp.ClientSession(connector=connector)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._http is not None:
                    await self._http.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.overhead.bare_hop")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    uvicorn.run(
        BareHop(args.upstream),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
