"""Fuzz ``POST /v1/chat/completions`` over real HTTP: thousands of hostile bodies (wrong
types everywhere, deep nesting, huge strings, invalid UTF-8, damaged JSON) and hostile
headers; not one answer may be a 5xx, and every error keeps the OpenAI shape.

SQLite only: this is about the HTTP edge and validation, not storage. The seed is fixed,
so a failure replays; ``AI_GATEWAY_FUZZ_SEED`` / ``AI_GATEWAY_FUZZ_COUNT`` widen a run.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
from collections import Counter

import aiohttp
import orjson
import pytest

from tests.api.openai.fuzz_bodies import generate
from tests.harness import Harness

SEED = int(os.environ.get("AI_GATEWAY_FUZZ_SEED", "20261202"))
COUNT = int(os.environ.get("AI_GATEWAY_FUZZ_COUNT", "5000"))
_PARALLEL = 8


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: a copy of the session's migrated template."""
    return sqlite_url


async def _send(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes, str]:
    data: bytes | io.BytesIO = io.BytesIO(body) if len(body) > 1_000_000 else body
    async with session.post(url, data=data, headers=headers) as resp:
        payload = await resp.read()
        return resp.status, payload, resp.headers.get("content-type", "")


def _check_error_shape(status: int, payload: bytes, content_type: str) -> None:
    if status < 400:
        return
    assert content_type.startswith("application/json"), (status, content_type)
    error = orjson.loads(payload)["error"]
    assert isinstance(error["message"], str) and error["type"], error
    assert "Traceback" not in error["message"]


async def test_fuzzed_bodies_never_get_a_5xx(harness: Harness) -> None:
    bodies = generate(SEED, COUNT)
    url = harness.url + "/v1/chat/completions"
    headers = {**harness.headers(), "Content-Type": "application/json"}
    statuses: Counter[int] = Counter()
    failures: list[tuple[int, bytes, bytes]] = []
    queue = iter(enumerate(bodies))

    async def worker(session: aiohttp.ClientSession) -> None:
        for _, body in queue:
            status, payload, content_type = await _send(session, url, body, headers)
            statuses[status] += 1
            if status >= 500:
                failures.append((status, body[:300], payload[:300]))
            _check_error_shape(status, payload, content_type)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(_PARALLEL)))
    print(f"\nfuzz seed={SEED} bodies={len(bodies)} statuses={dict(sorted(statuses.items()))}")
    assert failures == [], (len(failures), failures[:5])
    assert sum(statuses.values()) == COUNT
    # The generator must reach the providers too, not only the validator.
    assert statuses[200] > COUNT // 20


async def test_fuzzed_headers_never_get_a_5xx(harness: Harness) -> None:
    rng = random.Random(SEED)
    body = orjson.dumps(
        {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    )
    odd = [
        b"\xff\xfe",
        b"\xc3\xa9",
        "é".encode(),
        b"\x80abc",
        b"a" * 8000,
        b" ",
        b"\t",
        b"0",
        b"-1",
    ]
    names = [b"x-conversation-id", b"x-request-id", b"cache-control", b"x-ai-gateway-cache-ttl"]
    statuses: Counter[int] = Counter()
    reader_writer = [await asyncio.open_connection("127.0.0.1", int(harness.url.rsplit(":", 1)[1]))]
    for _ in range(300):
        reader, writer = reader_writer[0]
        name, value = rng.choice(names), rng.choice(odd) + rng.choice([b"", b"\xe9", b"x"])
        head = (
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n"
            + f"authorization: Bearer {harness.key}\r\n".encode()
            + name
            + b": "
            + value
            + b"\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
        )
        writer.write(head + body)
        await writer.drain()
        status_line = await reader.readline()
        status = int(status_line.split()[1])
        statuses[status] += 1
        length, closing = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            key, _, val = line.decode("latin-1").partition(":")
            if key.lower() == "content-length":
                length = int(val)
            closing = closing or (key.lower() == "connection" and "close" in val.lower())
        await reader.readexactly(length)
        assert status < 500, (name, value, status)
        if closing or (status == 400 and length == 0):
            writer.close()
            reader_writer[0] = await asyncio.open_connection(
                "127.0.0.1", int(harness.url.rsplit(":", 1)[1])
            )
    reader_writer[0][1].close()
    print(f"\nheader fuzz statuses={dict(sorted(statuses.items()))}")
    assert statuses[200] > 0 and statuses[400] > 0
