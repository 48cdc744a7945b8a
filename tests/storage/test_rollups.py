"""The daily roll-ups: kept in step by the usage writer (replays never count twice), and
backfilled from existing rows by migration 0004."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Column, ColumnDefault, MetaData, Table, func, insert, select
from sqlalchemy.orm import Session

from ai_gateway.storage import analytics, migrate
from ai_gateway.storage.analytics import Window
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import (
    Client,
    UsageDaily,
    UsageDailyClient,
    UsageDailyEndpoint,
    UsageDailyTotal,
    UsageLatencyDaily,
    UsageLog,
    UsageMonthly,
)
from tests.api.usage_rows import usage_row, write_rows


def _sums(db: Database) -> dict[str, tuple[object, ...]]:
    result: dict[str, tuple[object, ...]] = {}
    with db.session() as s:
        for name, table in (
            ("daily", UsageDaily),
            ("totals", UsageDailyTotal),
            ("clients", UsageDailyClient),
            ("endpoints", UsageDailyEndpoint),
            ("monthly", UsageMonthly),
        ):
            row = s.execute(
                select(func.sum(table.requests), func.sum(table.cost_brl), func.sum(table.errors))
            ).one()
            result[name] = (int(row[0]), row[1], int(row[2]))
        result["log"] = (
            s.scalar(select(func.count()).select_from(UsageLog)) or 0,
            s.scalar(select(func.sum(UsageLog.cost_brl))),
            s.scalar(select(func.count()).where(UsageLog.status == "error")) or 0,
        )
        result["latency"] = (int(s.scalar(select(func.sum(UsageLatencyDaily.calls))) or 0),)
    return result


def _rows(a: str, b: str) -> list[dict[str, object]]:
    return [
        usage_row(a, cost_brl=Decimal("0.1234567891")),
        usage_row(a, status="error", model_used="groq/llama-3.3-70b", provider="groq"),
        usage_row(b, days_ago=2, latency_ms=5),
        usage_row(b, days_ago=2, model_used=None, provider=None),
    ]


def test_writer_keeps_every_rollup_in_step(db: Database) -> None:
    with db.write() as s:
        a = create_client(s, name="a", plan="free").id
        b = create_client(s, name="b", plan="free").id
    rows = _rows(a, b)
    write_rows(db, rows)
    write_rows(db, rows)  # a replayed batch: no row is new, nothing moves
    sums = _sums(db)
    assert sums["log"] == (4, Decimal("0.1384567891"), 1)
    assert sums["daily"] == sums["totals"] == sums["clients"] == sums["monthly"] == sums["log"]
    assert sums["endpoints"] == sums["log"]
    assert sums["latency"] == (4,)


#: Columns added after 0003 (by 0010, 0011 and 0013): an old schema has none of them.
_ADDED_AFTER_0003 = {
    "gateway_usage_logs": {
        "endpoint",
        "cache_write_price_per_1m",
        "cache_write_tokens",
        "prompt_cache_saved_usd",
        "prompt_cache_saved_brl",
        "cache_semantic",  # 0013
    },
    "clients": {
        "prompt_cache_breakpoints",
        "store_bodies",
        "body_retention_days",
        "semantic_cache",
        "semantic_cache_threshold",
    },
}


def _insert_at_0003(session: Session, model: Any, rows: list[dict[str, object]]) -> list[str]:
    """Insert rows into a 0003 schema: only the columns it has, with the model's
    Python-side defaults filled in as the ORM would. Returns the ids."""
    later = _ADDED_AFTER_0003.get(model.__tablename__, set())
    columns = [c for c in model.__table__.columns if c.name not in later]
    old = Table(model.__tablename__, MetaData(), *(Column(c.name, c.type) for c in columns))
    ids = []
    for row in rows:
        values = dict(row)
        for column in columns:
            default = column.default
            if column.name not in values and isinstance(default, ColumnDefault):
                values[column.name] = default.arg(None) if default.is_callable else default.arg
        session.execute(insert(old).values(**values))
        ids.append(str(values["id"]))
    return ids


def test_migration_backfills_existing_usage(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(db, "0003")
    with db.write() as s:
        a, b = _insert_at_0003(
            s, Client, [{"name": "a", "plan": "free"}, {"name": "b", "plan": "free"}]
        )
        _insert_at_0003(s, UsageLog, _rows(a, b))
    migrate.upgrade(db)
    sums = _sums(db)
    assert sums["daily"] == sums["totals"] == sums["clients"] == sums["monthly"] == sums["log"]
    assert sums["endpoints"] == sums["log"]
    assert sums["latency"] == (4,)
    db.dispose()


def test_breakdown_by_endpoint_from_the_rollup_equals_the_rows(db: Database) -> None:
    """The per-endpoint roll-up answers exactly what summing the client's rows answers
    (every sum, the order, the window's edges), and a replay moves nothing."""
    with db.write() as s:
        a = create_client(s, name="a", plan="free").id
        b = create_client(s, name="b", plan="free").id
    rows = [
        *_rows(a, b),
        usage_row(a, endpoint="embeddings", cost_usd=Decimal("0.0000123456")),
        usage_row(a, endpoint="embeddings", cache_hit=True, cached_tokens=7),
        usage_row(a, endpoint="responses", status="cut", fallback_from="openai/gpt-4o"),
        usage_row(
            a,
            endpoint="messages",
            days_ago=3,
            cache_write_tokens=40,
            prompt_cache_saved_usd=Decimal("-0.0002"),
            prompt_cache_saved_brl=Decimal("-0.001"),
        ),
        usage_row(a, endpoint="audio.transcriptions", days_ago=9, cost_usd=Decimal("0.5")),
        usage_row(b, endpoint="embeddings", cost_usd=Decimal("9")),
    ]
    write_rows(db, rows)
    write_rows(db, rows)  # replayed: no row is new, the roll-up does not move
    every_route = ("gateway", "direct", "legacy")  # a route filter reads the rows
    for days in (1, 7, 30):
        window = Window.last_days(days)
        with db.session() as s:
            from_rollup = analytics.by_endpoint(s, window=window, client_id=a)
            from_rows = analytics.by_endpoint(
                s, window=replace(window, routes=every_route), client_id=a
            )
        assert from_rollup == from_rows, days
    assert [e["endpoint"] for e in from_rollup][:2] == ["audio.transcriptions", "chat.completions"]
    assert {e["endpoint"]: e["requests"] for e in from_rollup} == {
        "audio.transcriptions": 1,
        "chat.completions": 2,
        "embeddings": 2,
        "messages": 1,
        "responses": 1,
    }
