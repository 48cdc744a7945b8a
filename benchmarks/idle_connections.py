"""Descriptors of ``ai-gateway serve`` under a flood of idle connections.

Starts a real ``serve`` process (SQLite in a temporary folder), opens N connections that
never send a byte (from helper processes, at most 5,000 each, so no client hits its own
descriptor limit), and meanwhile probes ``/healthz`` on fresh connections. It reports the
server's open descriptors (``/proc/<pid>/fd``) at the peak and after the head deadline,
how many idle connections the server closed, and the probes' latency::

    python -m benchmarks.idle_connections --connections 20000 --max-connections 4096

Loopback only; it stops by itself. ``tests/edge/test_fd_budget.py`` runs it small.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["FloodResult", "flood"]

_PER_PROCESS = 5000


@dataclass
class FloodResult:
    connections: int
    max_connections: int
    server_fds_before: int
    server_fds_peak: int
    server_fds_after: int
    closed_by_server: int
    health_probes: int
    health_ok: int
    health_max_ms: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _raise_own_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need), hard))


def _hold(port: int, count: int, hold_s: float, ready: Any, results: Any) -> None:
    """A helper process: open ``count`` silent connections, then count those the server
    closed within ``hold_s``."""
    _raise_own_limit(count + 64)
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.setblocking(True)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            continue
        s.setblocking(False)
        sockets.append(s)
    ready.put(len(sockets))
    deadline = time.monotonic() + hold_s
    open_ones = set(sockets)
    while open_ones and time.monotonic() < deadline:
        for s in list(open_ones):
            try:
                if s.recv(1) == b"":
                    open_ones.discard(s)
            except BlockingIOError:
                pass
            except OSError:
                open_ones.discard(s)
        time.sleep(0.2)
    results.put(len(sockets) - len(open_ones))
    for s in sockets:
        s.close()


async def _probe(port: int) -> float | None:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(5):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            line = await reader.readline()
            writer.close()
    except (OSError, TimeoutError):
        return None
    return (time.perf_counter() - started) * 1000 if b" 200 " in line else None


def _start(port: int, data: Path, env_extra: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_GATEWAY_")}
    root = Path(__file__).resolve().parents[1]
    env.update(
        {
            "PYTHONPATH": f"{root / 'src'}:{root}",
            "AI_GATEWAY_DATA_DIR": str(data),
            "AI_GATEWAY_SCHEDULER_ENABLED": "false",
            "AI_GATEWAY_USAGE_WRITER_PROCESS": "false",
            "AI_GATEWAY_PTAX_BASE_URL": "http://127.0.0.1:9/odata",
            **env_extra,
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "ai_gateway", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while await _probe(port) is None:
        if time.monotonic() > deadline:
            raise RuntimeError("serve did not start")
        await asyncio.sleep(0.2)


async def flood(
    connections: int, *, max_connections: int, header_timeout: float = 3.0
) -> FloodResult:
    """Run one flood against a fresh ``serve`` process and measure it."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = _start(
            port,
            Path(tmp),
            {
                "AI_GATEWAY_MAX_CONNECTIONS": str(max_connections),
                "AI_GATEWAY_HEADER_TIMEOUT": str(header_timeout),
            },
        )
        try:
            await _wait_ready(port)
            before = _fds(proc.pid)
            context = multiprocessing.get_context("spawn")
            ready, results = context.Queue(), context.Queue()
            hold_s = header_timeout + 10
            helpers = []
            left = connections
            while left > 0:
                count = min(_PER_PROCESS, left)
                left -= count
                helper = context.Process(target=_hold, args=(port, count, hold_s, ready, results))
                helper.start()
                helpers.append(helper)
            peak, latencies, probes = before, [], 0
            opened = 0
            while opened < len(helpers):
                while not ready.empty():
                    ready.get()
                    opened += 1
                peak = max(peak, _fds(proc.pid))
                probes += 1
                latencies.append(await _probe(port))
                await asyncio.sleep(0.05)
            for _ in range(10):  # the flood is complete: keep probing and sampling
                peak = max(peak, _fds(proc.pid))
                probes += 1
                latencies.append(await _probe(port))
                await asyncio.sleep(0.1)
            closed = sum(results.get(timeout=hold_s + 60) for _ in helpers)
            for helper in helpers:
                helper.join(timeout=30)
            await asyncio.sleep(0.5)
            after = _fds(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    ok = [ms for ms in latencies if ms is not None]
    return FloodResult(
        connections=connections,
        max_connections=max_connections,
        server_fds_before=before,
        server_fds_peak=peak,
        server_fds_after=after,
        closed_by_server=closed,
        health_probes=probes,
        health_ok=len(ok),
        health_max_ms=round(max(ok), 1) if ok else -1.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=20_000)
    parser.add_argument("--max-connections", type=int, default=4096)
    parser.add_argument("--header-timeout", type=float, default=3.0)
    args = parser.parse_args()
    result = asyncio.run(
        flood(
            args.connections,
            max_connections=args.max_connections,
            header_timeout=args.header_timeout,
        )
    )
    print(json.dumps(asdict(result), indent=2))


if __name__ == "__main__":
    main()
