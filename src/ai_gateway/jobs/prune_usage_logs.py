"""``prune-usage-logs`` (daily 03:00 UTC): raw usage rows older than
``AI_GATEWAY_USAGE_RETENTION_DAYS`` are deleted, optionally archived first.

The usage log grows by one row per call forever; the dashboards, budgets and billing
read the roll-ups, which stay. Rows go in batches of ``AI_GATEWAY_USAGE_RETENTION_BATCH``
(each its own short transaction, the event loop free between them). With
``AI_GATEWAY_USAGE_ARCHIVE_DIR`` each batch is first appended to a gzipped JSON-lines
file of that day and fsynced, then deleted: a crash between the two archives a batch
twice, never loses one. Unset retention: the job does nothing.
"""

from __future__ import annotations

import asyncio
import gzip
import os
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from ai_gateway.jobs.base import Job, JobContext, Schedule
from ai_gateway.storage.retention import (
    delete_old_usage_rows,
    delete_usage_rows,
    old_usage_rows,
)

__all__ = ["JOB"]


async def run(ctx: JobContext) -> dict[str, Any]:
    days = ctx.settings.usage_retention_days
    if days is None:
        return {"skipped": "AI_GATEWAY_USAGE_RETENTION_DAYS is not set"}
    now = ctx.clock()
    before = now - timedelta(days=days)
    archive = _archive_path(ctx.settings.usage_archive_dir, now)
    deleted = batches = 0
    while True:
        removed = await ctx.db.run(_one_batch, ctx, before, archive)
        if removed == 0:
            break
        deleted += removed
        batches += 1
        await asyncio.sleep(0)  # let the request path in between batches
    result: dict[str, Any] = {"before": before.isoformat(), "deleted": deleted, "batches": batches}
    if archive is not None and deleted:
        result["archive"] = str(archive)
    return result


def _archive_path(directory: Path | None, now: datetime) -> Path | None:
    if directory is None:
        return None
    return directory / f"usage-{now:%Y%m%d}.jsonl.gz"


def _one_batch(ctx: JobContext, before: datetime, archive: Path | None) -> int:
    limit = ctx.settings.usage_retention_batch
    with ctx.db.write() as session:
        if archive is None:  # nothing to keep: the rows need not come to Python
            return delete_old_usage_rows(session, before=before, limit=limit)
        rows = old_usage_rows(session, before=before, limit=limit)
        if not rows:
            return 0
        if archive is not None:
            _append(archive, rows)  # durable before the delete commits
        return delete_usage_rows(session, ids=[row["id"] for row in rows])


def _append(archive: Path, rows: list[dict[str, Any]]) -> None:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with archive.open("ab") as raw:
        with gzip.GzipFile(fileobj=raw, mode="ab") as gz:  # one gzip member per batch
            for row in rows:
                gz.write(orjson.dumps(row, default=_default) + b"\n")
        raw.flush()
        os.fsync(raw.fileno())


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact, never a float
    raise TypeError(type(value).__name__)


JOB = Job(
    name="prune-usage-logs",
    description="Delete (or archive, then delete) raw usage rows past their retention.",
    run=run,
    schedule=Schedule(timedelta(days=1), timedelta(hours=3)),
)
