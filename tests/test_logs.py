"""Every JSON log line of a request carries its request id, also from the threads and
tasks the request hands work to, and never leaks into another request's lines."""

from __future__ import annotations

import asyncio
import logging

import orjson

from ai_gateway.logs import JsonFormatter, bind_request_id


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(orjson.loads(self.format(record)))


async def test_request_id_on_every_line_of_its_request_only() -> None:
    handler = _Collect()
    log = logging.getLogger("ai_gateway.test_logs")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False

    async def request(rid: str) -> None:
        bind_request_id(rid)
        log.info("on the loop")
        await asyncio.to_thread(log.info, "in a storage thread")
        await asyncio.create_task(asyncio.sleep(0))
        log.info("after", extra={"step": "metering"})

    try:
        await asyncio.gather(request("req-a"), request("req-b"))
        log.info("between requests")
    finally:
        log.removeHandler(handler)
    by_id: dict[object, int] = {}
    for line in handler.lines:
        by_id[line.get("request_id")] = by_id.get(line.get("request_id"), 0) + 1
    assert by_id == {"req-a": 3, "req-b": 3, None: 1}
    assert any(line.get("step") == "metering" for line in handler.lines)
