"""The writer process writes exactly what the thread would, and reports failures the
same way."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from ai_gateway.metering.usage_sinks import ProcessSink, ThreadSink, WriteFailed
from ai_gateway.storage.budgets import effective_budget
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import UsageLog, new_id
from ai_gateway.storage.usage import UsageRecord


def _record(client_id: str, cost: Decimal) -> UsageRecord:
    row = {
        "id": new_id(),
        "client_id": client_id,
        "request_id": new_id(),
        "model_requested": "openai/gpt-4o",
        "model_used": "openai/gpt-4o",
        "provider": "openai",
        "route": "direct",
        "status": "success",
        "input_tokens": 10,
        "output_tokens": 5,
        "cost_usd": cost,
        "cost_brl": cost * 5,
        "exchange_rate": Decimal("5.00"),
        "created_at": datetime.now(UTC),
    }
    return UsageRecord(row=row, budget_amount=cost * 5)


@pytest.mark.parametrize("kind", ["thread", "process"])
async def test_a_batch_lands_with_its_budget_increment(
    db: Database, database_url: str, kind: str
) -> None:
    with db.write() as s:
        client = create_client(s, name="sink", plan="pro")
    sink = ProcessSink(database_url) if kind == "process" else ThreadSink(db)
    batch = [_record(client.id, Decimal("0.0000012345")) for _ in range(20)]
    try:
        result = await sink.write(batch)
        again = await sink.write(batch)  # a replay adds nothing
    finally:
        await sink.close()
    assert (result.inserted, again.inserted, again.duplicates) == (20, 0, 20)
    assert result.budgets[client.id][0] == Decimal("0.0000012345") * 5 * 20
    with db.session() as s:
        assert len(s.scalars(select(UsageLog.id)).all()) == 20
        assert (
            effective_budget(s, client_id=client.id).current_usage == result.budgets[client.id][1]
        )


async def test_the_process_reports_an_unwritable_database(tmp_path: object) -> None:
    sink = ProcessSink("postgresql://nobody@127.0.0.1:9/none")
    try:
        with pytest.raises(WriteFailed, match="OperationalError"):
            await sink.write([_record("x", Decimal(1))])
    finally:
        await sink.close()
    assert os.getpid()  # the serving process is unharmed
