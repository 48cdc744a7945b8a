"""The database goes away mid-run: calls keep being answered, their usage rows wait (in
memory, then a spool file) and all arrive exactly once when it comes back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from ai_gateway.storage.budgets import effective_budget
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import UsageLog
from tests.fakes.fake_providers import FakeProviders
from tests.fakes.tcp_proxy import TcpProxy
from tests.harness import Harness, harness_settings, seed, start_gateway

pytestmark = pytest.mark.postgres


@pytest_asyncio.fixture(params=["thread", "process"])
async def behind_proxy(
    request: pytest.FixtureRequest,
    pg_db: Database,
    fake_providers: FakeProviders,
    tmp_path: Path,
) -> AsyncIterator[tuple[Harness, TcpProxy]]:
    """A gateway whose database connections go through a proxy the test can cut; its
    usage rows are written by a thread or by the writer process (the production
    default)."""
    proxy = TcpProxy("127.0.0.1", 5432)
    await proxy.start()
    url = pg_db.url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = harness_settings(
        url,
        tmp_path / "data",
        fake_providers,
        usage_batch_size=10,
        usage_writer_process=request.param == "process",
    )
    client, key, admin = seed(pg_db, settings)
    app, server, task, port = await start_gateway(settings)
    harness = Harness(
        f"http://127.0.0.1:{port}", app, settings, pg_db, fake_providers, client, key, admin
    )
    try:
        yield harness, proxy
    finally:
        proxy.restore()
        server.exit()
        await task
        await proxy.close()


async def _calls(h: Harness, n: int, tag: str) -> list[int]:
    async with aiohttp.ClientSession() as session:
        statuses = []
        for i in range(n):
            async with session.post(
                h.url + "/v1/chat/completions",
                headers=h.headers(),
                json={"messages": [{"role": "user", "content": f"{tag} {i}"}]},
            ) as resp:
                await resp.read()
                statuses.append(resp.status)
        return statuses


async def test_rows_survive_an_outage_and_arrive_once(
    behind_proxy: tuple[Harness, TcpProxy],
) -> None:
    harness, proxy = behind_proxy
    writer = harness.gateway.usage
    writer._max_memory = 5  # spill to the spool file early in this test
    assert await _calls(harness, 3, "before") == [200] * 3
    await harness.drain()

    proxy.cut()
    assert await _calls(harness, 12, "during") == [200] * 12
    spool = harness.settings.data_dir / "spool" / "usage-spool.jsonl"

    def on_disk() -> bool:  # the spool, or the same file renamed while a replay is tried
        return spool.exists() or spool.with_suffix(".replaying").exists()

    async with asyncio.timeout(10):  # the next failed flush spills past the memory bound
        while not on_disk():
            writer.flush_soon()
            await asyncio.sleep(0.05)
    assert writer.failures > 0

    proxy.restore()
    async with asyncio.timeout(40):
        while True:
            with harness.db.session() as s:
                count = s.scalar(select(func.count()).select_from(UsageLog)) or 0
            if count >= 15 and writer.backlog == 0 and not on_disk():
                break
            writer.flush_soon()
            await asyncio.sleep(0.1)
    with harness.db.session() as s:
        total = s.scalar(select(func.sum(UsageLog.cost_brl)))
        ids = s.scalars(select(UsageLog.request_id)).all()
        usage = effective_budget(s, client_id=harness.client.id).current_usage
    assert len(ids) == len(set(ids)) == 15
    assert usage == total
