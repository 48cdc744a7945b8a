"""Running a job once: take its lock, run it, record the outcome in ``job_runs``.

Whoever asks (the scheduler, ``ai-gateway cron run``, ``POST /api/cron/JOB``), the run
goes through :func:`run_job`, so a job runs once at a time across every replica and
process. A run that finds the lock taken is *skipped*, not queued: every job is idempotent,
so the run in progress does the work. A failed run is logged with its traceback and
reported (``status = "failed"``); it never takes the caller down.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from ai_gateway.errors import GatewayError
from ai_gateway.jobs.base import JobContext
from ai_gateway.jobs.registry import get_job
from ai_gateway.storage.job_runs import acquire_job_lock, release_job_lock

__all__ = ["DEFAULT_LEASE", "JobOutcome", "run_job"]

log = logging.getLogger("ai_gateway.jobs")

#: How long a run may hold its lock before another may assume it crashed.
DEFAULT_LEASE: Final = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class JobOutcome:
    name: str
    #: "ok", "failed", or "skipped" (another run held the lock)
    status: str
    result: dict[str, Any]
    started_at: datetime
    finished_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.name,
            "status": self.status,
            "result": self.result,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
        }


def _owner() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def run_job(
    ctx: JobContext,
    name: str,
    *,
    slot: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> JobOutcome:
    """Run job ``name`` unless another run holds its lock (or, for a scheduled ``slot``,
    a run has started since that slot: another replica served it)."""
    job = get_job(name)
    owner = _owner()
    started = ctx.clock()
    taken = await ctx.db.run(
        acquire_job_lock,
        ctx.db,
        name=name,
        owner=owner,
        now=started,
        lease=lease,
        not_started_since=slot,
    )
    if not taken:
        reason = "another run holds the lock" if slot is None else "this slot was run already"
        return JobOutcome(name, "skipped", {"reason": reason}, started, ctx.clock())
    status, result = "failed", {"error": "interrupted"}
    try:
        result = await job.run(ctx)
        status = "ok"
    except GatewayError as exc:
        log.error("job failed", extra={"job": name, "error": exc.message})
        result = {"error": exc.message}
    except Exception as exc:  # a job's bug must not kill the scheduler: logged, reported
        log.exception("job crashed", extra={"job": name})
        result = {"error": f"internal error ({type(exc).__name__}); see the logs"}
    finally:
        finished = ctx.clock()
        await ctx.db.run(
            release_job_lock,
            ctx.db,
            name=name,
            owner=owner,
            finished_at=finished,
            status=status,
            result=result,
        )
    log.info("job finished", extra={"job": name, "status": status})
    return JobOutcome(name, status, result, started, finished)
