"""``reset-budget-periods`` (daily 00:00 UTC): start a new period for every budget whose
period has ended: usage back to 0, a pause lifted, new bounds in the client's timezone.

Clients in timezones ahead of or behind UTC reach their local midnight at other hours; the
request path resets a budget lazily on its first call of the new period, and this job makes
sure idle clients' counters (and the dashboard) are right too. Each reset is audited and
re-checked under the row lock, so a second run (or a racing call) resets nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ai_gateway.jobs.base import Job, JobContext, Schedule
from ai_gateway.storage.budgets import budgets_due_for_reset, reset_client_period

__all__ = ["JOB"]

_ACTOR = "job:reset-budget-periods"


async def run(ctx: JobContext) -> dict[str, Any]:
    now = ctx.clock()
    due = await ctx.db.run(_due, ctx, now)
    reset: list[str] = []
    for client_id in due:
        if await ctx.db.run(_reset, ctx, client_id, now):
            reset.append(client_id)
            if ctx.budgets is not None:
                ctx.budgets.forget(client_id)
    return {"due": len(due), "reset": reset}


def _due(ctx: JobContext, now: datetime) -> list[str]:
    with ctx.db.session() as session:
        return budgets_due_for_reset(session, now=now)


def _reset(ctx: JobContext, client_id: str, now: datetime) -> bool:
    with ctx.db.write() as session:
        budget = reset_client_period(
            session, client_id=client_id, actor=_ACTOR, now=now, only_if_due=True
        )
    return budget is not None


JOB = Job(
    name="reset-budget-periods",
    description="Start a new budget period for every client whose period has ended.",
    run=run,
    schedule=Schedule(timedelta(days=1)),
)
