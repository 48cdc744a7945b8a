"""``serve --workers 2``: ``/metrics`` counts every worker's requests, whichever worker
answers the scrape (prometheus_client's multiprocess mode, prepared by ``serve``)."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp

from tests.conftest import free_port
from tests.fakes.fake_providers import FakeProviders
from tests.harness import harness_settings, seed
from tests.serve_processes import serve_env, start_serve, stop_serve, wait_ready

CALLS = 40


def _requests_total(text: str) -> float:
    return sum(
        float(m.group(1))
        for m in re.finditer(r"^ai_gateway_requests_total\{[^}]*\} (\S+)$", text, flags=re.M)
    )


async def test_metrics_sum_over_workers(tmp_path: Path, fake_providers: FakeProviders) -> None:
    from ai_gateway.storage.db import Database
    from ai_gateway.storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'gw.db'}"
    db = Database(url)
    upgrade(db)
    settings = harness_settings(url, tmp_path / "data", fake_providers)
    _, key, _ = seed(db, settings)
    db.dispose()
    stale = tmp_path / "data" / "prometheus"
    stale.mkdir(parents=True)
    (stale / "counter_999999.db").write_bytes(b"\0" * 16)  # a previous run's file: wiped
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_serve(serve_env(settings), port, tmp_path, "--workers", "2")
    try:
        await wait_ready([base], timeout=60)
        body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        # A new connection per call, so the kernel spreads them over both workers.
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http:
            for _ in range(CALLS):
                async with http.post(
                    base + "/v1/chat/completions",
                    json=body,
                    headers={"Authorization": f"Bearer {key}", "Cache-Control": "no-store"},
                ) as resp:
                    assert resp.status == 200
            for _ in range(6):
                async with http.get(base + "/metrics") as resp:
                    text = await resp.text()
                assert _requests_total(text) == CALLS
        assert not (stale / "counter_999999.db").exists()
    finally:
        await stop_serve([proc])
