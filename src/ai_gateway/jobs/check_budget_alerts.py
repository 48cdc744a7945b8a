"""``check-budget-alerts`` (hourly): the safety net behind the real-time alerts.

For every client it sends each threshold already reached in the current period that has
no alert yet (a gateway restart between a call and its alert, a usage change from another
process, a limit lowered by an admin), and pauses a client at its limit when its budget
says so. The claims in ``budget_alerts`` are the same as the real-time path's, so nothing
is sent twice whichever of the two gets there first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ai_gateway.jobs.base import Job, JobContext, Schedule
from ai_gateway.storage.alerts import sent_thresholds
from ai_gateway.storage.budgets import EffectiveBudget, effective_budget, list_budget_client_ids

__all__ = ["JOB", "reached_thresholds"]


def reached_thresholds(budget: EffectiveBudget) -> list[int]:
    """Thresholds (percent) the stored usage has reached."""
    usage, limit = budget.current_usage, budget.limit_value
    return [t for t in budget.alert_thresholds if usage * 100 >= t * limit]


async def run(ctx: JobContext) -> dict[str, Any]:
    now = ctx.clock()
    checked, sent, paused = 0, 0, []
    for client_id in await ctx.db.run(_client_ids, ctx):
        budget = await ctx.db.run(_budget, ctx, client_id)
        if not _in_period(budget, now):
            continue  # an ended period is reset-budget-periods' business
        checked += 1
        assert budget.period_start is not None
        done = await ctx.db.run(
            sent_thresholds, ctx.db, client_id=client_id, period_start=budget.period_start
        )
        todo = [t for t in reached_thresholds(budget) if t not in done]
        if todo:
            sent += await ctx.alerter.send_budget_alerts(budget, todo, usage=budget.current_usage)
        at_limit = budget.current_usage >= budget.limit_value
        must_pause = at_limit and budget.pause_at_limit and not budget.is_paused
        if must_pause and await ctx.alerter.pause(client_id, reason="limit reached (hourly check)"):
            paused.append(client_id)
    return {"clients_checked": checked, "alerts_sent": sent, "paused": paused}


def _in_period(budget: EffectiveBudget, now: datetime) -> bool:
    return (
        budget.period_start is not None
        and budget.next_reset_at is not None
        and budget.period_start <= now < budget.next_reset_at
    )


def _client_ids(ctx: JobContext) -> list[str]:
    with ctx.db.session() as session:
        return list_budget_client_ids(session)


def _budget(ctx: JobContext, client_id: str) -> EffectiveBudget:
    with ctx.db.session() as session:
        return effective_budget(session, client_id=client_id)


JOB = Job(
    name="check-budget-alerts",
    description="Send budget threshold alerts missed in real time; pause clients at the limit.",
    run=run,
    schedule=Schedule(timedelta(hours=1)),
)
