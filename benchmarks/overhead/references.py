"""The reference proxies measured beside the gateway in the same run: the bare Python hop
(``bare_hop.py``) and, when it is installed, nginx (one worker, keep-alive to the
upstream, no buffering), each a subprocess whose CPU is read like the gateway's."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Reference", "bare_hop", "nginx"]

_NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx-body;
  proxy_temp_path {work}/nginx-proxy;
  fastcgi_temp_path {work}/nginx-fastcgi;
  uwsgi_temp_path {work}/nginx-uwsgi;
  scgi_temp_path {work}/nginx-scgi;
  upstream fake {{ server {upstream}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }}
  }}
}}
"""


@dataclass(frozen=True)
class Reference:
    name: str
    url: str
    pid: int


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited at start; see {log}")
        try:
            request = urllib.request.Request(
                url + "/v1/chat/completions", data=b'{"model":"m"}', method="POST"
            )
            with urllib.request.urlopen(request, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer; see {log}")


@contextlib.contextmanager
def _process(name: str, command: list[str], url: str, log: Path) -> Iterator[Reference]:
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
    try:
        _wait_ready(url, process, log)
        yield Reference(name, url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def bare_hop(port: int, upstream: str, work: Path) -> contextlib.AbstractContextManager[Reference]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.overhead.bare_hop",
        "--port",
        str(port),
        "--upstream",
        upstream,
    ]
    return _process("bare", command, f"http://127.0.0.1:{port}", work / "bare-hop.log")


@contextlib.contextmanager
def nginx(port: int, upstream: str, work: Path) -> Iterator[Reference | None]:
    """nginx in front of the upstream, or None when nginx is not installed."""
    binary = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )
    if binary is None:
        yield None
        return
    conf = work / "nginx.conf"
    conf.write_text(
        _NGINX_CONF.format(work=work, port=port, upstream=upstream.removeprefix("http://"))
    )
    command = [binary, "-c", str(conf), "-p", str(work)]
    with _process("nginx", command, f"http://127.0.0.1:{port}", work / "nginx.log") as ref:
        yield ref
