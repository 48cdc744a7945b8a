"""Records cross to the writer process as their journal lines: made once per record, and
written exactly as the thread writes the record itself (every column, exact money, the
body); a record with no JSON form still crosses, pickled."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select

from ai_gateway.metering.usage_sinks import ProcessSink, ThreadSink, _from_parent, _to_child
from ai_gateway.metering.usage_writer import UsageWriter
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import RequestBody, UsageLog, new_id
from ai_gateway.storage.usage import UsageRecord, encode_record
from tests.api.usage_rows import meter_row

TABLE: Table = UsageLog.__table__  # type: ignore[assignment]


def _exact(record: UsageRecord) -> dict[str, Any]:
    """Every value with its type and exact text (Decimal('5.000000') is not Decimal('5'))."""
    values = {f"row.{k}": (type(v), str(v)) for k, v in record.row.items()}
    values["budget_amount"] = (type(record.budget_amount), str(record.budget_amount))
    values["cache_lookup"] = (bool, str(record.cache_lookup))
    values["body"] = (dict, str(record.body))
    return values


def _meter_record(client_id: str, **row: Any) -> UsageRecord:
    return UsageRecord(
        row=meter_row(client_id) | row,
        budget_amount=Decimal("0.0000666630"),
        cache_lookup=True,
        body={"request": {"messages": [{"role": "user", "content": "oi"}]}, "response": None},
    )


def test_a_meter_record_crosses_as_its_line_unchanged() -> None:
    record = _meter_record(new_id(), cost_usd=Decimal("0.1000000000"), ttft_ms=12)
    [sent] = _to_child([record])
    assert sent is record.line and sent == encode_record(record)
    [received] = _from_parent([sent])
    assert _exact(received) == _exact(record)


async def test_the_journal_line_is_what_crosses(db: Database, tmp_path: Path) -> None:
    with db.write() as s:
        client_id = create_client(s, name="t", plan="free").id
    writer = UsageWriter(ThreadSink(db), spool_dir=tmp_path, flush_interval=0.05)
    writer.start()
    record = _meter_record(client_id)
    try:
        writer.submit(record)  # the journal encodes it ...
        line = record.line
        assert line is not None
        journaled = b"".join(
            p.read_bytes() for p in (tmp_path / "journal").rglob("*") if p.is_file()
        )
        assert line + b"\n" in journaled
        [sent] = _to_child([record])
        assert sent is line  # ... and the sink sends that very line, not a new encoding
        async with asyncio.timeout(30):
            await writer.drain()
    finally:
        await writer.stop()
    assert writer.written == 1


async def test_the_process_writes_what_the_thread_writes(db: Database, database_url: str) -> None:
    with db.write() as s:
        client_id = create_client(s, name="t", plan="free").id
    twins = [
        _meter_record(client_id, cost_usd=Decimal("0.1234567891"), telemetry=None),
        _meter_record(client_id, exchange_rate=Decimal("5.123400"), error_message="x" * 300),
        # no JSON form (orjson refuses ints beyond 64 bits): crosses pickled
        _meter_record(client_id, telemetry={"upstream_tokens": 2**70}),
    ]
    assert not isinstance(_to_child(twins[2:])[0], bytes)
    process_batch = [
        UsageRecord(row=r.row | {"id": new_id()}, budget_amount=r.budget_amount, body=r.body)
        for r in twins
    ]
    thread_sink, process_sink = ThreadSink(db), ProcessSink(database_url)
    try:
        by_thread = await thread_sink.write(twins)
        by_process = await process_sink.write(process_batch)
    finally:
        await process_sink.close()
    assert by_thread.inserted == by_process.inserted == 3
    assert by_process.budgets[client_id][0] == by_thread.budgets[client_id][0]
    with db.session() as s:
        stored = {r.id: dict(r._mapping) for r in s.execute(select(TABLE))}
        bodies = {b.usage_id: b.request for b in s.scalars(select(RequestBody))}
    for a, b in zip(twins, process_batch, strict=True):
        mine, theirs = stored[a.id], stored[b.id]
        assert bodies[a.id] == bodies[b.id] == a.body["request"]  # type: ignore[index]
        mine.pop("id")
        theirs.pop("id")
        assert mine == theirs
    assert stored[twins[0].id]["cost_usd"] == Decimal("0.1234567891")
