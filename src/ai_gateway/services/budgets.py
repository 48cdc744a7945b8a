"""``BudgetService``: the one owner of budgets, plan defaults and plan ceilings.

Every change to a budget goes through it: the REST API, the dashboard, the CLI and the
reset job. Each method runs one write transaction in storage (validated by
:mod:`ai_gateway.rules.budget_rules` there, against the plan's ceiling under the plan
row's lock, audited in the same transaction), then drops what this process cached about
the budgets it changed: the request path's :class:`~ai_gateway.pipeline.budget.BudgetGuard`
state (and the authenticator's client cache where a client changed), and publishes the
change on the change bus (:mod:`ai_gateway.changes`: ``budgets``, or ``clients`` for a
client row), so every other process and replica drops the same within its poll.

It also holds the only period rollover (:meth:`roll_over_due` for the daily job, and the
guard's ``roll_over`` hook for the first call of a new period): both go through
``storage.budgets.roll_over_period``, which re-checks under the row lock and audits every
reset. The guard calls the hook once per client and period, from its refresh (which
already reads the database), so the request path gains no round trip.

::

    API / dashboard / CLI / jobs
            |  set_client_budget, clear_client_budget, set_plan, reset_period, roll_over_due
            v
      BudgetService --- storage.budgets (rules below it) --- database (+ audit rows)
            |  forget(client) after commit, then publish("budgets", client) to every replica
            v
      BudgetGuard (request path) --roll_over(client, now)--> BudgetService
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from ai_gateway.changes import Publish
from ai_gateway.metering.current_usage import CurrentUsage, current_usage
from ai_gateway.pipeline.budget import BudgetGuard
from ai_gateway.pipeline.replicas import ReplicaRegistry
from ai_gateway.pipeline.shared_budget import RedisBudgetCounters
from ai_gateway.rules.budget_state import EffectiveBudget
from ai_gateway.services.auth import Authenticator
from ai_gateway.storage import budgets as store
from ai_gateway.storage.budgets import BudgetSettings, PlanCeiling, PlanInfo
from ai_gateway.storage.db import Database

__all__ = ["PERIOD_ACTOR", "BudgetService"]

#: The audit log's actor of a rollover found by a call on the request path.
PERIOD_ACTOR = "system:budget-period"

T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class BudgetService:
    """Built once per process: by the ``Gateway`` (with its authenticator and Redis
    counters), or by a CLI command / job run over its own database handle."""

    def __init__(
        self,
        db: Database,
        *,
        shared: RedisBudgetCounters | None = None,
        auth: Authenticator | None = None,
        clock: Callable[[], datetime] = _utcnow,
        publish: Publish | None = None,
        replicas: ReplicaRegistry | None = None,
    ) -> None:
        self._db = db
        self._auth = auth
        #: the change bus (the gateway's, or the CLI's out-of-process announcer)
        self._publish = publish
        self._clock = clock
        #: the request path's guard; its rollovers come back here, audited
        self.guard = BudgetGuard(db, shared=shared, roll_over=self._roll_over, replicas=replicas)

    # -- reads ----------------------------------------------------------------------------

    async def view(self, client_id: str) -> CurrentUsage:
        """The current-usage view (usage, limit, days left, projection, plan ceiling)."""
        return await self._read(current_usage, client_id)

    async def plan_names(self) -> list[str]:
        """Every plan's name (the pages' plan pickers)."""

        def run() -> list[str]:
            with self._db.session() as session:
                return [p.plan for p in store.list_plans(session)]

        return await self._db.run(run)

    async def plan(self, plan: str) -> PlanInfo:
        def run() -> PlanInfo:
            with self._db.session() as session:
                return store.get_plan(session, plan)

        return await self._db.run(run)

    # -- writes ---------------------------------------------------------------------------

    async def set_client_budget(
        self, client_id: str, settings: BudgetSettings, *, actor: str
    ) -> EffectiveBudget:
        """The client's own budget; refused above its plan's ceiling."""
        budget = await self._write(
            store.set_client_budget,
            client_id=client_id,
            settings=settings,
            actor=actor,
            now=self._clock(),
        )
        await self._budget_changed(client_id)
        return budget

    async def clear_client_budget(self, client_id: str, *, actor: str) -> EffectiveBudget:
        """Back to the plan's default."""
        budget = await self._write(
            store.clear_client_budget,
            client_id=client_id,
            actor=actor,
            now=self._clock(),
        )
        await self._budget_changed(client_id)
        return budget

    async def set_plan(
        self,
        plan: str,
        *,
        actor: str,
        settings: BudgetSettings | None = None,
        ceiling: PlanCeiling | None = None,
    ) -> PlanInfo:
        """A plan's default budget and/or its ceiling; budgets above a new ceiling are
        brought under it. Every client of the plan may have changed: all are re-read."""
        info = await self._write(
            store.set_plan_budget,
            plan=plan,
            settings=settings,
            actor=actor,
            now=self._clock(),
            ceiling=ceiling,
        )
        await self._budget_changed(None)
        return info

    async def reset_period(self, client_id: str, *, actor: str) -> EffectiveBudget:
        """An admin's reset: the period starts afresh now, usage 0, unpaused."""
        budget = await self._write(
            store.reset_client_period,
            client_id=client_id,
            actor=actor,
            now=self._clock(),
        )
        assert budget is not None  # only_if_due is False: always reset
        await self._budget_changed(client_id)
        return budget

    async def roll_over_due(self, *, actor: str, now: datetime) -> tuple[int, list[str]]:
        """Roll over every budget whose period has ended (the daily job): how many were
        due, and the clients rolled over (a racing call may have done one first)."""

        def due() -> list[str]:
            with self._db.session() as session:
                return store.budgets_due_for_reset(session, now=now)

        candidates = await self._db.run(due)
        rolled: list[str] = []
        for client_id in candidates:
            _budget, done = await self._write(
                store.roll_over_period, client_id=client_id, actor=actor, now=now
            )
            if done:
                rolled.append(client_id)
                self.guard.forget(client_id, restart=True)
        if rolled and self._publish is not None:  # one message for the whole round
            await self._publish("budgets", client_id=rolled[0] if len(rolled) == 1 else None)
        return len(candidates), rolled

    async def client_moved(self, client_id: str, *, actor: str) -> None:
        """The client moved to another plan: its own budget goes under the new plan's
        ceiling (audited), and every cache of it is dropped."""
        changed = await self._write(
            store.enforce_plan_ceiling, client_id=client_id, actor=actor, now=self._clock()
        )
        if changed:
            await self._budget_changed(client_id)
        await self.client_changed(client_id)

    async def client_changed(self, client_id: str | None = None) -> None:
        """A client row changed elsewhere (plan, status, flags; None: many clients): drop
        what this process cached about it, keys and budget state both, and tell every
        other process (``clients`` on the change bus)."""
        if self._auth is not None:
            self._auth.invalidate(client_id=client_id)
        self.guard.forget(client_id)
        if self._publish is not None:
            await self._publish("clients", client_id=client_id)

    async def _budget_changed(self, client_id: str | None) -> None:
        """After the commit: this process's guard restarts the client's counters (all
        clients when None), then every other process hears of it."""
        self.guard.forget(client_id, restart=True)
        if self._publish is not None:
            await self._publish("budgets", client_id=client_id)

    # -- blocking halves (storage thread) -------------------------------------------------

    def _roll_over(self, client_id: str, now: datetime) -> EffectiveBudget:
        # Called by the guard from its storage thread: blocking.
        with self._db.write() as session:
            budget, _rolled = store.roll_over_period(
                session, client_id=client_id, actor=PERIOD_ACTOR, now=now
            )
        return budget

    async def _read(self, fn: Callable[..., T], client_id: str) -> T:
        def run() -> T:
            with self._db.session() as session:
                return fn(session, client_id=client_id)

        return await self._db.run(run)

    async def _write(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        def run() -> T:
            with self._db.write() as session:
                return fn(session, **kwargs)

        return await self._db.run(run)
