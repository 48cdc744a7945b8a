"""The per-request edge, in front of every route (ASGI): refuse what no route should pay
for, before it runs.

- header values must be UTF-8 (400): they are decoded as UTF-8 everywhere after this,
  so ``X-Conversation-Id: é`` is stored as ``é`` and never as ``Ã©``;
- at most ``max_concurrent_requests`` in flight per process, then a fast 503 (health
  probes excepted, so a busy gateway is not mistaken for a dead one);
- a body larger than ``max_body_bytes`` is a 413 on every route: a declared length at
  once, a chunked body as soon as it passes the limit (the rest is discarded by the
  server, within the body deadline);
- ``X-Content-Type-Options: nosniff`` on every answer, and the security headers of
  :mod:`ai_gateway.web.security` on every HTML page.

``/v1/chat/completions`` reads its own body with the same cap (it streams it into orjson
without a copy); every other route gets the body buffered here, then replayed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from ai_gateway.edge.protocol import HEALTH_PATHS
from ai_gateway.web.security import DASHBOARD_CSP, DOCS_PATHS, docs_csp, security_headers

__all__ = ["RequestGuard"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

_NOSNIFF = (b"x-content-type-options", b"nosniff")


async def _error(
    send: Send, status: int, error_type: str, code: str, message: str, *, close: bool = False
) -> None:
    body = orjson.dumps(
        {"error": {"message": message, "type": error_type, "code": code, "param": None}}
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        _NOSNIFF,
    ]
    if status == 503:
        headers.append((b"retry-after", b"1"))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _bad_header(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:
        if not value.isascii():
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                return name
    return None


def _declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class _TooLarge(Exception):
    pass


async def _buffered_body(receive: Receive, limit: int) -> tuple[list[Message], bool]:
    """The body's messages, read up to ``limit`` bytes; ``(messages, disconnected)``."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return messages, True
        size += len(message.get("body", b""))
        if size > limit:
            raise _TooLarge
        messages.append(message)
        if not message.get("more_body", False):
            return messages, False


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def _with_headers(scope: Scope, send: Send) -> Send:
    """Add nosniff to every answer and the page headers to HTML; an API docs page is
    held until its body is known, because its CSP hashes its inline script."""
    held: list[Message] = []

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", []), _NOSNIFF]
            content_type = next((v for k, v in headers if k == b"content-type"), b"")
            if content_type.startswith(b"text/html"):
                https = scope.get("scheme") == "https"
                if scope["path"] in DOCS_PATHS:
                    held.append({**message, "headers": headers})
                    return
                headers += security_headers(https=https, csp=DASHBOARD_CSP)
            await send({**message, "headers": headers})
            return
        if held:
            held.append(message)
            if message.get("more_body", False):
                return
            start, *parts = held
            held.clear()
            html = b"".join(p.get("body", b"") for p in parts)
            https = scope.get("scheme") == "https"
            headers = start["headers"] + security_headers(https=https, csp=docs_csp(html))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": html})
            return
        await send(message)

    return sending


class RequestGuard:
    """Wraps the app's router; one per process (it counts that process's requests)."""

    def __init__(
        self, app: App, *, max_body_bytes: int, max_concurrent: int, own_body_paths: frozenset[str]
    ) -> None:
        self._app = app
        self._limit = max_body_bytes
        self._max_concurrent = max_concurrent
        self._own_body = own_body_paths
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in HEALTH_PATHS:
            await self._app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        bad = _bad_header(headers)
        if bad is not None:
            await _error(
                send,
                400,
                "invalid_request_error",
                "invalid_header",
                f"the value of header {bad.decode('latin-1')!r} is not valid UTF-8",
            )
            return
        if self.in_flight >= self._max_concurrent:
            await _error(
                send,
                503,
                "service_unavailable",
                "overloaded",
                f"the gateway has {self._max_concurrent} requests in flight; retry shortly",
            )
            return
        self.in_flight += 1
        try:
            await self._guarded(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] in self._own_body:
            await self._app(scope, receive, send)
            return
        declared = _declared_length(scope["headers"])
        if declared is not None and declared > self._limit:
            await self._too_large(send)
            return
        try:
            messages, _gone = await _buffered_body(receive, self._limit)
        except _TooLarge:
            await self._too_large(send)
            return
        await self._app(scope, _replay(messages, receive), _with_headers(scope, send))

    async def _too_large(self, send: Send) -> None:
        await _error(
            send,
            413,
            "invalid_request_error",
            "payload_too_large",
            # Not "connection: close": closing with the body still arriving makes the
            # kernel reset the connection, and the client would never read the 413. The
            # rest is discarded, bounded by the body deadline.
            f"the body is larger than the limit of {self._limit} bytes",
        )
