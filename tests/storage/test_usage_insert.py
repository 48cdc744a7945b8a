"""The usage writer's prebuilt insert stores exactly what SQLAlchemy's own dialect insert
stored (every column, defaults, SQL NULL against JSON null, exact money), inserts a
replayed row never, pages batches larger than one statement, and refuses a row naming a
column the table does not have."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import Table, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import UsageLog, new_id
from ai_gateway.storage.usage_insert import UnknownColumns, _plan, insert_new_rows
from tests.api.usage_rows import meter_row, usage_row

TABLE = cast(Table, UsageLog.__table__)


def _sqlalchemy_insert(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """What the writer ran before: the dialect's insert, one executemany per key set."""
    insert = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
    statement = insert(TABLE).on_conflict_do_nothing(index_elements=["id"]).returning(TABLE.c.id)
    inserted: set[str] = set()
    for keys in {frozenset(row) for row in rows}:
        group = [row for row in rows if frozenset(row) == keys]
        inserted.update(session.scalars(statement, group).all())
    return inserted


def _stored(db: Database, ids: list[str]) -> list[dict[str, Any]]:
    """Each row as read back, with the raw NULL-ness of the JSON column, in ``ids`` order."""
    with db.session() as s:
        rows = {r.id: dict(r._mapping) for r in s.execute(select(TABLE).where(TABLE.c.id.in_(ids)))}
        null = set(
            s.scalars(
                text("SELECT id FROM gateway_usage_logs WHERE telemetry IS NULL"),
            )
        )
    for row_id, row in rows.items():
        row["telemetry_is_sql_null"] = row_id in null
    return [rows[i] for i in ids]


def _twins(client_id: str) -> list[dict[str, Any]]:
    """Rows of every shape the writer sees: the meter's (every column, money with
    trailing zeros, a JSON telemetry or a None one) and sparse ones (defaults)."""
    full = meter_row(client_id)
    full["cost_usd"] = Decimal("0.1234567891")
    no_telemetry = meter_row(client_id) | {"telemetry": None, "ttft_ms": 120}
    sparse = usage_row(client_id, cost_brl=Decimal("12.5000000001"))
    sparse.pop("conversation_id")
    sparsest = {
        "client_id": client_id,
        "request_id": new_id(),
        "model_requested": "m",
        "route": "direct",
        "status": "error",
        "exchange_rate": Decimal("5.123456"),
        "id": new_id(),
    }
    return [full, no_telemetry, sparse, sparsest]


def test_it_stores_what_the_dialect_insert_stored(db: Database) -> None:
    with db.write() as s:
        client_id = create_client(s, name="t", plan="free").id
    ours = _twins(client_id)
    theirs = [row | {"id": new_id()} for row in ours]
    with db.write() as s:
        assert insert_new_rows(s, TABLE, ours) == {r["id"] for r in ours}
        assert _sqlalchemy_insert(s, theirs) == {r["id"] for r in theirs}
    mine = _stored(db, [r["id"] for r in ours])
    reference = _stored(db, [r["id"] for r in theirs])
    assert mine[3]["created_at"].tzinfo is not None
    for a, b in zip(mine, reference, strict=True):
        a, b = dict(a), dict(b)
        a.pop("id")
        b.pop("id")
        if a["created_at"] != b["created_at"]:  # a default: made at insert time
            assert abs(a.pop("created_at") - b.pop("created_at")).total_seconds() < 60
        assert a == b
    assert mine[0]["cost_usd"] == Decimal("0.1234567891")
    assert mine[1]["telemetry_is_sql_null"] is False  # a given None is JSON null ...
    assert mine[2]["telemetry_is_sql_null"] is True  # ... a missing key SQL NULL
    assert mine[3]["endpoint"] == "chat.completions"
    assert mine[3]["cost_usd"] == Decimal(0)


def test_a_replayed_row_is_not_inserted_again(db: Database) -> None:
    with db.write() as s:
        client_id = create_client(s, name="t", plan="free").id
    rows = _twins(client_id)
    with db.write() as s:
        assert len(insert_new_rows(s, TABLE, rows[:2])) == 2
    with db.write() as s:
        assert insert_new_rows(s, TABLE, rows) == {rows[2]["id"], rows[3]["id"]}
    with db.write() as s:
        assert insert_new_rows(s, TABLE, rows) == set()
        assert s.scalar(select(func.count()).select_from(TABLE)) == 4


def test_a_batch_larger_than_one_statement_is_paged(db: Database) -> None:
    with db.write() as s:
        client_id = create_client(s, name="t", plan="free").id
        per_statement = _plan(TABLE, s.connection().dialect, "id").rows_per_statement
    now = datetime.now(UTC)
    rows = [usage_row(client_id, created_at=now) for _ in range(per_statement * 2 + 3)]
    with db.write() as s:
        assert insert_new_rows(s, TABLE, rows) == {r["id"] for r in rows}
        assert s.scalar(select(func.count()).select_from(TABLE)) == len(rows)


def test_a_row_naming_an_unknown_column_refuses_the_batch(db: Database) -> None:
    with db.write() as s:
        client_id = create_client(s, name="t", plan="free").id
    rows = [usage_row(client_id), usage_row(client_id) | {"colour": "blue"}]
    with pytest.raises(UnknownColumns, match="colour"), db.write() as s:
        insert_new_rows(s, TABLE, rows)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(TABLE)) == 0
