"""The change bus: an admin change made in one process reaches every process's caches.

Each process keeps hot state in memory (the config snapshot, keys and clients, budget
counters, rate limits). An admin change is *published* once, by kind, and every
subscriber of that kind in every process drops what it holds::

    gateway.changes.subscribe("limits", lambda client_id: limiter.forget(client_id))
    await gateway.publish_change("limits", client_id=client.id)

Delivery has two paths, so a lost message costs at most one poll interval:

- Every publish bumps ``shared_gateway_config.version`` (one integer, one atomic
  ``UPDATE``). Each process polls it every second; when it moved and no message explained
  the move, every subscriber of every kind runs (a full invalidation: changes are rare,
  reloads are cheap). This is the whole mechanism without Redis, and what the CLI and
  the jobs rely on.
- With Redis, the publish also goes to one pub/sub channel as ``{kind, client_id,
  version, origin}``; one subscriber task per process receives it within milliseconds
  and runs only that kind's subscribers. A message whose version is not the next one
  expected means another was missed: that also triggers a full invalidation.

Subscribers must be cheap and must not raise (they run on the event loop; an awaitable
they return is awaited). The publishing process applies its own change at once, before
``publish`` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from ai_gateway.storage.db import Database
from ai_gateway.storage.shared_config import bump_version, read_version

__all__ = [
    "CHANGE_KINDS",
    "Change",
    "ChangeBus",
    "ChangeKind",
    "Publish",
    "channel_for",
    "out_of_process_publisher",
    "publish_sync",
]

log = logging.getLogger("ai_gateway.changes")

ChangeKind = Literal["config", "models", "clients", "keys", "budgets", "limits"]
CHANGE_KINDS: tuple[ChangeKind, ...] = get_args(ChangeKind)

#: A subscriber gets the client the change is about, or None for "all of them".
Listener = Callable[[str | None], Awaitable[None] | None]


class Publish(Protocol):
    """What a service that owns a kind of change calls after its commit:
    :meth:`ChangeBus.publish` in a gateway, :func:`out_of_process_publisher` elsewhere."""

    def __call__(
        self, kind: ChangeKind, *, client_id: str | None = None, version: int | None = None
    ) -> Awaitable[None]: ...


POLL_SECONDS = 1.0
_RECONNECT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    client_id: str | None
    version: int
    origin: str

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "kind": self.kind,
                "client_id": self.client_id,
                "version": self.version,
                "origin": self.origin,
            }
        )

    @classmethod
    def decode(cls, raw: bytes | str) -> Change | None:
        try:
            data = orjson.loads(raw)
            kind = data["kind"]
            if kind not in CHANGE_KINDS:
                return None
            client_id = str(data["client_id"]) if data.get("client_id") else None
            return cls(kind, client_id, int(data["version"]), str(data["origin"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None


def channel_for(redis_url: str) -> str:
    """One channel per Redis database: pub/sub ignores the database number, so two
    deployments sharing a Redis server on different databases must not hear each other."""
    from redis.asyncio.connection import parse_url

    db = parse_url(redis_url).get("db", 0)
    return f"ai_gateway:changes:{db}"


def publish_sync(redis_url: str | None, change: Change) -> None:
    """Publish from a process without a bus (the CLI). The version poll is the fallback,
    so a Redis that is away only delays the change by a second."""
    if not redis_url:
        return
    from redis import Redis as SyncRedis

    client = SyncRedis.from_url(redis_url, socket_timeout=2.0)
    try:
        client.publish(channel_for(redis_url), change.encode())
    except RedisError:
        log.warning("change not published to Redis; replicas see it at their next poll")
    finally:
        client.close()


def out_of_process_publisher(db: Database, redis_url: str | None, *, origin: str) -> Publish:
    """A :class:`Publish` for a process without a running bus (the CLI, a job run from
    it): bump the version (every gateway's poll sees it), then tell Redis at once."""

    async def publish(
        kind: ChangeKind, *, client_id: str | None = None, version: int | None = None
    ) -> None:
        def run() -> None:
            moved = version
            if moved is None:  # else the change's own transaction already moved it
                with db.write() as session:
                    moved = bump_version(session)
            publish_sync(redis_url, Change(kind, client_id, moved, origin=origin))

        await db.run(run)

    return publish


class ChangeBus:
    """Publish and subscribe by kind; start it once per process."""

    def __init__(
        self, db: Database, *, redis_url: str | None = None, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._db = db
        self._redis_url = redis_url
        self._poll_seconds = poll_seconds
        self._origin = uuid.uuid4().hex
        self._listeners: dict[ChangeKind, list[Listener]] = {k: [] for k in CHANGE_KINDS}
        self._seen = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._redis: Redis | None = None
        self.received = 0
        self.full_invalidations = 0

    def subscribe(self, kind: ChangeKind, listener: Listener) -> None:
        self._listeners[kind].append(listener)

    async def start(self) -> None:
        self._seen = await self._db.run(self._read_version)
        self._tasks.append(asyncio.create_task(self._poll_forever(), name="change-poll"))
        if self._redis_url:
            self._redis = Redis.from_url(self._redis_url)
            self._tasks.append(asyncio.create_task(self._listen_forever(), name="change-listen"))

    async def stop(self) -> None:
        # The poll ends its round rather than being cancelled inside a database call (its
        # thread would return a connection to a pool that is being disposed).
        self._stopping.set()
        for task in self._tasks:
            if task.get_name() != "change-poll":
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def publish(
        self, kind: ChangeKind, *, client_id: str | None = None, version: int | None = None
    ) -> None:
        """Apply ``kind`` here at once, then tell every other process. ``version``: the
        counter the change already moved in its own transaction (a config write does)."""
        if version is None:
            version = await self._db.run(self._bump)
        if version != self._seen + 1:
            await self._dispatch_all()  # someone else's change slipped in between
        self._seen = max(self._seen, version)
        await self._dispatch(kind, client_id)
        if self._redis is not None:
            change = Change(kind, client_id, version, self._origin)
            try:
                await self._redis.publish(channel_for(self._redis_url or ""), change.encode())
            except RedisError:
                log.warning("change not published to Redis; replicas see it at their next poll")

    async def receive(self, change: Change) -> None:
        """A message from another process (the Redis listener calls this)."""
        if change.origin == self._origin:
            return
        self.received += 1
        if change.version > self._seen + 1:
            await self._dispatch_all()
        self._seen = max(self._seen, change.version)
        await self._dispatch(change.kind, change.client_id)

    async def check(self) -> bool:
        """One poll of the version: a full invalidation when it moved unexplained."""
        version = await self._db.run(self._read_version)
        if version == self._seen:
            return False
        self._seen = version
        await self._dispatch_all()
        return True

    # -- internals ------------------------------------------------------------------------

    async def _dispatch(self, kind: ChangeKind, client_id: str | None) -> None:
        for listener in self._listeners[kind]:
            try:
                result = listener(client_id)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # one broken subscriber must not keep the others stale
                log.exception("change subscriber failed", extra={"kind": kind})

    async def _dispatch_all(self) -> None:
        self.full_invalidations += 1
        for kind in CHANGE_KINDS:
            await self._dispatch(kind, None)

    async def _poll_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._poll_seconds)
            if self._stopping.is_set():
                return
            try:
                await self.check()
            except SQLAlchemyError:
                log.warning("change poll failed; retrying")

    async def _listen_forever(self) -> None:
        assert self._redis is not None
        channel = channel_for(self._redis_url or "")
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(channel)
                # Whatever happened while we were not subscribed is the poll's to find.
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is None or message.get("type") != "message":
                        continue
                    change = Change.decode(message["data"])
                    if change is not None:
                        await self.receive(change)
            except (RedisError, OSError):
                log.warning("change channel lost; resubscribing", extra={"channel": channel})
                await asyncio.sleep(_RECONNECT_SECONDS)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _bump(self) -> int:
        with self._db.write() as session:
            return bump_version(session)

    def _read_version(self) -> int:
        with self._db.session() as session:
            return read_version(session)
