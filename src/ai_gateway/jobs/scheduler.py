"""The built-in scheduler: one asyncio task inside ``serve`` (``AI_GATEWAY_SCHEDULER_ENABLED``).

Each job has fixed slots (:class:`~ai_gateway.jobs.base.Schedule`: daily 02:00 UTC for
prices, hourly for the alert checks, daily 00:00 UTC for resets). The task sleeps until the
earliest next slot, runs that job through :func:`~ai_gateway.jobs.runner.run_job` with the
slot, and computes the job's following slot. Every replica runs a scheduler; the lock plus
"not started since this slot" makes one of them run each slot. A gateway that was down at
a slot does not catch up: the next slot runs the (idempotent) job again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from ai_gateway.jobs.base import Job, JobContext
from ai_gateway.jobs.registry import JOBS
from ai_gateway.jobs.runner import run_job

__all__ = ["Scheduler"]

log = logging.getLogger("ai_gateway.jobs")


class Scheduler:
    def __init__(self, ctx: JobContext, jobs: Iterable[Job] | None = None) -> None:
        self._ctx = ctx
        self._jobs = list(JOBS.values() if jobs is None else jobs)

    async def run_forever(self) -> None:
        now = self._ctx.clock()
        due = {job.name: job.schedule.next_after(now) for job in self._jobs}
        by_name = {job.name: job for job in self._jobs}
        while True:
            name = min(due, key=lambda n: due[n])
            wait = (due[name] - self._ctx.clock()).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)
            slot = due[name]
            try:
                await run_job(self._ctx, name, slot=slot)
            except Exception:  # the database may be down; the next slot tries again
                log.exception("scheduled job could not run", extra={"job": name})
            due[name] = by_name[name].schedule.next_after(max(slot, self._ctx.clock()))
