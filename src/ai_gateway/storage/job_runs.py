"""The ``job_runs`` table: one row per scheduled job, holding its lock and its last run.

The lock is a lease: ``locked_until`` in the future means a run is in progress. Taking it
is ONE conditional ``UPDATE ... WHERE locked_until IS NULL OR locked_until < now`` (or the
first ``INSERT``, whose primary key makes a racing second insert fail), so across any
number of replicas exactly one caller gets it. A crashed run's lease simply expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import JobRun

__all__ = ["JobRunInfo", "acquire_job_lock", "get_job_run", "release_job_lock"]


@dataclass(frozen=True, slots=True)
class JobRunInfo:
    name: str
    locked_until: datetime | None
    locked_by: str | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_status: str | None
    last_result: dict[str, Any] | None


def acquire_job_lock(
    db: Database,
    *,
    name: str,
    owner: str,
    now: datetime,
    lease: timedelta,
    not_started_since: datetime | None = None,
) -> bool:
    """Take the job's lease; False if another run holds it. With ``not_started_since``,
    also refuse when a run started at or after that time (a scheduled slot that another
    replica has served already)."""
    conditions = [
        JobRun.name == name,
        or_(JobRun.locked_until.is_(None), JobRun.locked_until < now),
    ]
    if not_started_since is not None:
        conditions.append(
            or_(JobRun.last_started_at.is_(None), JobRun.last_started_at < not_started_since)
        )
    values = {"locked_until": now + lease, "locked_by": owner, "last_started_at": now}
    with db.write() as session:
        taken = session.execute(update(JobRun).where(*conditions).values(**values)).rowcount  # type: ignore[attr-defined]
        if taken:
            return True
        if session.get(JobRun, name) is not None:
            return False
    try:
        with db.write() as session:
            session.add(JobRun(name=name, **values))
        return True
    except IntegrityError:  # another replica inserted the first row just now
        return False


def release_job_lock(
    db: Database,
    *,
    name: str,
    owner: str,
    finished_at: datetime,
    status: str,
    result: dict[str, Any],
) -> None:
    """Record the run's outcome and free the lease (only the holder's own)."""
    with db.write() as session:
        session.execute(
            update(JobRun)
            .where(JobRun.name == name, JobRun.locked_by == owner)
            .values(
                locked_until=None,
                last_finished_at=finished_at,
                last_status=status,
                last_result=result,
            )
        )


def get_job_run(db: Database, *, name: str) -> JobRunInfo | None:
    with db.session() as session:
        row = session.scalar(select(JobRun).where(JobRun.name == name))
        if row is None:
            return None
        return JobRunInfo(
            row.name,
            row.locked_until,
            row.locked_by,
            row.last_started_at,
            row.last_finished_at,
            row.last_status,
            row.last_result,
        )
