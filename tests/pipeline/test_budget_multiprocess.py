"""Two gateway processes on one PostgreSQL and one Redis: the budget limit holds across
them, because reservations are shared in Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
import redis
from sqlalchemy import func, select

from ai_gateway.settings import Settings
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import Client, UsageLog
from tests.conftest import REDIS_URL, free_port, require_service
from tests.fakes.fake_providers import FakeProviders
from tests.harness import PROVIDER_KEYS, harness_settings, seed
from tests.pipeline.test_budget_concurrency import _call

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]


def settings_env(settings: Settings) -> dict[str, str]:
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
            "AI_GATEWAY_REDIS_URL": settings.redis_url or "",
            "AI_GATEWAY_PTAX_BASE_URL": settings.ptax_base_url,
            "AI_GATEWAY_USAGE_FLUSH_INTERVAL": "0.05",
            "AI_GATEWAY_SCHEDULER_ENABLED": "false",
        }
    )
    for provider in PROVIDER_KEYS:
        env[f"AI_GATEWAY_{provider.upper()}_BASE_URL"] = str(
            settings.provider_base_url_override(provider)
        )
    return env


@pytest_asyncio.fixture
async def two_gateways(
    pg_db: Database, fake_providers: FakeProviders, tmp_path: Path
) -> AsyncIterator[tuple[list[str], Database, Settings]]:
    require_service("Redis", "127.0.0.1", 6379)
    settings = harness_settings(
        str(pg_db.url.render_as_string(hide_password=False)),
        tmp_path / "data",
        fake_providers,
        redis_url=REDIS_URL,
    )
    seed(pg_db, settings)
    env = settings_env(settings)
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ai_gateway", "serve", "--port", str(p)], env=env, cwd=tmp_path
        )
        for p in ports
    ]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as session:
            for url in urls:
                while True:
                    try:
                        async with session.get(url + "/readyz") as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    assert time.monotonic() < deadline, "gateway processes did not start"
                    await asyncio.sleep(0.1)
        yield urls, pg_db, settings
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            # Graceful shutdown flushes the usage rows; wait without blocking the loop.
            for _ in range(300):
                if proc.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                proc.kill()
                proc.wait()
        _forget_shared_counters(pg_db)
        # uvicorn re-raises the SIGTERM it handled once it has shut down cleanly.
        assert [p.returncode for p in procs] == [-signal.SIGTERM] * 2


def _forget_shared_counters(db: Database) -> None:
    """Delete the Redis budget keys of this test's clients (they outlive it by weeks)."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        with db.session() as session:
            ids = list(session.scalars(select(Client.id)))
        for client_id in ids:
            keys = list(client.scan_iter(match=f"aigw:budget:{client_id}*"))
            if keys:
                client.delete(*keys)
    finally:
        client.close()


async def _rows(db: Database, client_id: str, expected: int) -> int:
    for _ in range(200):
        with db.session() as s:
            count = (
                s.scalar(
                    select(func.count())
                    .select_from(UsageLog)
                    .where(UsageLog.client_id == client_id)
                )
                or 0
            )
        if count >= expected:
            return count
        await asyncio.sleep(0.05)
    return count


async def test_limit_holds_across_two_processes(
    two_gateways: tuple[list[str], Database, Settings],
) -> None:
    from ai_gateway.storage.api_keys import issue_key
    from ai_gateway.storage.budgets import effective_budget
    from ai_gateway.storage.clients import create_client
    from tests.pipeline.test_budget_concurrency import set_budget_row

    urls, db, _settings = two_gateways
    with db.write() as s:
        probe = create_client(s, name="probe", plan="pro")
        probe_key = issue_key(s, role="client", client_id=probe.id).plain
        crowd = create_client(s, name="crowd", plan="pro")
        crowd_key = issue_key(s, role="client", client_id=crowd.id).plain
    async with aiohttp.ClientSession() as session:
        assert await _call(session, urls[0], probe_key) == 200
    assert await _rows(db, probe.id, 1) == 1
    with db.session() as s:
        per_call = s.scalars(select(UsageLog.cost_brl).where(UsageLog.client_id == probe.id)).one()
    limit = per_call * 50
    set_budget_row(db, crowd.id, limit)

    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as session:
        statuses = await asyncio.gather(
            *[_call(session, urls[i % 2], crowd_key) for i in range(200)]
        )
    ok = statuses.count(200)
    assert statuses.count(402) + ok == 200 and ok >= 10
    assert await _rows(db, crowd.id, 200) == 200
    for _ in range(100):  # the writers' last flush
        with db.session() as s:
            logged = s.scalar(
                select(func.sum(UsageLog.cost_brl)).where(UsageLog.client_id == crowd.id)
            ) or Decimal(0)
            usage = effective_budget(s, client_id=crowd.id).current_usage
        if usage == logged:
            break
        await asyncio.sleep(0.05)
    assert usage == logged == per_call * ok
    # One call reserves ~2x what it costs here; without shared reservations two processes
    # would each admit up to the whole limit.
    assert usage <= limit + per_call * 3
