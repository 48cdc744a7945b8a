"""How many gateway processes share a budget: the divisor of each one's share while the
shared (Redis) counters are unreachable.

Every process with shared budget counters beats its row in ``gateway_replicas`` every
:data:`HEARTBEAT_SECONDS` from a background loop of the gateway (one small write
transaction, never on the request path) and keeps the count of rows seen in the last
three beats in memory (:attr:`ReplicaRegistry.live`); when an outage begins the guard
asks for a fresh count (:meth:`ReplicaRegistry.refresh`), so a replica started since the
last beat is not missed. A process of ``serve --workers N`` is a replica of its own: each
has its own guard and counters. A process that died stops being counted after three
beats; one that stops cleanly removes its row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from ai_gateway.storage.db import Database
from ai_gateway.storage.replicas import beat_replica, remove_replica
from ai_gateway.storage.tables import new_id, utcnow

__all__ = ["HEARTBEAT_SECONDS", "ReplicaRegistry"]

log = logging.getLogger("ai_gateway.budget")

HEARTBEAT_SECONDS = 5.0
#: A replica not seen for this many beats is dead.
_DEAD_AFTER_BEATS = 3
#: A count this recent is not re-read when an outage begins.
_FRESH_SECONDS = 1.0


class ReplicaRegistry:
    def __init__(
        self,
        db: Database,
        *,
        interval: float = HEARTBEAT_SECONDS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._clock = clock
        self._window = timedelta(seconds=interval * _DEAD_AFTER_BEATS)
        self.id = new_id()
        #: replicas alive at the last beat, this one included (1 until the first beat)
        self.live = 1
        self._beaten_at = float("-inf")
        self._beating = asyncio.Lock()

    async def refresh(self) -> None:
        """Beat now unless a beat is under a second old: an outage begins. (The count of
        the last scheduled beat may predate replicas started since, up to a beat ago.)"""
        async with self._beating:
            if time.monotonic() - self._beaten_at >= _FRESH_SECONDS:
                await self.beat()

    async def beat(self) -> None:
        """Write this replica's heartbeat and count the live ones; on a database error
        keep the last count (the budget guard only ever grows its divisor in an outage)."""
        try:
            self.live = max(1, await self._db.run(self._beat))
            self._beaten_at = time.monotonic()
        except SQLAlchemyError:
            log.warning("replica heartbeat failed; keeping the last count of replicas")

    def _beat(self) -> int:
        now = self._clock()
        with self._db.write() as session:
            return beat_replica(
                session, replica_id=self.id, now=now, dead_before=now - self._window
            )

    async def leave(self) -> None:
        try:
            await self._db.run(self._leave)
        except SQLAlchemyError:
            log.warning("replica row not removed; it expires after three beats")

    def _leave(self) -> None:
        with self._db.write() as session:
            remove_replica(session, replica_id=self.id)
