"""``POST /v1/chat/completions`` as a raw ASGI handler: the hot path.

It bypasses FastAPI's routing, dependency injection and validation layers on purpose —
each costs CPU on every request (STYLE/BENCHMARKS: the gateway's overhead is the
headline number). It reads the body with a size cap, authenticates from memory, hands the
request to the pipeline and writes the answer with orjson. Streams are sent as
server-sent events; a watcher on ``receive`` notices a client that goes away and stops
the stream, which is then metered as abandoned.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from ai_gateway.errors import GatewayError, InvalidRequest, PayloadTooLarge
from ai_gateway.gateway import Gateway
from ai_gateway.logs import bind_request_id
from ai_gateway.pipeline.auth import bearer_token
from ai_gateway.pipeline.outcome import CallMeta
from ai_gateway.pipeline.run import StreamCall
from ai_gateway.pipeline.validation import parse_chat_request

__all__ = ["PATH", "ChatCompletionsEndpoint"]

log = logging.getLogger("ai_gateway.api")

PATH = "/v1/chat/completions"
Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_JSON = (b"content-type", b"application/json")
_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_DONE = b"data: [DONE]\n\n"


def _encode_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode("latin-1", "replace")) for k, v in headers.items()]


class ChatCompletionsEndpoint:
    def __init__(self, gateway: Callable[[], Gateway]) -> None:
        self._gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = time.perf_counter()
        # Values are UTF-8 (the request guard refused any other bytes with a 400).
        headers = {k.decode("latin-1"): v.decode("utf-8", "replace") for k, v in scope["headers"]}
        given_id = headers.get("x-request-id", "")
        request_id = given_id if _REQUEST_ID.match(given_id) else uuid.uuid4().hex
        bind_request_id(request_id)
        if scope["method"] != "POST":
            await _send_error(
                send,
                request_id,
                InvalidRequest("use POST for /v1/chat/completions", code="method_not_allowed"),
                status=405,
            )
            return
        gateway = self._gateway()
        try:
            principal = await gateway.auth.authenticate(bearer_token(headers.get("authorization")))
            client = principal.require_client()
            body = await _read_body(receive, headers, gateway.settings.max_body_bytes)
            try:
                payload = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise InvalidRequest(
                    f"the body is not valid JSON: {exc}", code="invalid_json"
                ) from None
            request, options = parse_chat_request(payload)
            meta = CallMeta(
                request_id=request_id,
                conversation_id=_conversation(headers.get("x-conversation-id")),
                cache_control=headers.get("cache-control"),
                cache_ttl=_ttl(headers.get("x-ai-gateway-cache-ttl")),
                received=received,
            )
            if request.stream:
                call = await gateway.pipeline.stream(client, request, options, meta)
                await _send_stream(call, receive, send)
                return
            result = await gateway.pipeline.complete(client, request, options, meta)
        except GatewayError as exc:
            await _send_error(send, request_id, exc)
            return
        except Exception:
            log.exception("chat completion failed", extra={"request_id": request_id})
            await _send_error(
                send,
                request_id,
                GatewayError(
                    "internal error; the operator can find it in the logs by x-request-id"
                ),
            )
            return
        data = orjson.dumps(result.body)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    _JSON,
                    (b"content-length", str(len(data)).encode()),
                    *_encode_headers(result.headers()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})


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


async def _send_error(
    send: Send, request_id: str, exc: GatewayError, status: int | None = None
) -> None:
    data = orjson.dumps(exc.to_body())
    await send(
        {
            "type": "http.response.start",
            "status": status or exc.status,
            "headers": [
                _JSON,
                (b"content-length", str(len(data)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"x-ai-gateway-cache", b"MISS"),
                *_encode_headers(exc.headers),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def _send_stream(call: StreamCall, receive: Receive, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": _SSE_HEADERS + _encode_headers(call.headers()),
        }
    )

    async def pump() -> None:
        chunks = call.__aiter__()
        failed = False
        try:
            async for chunk in chunks:
                failed = failed or "error" in chunk
                await send(
                    {
                        "type": "http.response.body",
                        "more_body": True,
                        "body": b"data: " + orjson.dumps(chunk) + b"\n\n",
                    }
                )
            await send(
                {"type": "http.response.body", "more_body": False, "body": b"" if failed else _DONE}
            )
        finally:
            await chunks.aclose()

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
