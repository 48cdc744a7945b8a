"""Money stays exact on both engines, in rows and in SQL sums."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import UsageLog


def test_money_round_trips_and_sums_exactly(db: Database) -> None:
    amounts = [Decimal("0.0000001050"), Decimal("0.1"), Decimal("0.2"), Decimal("1234.5678901234")]
    with db.write() as s:
        client = create_client(s, name="exact", plan="free")
        for i, amount in enumerate(amounts):
            s.add(
                UsageLog(
                    client_id=client.id,
                    request_id=f"r{i}",
                    model_requested="m",
                    route="direct",
                    status="success",
                    cost_usd=amount,
                    cost_brl=amount,
                    exchange_rate=Decimal("5.123456"),
                )
            )
    with db.session() as s:
        stored = sorted(s.scalars(select(UsageLog.cost_usd)))
        total = s.scalar(select(func.sum(UsageLog.cost_usd)))
        rate = s.scalar(select(UsageLog.exchange_rate).limit(1))
    assert stored == sorted(amounts)
    assert total == sum(amounts)
    assert total == Decimal("1234.8678902284")
    assert rate == Decimal("5.123456")
