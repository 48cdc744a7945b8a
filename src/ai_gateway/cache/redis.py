"""The Redis backend, so every gateway replica shares one cache.

Layout under ``key_prefix`` (default ``aigw:cache:``):

* ``e:<key>`` — a hash per entry: the orjson ``data`` plus metadata (``hits``, ``model``,
  ``client``, ``size``, ``cost``, ``created``, ``expires``), with the entry's TTL on it.
  Data and hit counter live in *one* key so they expire together: a separate counter key
  would outlive its value whenever ``INCR`` raced the expiry and leak forever.
* ``i:all``, ``i:client:<id>``, ``i:model:<model>`` — sorted sets of entry keys scored by
  expiry time, for listing and invalidation without ``SCAN``-ing the keyspace.

Index members go stale when entries expire or Redis evicts them under ``maxmemory``;
writes trim long-expired scores from the indexes they touch, and listing/invalidation
drop any member whose hash is gone (lazy cleanup, no background job). An index nobody
writes to again keeps its dead members until it is next listed or invalidated.

Reads count a hit with one Lua script (``HINCRBY`` only if the entry still exists), so a
hit never resurrects an expired key without a TTL. Every ``redis`` error leaves as
:class:`CacheUnavailable`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from decimal import Decimal, InvalidOperation

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ai_gateway.cache.base import (
    ALL_ENTRIES,
    CacheBackend,
    CachedEntry,
    CacheUnavailable,
    EntryInfo,
    EntryQuery,
)

__all__ = ["DEFAULT_KEY_PREFIX", "DEFAULT_SOCKET_TIMEOUT", "RedisCacheBackend"]

DEFAULT_KEY_PREFIX = "aigw:cache:"
DEFAULT_SOCKET_TIMEOUT = 1.0

_GET_AND_COUNT = """
local data = redis.call('HGET', KEYS[1], 'data')
if data then redis.call('HINCRBY', KEYS[1], 'hits', 1) end
return data
"""

#: Index trimming keeps members this long past their expiry: scores come from each
#: replica's own clock, and a replica running ahead must not drop a live entry's member
#: (it would then escape invalidation). Listing still filters on the real expiry.
_PRUNE_GRACE_SECONDS = 300.0
_META_FIELDS = ("model", "client", "size", "hits", "created", "expires", "cost")
_BATCH = 500
_STALE_RETRIES = 3


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    try:
        yield
    except RedisError as exc:
        raise CacheUnavailable(f"redis: {exc}") from exc


class RedisCacheBackend(CacheBackend):
    """Shared cache on a ``redis.asyncio`` client. Built with :meth:`from_url` it owns the
    client and closes it; handed a client, it leaves closing to the owner."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        owns_client: bool = False,
    ) -> None:
        self._redis = client
        self._prefix = key_prefix
        self._owns_client = owns_client
        self._get_script = client.register_script(_GET_AND_COUNT)
        self._closed = False

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    ) -> RedisCacheBackend:
        """A backend owning its client. Timeouts are short on purpose: the cache sits on
        every request's path, and a stalled Redis should cost a miss, not seconds."""
        client = aioredis.Redis.from_url(
            url,
            decode_responses=False,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
        )
        return cls(client, key_prefix=key_prefix, owns_client=True)

    async def get(self, key: str) -> CachedEntry | None:
        async with _translated():
            data = await self._get_script(keys=[self._entry_key(key)])
        return None if data is None else CachedEntry.from_bytes(data)

    async def set(self, key: str, entry: CachedEntry, ttl_seconds: int) -> None:
        if ttl_seconds <= 0:
            return
        data = entry.to_bytes()
        now = time.time()
        expires = now + ttl_seconds
        entry_key = self._entry_key(key)
        indexes = self._indexes(entry.client_id, entry.model_id)
        async with _translated(), self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(entry_key)
            pipe.hset(
                entry_key,
                mapping={
                    "data": data,
                    "hits": 0,
                    "model": entry.model_id,
                    "client": entry.client_id or "",
                    "size": len(data),
                    "cost": str(entry.cost_usd),
                    "created": repr(entry.created_at),
                    "expires": repr(expires),
                },
            )
            pipe.expire(entry_key, ttl_seconds)
            for index in indexes:
                pipe.zadd(index, {key: expires})
                pipe.zremrangebyscore(index, "-inf", now - _PRUNE_GRACE_SECONDS)
            await pipe.execute()

    async def delete(self, key: str) -> bool:
        async with _translated():
            return await self._delete_keys([key]) == 1

    async def list_entries(self, query: EntryQuery = ALL_ENTRIES) -> list[EntryInfo]:
        async with _translated():
            for _ in range(_STALE_RETRIES):
                client_id, model = query.client_id, query.model
                keys = await self._page(client_id, model, offset=query.offset, limit=query.limit)
                infos, stale = await self._load(keys, client_id=client_id, model=model)
                if not stale:
                    break
                await self._forget(stale, client_id=client_id, model=model)
            return infos

    async def invalidate(self, *, client_id: str | None = None, model: str | None = None) -> int:
        async with _translated():
            if client_id is None and model is None:
                return await self._wipe()
            keys = await self._members(client_id, model)
            removed = 0
            for start in range(0, len(keys), _BATCH):
                batch = keys[start : start + _BATCH]
                infos, stale = await self._load(batch, client_id=client_id, model=model)
                removed += await self._delete_keys([info.key for info in infos])
                await self._forget(stale, client_id=client_id, model=model)
            return removed

    async def close(self) -> None:
        if self._owns_client and not self._closed:
            self._closed = True
            await self._redis.aclose()

    # -- helpers ---------------------------------------------------------------------------

    def _entry_key(self, key: str) -> str:
        return f"{self._prefix}e:{key}"

    def _index(self, client_id: str | None, model: str | None) -> str:
        if client_id is not None:
            return f"{self._prefix}i:client:{client_id}"
        if model is not None:
            return f"{self._prefix}i:model:{model}"
        return f"{self._prefix}i:all"

    def _indexes(self, client_id: str | None, model: str) -> list[str]:
        indexes = [self._index(None, None), self._index(None, model)]
        if client_id is not None:
            indexes.append(self._index(client_id, None))
        return indexes

    async def _page(
        self, client_id: str | None, model: str | None, *, offset: int, limit: int
    ) -> list[str]:
        now = time.time()
        if client_id is not None and model is not None:
            pairs = await self._redis.zinter(
                [self._index(client_id, None), self._index(None, model)],
                aggregate="MAX",
                withscores=True,
            )
            live = [_text(member) for member, score in reversed(pairs) if score > now]
            return live[offset : offset + limit]
        members = await self._redis.zrevrangebyscore(
            self._index(client_id, model), "+inf", f"({now}", start=offset, num=limit
        )
        return [_text(member) for member in members]

    async def _members(self, client_id: str | None, model: str | None) -> list[str]:
        if client_id is not None and model is not None:
            members = await self._redis.zinter(
                [self._index(client_id, None), self._index(None, model)]
            )
        else:
            members = await self._redis.zrange(self._index(client_id, model), 0, -1)
        return [_text(member) for member in members]

    async def _load(
        self, keys: list[str], *, client_id: str | None, model: str | None
    ) -> tuple[list[EntryInfo], list[str]]:
        """Metadata for ``keys``; members whose entry is gone or no longer matches the
        filters (overwritten by another model, say) come back as stale."""
        if not keys:
            return [], []
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(self._entry_key(key), list(_META_FIELDS))
            rows = await pipe.execute()
        infos: list[EntryInfo] = []
        stale: list[str] = []
        for key, row in zip(keys, rows, strict=True):
            info = _parse_info(key, row)
            if info is None or not _matches(info, client_id=client_id, model=model):
                stale.append(key)
            else:
                infos.append(info)
        return infos, stale

    async def _forget(self, keys: list[str], *, client_id: str | None, model: str | None) -> None:
        if not keys:
            return
        indexes = {self._index(None, None), self._index(client_id, model)}
        if client_id is not None:
            indexes.add(self._index(client_id, None))
        if model is not None:
            indexes.add(self._index(None, model))
        async with self._redis.pipeline(transaction=False) as pipe:
            for index in indexes:
                pipe.zrem(index, *keys)
            await pipe.execute()

    async def _delete_keys(self, keys: list[str]) -> int:
        """Delete entries and their index members; returns how many entries existed."""
        if not keys:
            return 0
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(self._entry_key(key), ["client", "model"])
            owners = await pipe.execute()
        del_positions: list[int] = []
        async with self._redis.pipeline(transaction=True) as pipe:
            queued = 0
            for key, (client, model) in zip(keys, owners, strict=True):
                del_positions.append(queued)
                pipe.delete(self._entry_key(key))
                owner = _text(client) if client else None
                indexes = self._indexes(owner, _text(model or b""))
                for index in indexes:
                    pipe.zrem(index, key)
                queued += 1 + len(indexes)
            results = await pipe.execute()
        return sum(1 for position in del_positions if results[position] == 1)

    async def _wipe(self) -> int:
        removed = 0
        for pattern in (f"{self._prefix}e:*", f"{self._prefix}i:*"):
            batch: list[bytes] = []
            async for name in self._redis.scan_iter(match=_escape_glob(pattern), count=_BATCH):
                batch.append(name)
                if len(batch) >= _BATCH:
                    count = await self._redis.unlink(*batch)
                    removed += count if pattern.endswith("e:*") else 0
                    batch = []
            if batch:
                count = await self._redis.unlink(*batch)
                removed += count if pattern.endswith("e:*") else 0
        return removed


def _escape_glob(pattern: str) -> str:
    """Escape glob metacharacters in the prefix so a prefix like ``a[1]`` matches itself."""
    head, star = pattern[:-1], pattern[-1]
    for char in "\\*?[]":
        head = head.replace(char, "\\" + char)
    return head + star


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _matches(info: EntryInfo, *, client_id: str | None, model: str | None) -> bool:
    if client_id is not None and info.client_id != client_id:
        return False
    return model is None or info.model_id == model


def _parse_info(key: str, row: Iterable[bytes | None]) -> EntryInfo | None:
    model, client, size, hits, created, expires, cost = row
    if model is None or expires is None:
        return None
    try:
        return EntryInfo(
            key=key,
            model_id=_text(model),
            client_id=_text(client or b"") or None,
            size_bytes=int(size or 0),
            hits=int(hits or 0),
            created_at=float(created or 0),
            expires_at=float(expires),
            cost_usd=Decimal(_text(cost or b"0")),
        )
    except (ValueError, InvalidOperation) as exc:
        raise CacheUnavailable(f"corrupt cache metadata for {key}: {exc}") from exc
