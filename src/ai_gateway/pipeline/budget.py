"""Budget enforcement on the request path: reserve before the upstream call, settle after.

Every client's counters live in memory (``committed`` as last read from or written to the
database, ``pending`` settled but not yet written, ``reserved`` held by calls in flight).
A call is admitted while ``committed + pending + reserved`` is below the limit and then
reserves its worst case (prompt tokens plus its max output), so however many calls race,
usage ends above the limit by at most one call's estimate. Settling swaps the estimate for
the real amount; a call that died releases its reservation in a ``finally``, so nothing
leaks and a client is never refused for money it did not spend.

The database stays the truth: the usage writer increments ``client_budgets`` in the same
transaction as the usage rows and reports the new total back (:meth:`BudgetGuard.flushed`).
State older than a few seconds is re-read (limit edits, pauses, other processes' usage);
a write through :class:`~ai_gateway.services.budgets.BudgetService` drops it at once.

A period that has ended is rolled over by the guard's owner, never here: the read that
finds it calls ``roll_over`` (the service's, which writes and audits under the row lock),
once per client and period, so the hot path stays a memory lookup. A guard built without
one (tests) only reads.
Across several processes without Redis each one enforces on its own counters plus what the
others have written; the Redis-backed guard shares reservations between replicas.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from ai_gateway.errors import BudgetExceeded, ClientPaused, StorageError
from ai_gateway.pipeline.shared_budget import RedisBudgetCounters
from ai_gateway.rules.budget_state import EffectiveBudget, UsageChange
from ai_gateway.storage.budgets import effective_budget
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import new_id

__all__ = ["BudgetGuard", "Reservation", "RollOver", "UsageChange"]

#: Starts the period containing ``now`` for a client whose stored one has ended (or never
#: began) and returns the budget as it then is. Blocking: runs in the storage thread.
RollOver = Callable[[str, datetime], EffectiveBudget]

log = logging.getLogger("ai_gateway.budget")

_STATE_TTL = 5.0


@dataclass(slots=True)
class _State:
    budget: EffectiveBudget
    committed: Decimal
    pending: Decimal
    reserved: Decimal
    loaded_at: float
    #: the stored usage was rewritten (a reset, a new unit): take it as it is, not the max
    restart: bool = False

    @property
    def used(self) -> Decimal:
        return self.committed + self.pending

    @property
    def usage_with_reservations(self) -> Decimal:
        return self.committed + self.pending + self.reserved


@dataclass(slots=True)
class Reservation:
    """Held by one call until it settles or releases (each happens at most once)."""

    client_id: str
    budget_type: str
    amount: Decimal
    active: bool = True
    shared_id: str | None = None
    period: str = ""


class BudgetGuard:
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], float] = time.monotonic,
        state_ttl: float = _STATE_TTL,
        shared: RedisBudgetCounters | None = None,
        roll_over: RollOver | None = None,
    ) -> None:
        self._db = db
        self._shared = shared
        self._roll_over = roll_over
        self._background: set[asyncio.Task[None]] = set()
        self._clock = clock
        self._ttl = state_ttl
        self._states: dict[str, _State] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def budget_for(self, client_id: str) -> EffectiveBudget:
        return (await self._state(client_id)).budget

    async def _state(self, client_id: str) -> _State:
        state = self._states.get(client_id)
        if state is not None and self._clock() - state.loaded_at < self._ttl:
            return state
        lock = self._locks.setdefault(client_id, asyncio.Lock())
        async with lock:
            state = self._states.get(client_id)
            if state is not None and self._clock() - state.loaded_at < self._ttl:
                return state
            try:
                budget = await self._db.run(self._load, client_id)
            except SQLAlchemyError as exc:
                if state is None:
                    raise StorageError("the budget store is unreachable") from exc
                # Enforce on what we know rather than refuse every call while the database
                # is away; the usage rows wait in the writer and settle when it is back.
                log.warning(
                    "budget refresh failed; using the last known state",
                    extra={"client_id": client_id},
                )
                state.loaded_at = self._clock() - self._ttl + 1.0
                return state
            return self._merge(client_id, budget)

    def _load(self, client_id: str) -> EffectiveBudget:
        """Read the budget; one whose period is over goes to the owner's rollover first."""
        now = datetime.now(UTC)
        with self._db.session() as session:
            budget = effective_budget(session, client_id=client_id)
        ended = budget.next_reset_at is None or budget.next_reset_at <= now
        if ended and self._roll_over is not None:
            budget = self._roll_over(client_id, now)
        return budget

    def _merge(self, client_id: str, budget: EffectiveBudget) -> _State:
        state = self._states.get(client_id)
        now = self._clock()
        if state is None:
            state = _State(budget, budget.current_usage, Decimal(0), Decimal(0), now)
        else:
            new_period = budget.period_start != state.budget.period_start
            # Usage only grows within a period; a smaller value is a read that raced a
            # flush, so keep the larger one, unless the owner rewrote it (``restart``).
            state.committed = (
                budget.current_usage
                if new_period or state.restart
                else max(state.committed, budget.current_usage)
            )
            state.budget, state.loaded_at, state.restart = budget, now, False
        self._states[client_id] = state
        return state

    async def reserve(self, client_id: str, estimate: Callable[[str], Decimal]) -> Reservation:
        """Admit the call or raise (paused: 403, exhausted: 402). ``estimate`` gives the
        call's worst case in a budget unit ('tokens', 'usd' or 'brl')."""
        state = await self._state(client_id)
        budget = state.budget
        if budget.is_paused:
            raise ClientPaused(
                "this client is paused: its budget limit was reached; it resumes at the next "
                "period or when an admin raises the limit"
            )
        if state.usage_with_reservations >= budget.limit_value:
            raise BudgetExceeded(
                f"budget exhausted: {state.used} of {budget.limit_value} "
                f"{budget.budget_type} used this {budget.period} period"
            )
        amount = estimate(budget.budget_type)
        reservation = Reservation(client_id, budget.budget_type, amount, period=_period_key(budget))
        if self._shared is not None:
            await self._reserve_shared(reservation, state)
        state.reserved += amount
        return reservation

    async def _reserve_shared(self, reservation: Reservation, state: _State) -> None:
        """Ask Redis, where every replica's calls in flight are counted."""
        assert self._shared is not None
        budget, rid = state.budget, new_id()
        try:
            admitted = await self._shared.reserve(
                client_id=reservation.client_id,
                reservation_id=rid,
                amount=reservation.amount,
                limit=budget.limit_value,
                period=reservation.period,
                floor=state.committed,
            )
        except RedisError:
            # Redis is away: this replica's own counters (already checked) decide.
            log.warning(
                "shared budget unavailable; enforcing locally",
                extra={"client_id": reservation.client_id},
            )
            return
        if not admitted:
            raise BudgetExceeded(
                f"budget exhausted: the {budget.limit_value} {budget.budget_type} limit of "
                f"this {budget.period} period is used or reserved by calls in flight"
            )
        reservation.shared_id = rid

    def _shared_settle(self, reservation: Reservation, actual: Decimal) -> None:
        if self._shared is None or reservation.shared_id is None:
            return
        self._spawn(
            self._shared.settle(
                client_id=reservation.client_id,
                reservation_id=reservation.shared_id,
                actual=actual,
                period=reservation.period,
            )
        )

    def release(self, reservation: Reservation) -> None:
        """Give the reservation back; safe to call after ``settle`` or twice."""
        if not reservation.active:
            return
        self._close(reservation)
        self._shared_settle(reservation, Decimal(0))

    def _close(self, reservation: Reservation) -> None:
        reservation.active = False
        state = self._states.get(reservation.client_id)
        if state is not None:
            state.reserved = max(Decimal(0), state.reserved - reservation.amount)

    def settle(self, reservation: Reservation, actual: Decimal) -> UsageChange:
        """Replace the reservation with the real amount (added to ``pending`` until the
        writer has it in the database)."""
        if reservation.active:
            self._close(reservation)
            self._shared_settle(reservation, actual)
        state = self._states[reservation.client_id]
        before = state.used
        state.pending += actual
        return UsageChange(state.budget, before, state.used)

    def flushed(self, client_id: str, amount: Decimal, new_total: Decimal) -> None:
        """The writer committed ``amount`` and the database now holds ``new_total``."""
        state = self._states.get(client_id)
        if state is None:
            return
        state.pending = max(Decimal(0), state.pending - amount)
        state.committed = max(state.committed, new_total)

    def mark_paused(self, client_id: str, paused: bool) -> None:
        state = self._states.get(client_id)
        if state is not None:
            state.budget = replace(state.budget, is_paused=paused)

    def forget(self, client_id: str | None = None, *, restart: bool = False) -> None:
        """Drop cached state (after an admin change), keeping in-flight reservations.
        ``restart``: the stored usage was rewritten (a reset, a budget moved to another
        unit or period), so the next read replaces the counters instead of keeping the
        larger value, here and in the shared counters."""
        targets = [client_id] if client_id else list(self._states)
        for cid in targets:
            state = self._states.get(cid)
            if state is not None:
                state.loaded_at = float("-inf")
                state.restart = state.restart or restart
            if restart and self._shared is not None:
                self._spawn(self._shared.restart(cid))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _period_key(budget: EffectiveBudget) -> str:
    start = budget.period_start
    return start.isoformat() if start is not None else "none"
