"""Rows the budget, alert and job tests start from: clients, budget counters, usage logs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import update

from ai_gateway.storage.clients import ClientInfo, create_client, update_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import ClientBudget, UsageLog, new_id


def add_client(db: Database, name: str = "acme", plan: str = "pro", **changes: Any) -> ClientInfo:
    with db.write() as s:
        client = create_client(s, name=name, plan=plan)
        if changes:
            client = update_client(s, client_id=client.id, changes=changes)
    return client


def set_counters(db: Database, client_id: str, **values: Any) -> None:
    """Write ``client_budgets`` columns directly (usage, period bounds, pause)."""
    with db.write() as s:
        s.execute(update(ClientBudget).where(ClientBudget.client_id == client_id).values(**values))


def add_usage(
    db: Database,
    client_id: str,
    at: datetime,
    *,
    count: int = 1,
    status: str = "success",
    cost_usd: Decimal = Decimal("0.01"),
    tokens: int = 100,
) -> None:
    with db.write() as s:
        for _ in range(count):
            s.add(
                UsageLog(
                    id=new_id(),
                    client_id=client_id,
                    request_id=new_id(),
                    model_requested="openai/gpt-4o-mini",
                    model_used="openai/gpt-4o-mini",
                    route="direct",
                    input_tokens=tokens // 2,
                    output_tokens=tokens - tokens // 2,
                    cost_usd=cost_usd,
                    cost_brl=cost_usd * 5,
                    exchange_rate=Decimal("5.00"),
                    status=status,
                    created_at=at,
                )
            )


def restore_shared_config(db: Database) -> None:
    """Undo what alert and pricing tests set on the single config row (PostgreSQL keeps it
    between tests)."""
    from ai_gateway.storage.shared_config import update_shared_config

    with db.write() as s:
        update_shared_config(
            s,
            changes={
                "admin_alert_email": None,
                "admin_alert_webhook": None,
                "gateway_secret_id": None,
            },
        )
