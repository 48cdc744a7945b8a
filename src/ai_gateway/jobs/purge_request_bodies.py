"""``purge-request-bodies`` (daily 03:45 UTC): delete stored prompts and answers past
their client's retention (the LGPD opt-in of ``storage.request_bodies``).

Expired bodies are never shown anyway; this job makes retention mean the data is gone.
Deleting what is already gone is harmless, so a second run is.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ai_gateway.jobs.base import Job, JobContext, Schedule
from ai_gateway.storage.request_bodies import purge_expired_bodies

__all__ = ["JOB"]


async def run(ctx: JobContext) -> dict[str, Any]:
    return {"deleted": await ctx.db.run(_purge, ctx, ctx.clock())}


def _purge(ctx: JobContext, now: datetime) -> int:
    with ctx.db.write() as session:
        return purge_expired_bodies(session, now=now)


JOB = Job(
    name="purge-request-bodies",
    description="Delete stored prompts and answers past their client's retention.",
    run=run,
    schedule=Schedule(timedelta(days=1), timedelta(hours=3, minutes=45)),
)
