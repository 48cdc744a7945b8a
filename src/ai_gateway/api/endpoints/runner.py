"""One raw ASGI handler for every model route (``/v1/chat/completions``,
``/v1/embeddings``, ``/v1/messages``, ``/v1/responses``, ``/v1/audio/transcriptions``): the
hot path.

It bypasses FastAPI's routing, dependency injection and validation layers on purpose —
each costs CPU on every request (STYLE/BENCHMARKS: the gateway's overhead is the headline
number). The steps are written once here: the request id, the key, the body read under
its cap, the codec's parse, the conversation and cache headers, the pipeline, the answer
or its stream, and errors in the route's shape. Only the codec differs per route: how the
key is sent, how the body is read, how the answer, the stream and the errors look.
Streams are sent as server-sent events; a watcher on ``receive`` notices a client that
goes away and stops the stream, which is then metered as abandoned.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from ai_gateway.api.endpoints.base import CallContext, Codec, Rendered
from ai_gateway.errors import GatewayError, InvalidRequest, PayloadTooLarge
from ai_gateway.gateway import Gateway
from ai_gateway.logs import bind_request_id
from ai_gateway.pipeline.outcome import CallMeta
from ai_gateway.tracing import record_error, span

if TYPE_CHECKING:
    from opentelemetry.trace import Span

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
        self._span_name = f"POST {codec.path}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = time.perf_counter()
        codec = self.codec
        # ASGI names are lower case; values are UTF-8 (the request guard refused any other
        # bytes with a 400).
        headers = {k.decode("latin-1"): v.decode("utf-8", "replace") for k, v in scope["headers"]}
        given_id = headers.get("x-request-id", "")
        request_id = given_id if _REQUEST_ID.match(given_id) else uuid.uuid4().hex
        bind_request_id(request_id)  # every log line of this request carries it
        if scope["method"] != "POST":
            error = InvalidRequest(f"use POST for {codec.path}", code="method_not_allowed")
            await self._send_error(send, request_id, error, status=405)
            return
        with span(self._span_name) as root:
            if root is not None:
                root.set_attribute("http.route", codec.path)
                root.set_attribute("ai_gateway.endpoint", codec.endpoint)
            await self._serve(headers, request_id, received, receive, send, root)

    async def _serve(
        self,
        headers: dict[str, str],
        request_id: str,
        received: float,
        receive: Receive,
        send: Send,
        root: Span | None,
    ) -> None:
        codec = self.codec
        gateway = self._gateway()
        try:
            principal = await gateway.auth.authenticate(codec.credentials(headers))
            client = principal.require_client()
            if root is not None:
                root.set_attribute("ai_gateway.client_id", str(client.id))
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
            record_error(root, exc, **{"http.status_code": exc.status})
            await self._send_error(send, request_id, exc)
            return
        except Exception as exc:
            log.exception("call failed", extra={"request_id": request_id, "path": codec.path})
            record_error(root, exc, **{"http.status_code": 500})
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


def _encode_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode("latin-1", "replace")) for k, v in headers.items()]


def _conversation(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > 200:
        raise InvalidRequest(
            "X-Conversation-Id must be 1 to 200 characters", param="X-Conversation-Id"
        )
    return value


def _ttl(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise InvalidRequest("x-ai-gateway-cache-ttl must be a whole number of seconds")
    return int(value)


async def _read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidRequest("the client went away before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


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
