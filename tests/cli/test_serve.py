"""``ai-gateway serve`` as a real process: it answers, and a stop signal to its whole
process group (Ctrl-C, systemd's default) loses no usage row: the rows still waiting in
the server are written on the way out, through the writer process (which ignores the
group's signal; were it gone, a new one would be started for the last flush)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from ai_gateway.storage import migrate
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import UsageLog
from tests.conftest import free_port
from tests.fakes.fake_providers import FakeProviders
from tests.harness import harness_settings, seed
from tests.pipeline.test_budget_multiprocess import settings_env


async def test_group_stop_signal_flushes_every_row(
    fake_providers: FakeProviders, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    db = Database(url)
    migrate.upgrade(db)
    settings = harness_settings(url, tmp_path / "data", fake_providers)
    _client, key, _admin = seed(db, settings)
    env = settings_env(settings)
    env["AI_GATEWAY_USAGE_WRITER_PROCESS"] = "true"  # the production default
    env["AI_GATEWAY_USAGE_FLUSH_INTERVAL"] = "2"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ai_gateway", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with session.get(base + "/readyz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
            await _calls(session, base, key, range(5))
            # The writer process exists once the first rows are in.
            while _rows(db) < 5:
                assert time.monotonic() < deadline + 30
                await asyncio.sleep(0.05)
            await _calls(session, base, key, range(5, 20))  # these wait in the server
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its writer process alike
        for _ in range(300):
            if proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert _rows(db) == 20  # none was left behind in a spool file
    db.dispose()


def _rows(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(UsageLog)) or 0


async def _calls(session: aiohttp.ClientSession, base: str, key: str, numbers: range) -> None:
    for i in numbers:
        async with session.post(
            base + "/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"messages": [{"role": "user", "content": f"row {i}"}]},
        ) as resp:
            assert resp.status == 200
