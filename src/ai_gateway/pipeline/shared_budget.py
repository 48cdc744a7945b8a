"""Budget counters shared by every replica through Redis, so the limit holds across
processes and machines, not only inside one.

Per client, one hash holds the period's settled ``usage`` (and which ``period`` it counts)
and a sorted set + hash hold the reservations of calls in flight, each with an expiry: a
replica that dies mid-call (``kill -9``) cannot leak its reservations for longer than
that. Admission, settlement and release are Lua scripts, atomic on the Redis server.

Amounts are integers of 10**-6 units (Redis and Lua have no decimal type, and floats
would drift); reservations round up and settlements round up, so admission errs on the
safe side. The database stays the truth for usage: the guard raises the shared ``usage``
to what the database says whenever it reads it (``floor``).

Settlements are sent off the response path, and those of calls that finish in the same
event-loop turn share one pipelined round trip (each script still atomic on its own):
under load, redis-py's per-command work (a pooled connection, a write, a parse) was a
quarter of a worker's CPU, and a settlement has nobody waiting on its answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import ROUND_CEILING, Decimal

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

__all__ = ["RedisBudgetCounters", "to_units"]

log = logging.getLogger("ai_gateway.budget")

_SCALE = Decimal(10) ** 6
#: How long a reservation may live without its call settling or releasing it.
RESERVATION_TTL_SECONDS = 900
_KEY_TTL_SECONDS = 40 * 24 * 3600

_RESERVE = """
local h, z, a = KEYS[1], KEYS[2], KEYS[3]
local limit, amount, period = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local floor, now, expires, rid = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7]
if redis.call('HGET', h, 'period') ~= period then
  redis.call('DEL', h, z, a)
  redis.call('HSET', h, 'usage', floor, 'period', period)
end
local usage = tonumber(redis.call('HGET', h, 'usage'))
if floor > usage then
  usage = floor
  redis.call('HSET', h, 'usage', floor)
end
local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
for _, r in ipairs(expired) do redis.call('HDEL', a, r) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now) end
local reserved = 0
for _, v in ipairs(redis.call('HVALS', a)) do reserved = reserved + tonumber(v) end
if usage + reserved >= limit then return 0 end
redis.call('HSET', a, rid, amount)
redis.call('ZADD', z, expires, rid)
for _, k in ipairs(KEYS) do redis.call('EXPIRE', k, ARGV[8]) end
return 1
"""

_SETTLE = """
local h, z, a = KEYS[1], KEYS[2], KEYS[3]
redis.call('HDEL', a, ARGV[1])
redis.call('ZREM', z, ARGV[1])
if ARGV[2] ~= '0' and redis.call('HGET', h, 'period') == ARGV[3] then
  redis.call('HINCRBY', h, 'usage', ARGV[2])
end
return 1
"""


def to_units(amount: Decimal) -> int:
    """Decimal -> whole 10**-6 units, rounded up (never under-count)."""
    return int((amount * _SCALE).to_integral_value(rounding=ROUND_CEILING))


class RedisBudgetCounters:
    def __init__(self, redis: Redis, *, prefix: str = "aigw:budget:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._reserve = redis.register_script(_RESERVE)
        self._settle = redis.register_script(_SETTLE)
        self._settling: list[tuple[str, list[str], list[object]]] = []
        self._batch: asyncio.Future[None] | None = None

    def _keys(self, client_id: str) -> list[str]:
        base = f"{self._prefix}{client_id}"
        return [base, base + ":res", base + ":amt"]

    async def reserve(
        self,
        *,
        client_id: str,
        reservation_id: str,
        amount: Decimal,
        limit: Decimal,
        period: str,
        floor: Decimal,
    ) -> bool:
        """Admit (True) or refuse (False) atomically across every replica."""
        now = time.time()
        admitted = await self._reserve(
            keys=self._keys(client_id),
            args=[
                to_units(limit),
                to_units(amount),
                period,
                to_units(floor),
                now,
                now + RESERVATION_TTL_SECONDS,
                reservation_id,
                _KEY_TTL_SECONDS,
            ],
        )
        return bool(admitted)

    async def settle(
        self, *, client_id: str, reservation_id: str, actual: Decimal, period: str
    ) -> None:
        """Swap a reservation for the real amount (``actual`` 0 = release). Returns once
        the batch holding it has been sent."""
        self._settling.append(
            (client_id, self._keys(client_id), [reservation_id, to_units(actual), period])
        )
        if self._batch is None:
            self._batch = asyncio.ensure_future(self._send_batch())
        await asyncio.shield(self._batch)

    async def _send_batch(self) -> None:
        await asyncio.sleep(0)  # settlements of this loop turn join the batch
        batch, self._settling, self._batch = self._settling, [], None
        try:
            await self._run_settlements(batch)
        except RedisError:
            # The reservations expire on their own; usage is re-floored from the database.
            for client_id in dict.fromkeys(client for client, _, _ in batch):
                log.warning("shared budget settle failed", extra={"client_id": client_id})

    async def _run_settlements(self, batch: list[tuple[str, list[str], list[object]]]) -> None:
        for attempt in range(2):
            pipe = self._redis.pipeline(transaction=False)
            for _, keys, args in batch:
                pipe.evalsha(self._settle.sha, len(keys), *keys, *args)  # type: ignore[arg-type]
            replies = await pipe.execute(raise_on_error=False)
            failed = [
                (item, r)
                for item, r in zip(batch, replies, strict=True)
                if isinstance(r, Exception)
            ]
            if not failed:
                return
            if attempt == 0 and all(isinstance(r, NoScriptError) for _, r in failed):
                await self._redis.script_load(_SETTLE)  # Redis restarted or was flushed
                batch = [item for item, _ in failed]  # the others ran: never twice
                continue
            raise failed[0][1]

    async def restart(self, client_id: str) -> None:
        """The stored usage was rewritten (a reset): drop the shared one to 0; the next
        admission raises it back to what the database says (``floor``)."""
        try:
            await self._redis.hset(self._keys(client_id)[0], "usage", "0")  # type: ignore[misc]
        except RedisError:
            log.warning("shared budget restart failed", extra={"client_id": client_id})

    async def usage(self, client_id: str) -> Decimal:
        raw = await self._redis.hget(self._keys(client_id)[0], "usage")  # type: ignore[misc]
        return Decimal(int(raw or 0)) / _SCALE

    async def close(self) -> None:
        await self._redis.aclose()
