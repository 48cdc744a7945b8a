"""The daily roll-ups: kept in step by the usage writer (replays never count twice), and
backfilled from existing rows by migrations 0004, 0016 and 0017; each answers what the
rows (or the finer roll-up) it replaces answered."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, ColumnDefault, MetaData, Table, func, insert, select
from sqlalchemy.orm import Session

from ai_gateway.storage import analytics, migrate, savings
from ai_gateway.storage.analytics import Window
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import (
    CacheDailyTotal,
    CachePerformance,
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


def _conversation_rows(a: str, b: str) -> list[dict[str, Any]]:
    """Several conversations of two clients over two weeks, with every field the table
    shows moving (errors, cuts, cache hits, odd costs and latencies), calls without a
    conversation, and one conversation spanning several days."""
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = [
        usage_row(a, conversation_id="c1", latency_ms=101, cost_usd=Decimal("0.0000000001")),
        usage_row(a, conversation_id="c1", latency_ms=102, status="error"),
        usage_row(a, conversation_id="c1", days_ago=1, latency_ms=7, cache_hit=True),
        usage_row(a, conversation_id="c1", days_ago=6, latency_ms=3333, status="cut"),
        usage_row(a, conversation_id="c2", days_ago=6, cost_brl=Decimal("1.2345678901")),
        usage_row(a, conversation_id="c2", days_ago=13, input_tokens=7, output_tokens=0),
        usage_row(a, conversation_id="c3", days_ago=29, latency_ms=1),
        usage_row(a, conversation_id="c3", days_ago=40),  # outside every window below
        usage_row(a, conversation_id="c4", latency_ms=5),
        usage_row(a, latency_ms=9999),  # no conversation: not in the table
        # A 7-day window's edges: its first instant, the last one before today, and a
        # second before the window (out).
        usage_row(a, conversation_id="edge", created_at=midnight - timedelta(days=6)),
        usage_row(a, conversation_id="edge", created_at=midnight - timedelta(microseconds=1)),
        usage_row(a, conversation_id="edge", created_at=midnight - timedelta(days=6, seconds=1)),
        usage_row(b, conversation_id="c1", cost_usd=Decimal("9")),  # another client's c1
    ]
    for i in range(12):
        rows.append(usage_row(a, conversation_id=f"many-{i % 5}", days_ago=i % 3, latency_ms=i))
    return rows


def _every_conversation(db: Database, window: Window, client_id: str) -> list[dict[str, Any]]:
    with db.session() as s:
        return list(analytics.iter_conversations(s, window=window, client_id=client_id, limit=99))


def test_conversations_from_the_rollup_equal_the_rows(db: Database) -> None:
    """The per-conversation roll-up answers exactly what grouping the client's rows
    answers: every value and its type (the average too), the order, the window's edges,
    the paging and the count; written in several batches, and a replay moves nothing."""
    with db.write() as s:
        a = create_client(s, name="a", plan="free").id
        b = create_client(s, name="b", plan="free").id
    rows = _conversation_rows(a, b)
    write_rows(db, rows[:5])
    write_rows(db, rows[5:])  # the same conversation and day again: added, min/max kept
    write_rows(db, rows)  # replayed: no row is new, the roll-up does not move
    every_route = ("gateway", "direct", "legacy")  # a route filter reads the rows
    for days in (1, 2, 7, 14, 30, 90):
        window = Window.last_days(days)
        raw = replace(window, routes=every_route)
        from_rollup = _every_conversation(db, window, a)
        from_rows = _every_conversation(db, raw, a)
        assert from_rollup == from_rows, days
        assert [[(type(v), str(v)) for v in r.values()] for r in from_rollup] == [
            [(type(v), str(v)) for v in r.values()] for r in from_rows
        ], days
        for limit, offset in ((2, 0), (2, 3), (50, 0), (5, 100)):
            with db.session() as s:
                paged = analytics.conversations(
                    s, window=window, client_id=a, limit=limit, offset=offset
                )
                assert paged == analytics.conversations(
                    s, window=raw, client_id=a, limit=limit, offset=offset
                ), (days, limit, offset)
    week = {r["conversation_id"]: r for r in _every_conversation(db, Window.last_days(7), a)}
    assert set(week) == {"c1", "c2", "c4", "edge", *(f"many-{i}" for i in range(5))}
    assert (week["c1"]["requests"], week["c1"]["errors"], week["c1"]["cache_hits"]) == (4, 2, 1)
    assert week["edge"]["requests"] == 2  # the call a second before the window is out
    assert week["c1"]["cost_usd"] == Decimal("0.0030000001")


def test_the_all_client_cache_rollup_equals_the_per_client_one(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator's cache view and its daily savings read the every-client cache
    roll-up: the same answer as summing the per-client one (what they read before)."""
    with db.write() as s:
        a = create_client(s, name="a", plan="free").id
        b = create_client(s, name="b", plan="free").id
    hit = {"cache_hit": True, "saved_usd": Decimal("0.0012345678"), "saved_brl": Decimal("0.01")}
    rows = [
        usage_row(a, **hit),
        usage_row(a, **hit, cache_semantic=True, model_used="groq/llama-3.3-70b"),
        usage_row(a),
        usage_row(b, **hit, days_ago=3),
        usage_row(b, days_ago=3, model_used=None, provider=None),
        usage_row(b, **(hit | {"saved_usd": Decimal("7")}), days_ago=20),
    ]
    write_rows(db, rows[:3])
    write_rows(db, rows[3:])
    write_rows(db, rows)  # replayed: nothing moves
    write_rows(db, [usage_row(a, **hit)], cache_lookup=False)  # no lookup: in neither

    def answers() -> list[object]:
        found: list[object] = []
        with db.session() as s:
            found.append(analytics.cache_savings(s, window=None, client_id=None))
            for days in (1, 7, 30):
                window = Window.last_days(days)
                found.append(analytics.cache_savings(s, window=window, client_id=None))
                found.append(savings.cost_savings(s, window=window, client_id=None))
        return found

    new = answers()
    monkeypatch.setattr(analytics, "CacheDailyTotal", CachePerformance)
    monkeypatch.setattr(savings, "CacheDailyTotal", CachePerformance)
    assert new == answers()
    assert new[0]["hits"] == 4 and new[0]["semantic_hits"] == 1 and new[0]["misses"] == 2
    assert new[0]["saved_usd"] == Decimal("7.0037037034")


def test_migration_0017_backfills_conversations_and_cache_totals(database_url: str) -> None:
    """Rows written before 0017 (on each engine): its backfill gives the conversation
    table and the every-client cache view the rows and the per-client roll-up give."""
    with _fresh_database(database_url) as db:
        migrate.upgrade(db, "0016_usage_daily_endpoints")
        with db.write() as s:
            a = create_client(s, name="a", plan="free").id
            b = create_client(s, name="b", plan="free").id
            rows = _conversation_rows(a, b)
            s.execute(insert(UsageLog), rows)
            s.execute(
                insert(CachePerformance),
                [
                    {
                        "day": "2026-01-02",
                        "client_id": a,
                        "model_id": "m",
                        "hits": 2,
                        "semantic_hits": 1,
                        "misses": 3,
                        "tokens_saved": 10,
                        "saved_usd": Decimal("0.0000000007"),
                        "saved_brl": Decimal("1"),
                    },
                    {
                        "day": "2026-01-02",
                        "client_id": b,
                        "model_id": "m",
                        "hits": 1,
                        "semantic_hits": 0,
                        "misses": 0,
                        "tokens_saved": 5,
                        "saved_usd": Decimal("2"),
                        "saved_brl": Decimal("3"),
                    },
                    {
                        "day": "2026-01-03",
                        "client_id": b,
                        "model_id": "n",
                        "hits": 0,
                        "semantic_hits": 0,
                        "misses": 4,
                        "tokens_saved": 0,
                        "saved_usd": Decimal("0"),
                        "saved_brl": Decimal("0"),
                    },
                ],
            )
        migrate.upgrade(db)
        every_route = ("gateway", "direct", "legacy")
        for days in (1, 7, 30, 90):
            window = Window.last_days(days)
            from_rows = _every_conversation(db, replace(window, routes=every_route), a)
            assert _every_conversation(db, window, a) == from_rows, days
        with db.session() as s:
            totals = s.execute(
                select(
                    CacheDailyTotal.day,
                    CacheDailyTotal.model_id,
                    CacheDailyTotal.hits,
                    CacheDailyTotal.semantic_hits,
                    CacheDailyTotal.misses,
                    CacheDailyTotal.tokens_saved,
                    CacheDailyTotal.saved_usd,
                    CacheDailyTotal.saved_brl,
                ).order_by(CacheDailyTotal.day, CacheDailyTotal.model_id)
            ).all()
        assert [tuple(t) for t in totals] == [
            ("2026-01-02", "m", 3, 1, 3, 15, Decimal("2.0000000007"), Decimal("4")),
            ("2026-01-03", "n", 0, 0, 4, 0, Decimal("0"), Decimal("0")),
        ]
        # And the writer keeps them from there.
        write_rows(db, [usage_row(a, conversation_id="c1")])
        window = Window.last_days(1)
        from_rows = _every_conversation(db, replace(window, routes=every_route), a)
        assert _every_conversation(db, window, a) == from_rows
        assert from_rows[0]["conversation_id"] == "c1"


@contextmanager
def _fresh_database(like_url: str) -> Iterator[Database]:
    """An empty database on the engine of ``like_url``, dropped after."""
    if like_url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite:///{Path(folder) / 'fresh.db'}")
            try:
                yield db
            finally:
                db.dispose()
        return
    import psycopg

    from tests.conftest import PG_ADMIN_URL

    name = f"aigw_0017_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    db = Database(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield db
    finally:
        db.dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
