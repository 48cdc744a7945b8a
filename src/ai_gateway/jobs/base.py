"""What a scheduled job is: a name, an async function of a :class:`JobContext` that returns
a JSON-able result, and a :class:`Schedule`.

The context carries everything a job may touch, built by whoever runs it: the gateway
(scheduler and HTTP route: its alerter knows the live budget guard) or the CLI (its own
database handle and HTTP session). Jobs read the time from ``ctx.clock`` so tests can run
them at any instant.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from ai_gateway.changes import out_of_process_publisher
from ai_gateway.metering.alerting import Alerter
from ai_gateway.services.budgets import BudgetService
from ai_gateway.settings import Settings
from ai_gateway.storage.db import Database
from ai_gateway.vault import MasterKey

__all__ = ["Job", "JobContext", "JobFn", "Schedule", "utcnow"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class JobContext:
    db: Database
    settings: Settings
    master: MasterKey | None
    http: aiohttp.ClientSession
    alerter: Alerter
    #: the running gateway's budget owner (None from the CLI: see :meth:`budget_service`)
    budgets: BudgetService | None = None
    #: called after a job changed shared config (prices): the running gateway reloads
    on_config_change: Callable[[], None] | None = None
    clock: Callable[[], datetime] = utcnow

    def budget_service(self) -> BudgetService:
        """The gateway's (its guard forgets what a job changed), or one over ``db`` for a
        CLI run (no live guard there: its changes go out on the change bus, so running
        gateways re-read them at their next poll, at once with Redis)."""
        if self.budgets is not None:
            return self.budgets
        publish = out_of_process_publisher(self.db, self.settings.redis_url, origin="cron")
        return BudgetService(self.db, publish=publish)


JobFn = Callable[[JobContext], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Schedule:
    """Slots every ``every``, shifted by ``offset`` from midnight UTC: daily at 02:00 is
    ``Schedule(timedelta(days=1), timedelta(hours=2))``."""

    every: timedelta
    offset: timedelta = timedelta(0)

    def next_after(self, moment: datetime) -> datetime:
        """The first slot strictly after ``moment``."""
        anchor = _EPOCH + self.offset
        slots = (moment - anchor) // self.every
        return anchor + (slots + 1) * self.every

    def describe(self) -> str:
        if self.every == timedelta(days=1):
            return f"daily at {_hhmm(self.offset)} UTC"
        if self.every == timedelta(hours=1):
            return f"hourly at minute {int(self.offset.total_seconds() // 60)}"
        return f"every {self.every}"


def _hhmm(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    description: str
    run: JobFn
    schedule: Schedule
