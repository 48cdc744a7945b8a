"""Streaming time to first byte: N sequential streamed requests on one keep-alive socket.

Plain blocking sockets, so the probe itself adds almost nothing. The request carries
``"user": "ttfb-probe"``, which makes the fake upstream wait a little between events: a
proxy that forwarded events as they come shows a first byte long before the last one; one
that buffered would show them together.
"""

from __future__ import annotations

import socket
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["TtfbResult", "probe"]


@dataclass(frozen=True)
class TtfbResult:
    ttfb_ms: list[float]  # request sent -> first ``data:`` byte of the body
    total_ms: list[float]  # request sent -> end of the stream

    @property
    def ttfb_p50(self) -> float:
        return statistics.median(self.ttfb_ms)

    @property
    def total_p50(self) -> float:
        return statistics.median(self.total_ms)


def _request(host: str, port: int, body: bytes, headers: dict[str, str]) -> bytes:
    head = [
        "POST /v1/chat/completions HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def probe(url: str, body: bytes, headers: dict[str, str], count: int) -> TtfbResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    message = _request(host, port, body, headers)
    ttfb: list[float] = []
    total: list[float] = []
    with socket.create_connection((host, port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(count):
            started = time.perf_counter()
            sock.sendall(message)
            received = b""
            first: float | None = None
            while True:
                data = sock.recv(65536)
                if not data:
                    raise RuntimeError("the server closed the connection mid-stream")
                received += data
                if first is None:
                    head_end = received.find(b"\r\n\r\n")
                    if head_end >= 0 and b"data:" in received[head_end:]:
                        first = time.perf_counter()
                        if not received.startswith(b"HTTP/1.1 200"):
                            raise RuntimeError(received[:300].decode("latin-1"))
                if received.endswith(b"\r\n0\r\n\r\n") and first is not None:
                    break
            ended = time.perf_counter()
            ttfb.append((first - started) * 1000)
            total.append((ended - started) * 1000)
    return TtfbResult(ttfb, total)
