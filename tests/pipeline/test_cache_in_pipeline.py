"""The response cache inside the call path: coalescing under load, scope, opt-outs,
streams stored and replayed, and the accounting of hits."""

from __future__ import annotations

import asyncio

import aiohttp
import orjson
from sqlalchemy import func, select

from ai_gateway.storage.tables import CachePerformance, UsageLog
from tests.fakes.fake_providers import Behaviour
from tests.harness import Harness

BODY = {
    "model": "openai/gpt-4o-mini",
    "temperature": 0,
    "messages": [{"role": "user", "content": "o que é um orçamento?"}],
}


async def _post(
    session: aiohttp.ClientSession, h: Harness, key: str | None = None, **headers: str
) -> tuple[int, str, dict]:
    async with session.post(
        h.url + "/v1/chat/completions", json=BODY, headers={**h.headers(key), **headers}
    ) as resp:
        return resp.status, resp.headers["x-ai-gateway-cache"], await resp.json()


async def test_fifty_identical_requests_make_one_upstream_call(harness: Harness) -> None:
    harness.fake.enqueue("openai", Behaviour(delay=0.3))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=60)) as session:
        results = await asyncio.gather(*[_post(session, harness) for _ in range(50)])
    assert {r[0] for r in results} == {200}
    assert [r[1] for r in results].count("MISS") == 1
    assert [r[1] for r in results].count("HIT") == 49
    assert len(harness.fake.requests_for("openai")) == 1
    assert len({str(r[2]) for r in results}) == 1
    await harness.drain()
    with harness.db.session() as s:
        perf = s.scalars(select(CachePerformance)).one()
        hits = s.scalar(select(func.count()).select_from(UsageLog).where(UsageLog.cache_hit))
    assert (perf.hits, perf.misses, hits) == (49, 1, 49)
    assert perf.saved_usd > 0 and perf.saved_brl == perf.saved_usd * 5


async def test_client_scope_keeps_tenants_apart(harness: Harness) -> None:
    _other, other_key = harness.new_client("other")
    async with aiohttp.ClientSession() as session:
        assert (await _post(session, harness))[1] == "MISS"
        assert (await _post(session, harness))[1] == "HIT"
        assert (await _post(session, harness, other_key))[1] == "MISS"
    harness.configure(cache_scope="global")
    await harness.gateway.config.get()
    async with aiohttp.ClientSession() as session:
        assert (await _post(session, harness))[1] == "MISS"  # a new key space
        assert (await _post(session, harness, other_key))[1] == "HIT"


async def test_opt_outs_and_disabled_cache(harness: Harness) -> None:
    async with aiohttp.ClientSession() as session:
        await _post(session, harness)
        assert (await _post(session, harness, **{"Cache-Control": "no-store"}))[1] == "MISS"
        assert (await _post(session, harness, **{"Cache-Control": "no-cache"}))[1] == "MISS"
        harness.configure(cache_enabled=False)
        await harness.gateway.config.get()
        assert (await _post(session, harness))[1] == "MISS"
    assert len(harness.fake.requests_for("openai")) == 4


async def test_a_finished_stream_is_stored_and_replayed_as_a_stream(harness: Harness) -> None:
    body = {**BODY, "stream": True, "stream_options": {"include_usage": True}}

    async def stream() -> tuple[str, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                harness.url + "/v1/chat/completions", json=body, headers=harness.headers()
            ) as resp,
        ):
            return resp.headers["x-ai-gateway-cache"], await resp.text()

    first_state, _first = await stream()
    second_state, second = await stream()
    assert (first_state, second_state) == ("MISS", "HIT")
    assert second.endswith("data: [DONE]\n\n")
    chunks = [orjson.loads(line[6:]) for line in second.split("\n\n") if line[6:7] == "{"]
    text = "".join(c["delta"].get("content") or "" for ch in chunks for c in ch["choices"])
    assert text.startswith("Fake openai answer to")
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert len(harness.fake.requests_for("openai")) == 1


async def test_a_cut_stream_is_not_stored(harness: Harness) -> None:
    harness.fake.enqueue("openai", Behaviour(cut_after_chunks=2))
    body = {**BODY, "stream": True}
    async with aiohttp.ClientSession() as session:
        for expected in ("MISS", "MISS"):
            async with session.post(
                harness.url + "/v1/chat/completions", json=body, headers=harness.headers()
            ) as resp:
                assert resp.headers["x-ai-gateway-cache"] == expected
                await resp.read()
    assert len(harness.fake.requests_for("openai")) == 2


async def test_errors_are_not_cached(harness: Harness) -> None:
    harness.configure(fallback_chain=[])
    harness.fake.enqueue_failure("openai", status=500)
    async with aiohttp.ClientSession() as session:
        status, _, _ = await _post(session, harness)
        assert status == 502
        status, state, _ = await _post(session, harness)
        assert (status, state) == (200, "MISS")
