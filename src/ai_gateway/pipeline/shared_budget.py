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

One script call per admission and one per settlement (sent off the response path); the
calls that this process issues in the same event-loop turn share one pipelined round
trip (:class:`_Pipelined`; each script still runs atomically on its own): under load,
redis-py's per-command work (a pooled connection, a write, a parse) was a quarter of a
worker's CPU.
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import ROUND_CEILING, Decimal
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
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


class _Pipelined:
    """Script calls of one event-loop turn, sent as one non-transactional pipeline; each
    caller gets its own reply or error. A script Redis no longer knows (restarted,
    flushed) is loaded again and only the calls it refused are sent again."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._waiting: list[tuple[AsyncScript, list[str], list[Any], asyncio.Future[Any]]] = []
        self._sending: asyncio.Task[None] | None = None

    async def call(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((script, keys, args, reply))
        if self._sending is None:
            self._sending = asyncio.ensure_future(self._send())
        return await reply

    async def _send(self) -> None:
        batch = None
        try:
            await asyncio.sleep(0)  # the calls of this loop turn join the batch
            batch = self._take()
            await self._run(batch)
        except Exception as exc:  # every caller sees the error (RedisError: its fallback)
            for *_, reply in batch or []:
                if not reply.done():
                    reply.set_exception(exc)
        finally:  # cancelled (shutdown): so are the calls still waiting
            for *_, reply in batch if batch is not None else self._take():
                reply.cancel()

    def _take(self) -> list[tuple[AsyncScript, list[str], list[Any], asyncio.Future[Any]]]:
        batch, self._waiting, self._sending = self._waiting, [], None
        return batch

    async def _run(
        self, batch: list[tuple[AsyncScript, list[str], list[Any], asyncio.Future[Any]]]
    ) -> None:
        for attempt in range(2):
            pipe = self._redis.pipeline(transaction=False)
            for script, keys, args, _ in batch:
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            replies = await pipe.execute(raise_on_error=False)
            retry = []
            for item, answer in zip(batch, replies, strict=True):
                reply = item[3]
                if reply.done():  # the caller was cancelled
                    continue
                if isinstance(answer, NoScriptError) and attempt == 0:
                    retry.append(item)
                elif isinstance(answer, Exception):
                    reply.set_exception(answer)
                else:
                    reply.set_result(answer)
            if not retry:
                return
            for script in {id(item[0]): item[0] for item in retry}.values():
                script.sha = await self._redis.script_load(script.script)
            batch = retry


class RedisBudgetCounters:
    def __init__(self, redis: Redis, *, prefix: str = "aigw:budget:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._reserve = redis.register_script(_RESERVE)
        self._settle = redis.register_script(_SETTLE)
        self._calls = _Pipelined(redis)

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
        admitted = await self._calls.call(
            self._reserve,
            self._keys(client_id),
            [
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
        """Swap a reservation for the real amount (``actual`` 0 = release)."""
        try:
            await self._calls.call(
                self._settle, self._keys(client_id), [reservation_id, to_units(actual), period]
            )
        except RedisError:
            # The reservation expires on its own; usage is re-floored from the database.
            log.warning("shared budget settle failed", extra={"client_id": client_id})

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
