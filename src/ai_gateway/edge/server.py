"""Build and run the uvicorn server of ``ai-gateway serve`` with the edge protocol.

``uvicorn.run`` builds its own ``Config``, so it cannot carry :class:`EdgeConfig`; this
module does what it does (one process, or ``--workers`` processes on one socket) with
ours. Descriptors: the soft ``RLIMIT_NOFILE`` is raised to the hard limit at start (as Go
and nginx do), and the connection ceiling is lowered if even that leaves too few for
the upstream connections, the database pool and the files the process needs.
"""

from __future__ import annotations

import contextlib
import logging
import resource
import sys
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from ai_gateway.edge.protocol import EdgeConfig, EdgeLimits
from ai_gateway.settings import Settings

__all__ = ["FD_RESERVE", "build_config", "raise_fd_limit", "run"]

log = logging.getLogger("ai_gateway.edge")

#: Descriptors kept for everything but client connections: the database pool, Redis,
#: the usage writer's pipes, logs, spool files (upstream connections are counted apart,
#: one per request in flight).
FD_RESERVE = 128


def raise_fd_limit() -> int:
    """Raise the soft descriptor limit to the hard one; returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return int(soft)


def edge_limits(settings: Settings, fd_limit: int) -> EdgeLimits:
    """The settings' limits, with the connection ceiling fitted under ``fd_limit``."""
    room = fd_limit - FD_RESERVE - settings.max_concurrent_requests
    max_connections = settings.max_connections
    if room < max_connections:
        max_connections = max(16, room)
        log.warning(
            "connection ceiling lowered to fit the descriptor limit",
            extra={
                "configured": settings.max_connections,
                "effective": max_connections,
                "fd_limit": fd_limit,
            },
        )
    return EdgeLimits(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_connections=max_connections,
    )


def build_config(
    app: Any, settings: Settings, *, host: str, port: int, fd_limit: int, **options: Any
) -> EdgeConfig:
    """The server config: edge protocol and limits, keep-alive timeout, trusted proxies."""
    return EdgeConfig(
        app,
        edge=edge_limits(settings, fd_limit),
        host=host,
        port=port,
        timeout_keep_alive=settings.keepalive_timeout,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        **options,
    )


def run(config: EdgeConfig) -> None:
    """Serve until stopped, like ``uvicorn.run``; exit 3 if the server could not start."""
    server = uvicorn.Server(config)
    if config.workers > 1:
        sock = config.bind_socket()
        Multiprocess(config, sockets=[sock]).run()
        return
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(3)
