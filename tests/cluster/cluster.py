"""A production-shaped cluster on loopback: three ``serve`` replicas behind Debian's
nginx, on PostgreSQL and a Redis of the test's own (a ``redis-server`` on a free port, so
a test may stop it without touching any other Redis). Nothing is installed here: without
nginx or redis-server the tests skip (and fail with ``CI=true``; ``scripts/test.sh``
installs nginx)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ai_gateway.settings import Settings
from tests.conftest import IN_CI, free_port
from tests.serve_processes import serve_env, start_serve, stop_serve, wait_ready

__all__ = ["Cluster", "PrivateRedis", "require_binary"]


def require_binary(name: str) -> str:
    path = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is not installed and CI=true requires it (see scripts/test.sh)")
        pytest.skip(f"{name} is not installed")
    return path


@dataclass
class PrivateRedis:
    """A throw-away redis-server; ``stop`` and ``start`` again on the same port."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        binary = require_binary("redis-server")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                await writer.wait_closed()
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise AssertionError("redis-server did not start")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            for _ in range(100):
                if self.proc.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


_NGINX_CONF = """
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 2048; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  upstream ai_gateway {{
{servers}
    keepalive 64;
    keepalive_timeout 4s;  # under the replicas' 5 s: nginx never reuses one they close
  }}
  server {{
    listen 127.0.0.1:{port};
    client_body_buffer_size 1m;
    location / {{
      proxy_pass http://ai_gateway;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 60s;
      proxy_next_upstream error timeout;
    }}
  }}
}}
"""


@dataclass
class Cluster:
    settings: Settings
    workdir: Path
    replicas: int = 3
    env_extra: dict[str, str] = field(default_factory=dict)
    ports: list[int] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    nginx: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def replica_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    async def start(self) -> None:
        nginx = require_binary("nginx")
        self.ports = [free_port() for _ in range(self.replicas)]
        env = serve_env(self.settings, **self.env_extra)
        self.procs = [start_serve(env, p, self.workdir) for p in self.ports]
        await wait_ready(self.replica_urls, timeout=60)
        prefix = self.workdir / "nginx"
        prefix.mkdir(exist_ok=True)
        self.port = free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(
            _NGINX_CONF.format(
                user="user root;" if os.geteuid() == 0 else "",
                prefix=prefix,
                port=self.port,
                servers="\n".join(
                    f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in self.ports
                ),
            )
        )
        self.nginx = subprocess.Popen(
            [nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"]
        )
        await wait_ready([self.url], timeout=20)

    def kill9(self, index: int) -> None:
        self.procs[index].send_signal(signal.SIGKILL)
        self.procs[index].wait()

    async def restart(self, index: int) -> None:
        env = serve_env(self.settings, **self.env_extra)
        self.procs[index] = start_serve(env, self.ports[index], self.workdir)
        await wait_ready([self.replica_urls[index]], timeout=60)

    async def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.terminate()
            self.nginx.wait(timeout=10)
        await stop_serve(self.procs)
