"""The connection deadlines and ceiling of the edge protocol, with real sockets against a
real server: silent peers, slowloris heads, bodies that never end, idle keep-alive, and
a flood of idle connections that must not lock out a new caller nor the health probe."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest

from tests.edge.conftest import EdgeGateway
from tests.edge.sockets import connect, request, until_closed


@pytest.fixture
def harness(edge_gateway: EdgeGateway) -> EdgeGateway:
    return edge_gateway


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "header_timeout": 1.0,
        "body_timeout": 1.0,
        "keepalive_timeout": 1,
        "max_connections": 40,
    }


async def test_a_silent_connection_is_closed_after_the_head_deadline(harness: EdgeGateway) -> None:
    reader, writer = await connect(harness.url)
    received, took = await until_closed(reader, 5)
    assert received == b"" and 0.8 < took < 3
    writer.close()


async def test_a_slowloris_head_gets_a_408_and_is_closed(harness: EdgeGateway) -> None:
    reader, writer = await connect(harness.url)

    async def trickle() -> None:
        for byte in b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: " + b"a" * 50:
            writer.write(bytes([byte]))
            await asyncio.sleep(0.1)

    dripping = asyncio.create_task(trickle())
    received, took = await until_closed(reader, 5)
    dripping.cancel()
    assert received.startswith(b"HTTP/1.1 408 ")
    assert b'"code":"request_timeout"' in received and took < 3
    writer.close()


async def test_a_stray_crlf_does_not_buy_an_endless_connection(harness: EdgeGateway) -> None:
    reader, writer = await connect(harness.url)
    writer.write(b"\r\n")
    _, took = await until_closed(reader, 5)
    assert took < 3
    writer.close()


async def test_a_body_that_never_ends_gets_a_408(harness: EdgeGateway) -> None:
    reader, writer = await connect(harness.url)
    writer.write(
        b"POST /api/clients HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        + f"authorization: Bearer {harness.admin_key}\r\n".encode()
        + b'content-length: 1000\r\n\r\n{"name": '
    )
    received, took = await until_closed(reader, 5)
    assert received.startswith(b"HTTP/1.1 408 ") and took < 3
    writer.close()
    # The gateway still answers everyone else.
    reader, writer = await connect(harness.url)
    status, _, _ = await request(reader, writer, "GET", "/healthz")
    assert status == 200
    writer.close()


async def test_keep_alive_works_and_idles_out(harness: EdgeGateway) -> None:
    reader, writer = await connect(harness.url)
    for _ in range(3):
        status, headers, _ = await request(
            reader, writer, "GET", "/v1/models", headers={"authorization": f"Bearer {harness.key}"}
        )
        assert status == 200 and headers.get("connection") != "close"
    received, took = await until_closed(reader, 5)
    assert received == b"" and 0.8 < took < 3
    writer.close()


async def test_idle_connections_make_room_and_health_keeps_answering(harness: EdgeGateway) -> None:
    board = harness.board
    idle = [await connect(harness.url) for _ in range(200)]
    # The evictions run on the server's loop: wait for them (a busy runner took > 0.2 s).
    deadline = time.monotonic() + 5
    while board.evicted < 160 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert board.open <= 40
    assert board.evicted >= 160
    reader, writer = await connect(harness.url)
    status, _, _body = await request(reader, writer, "GET", "/healthz")
    assert status == 200
    status, _, _ = await request(
        reader, writer, "GET", "/v1/models", headers={"authorization": f"Bearer {harness.key}"}
    )
    assert status == 200
    writer.close()
    closed = 0
    for idle_reader, idle_writer in idle:
        data, _ = await until_closed(idle_reader, 5)
        closed += data == b""
        idle_writer.close()
    assert closed == 200
    await asyncio.sleep(0.1)
    assert board.open == 0


async def test_with_every_connection_busy_a_new_one_is_shed_but_health_answers(
    harness: EdgeGateway,
) -> None:
    board = harness.board
    board.limit = 3
    for _ in range(3):
        harness.fake.enqueue("openai", delay=1.5)

    async def slow_call(n: int) -> int:
        # Different prompts: identical ones would be coalesced into one upstream call.
        message = {"role": "user", "content": f"call {n}"}
        body = orjson.dumps({"model": "openai/gpt-4o", "messages": [message]})
        reader, writer = await connect(harness.url)
        status, _, _ = await request(
            reader,
            writer,
            "POST",
            "/v1/chat/completions",
            headers={"authorization": f"Bearer {harness.key}"},
            body=body,
        )
        writer.close()
        return status

    calls = [asyncio.create_task(slow_call(n)) for n in range(3)]
    async with asyncio.timeout(10):
        while len(harness.fake.requests) < 3:
            await asyncio.sleep(0.02)
    reader, writer = await connect(harness.url)
    status, headers, data = await request(reader, writer, "GET", "/healthz")
    writer.close()
    assert status == 200 and headers["connection"] == "close"
    reader, writer = await connect(harness.url)
    status, headers, data = await request(
        reader, writer, "GET", "/v1/models", headers={"authorization": f"Bearer {harness.key}"}
    )
    writer.close()
    assert status == 503 and headers["retry-after"] == "1"
    assert orjson.loads(data)["error"]["code"] == "too_many_connections"
    assert await asyncio.gather(*calls) == [200, 200, 200]
    assert board.shed == 2
