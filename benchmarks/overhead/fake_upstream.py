"""A fast fake OpenAI upstream: raw asyncio + uvloop + orjson, HTTP/1.1 keep-alive.

It answers every ``POST`` at once with a fixed ``chat.completion`` (with ``usage``), or,
when the body asks for ``"stream":true``, with a few server-sent ``chat.completion.chunk``
events, a usage chunk and ``data: [DONE]`` (chunked transfer encoding, one HTTP chunk per
event). It parses no more HTTP than it must: the point is that it costs next to nothing,
so that whatever a proxy in front of it adds stands out.

A stream whose body contains ``"user":"ttfb-probe"`` waits ``--probe-gap-ms`` between
events, so the TTFB probe can tell a proxy that forwards each event at once from one that
buffers. Run alone: ``python -m benchmarks.overhead.fake_upstream --port 9100``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import cast

import orjson

__all__ = ["COMPLETION", "FakeUpstream", "serve"]

_MODEL = "gpt-4o-mini"
_USAGE = {
    "prompt_tokens": 24,
    "completion_tokens": 9,
    "total_tokens": 33,
    "prompt_tokens_details": {"cached_tokens": 0},
}
COMPLETION = {
    "id": "chatcmpl-bench000000000000000001",
    "object": "chat.completion",
    "created": 1700000000,
    "model": _MODEL,
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
            "finish_reason": "stop",
        }
    ],
    "usage": _USAGE,
}


def _chunk(delta: dict[str, str], finish: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-bench000000000000000001",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": _MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _http_chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


_EVENTS = [
    b"data: " + orjson.dumps(data) + b"\n\n"
    for data in (
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"content": "Hello!"}),
        _chunk({"content": " How can I"}),
        _chunk({"content": " help you today?"}),
        _chunk({}, "stop"),
        {**_chunk({}), "choices": [], "usage": _USAGE},
    )
] + [b"data: [DONE]\n\n"]
_STREAM_CHUNKS = [_http_chunk(event) for event in _EVENTS] + [b"0\r\n\r\n"]

_BODY = orjson.dumps(COMPLETION)
_JSON_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"content-type: application/json\r\n"
    b"x-request-id: req_bench\r\n"
    b"content-length: %d\r\n\r\n" % len(_BODY)
) + _BODY
_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"content-type: text/event-stream\r\n"
    b"cache-control: no-cache\r\n"
    b"x-request-id: req_bench\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
)
_STREAM_RESPONSE = _STREAM_HEAD + b"".join(_STREAM_CHUNKS)


class FakeUpstream(asyncio.Protocol):
    """One connection: requests are answered in order as soon as their body is in."""

    probe_gap = 0.02

    def __init__(self) -> None:
        self._buffer = b""
        self._transport: asyncio.Transport | None = None
        self._probing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they behave like one.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while not self._probing:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buffer[:end].lower()
            length = 0
            start = head.find(b"content-length:")
            if start >= 0:
                stop = head.find(b"\r\n", start)
                length = int(head[start + 15 : stop if stop >= 0 else None])
            total = end + 4 + length
            if len(self._buffer) < total:
                return
            body = self._buffer[end + 4 : total]
            self._buffer = self._buffer[total:]
            self._answer(body)

    def _answer(self, body: bytes) -> None:
        assert self._transport is not None
        compact = body.replace(b" ", b"")
        if b'"stream":true' not in compact:
            self._transport.write(_JSON_RESPONSE)
        elif b'"user":"ttfb-probe"' in compact:
            self._probing = True
            asyncio.get_running_loop().create_task(self._slow_stream())
        else:
            self._transport.write(_STREAM_RESPONSE)

    async def _slow_stream(self) -> None:
        assert self._transport is not None
        self._transport.write(_STREAM_HEAD)
        events = _STREAM_CHUNKS[:-1]
        for index, piece in enumerate(events):
            if index:
                await asyncio.sleep(self.probe_gap)
            self._transport.write(piece)
        self._transport.write(_STREAM_CHUNKS[-1])
        self._probing = False
        if self._buffer:
            self.data_received(b"")


async def serve(host: str, port: int, probe_gap_ms: float) -> None:
    FakeUpstream.probe_gap = probe_gap_ms / 1000
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FakeUpstream, host, port, backlog=1024, reuse_address=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--probe-gap-ms", type=float, default=20.0)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # still useful without it, only slower
        runner = asyncio.run
    else:
        runner = uvloop.run
    with contextlib.suppress(KeyboardInterrupt):
        runner(serve(args.host, args.port, args.probe_gap_ms))


if __name__ == "__main__":
    main()
