"""``purge-stored-responses`` (daily 03:30 UTC): delete stored ``/v1/responses`` answers
past their retention (``AI_GATEWAY_RESPONSES_RETENTION_DAYS``).

Expired rows are never read anyway, and a client's own are deleted when it stores a new
one; this job removes those of clients that stopped storing, so retention means the data
is gone, not only hidden. Deleting what is already gone is harmless, so a second run is.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ai_gateway.jobs.base import Job, JobContext, Schedule
from ai_gateway.storage.stored_responses import purge_expired

__all__ = ["JOB"]


async def run(ctx: JobContext) -> dict[str, Any]:
    return {"deleted": await ctx.db.run(_purge, ctx, ctx.clock())}


def _purge(ctx: JobContext, now: datetime) -> int:
    with ctx.db.write() as session:
        return purge_expired(session, now=now)


JOB = Job(
    name="purge-stored-responses",
    description="Delete stored /v1/responses answers past their retention.",
    run=run,
    schedule=Schedule(timedelta(days=1), timedelta(hours=3, minutes=30)),
)
