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

Redis away: the first failure makes every admission fail at once for
:data:`RETRY_SECONDS` (the guard then admits its share, see
:mod:`ai_gateway.pipeline.budget_outage`), so calls do not each wait on a dead
connection; then one admission tries again while the others still fail fast. A settlement
that could not be sent is remembered (bounded) and sent again as a release once Redis
answers, so a reservation made before the outage does not hold its money until it
expires; its real amount reaches the shared usage through the stored usage (``floor``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import ROUND_CEILING, Decimal
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError

__all__ = ["RedisBudgetCounters", "to_units"]

log = logging.getLogger("ai_gateway.budget")

_SCALE = Decimal(10) ** 6
#: How long a reservation may live without its call settling or releasing it.
RESERVATION_TTL_SECONDS = 900
_KEY_TTL_SECONDS = 40 * 24 * 3600
#: After a failure, how long admissions skip Redis before one tries it again.
RETRY_SECONDS = 1.0
#: Settlements kept to send again when Redis is back; past it, reservations expire.
_UNSENT_MAX = 100_000

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
        #: monotonic time before which admissions do not try Redis (0: it is up)
        self._down_until = 0.0
        #: reservation id -> (client id, period) of settlements Redis did not get
        self._unsent: dict[str, tuple[str, str]] = {}
        self._resending: asyncio.Task[None] | None = None

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
        """Admit (True) or refuse (False) atomically across every replica; raises
        :class:`RedisError` when Redis is away (at once while backing off)."""
        self._check_up()
        now = time.time()
        try:
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
        except RedisError:
            if self._down_until == 0.0:
                log.warning("shared budget counters unreachable; each replica admits its share")
            self._down_until = time.monotonic() + RETRY_SECONDS
            raise
        if self._down_until:
            log.info("shared budget counters reachable again")
            self._down_until = 0.0
        if self._unsent and self._resending is None:
            self._resending = asyncio.ensure_future(self._resend())
        return bool(admitted)

    @property
    def reachable(self) -> bool:
        """False since a failure, until an admission gets through again."""
        return self._down_until == 0.0

    def _check_up(self) -> None:
        if not self._down_until:
            return
        now = time.monotonic()
        if now < self._down_until:
            raise RedisConnectionError("shared budget counters unreachable (retrying soon)")
        # This call tries; the ones that come while it waits still fail fast.
        self._down_until = now + RETRY_SECONDS

    async def _resend(self) -> None:
        """Release the reservations whose settlement Redis did not get."""
        unsent, self._unsent = self._unsent, {}
        try:  # one pipelined batch; a release that fails again is kept again
            await asyncio.gather(
                *(
                    self.settle(client_id=c, reservation_id=rid, actual=Decimal(0), period=p)
                    for rid, (c, p) in unsent.items()
                )
            )
        finally:
            self._resending = None

    async def settle(
        self, *, client_id: str, reservation_id: str, actual: Decimal, period: str
    ) -> None:
        """Swap a reservation for the real amount (``actual`` 0 = release)."""
        if self._down_until and time.monotonic() < self._down_until:
            self._keep_unsent(client_id, reservation_id, period)
            return
        try:
            await self._calls.call(
                self._settle, self._keys(client_id), [reservation_id, to_units(actual), period]
            )
        except RedisError:
            self._keep_unsent(client_id, reservation_id, period)
            log.debug("shared budget settle failed", extra={"client_id": client_id})

    def _keep_unsent(self, client_id: str, reservation_id: str, period: str) -> None:
        """Sent again (as a release) when Redis is back; its amount comes from the floor."""
        if len(self._unsent) < _UNSENT_MAX:
            self._unsent[reservation_id] = (client_id, period)

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
