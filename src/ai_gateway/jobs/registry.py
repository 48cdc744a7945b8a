"""The jobs there are: one module per job, one line each here."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ai_gateway.errors import NotFound
from ai_gateway.jobs import (
    check_budget_alerts,
    check_gateway_alerts,
    prune_usage_logs,
    purge_request_bodies,
    purge_stored_responses,
    reset_budget_periods,
    sync_model_pricing,
)
from ai_gateway.jobs.base import Job

__all__ = ["JOBS", "get_job"]

JOBS: Mapping[str, Job] = MappingProxyType(
    {
        job.name: job
        for job in (
            sync_model_pricing.JOB,
            check_gateway_alerts.JOB,
            check_budget_alerts.JOB,
            reset_budget_periods.JOB,
            purge_stored_responses.JOB,
            prune_usage_logs.JOB,
            purge_request_bodies.JOB,
        )
    }
)


def get_job(name: str) -> Job:
    job = JOBS.get(name)
    if job is None:
        raise NotFound(f"no job '{name}'; jobs: {', '.join(JOBS)}")
    return job
