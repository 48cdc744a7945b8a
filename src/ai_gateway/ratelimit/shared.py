"""The limiter of :mod:`ai_gateway.ratelimit.limiter` shared by every replica through
Redis: the same rules, run as ONE Lua script per admission (atomic on the Redis server,
so two replicas can never both take the last slot) and one per finish (sent off the
request path).

Keys, all with an expiry so nothing outlives its use (a crashed replica's slots expire
with their lease; buckets disappear once they would be full again anyway)::

    {prefix}c:{client}         hash  r, r_at, t, t_at      the two token buckets
    {prefix}c:{client}:slots   zset  ticket -> lease end    calls in flight
    {prefix}p:{provider}:{win} hash  R, T, r:{client}, t:{client}   a key's minute window
                                      (the current and the previous one are read)

Bucket levels are Lua doubles (not money: a fraction of a request is harmless) and come
back as strings, so the Python side reads them exactly as the script computed them. The
caller passes ``now``: replicas share NTP time, and tests can drive a fake clock.
"""

from __future__ import annotations

from redis.asyncio import Redis

from ai_gateway.ratelimit.limiter import (
    CONTENDED,
    WINDOW_SECONDS,
    LimitRequest,
    Ticket,
    Verdict,
    window_of,
)

__all__ = ["RedisLimiter"]

_WINDOW_TTL = 2 * WINDOW_SECONDS

_LEVEL = """
local function level(b, f, limit, now)
  local v = redis.call('HMGET', b, f, f .. '_at')
  local tok, at = tonumber(v[1]), tonumber(v[2])
  if tok == nil or at == nil then return limit end
  if now > at then tok = tok + (now - at) * limit / 60 end
  if tok > limit then tok = limit end
  return tok
end
"""

_ACQUIRE = (
    _LEVEL
    + """
local b, slots, pw, pp = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local conc, cost = tonumber(ARGV[4]), tonumber(ARGV[5])
local ticket, lease_end = ARGV[6], tonumber(ARGV[7])
local prpm, ptpm = tonumber(ARGV[8]), tonumber(ARGV[9])
local client, contended = ARGV[10], tonumber(ARGV[11])
local r, t = 0, 0
if rpm > 0 then r = level(b, 'r', rpm, now) end
if tpm > 0 then t = level(b, 't', tpm, now) end
if rpm > 0 and r < 1 then
  return {0, 'requests', tostring((1 - r) * 60 / rpm), tostring(r), tostring(t)}
end
if tpm > 0 then
  local need = math.min(cost, tpm)
  if t < need then
    return {0, 'tokens', tostring((need - t) * 60 / tpm), tostring(r), tostring(t)}
  end
end
if conc > 0 then
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
  if redis.call('ZCARD', slots) >= conc then
    return {0, 'concurrency', '1', tostring(r), tostring(t)}
  end
end
local function fair(limit, total, mine, c, active)
  if total + c > limit then return false end
  if total + c > contended * limit and mine + c > limit / active then return false end
  return true
end
if prpm > 0 or ptpm > 0 then
  local v = redis.call('HMGET', pw, 'R', 'T', 'r:' .. client, 't:' .. client)
  local u = redis.call('HMGET', pp, 'R', 'T', 'r:' .. client, 't:' .. client)
  local w = 1 - (now % 60) / 60
  local function est(i) return (tonumber(u[i]) or 0) * w + (tonumber(v[i]) or 0) end
  local total_r, total_t, mine_r, mine_t = est(1), est(2), est(3), est(4)
  local function tenants(k)
    local n = redis.call('HLEN', k)
    if n > 2 then return (n - 2) / 2 end
    return 0
  end
  local active = math.max(tenants(pw), tenants(pp))
  if not v[3] and not u[3] then active = active + 1 end
  local wait = tostring(60 - now % 60)
  if prpm > 0 and not fair(prpm, total_r, mine_r, 1, active) then
    return {0, 'provider_requests', wait, tostring(r), tostring(t)}
  end
  if ptpm > 0 and not fair(ptpm, total_t, mine_t, math.min(cost, ptpm), active) then
    return {0, 'provider_tokens', wait, tostring(r), tostring(t)}
  end
  redis.call('HINCRBY', pw, 'R', 1)
  redis.call('HINCRBY', pw, 'T', cost)
  redis.call('HINCRBY', pw, 'r:' .. client, 1)
  redis.call('HINCRBY', pw, 't:' .. client, cost)
  redis.call('EXPIRE', pw, ARGV[12])
end
local full = 0
if rpm > 0 then
  r = r - 1
  redis.call('HSET', b, 'r', tostring(r), 'r_at', tostring(now))
  full = math.max(full, (rpm - r) * 60 / rpm)
end
if tpm > 0 then
  t = t - cost
  redis.call('HSET', b, 't', tostring(t), 't_at', tostring(now))
  full = math.max(full, (tpm - t) * 60 / tpm)
end
if full > 0 then redis.call('EXPIRE', b, math.ceil(full) + 1) end
if conc > 0 then
  redis.call('ZADD', slots, lease_end, ticket)
  redis.call('EXPIRE', slots, math.ceil(lease_end - now) + 1)
end
return {1, 'ok', '0', tostring(r), tostring(t)}
"""
)

_FINISH = (
    _LEVEL
    + """
local b, slots, admitted, served = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, ticket, tpm, cost = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local tokens, client, moved, ttl = tonumber(ARGV[5]), ARGV[6], ARGV[7] == '1', ARGV[8]
redis.call('ZREM', slots, ticket)
local delta = tokens - cost
if tpm > 0 and delta ~= 0 then
  local t = math.min(tpm, level(b, 't', tpm, now) - delta)
  redis.call('HSET', b, 't', tostring(t), 't_at', tostring(now))
  redis.call('EXPIRE', b, math.ceil((tpm - t) * 60 / tpm) + 1)
end
if redis.call('EXISTS', admitted) == 1 then
  if moved then
    redis.call('HINCRBY', admitted, 'R', -1)
    redis.call('HINCRBY', admitted, 'T', -cost)
    redis.call('HINCRBY', admitted, 'r:' .. client, -1)
    redis.call('HINCRBY', admitted, 't:' .. client, -cost)
  else
    redis.call('HINCRBY', admitted, 'T', delta)
    redis.call('HINCRBY', admitted, 't:' .. client, delta)
  end
end
if moved then
  redis.call('HINCRBY', served, 'R', 1)
  redis.call('HINCRBY', served, 'T', tokens)
  redis.call('HINCRBY', served, 'r:' .. client, 1)
  redis.call('HINCRBY', served, 't:' .. client, tokens)
  redis.call('EXPIRE', served, ttl)
end
return 1
"""
)


class RedisLimiter:
    def __init__(self, redis: Redis, *, prefix: str = "aigw:rl:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._acquire = redis.register_script(_ACQUIRE)
        self._finish = redis.register_script(_FINISH)

    def _client_keys(self, client_id: str) -> list[str]:
        base = f"{self._prefix}c:{client_id}"
        return [base, base + ":slots"]

    def _window_key(self, provider: str, window: int) -> str:
        return f"{self._prefix}p:{provider}:{window}"

    async def acquire(self, request: LimitRequest, ticket_id: str, now: float) -> Verdict:
        limits, ceiling = request.limits, request.ceiling
        reply = await self._acquire(
            keys=[
                *self._client_keys(request.client_id),
                self._window_key(request.provider, window_of(now)),
                self._window_key(request.provider, window_of(now) - 1),
            ],
            args=[
                repr(now),
                limits.rpm or 0,
                limits.tpm or 0,
                limits.concurrency or 0,
                request.cost,
                ticket_id,
                repr(now + request.lease_seconds),
                ceiling.rpm or 0,
                ceiling.tpm or 0,
                request.client_id,
                repr(CONTENDED),
                _WINDOW_TTL,
            ],
        )
        admitted, reason, wait, r, t = reply
        return Verdict(
            admitted=int(admitted) == 1,
            reason=None if int(admitted) == 1 else _text(reason),
            retry_after=float(wait),
            requests_left=float(r),
            tokens_left=float(t),
        )

    async def finish(
        self, ticket: Ticket, *, tokens: int, served_by: str | None, now: float
    ) -> None:
        request = ticket.request
        moved = served_by is not None and served_by != request.provider
        admitted = (
            self._window_key(request.provider, ticket.window)
            if not request.ceiling.empty
            else self._window_key("-", -1)
        )
        await self._finish(
            keys=[
                *self._client_keys(request.client_id),
                admitted,
                self._window_key(served_by or request.provider, window_of(now)),
            ],
            args=[
                repr(now),
                ticket.id,
                request.limits.tpm or 0,
                request.cost,
                tokens,
                request.client_id,
                "1" if moved else "0",
                _WINDOW_TTL,
            ],
        )

    async def close(self) -> None:
        await self._redis.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
