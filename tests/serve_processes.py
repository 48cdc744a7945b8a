"""``ai-gateway serve`` as real child processes, for tests that need several replicas.

Each process is what an operator runs: its own event loop, caches and usage writer,
sharing only the database (and Redis when given). Stopping sends SIGTERM and waits
without blocking the event loop, so the graceful shutdown (usage flush) is exercised.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from ai_gateway.settings import Settings
from tests.harness import PROVIDER_KEYS

__all__ = ["serve_env", "start_serve", "stop_serve", "wait_ready"]

ROOT = Path(__file__).resolve().parents[1]


def serve_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a serve process configured like ``settings``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AI_GATEWAY_") and k != "ENABLE_AI_GATEWAY"
    }
    env.update(
        {
            "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
            "AI_GATEWAY_DATABASE_URL": str(settings.database_url),
            "AI_GATEWAY_DATA_DIR": str(settings.data_dir),
            "AI_GATEWAY_MASTER_KEY": str(settings.master_key),
            "AI_GATEWAY_PTAX_BASE_URL": settings.ptax_base_url,
            "AI_GATEWAY_USAGE_FLUSH_INTERVAL": "0.05",
            "AI_GATEWAY_SCHEDULER_ENABLED": "false",
        }
    )
    if settings.redis_url:
        env["AI_GATEWAY_REDIS_URL"] = settings.redis_url
    for provider in PROVIDER_KEYS:
        env[f"AI_GATEWAY_{provider.upper()}_BASE_URL"] = str(
            settings.provider_base_url_override(provider)
        )
    env.update(extra)
    return env


def start_serve(env: dict[str, str], port: int, cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ai_gateway", "serve", "--port", str(port), *args],
        env=env,
        cwd=cwd,
    )


async def wait_ready(urls: Sequence[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        for url in urls:
            while True:
                try:
                    async with session.get(url + "/readyz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, f"{url} did not become ready"
                await asyncio.sleep(0.1)


async def stop_serve(procs: Sequence[subprocess.Popen[bytes]]) -> list[int | None]:
    """SIGTERM every process still running and wait (15 s each at most); their codes."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        for _ in range(300):
            if proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
        else:
            proc.kill()
            proc.wait()
    return [p.returncode for p in procs]
