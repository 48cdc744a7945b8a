"""uvicorn's httptools protocol with the deadlines it lacks, and the connection ceiling.

uvicorn times out only idle keep-alive connections: a peer that connects and never
sends a byte, sends its head one byte every few seconds (slowloris) or declares a body
it never finishes keeps its descriptor forever. :class:`GuardedHttpToolsProtocol` adds

- a *head deadline* (``header_timeout``): from the connection (or the first byte of a
  later request) to the end of the head; past it a partial head gets a 408, a silent
  peer is just closed;
- a *body deadline* (``body_timeout``): from the end of the head to the end of the body;
- the :class:`~ai_gateway.edge.connections.ConnectionBoard` ceiling on open connections.

The timers are armed only when a request did not arrive in one read, so the usual
request costs no timer at all. Passed to uvicorn as ``Config(http=...)``; the limits
travel in :class:`EdgeConfig` (pickled to ``--workers`` processes like any Config).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from ai_gateway.edge.connections import ConnectionBoard

__all__ = ["HEALTH_PATHS", "EdgeConfig", "EdgeLimits", "GuardedHttpToolsProtocol", "board_of"]

#: Always answered, even by a shed connection or at the concurrency ceiling: the probes
#: must tell "busy" from "dead".
HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 4096


class EdgeConfig(uvicorn.Config):
    """A uvicorn ``Config`` that also carries the edge limits to the protocol."""

    def __init__(self, app: Any, *, edge: EdgeLimits, **kwargs: Any) -> None:
        super().__init__(app, http=GuardedHttpToolsProtocol, **kwargs)
        self.edge = edge


def board_of(server_state: ServerState, limits: EdgeLimits) -> ConnectionBoard:
    """The board of one server (one per process): kept on uvicorn's own shared state."""
    board: ConnectionBoard | None = getattr(server_state, "edge_board", None)
    if board is None:
        board = ConnectionBoard(limits.max_connections)
        server_state.edge_board = board  # type: ignore[attr-defined]
    return board


def _error_bytes(status: int, code: str, message: str, extra: list[tuple[bytes, bytes]]) -> bytes:
    body = orjson.dumps(
        {
            "error": {
                "message": message,
                "type": "service_unavailable" if status == 503 else "invalid_request_error",
                "code": code,
                "param": None,
            }
        }
    )
    head = [STATUS_LINE[status]]
    for name, value in extra:
        head += [name, b": ", value, b"\r\n"]
    head += [
        b"content-type: application/json\r\n",
        b"content-length: " + str(len(body)).encode() + b"\r\n",
        b"connection: close\r\n\r\n",
    ]
    return b"".join(head) + body


def _shed_app(app: Any) -> Any:
    """What a shed connection runs: the health probes, else a 503 and close."""

    async def shed(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in HEALTH_PATHS:
            await app(scope, receive, send)
            return
        body = orjson.dumps(
            {
                "error": {
                    "message": "the gateway is at its connection limit; retry shortly",
                    "type": "service_unavailable",
                    "code": "too_many_connections",
                    "param": None,
                }
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", b"1"),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return shed


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits: EdgeLimits = getattr(config, "edge", None) or EdgeLimits()
        self._board = board_of(server_state, self._limits)
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._in_head = False
        self._in_body = False
        self._shed = False

    # -- connection lifetime -------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self._board.opened(self):
            self._shed = True
            self.app = _shed_app(self.app)
        self._head_timer = self.loop.call_later(self._limits.header_timeout, self._head_expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head()
        self._cancel_body()
        self._board.closed(self)
        super().connection_lost(exc)

    def evict(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._sync_timers()

    # -- parser callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._in_body = True
        self._board.busy(self)
        super().on_headers_complete()
        if self._shed and self.cycle is not None:
            self.cycle.keep_alive = False

    def on_message_complete(self) -> None:
        self._in_body = False
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.pipeline and self.cycle is not None and self.cycle.response_complete:
            self._board.idle(self)

    # -- deadlines -----------------------------------------------------------------------

    def _answering(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _sync_timers(self) -> None:
        if self.transport.is_closing():
            self._cancel_head()
            self._cancel_body()
            return
        # Waiting for a request with no keep-alive timer (e.g. after a stray CRLF) is
        # a head in progress too: something must bound it.
        waiting = (
            not self._in_body and not self._answering() and self.timeout_keep_alive_task is None
        )
        if self._in_head or waiting:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(
                    self._limits.header_timeout, self._head_expired
                )
        else:
            self._cancel_head()
        if self._in_body:
            if self._body_timer is None:
                self._body_timer = self.loop.call_later(
                    self._limits.body_timeout, self._body_expired
                )
        else:
            self._cancel_body()

    def _cancel_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _head_expired(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._in_head and not self._answering():
            self._close_with(408, "request_timeout", "the request head took too long to arrive")
        else:
            self.transport.close()

    def _body_expired(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_started:
            self._close_with(408, "request_timeout", "the request body took too long to arrive")
        else:
            self.transport.close()

    def _close_with(self, status: int, code: str, message: str) -> None:
        extra = list(self.server_state.default_headers)
        self.transport.write(_error_bytes(status, code, message, extra))
        self.transport.close()
        if self._answering():
            # The app waiting for the rest of the body hears a disconnect at once, and
            # whatever it still sends is dropped (the 408 is the answer).
            self.cycle.disconnected = True
            self.cycle.message_event.set()
