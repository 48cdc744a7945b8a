"""Scheduled jobs (SPEC §7): a registry of jobs, one module per job, one runner.

=========================  ==================  ===========================================
job                        schedule (UTC)      what it does
=========================  ==================  ===========================================
``sync-model-pricing``     daily 02:00         registry prices from the upstream's list
``check-gateway-alerts``   hourly              error rate / cost spike of the last hour
``check-budget-alerts``    hourly              missed threshold alerts, pause at the limit
``reset-budget-periods``   daily 00:00         new period for budgets whose period ended
``prune-usage-logs``       daily 03:00         raw usage rows past retention (roll-ups kept)
=========================  ==================  ===========================================

Each runs from the built-in :class:`Scheduler`, ``ai-gateway cron run JOB`` and
``POST /api/cron/JOB``, always through :func:`run_job` (a lock in ``job_runs``).
"""

from ai_gateway.jobs.base import Job, JobContext, Schedule
from ai_gateway.jobs.registry import JOBS, get_job
from ai_gateway.jobs.runner import JobOutcome, run_job
from ai_gateway.jobs.scheduler import Scheduler

__all__ = ["JOBS", "Job", "JobContext", "JobOutcome", "Schedule", "Scheduler", "get_job", "run_job"]
