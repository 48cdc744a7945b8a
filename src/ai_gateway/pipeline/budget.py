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
others have written; the Redis-backed guard shares reservations between replicas. While
Redis is unreachable that guard admits only this replica's share of what the database
says is left (:mod:`ai_gateway.pipeline.budget_outage`: the replicas together stay within
the limit); the first admission Redis answers again ends that, and this replica's calls
still in flight are handed to Redis so the shared counters see them settle.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from ai_gateway.errors import BudgetExceeded, ClientPaused, StorageError
from ai_gateway.pipeline.budget_outage import Outage
from ai_gateway.pipeline.replicas import ReplicaRegistry
from ai_gateway.pipeline.shared_budget import RedisBudgetCounters
from ai_gateway.rules.budget_state import EffectiveBudget, UsageChange
from ai_gateway.storage.budgets import effective_budget
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import new_id

__all__ = ["SETTLING_SECONDS", "BudgetGuard", "Reservation", "RollOver", "UsageChange"]

#: Starts the period containing ``now`` for a client whose stored one has ended (or never
#: began) and returns the budget as it then is. Blocking: runs in the storage thread.
RollOver = Callable[[str, datetime], EffectiveBudget]

log = logging.getLogger("ai_gateway.budget")

_STATE_TTL = 5.0
#: the limit a call admitted during an outage is handed to Redis with: always admitted
_NO_LIMIT = Decimal(10) ** 15
#: After Redis answers again, how long admissions also need this replica's outage share:
#: more than the retry pause (shared_budget.RETRY_SECONDS), the usage writer's flush
#: interval and the state TTL together, so the other replicas' usage of the outage is in
#: Redis (through their own admissions, or the stored usage this one re-read) by then.
SETTLING_SECONDS = 10.0


@dataclass(slots=True)
class _State:
    budget: EffectiveBudget
    committed: Decimal
    pending: Decimal
    reserved: Decimal
    loaded_at: float
    #: the stored usage was rewritten (a reset, a new unit): take it as it is, not the max
    restart: bool = False
    #: Redis is away for this client: this replica admits its share (budget_outage.py)
    outage: Outage | None = None
    #: calls in flight admitted without Redis (by ``id``), handed to it when it is back
    unshared: dict[int, Reservation] = field(default_factory=dict)

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
    #: admitted while Redis was away (its share, not the shared counters)
    unshared: bool = False


class BudgetGuard:
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], float] = time.monotonic,
        state_ttl: float = _STATE_TTL,
        shared: RedisBudgetCounters | None = None,
        roll_over: RollOver | None = None,
        replicas: ReplicaRegistry | None = None,
        settling_seconds: float = SETTLING_SECONDS,
    ) -> None:
        self._db = db
        self._settling = settling_seconds
        self._shared = shared
        #: how many replicas divide a budget while Redis is away (none: this one alone)
        self.replicas = replicas
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
        """Ask Redis, where every replica's calls in flight are counted; without it, admit
        this replica's share (:meth:`_reserve_share`)."""
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
            await self._reserve_share(reservation, state)
            return
        if state.outage is not None:
            self._back_from_outage(reservation, rid, admitted=bool(admitted), state=state)
        if not admitted:
            raise BudgetExceeded(
                f"budget exhausted: the {budget.limit_value} {budget.budget_type} limit of "
                f"this {budget.period} period is used or reserved by calls in flight"
            )
        reservation.shared_id = rid

    async def _reserve_share(self, reservation: Reservation, state: _State) -> None:
        """Redis is away: admit while this replica's usage since the outage began is
        below its share of what was left then (see :mod:`.budget_outage`)."""
        outage = state.outage
        if outage is None or outage.period != reservation.period:
            outage = await self._begin_outage(reservation.client_id, state)
        outage.back_at = None  # away again (or still): the share alone decides
        self._check_share(state, outage)
        reservation.unshared = True
        state.unshared[id(reservation)] = reservation

    def _check_share(self, state: _State, outage: Outage) -> None:
        live = self.replicas.live if self.replicas is not None else 1
        share = outage.share(state.budget.limit_value, live)
        if state.pending + state.reserved + outage.flushed >= share:
            budget = state.budget
            raise BudgetExceeded(
                f"budget exhausted: this replica's share ({share:.6f} {budget.budget_type}) "
                f"of the {budget.limit_value} limit is used while the shared budget counters "
                "are or were just unreachable"
            )

    async def _begin_outage(self, client_id: str, state: _State) -> Outage:
        """Read the stored usage once (``base``), under the client's lock so racing calls
        share one read."""
        async with self._locks.setdefault(client_id, asyncio.Lock()):
            period = _period_key(state.budget)
            if state.outage is not None and state.outage.period == period:
                return state.outage
            try:
                state = self._merge(client_id, await self._db.run(self._load, client_id))
            except SQLAlchemyError:  # the database is away too: the last read is the base
                log.warning("budget re-read failed; the outage share uses the last known usage")
            if self.replicas is not None:
                await self.replicas.refresh()
            live = self.replicas.live if self.replicas is not None else 1
            state.outage = Outage(_period_key(state.budget), state.committed, max(1, live))
            log.warning(
                "shared budget unavailable; admitting this replica's share",
                extra={
                    "client_id": client_id,
                    "replicas": state.outage.replicas,
                    "base": str(state.outage.base),
                },
            )
            return state.outage

    def _back_from_outage(
        self, reservation: Reservation, rid: str, *, admitted: bool, state: _State
    ) -> None:
        """Redis answered during an outage. This replica's calls admitted without it are
        handed to it; for :data:`SETTLING_SECONDS` more, an admission also needs the
        share (the other replicas' usage of the outage reaches Redis only as they too
        reconnect, write their usage and this one re-reads it); then Redis alone decides."""
        assert self._shared is not None and state.outage is not None
        outage, now = state.outage, self._clock()
        if outage.back_at is None:
            outage.back_at = now
            log.info("shared budget reachable again", extra={"client_id": reservation.client_id})
        for unshared in list(state.unshared.values()):
            self._spawn(self._rejoin(unshared, state))
        state.unshared.clear()
        if now - outage.back_at >= self._settling:
            state.outage = None
            return
        if admitted:
            try:
                self._check_share(state, outage)
            except BudgetExceeded:
                self._spawn(
                    self._shared.settle(
                        client_id=reservation.client_id,
                        reservation_id=rid,
                        actual=Decimal(0),
                        period=reservation.period,
                    )
                )
                raise

    async def _rejoin(self, reservation: Reservation, state: _State) -> None:
        """Register a call admitted without Redis as a reservation there (whatever the
        limit: it is admitted already); one that settled meanwhile is released again (its
        amount reaches Redis through the stored usage, the floor)."""
        assert self._shared is not None
        rid = new_id()
        try:
            await self._shared.reserve(
                client_id=reservation.client_id,
                reservation_id=rid,
                amount=reservation.amount,
                limit=_NO_LIMIT,
                period=reservation.period,
                floor=Decimal(0),
            )
        except RedisError:  # away again: handed over at the next answer
            if reservation.active:
                state.unshared[id(reservation)] = reservation
            return
        reservation.shared_id = rid
        if not reservation.active:
            await self._shared.settle(
                client_id=reservation.client_id,
                reservation_id=rid,
                actual=Decimal(0),
                period=reservation.period,
            )

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
            state.unshared.pop(id(reservation), None)

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
        if state.outage is not None:
            state.outage.flushed += amount  # now in the stored usage, still ours

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
                if restart:
                    state.outage = None  # its base was rewritten: the next one reads anew
            if restart and self._shared is not None:
                self._spawn(self._shared.restart(cid))

    async def drain(self) -> None:
        """Wait for the shared-counter work sent off the request path (settlements, calls
        handed back to Redis), before its connection closes."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _period_key(budget: EffectiveBudget) -> str:
    start = budget.period_start
    return start.isoformat() if start is not None else "none"
