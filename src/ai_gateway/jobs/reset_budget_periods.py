"""``reset-budget-periods`` (daily 00:00 UTC): start a new period for every budget whose
period has ended: usage back to 0, a pause lifted, new bounds in the client's timezone.

Clients in timezones ahead of or behind UTC reach their local midnight at other hours; the
request path rolls a budget over on its first call of the new period, and this job makes
sure idle clients' counters (and the dashboard) are right too. Both go through the one
rollover of :class:`~ai_gateway.services.budgets.BudgetService`: each reset is audited and
re-checked under the row lock, so a second run (or a racing call) resets nothing twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ai_gateway.jobs.base import Job, JobContext, Schedule

__all__ = ["JOB"]

_ACTOR = "job:reset-budget-periods"


async def run(ctx: JobContext) -> dict[str, Any]:
    due, reset = await ctx.budget_service().roll_over_due(actor=_ACTOR, now=ctx.clock())
    return {"due": due, "reset": reset}


JOB = Job(
    name="reset-budget-periods",
    description="Start a new budget period for every client whose period has ended.",
    run=run,
    schedule=Schedule(timedelta(days=1)),
)
