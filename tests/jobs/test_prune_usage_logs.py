"""``prune-usage-logs``: raw rows past the retention go in small batches (archived first
when asked); newer rows and every roll-up stay, so no dashboard total moves."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import orjson
from sqlalchemy import func, select

from ai_gateway.jobs import JobContext, run_job
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.retention import delete_old_usage_rows
from ai_gateway.storage.tables import UsageDaily, UsageLog
from ai_gateway.storage.usage import write_usage_batch
from tests.jobs.conftest import NOW
from tests.metering.test_usage_sinks import _record


def _seed(db: Database, *, old: int, recent: int) -> tuple[set[str], set[str]]:
    with db.write() as s:
        client = create_client(s, name="retained", plan="pro")
    records = []
    for i in range(old + recent):
        record = _record(client.id, Decimal("0.001"))
        age = timedelta(days=40 + i) if i < old else timedelta(days=i - old)
        record.row["created_at"] = NOW - age
        records.append(record)
    with db.write() as s:
        write_usage_batch(s, records)
    ids = [r.row["id"] for r in records]
    return set(ids[:old]), set(ids[old:])


def _state(db: Database) -> tuple[set[str], int, Decimal]:
    with db.session() as s:
        ids = set(s.scalars(select(UsageLog.id)))
        days = s.scalar(select(func.count()).select_from(UsageDaily)) or 0
        cost = s.scalar(select(func.sum(UsageDaily.cost_usd))) or Decimal(0)
    return ids, days, cost


async def test_old_rows_are_archived_then_deleted_in_batches(
    db: Database, make_ctx: Callable[..., JobContext], tmp_path: Path
) -> None:
    old, recent = _seed(db, old=7, recent=5)
    _, days_before, cost_before = _state(db)
    ctx = make_ctx(
        usage_retention_days=30, usage_retention_batch=3, usage_archive_dir=tmp_path / "arch"
    )
    outcome = await run_job(ctx, "prune-usage-logs")
    assert outcome.status == "ok", outcome
    assert outcome.result["deleted"] == 7 and outcome.result["batches"] == 3
    ids, days_after, cost_after = _state(db)
    assert ids == recent
    assert (days_after, cost_after) == (days_before, cost_before)  # roll-ups untouched
    archive = Path(outcome.result["archive"])
    with gzip.open(archive, "rb") as fh:
        archived = [orjson.loads(line) for line in fh.read().splitlines()]
    assert {row["id"] for row in archived} == old
    assert all(Decimal(row["cost_usd"]) == Decimal("0.001") for row in archived)
    again = await run_job(
        make_ctx(now=NOW + timedelta(days=1), usage_retention_days=30), "prune-usage-logs"
    )
    assert again.result["deleted"] == 0


async def test_without_a_retention_nothing_is_deleted(
    db: Database, make_ctx: Callable[..., JobContext]
) -> None:
    _seed(db, old=3, recent=1)
    outcome = await run_job(make_ctx(), "prune-usage-logs")
    assert "skipped" in outcome.result
    assert len(_state(db)[0]) == 4


async def test_without_an_archive_rows_go_oldest_first_in_one_statement_per_batch(
    db: Database, make_ctx: Callable[..., JobContext]
) -> None:
    _, recent = _seed(db, old=7, recent=5)
    with db.session() as s:
        by_age = list(s.scalars(select(UsageLog.id).order_by(UsageLog.created_at)))
    with db.write() as s:
        removed = delete_old_usage_rows(s, before=NOW - timedelta(days=30), limit=3)
    assert removed == 3
    assert _state(db)[0] == set(by_age[3:])  # the three oldest went first
    _, days_before, cost_before = _state(db)
    outcome = await run_job(
        make_ctx(usage_retention_days=30, usage_retention_batch=3), "prune-usage-logs"
    )
    assert outcome.status == "ok", outcome
    assert outcome.result["deleted"] == 4 and outcome.result["batches"] == 2
    assert "archive" not in outcome.result
    ids, days_after, cost_after = _state(db)
    assert ids == recent
    assert (days_after, cost_after) == (days_before, cost_before)  # roll-ups untouched
