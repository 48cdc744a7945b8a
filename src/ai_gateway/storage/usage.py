"""Writing usage rows: idempotent inserts, the budget increments they imply, and the daily
roll-ups (cache performance; usage and latency, see ``rollups``), all in ONE transaction
so the settled usage always equals the logged usage.

Rows carry their own id. ``INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id`` tells
which rows are new; only those move a budget, so a batch replayed after an uncertain
commit (or from the spool file) can never count twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ai_gateway.storage.budgets import increment_budget_usage
from ai_gateway.storage.rollups import roll_up_usage
from ai_gateway.storage.tables import CachePerformance, UsageLog

__all__ = ["UsageRecord", "WriteResult", "write_usage_batch"]


@dataclass(slots=True)
class UsageRecord:
    """One call's row plus what it does to the budget (``budget_amount`` in the client's
    budget unit) and to the cache roll-up."""

    row: dict[str, Any]
    budget_amount: Decimal = Decimal(0)
    cache_lookup: bool = False

    @property
    def id(self) -> str:
        return str(self.row["id"])

    @property
    def client_id(self) -> str:
        return str(self.row["client_id"])


@dataclass(slots=True)
class WriteResult:
    inserted: int = 0
    duplicates: int = 0
    #: client id -> (amount added by this batch, the budget total after it)
    budgets: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return sqlite.insert if dialect == "sqlite" else postgresql.insert


def write_usage_batch(session: Session, records: list[UsageRecord]) -> WriteResult:
    result = WriteResult()
    if not records:
        return result
    insert = _insert(session)
    statement: Insert = (
        insert(UsageLog).on_conflict_do_nothing(index_elements=["id"]).returning(UsageLog.id)
    )
    inserted_ids = set(session.scalars(statement, [r.row for r in records]).all())
    result.inserted = len(inserted_ids)
    result.duplicates = len(records) - result.inserted
    new_records = [r for r in records if r.id in inserted_ids]

    per_client: dict[str, Decimal] = defaultdict(Decimal)
    for record in new_records:
        if record.budget_amount:
            per_client[record.client_id] += record.budget_amount
    for client_id in sorted(per_client):  # a fixed order avoids deadlocks between writers
        amount = per_client[client_id]
        total = increment_budget_usage(session, client_id=client_id, amount=amount)
        result.budgets[client_id] = (amount, total)

    _roll_up_cache(session, insert, new_records)
    roll_up_usage(session, insert, [r.row for r in new_records])
    return result


def _roll_up_cache(session: Session, insert: Any, records: list[UsageRecord]) -> None:
    """Add hits, misses and savings to ``gateway_cache_performance`` per day x client x
    model (only for cacheable calls: rows whose ``cache_lookup`` was made)."""
    totals: dict[tuple[str, str, str], dict[str, Any]] = {}
    for record in records:
        row = record.row
        if not record.cache_lookup:
            continue
        created: datetime = row["created_at"]
        key = (
            created.date().isoformat(),
            row["client_id"],
            row.get("model_used") or row["model_requested"],
        )
        acc = totals.setdefault(
            key,
            {
                "hits": 0,
                "misses": 0,
                "tokens_saved": 0,
                "saved_usd": Decimal(0),
                "saved_brl": Decimal(0),
            },
        )
        if row.get("cache_hit"):
            acc["hits"] += 1
            acc["tokens_saved"] += int(row.get("input_tokens", 0)) + int(
                row.get("output_tokens", 0)
            )
            acc["saved_usd"] += row.get("saved_usd", Decimal(0))
            acc["saved_brl"] += row.get("saved_brl", Decimal(0))
        else:
            acc["misses"] += 1
    table = CachePerformance.__table__
    for (day, client_id, model_id), acc in sorted(totals.items()):
        statement = insert(CachePerformance).values(
            day=day, client_id=client_id, model_id=model_id, **acc
        )
        statement = statement.on_conflict_do_update(
            index_elements=["day", "client_id", "model_id"],
            set_={name: table.c[name] + statement.excluded[name] for name in acc},
        )
        session.execute(statement)
