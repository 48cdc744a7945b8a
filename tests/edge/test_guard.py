"""The request guard in front of every route: body size (413 everywhere, also chunked),
UTF-8 header values (400 for other bytes; é is stored as é), the concurrency ceiling
(a fast 503 while the health probes answer)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import orjson
import pytest
from sqlalchemy import select

from ai_gateway.storage.tables import UsageLog
from tests.edge.conftest import EdgeGateway
from tests.edge.sockets import connect, request
from tests.harness import Harness

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_concurrent_requests": 2}


async def test_a_20_mb_body_is_a_413_without_being_read(edge_gateway: EdgeGateway) -> None:
    for path, key in (("/api/clients", edge_gateway.admin_key), ("/v1/chat/completions", None)):
        reader, writer = await connect(edge_gateway.url)
        started = time.monotonic()
        writer.write(
            f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n".encode()
            + f"authorization: Bearer {key or edge_gateway.key}\r\n".encode()
            + b"content-length: 20000000\r\n\r\n"
        )
        try:
            async with asyncio.timeout(5):
                status_line = await reader.readline()
        finally:
            writer.close()
        assert status_line.startswith(b"HTTP/1.1 413 ") and time.monotonic() - started < 2


async def test_a_chunked_body_past_the_limit_is_a_413(edge_gateway: EdgeGateway) -> None:
    async def chunks() -> Any:
        for _ in range(25):
            yield b"x" * 100_000

    async with (
        aiohttp.ClientSession() as session,
        session.put(
            edge_gateway.url + "/api/ai-gateway/config",
            data=chunks(),
            headers={"Authorization": f"Bearer {edge_gateway.admin_key}"},
        ) as resp,
    ):
        assert resp.status == 413
        assert (await resp.json())["error"]["type"] == "invalid_request_error"


async def test_a_header_that_is_not_utf8_is_a_400(edge_gateway: EdgeGateway) -> None:
    for path, extra in (("/v1/chat/completions", b"x-conversation-id"), ("/v1/models", b"x-any")):
        reader, writer = await connect(edge_gateway.url)
        writer.write(
            f"GET {path} HTTP/1.1\r\nhost: x\r\n".encode()
            + f"authorization: Bearer {edge_gateway.key}\r\n".encode()
            + extra
            + b": caf\xe9\r\n\r\n"
        )
        status = int((await reader.readline()).split()[1])
        writer.close()
        assert status == 400


async def test_a_utf8_conversation_id_is_stored_as_sent(harness: Harness) -> None:
    """Both engines: the header's bytes reach the usage row as the text the client sent."""
    reader, writer = await connect(harness.url)
    body = orjson.dumps(CHAT)
    writer.write(
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        + f"authorization: Bearer {harness.key}\r\n".encode()
        + "x-conversation-id: conversa-é-ação\r\n".encode()
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    status = int((await reader.readline()).split()[1])
    writer.close()
    assert status == 200
    await harness.drain()
    with harness.db.session() as s:
        [conversation] = s.scalars(select(UsageLog.conversation_id))
    assert conversation == "conversa-é-ação"


async def test_past_the_concurrency_ceiling_a_fast_503_and_health_answers(
    edge_gateway: EdgeGateway,
) -> None:
    h = edge_gateway
    for _ in range(2):
        h.fake.enqueue("openai", delay=1.5)

    async def call(n: int) -> int:
        body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": f"n{n}"}]}
        async with (
            aiohttp.ClientSession() as session,
            session.post(h.url + "/v1/chat/completions", json=body, headers=h.headers()) as r,
        ):
            return r.status

    slow = [asyncio.create_task(call(n)) for n in range(2)]
    async with asyncio.timeout(10):
        while len(h.fake.requests) < 2:
            await asyncio.sleep(0.02)
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        async with session.get(h.url + "/v1/models", headers=h.headers()) as resp:
            assert resp.status == 503 and resp.headers["Retry-After"] == "1"
            error = (await resp.json())["error"]
            assert error["code"] == "overloaded" and error["type"] == "service_unavailable"
        assert time.monotonic() - started < 0.5
        async with session.get(h.url + "/healthz") as resp:
            assert resp.status == 200
        async with session.get(h.url + "/readyz") as resp:
            assert resp.status == 200
    assert await asyncio.gather(*slow) == [200, 200]
    assert h.app.guard.in_flight == 0


async def test_every_answer_says_nosniff(edge_gateway: EdgeGateway) -> None:
    reader, writer = await connect(edge_gateway.url)
    status, headers, _ = await request(
        reader, writer, "GET", "/v1/models", headers={"authorization": f"Bearer {edge_gateway.key}"}
    )
    writer.close()
    assert status == 200 and headers["x-content-type-options"] == "nosniff"
