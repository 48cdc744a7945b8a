"""One raw ASGI handler for every codec route (``/v1/embeddings``, ``/v1/messages``,
``/v1/responses``, ``/v1/audio/transcriptions``).

The same steps as ``/v1/chat/completions`` and its helpers (body cap, conversation and
cache headers), outside FastAPI for the same reason: the gateway's overhead is the
headline number. Only the codec differs per route: how the key is sent, how the body is
read, how the answer, the stream and the errors look.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from ai_gateway.api.endpoints.base import CallContext, Codec, Rendered
from ai_gateway.api.openai.chat import _conversation, _encode_headers, _read_body, _ttl
from ai_gateway.errors import GatewayError, InvalidRequest
from ai_gateway.gateway import Gateway
from ai_gateway.pipeline.outcome import CallMeta

__all__ = ["CodecEndpoint"]

log = logging.getLogger("ai_gateway.api")

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class CodecEndpoint:
    def __init__(self, gateway: Callable[[], Gateway], codec: Codec) -> None:
        self._gateway = gateway
        self.codec = codec

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = time.perf_counter()
        codec = self.codec
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given_id = headers.get("x-request-id", "")
        request_id = given_id if _REQUEST_ID.match(given_id) else uuid.uuid4().hex
        if scope["method"] != "POST":
            error = InvalidRequest(f"use POST for {codec.path}", code="method_not_allowed")
            await self._send_error(send, request_id, error, status=405)
            return
        gateway = self._gateway()
        try:
            principal = await gateway.auth.authenticate(codec.credentials(headers))
            client = principal.require_client()
            limit = codec.body_limit(gateway.settings.max_body_bytes)
            body = await _read_body(receive, headers, limit)
            ctx = CallContext(gateway, client, headers, request_id)
            parsed = await codec.parse(ctx, body)
            meta = CallMeta(
                request_id=request_id,
                conversation_id=_conversation(headers.get("x-conversation-id")),
                cache_control=headers.get("cache-control"),
                cache_ttl=_ttl(headers.get("x-ai-gateway-cache-ttl")),
                endpoint=codec.endpoint,
                received=received,
            )
            if parsed.request.stream:
                call = await gateway.pipeline.stream(client, parsed.request, parsed.options, meta)
                events = codec.stream(ctx, parsed, call)
                await _send_stream(events, _encode_headers(call.headers()), receive, send)
                return
            result = await gateway.pipeline.complete(client, parsed.request, parsed.options, meta)
            rendered: Rendered = await codec.render(ctx, parsed, result)
        except GatewayError as exc:
            await self._send_error(send, request_id, exc)
            return
        except Exception:
            log.exception("call failed", extra={"request_id": request_id, "path": codec.path})
            await self._send_error(
                send,
                request_id,
                GatewayError(
                    "internal error; the operator can find it in the logs by x-request-id"
                ),
            )
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", rendered.content_type),
                    (b"content-length", str(len(rendered.body)).encode()),
                    *_encode_headers(result.headers()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": rendered.body})

    async def _send_error(
        self, send: Send, request_id: str, exc: GatewayError, status: int | None = None
    ) -> None:
        data = self.codec.error_body(exc)
        await send(
            {
                "type": "http.response.start",
                "status": status or exc.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                    (b"x-request-id", request_id.encode()),
                    (b"x-ai-gateway-cache", b"MISS"),
                    *_encode_headers(exc.headers),  # Retry-After, x-ratelimit-* on a 429
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})


async def _send_stream(
    events: AsyncIterator[bytes],
    headers: list[tuple[bytes, bytes]],
    receive: Receive,
    send: Send,
) -> None:
    """Pump ``events`` to the client; a client that goes away cancels the pump, and
    closing ``events`` meters the call as abandoned."""
    await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS + headers})

    async def pump() -> None:
        try:
            async for event in events:
                await send({"type": "http.response.body", "more_body": True, "body": event})
            await send({"type": "http.response.body", "more_body": False, "body": b""})
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    pumping = asyncio.create_task(pump())
    watching = asyncio.create_task(disconnected())
    done, _ = await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
    if pumping in done:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        pumping.result()
        return
    pumping.cancel()
    await asyncio.gather(pumping, return_exceptions=True)
