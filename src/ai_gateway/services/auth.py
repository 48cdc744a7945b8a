"""Who is calling: an API key becomes a :class:`Principal`, from memory almost always.

Keys are looked up by their SHA-256 in a small TTL cache (positive entries for a few
seconds, unknown keys for one second), so the hot path does no database round trip and a
flood of wrong keys cannot hammer the database. Revoking a key or changing a client
through any replica or the CLI invalidates the entries of every process within a second
(:mod:`ai_gateway.changes`); the TTL is the safety net. ``last_used_at`` is collected in memory and
written in batches.

An expired entry of a known key is served stale while ONE background lookup per key
refreshes it (stale-while-refresh): with a plain TTL, every request of a busy key that
arrived in the lookup's round trip did its own lookup, a herd of identical queries every
five seconds per key and replica. Only a key whose entry expired long ago
(:data:`_STALE_SECONDS`) or was never seen waits, and concurrent waiters of one key share
one lookup. Invalidation drops the entry and forgets the lookups in flight (their answer
may predate the change), so a revoked key is refused on its next request; a key deleted
behind the gateway's back is refused once the refresh has read it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ai_gateway.errors import (
    AuthenticationFailed,
    ClientPaused,
    NotFound,
    PermissionDenied,
    StorageError,
)
from ai_gateway.storage.api_keys import find_key, hash_key
from ai_gateway.storage.clients import ClientInfo, get_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import ApiKey

__all__ = ["Authenticator", "Principal", "bearer_token"]

log = logging.getLogger("ai_gateway.auth")

_POSITIVE_TTL = 5.0
_NEGATIVE_TTL = 1.0
#: How long past its expiry a known key's entry is still served while it is refreshed;
#: older entries (an idle key) wait for the lookup, as a new key does.
_STALE_SECONDS = 60.0
_MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    role: str
    client: ClientInfo | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def client_id(self) -> str | None:
        return self.client.id if self.client else None

    def require_client(self) -> ClientInfo:
        """The calling client; admins have none and cannot make chat calls as themselves."""
        if self.client is None:
            raise PermissionDenied("this route needs a client key, not an admin key")
        if self.client.status != "active":
            raise ClientPaused(f"client '{self.client.name}' is {self.client.status}")
        return self.client


def bearer_token(header: str | None) -> str:
    if not header:
        raise AuthenticationFailed("missing API key; send 'Authorization: Bearer <key>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("malformed Authorization header; use 'Bearer <key>'")
    return token.strip()


class Authenticator:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = db
        self._clock = clock
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._clients: dict[str, tuple[float, ClientInfo]] = {}
        self._last_used: dict[str, datetime] = {}
        self._inflight: dict[str, asyncio.Task[Principal | None]] = {}
        #: Bumped by every invalidation: a lookup started before one does not store.
        self._generation = 0

    async def authenticate(self, token: str) -> Principal:
        digest = hash_key(token)
        entry = self._entries.get(digest)
        now = self._clock()
        if entry is not None and entry[0] > now:
            principal = entry[1]
        elif entry is not None and entry[1] is not None and now - entry[0] < _STALE_SECONDS:
            self._refresh(digest, token)  # in the background; this request goes on
            principal = entry[1]
        else:
            # shield: a caller that goes away does not cancel the lookup others share.
            principal = await asyncio.shield(self._refresh(digest, token))
        if principal is None:
            raise AuthenticationFailed("invalid or revoked API key")
        self._last_used[principal.key_id] = datetime.now(UTC)
        return principal

    def _refresh(self, digest: str, token: str) -> asyncio.Task[Principal | None]:
        """The one lookup in flight for ``digest``, started if there is none."""
        task = self._inflight.get(digest)
        if task is None:
            task = asyncio.create_task(self._load(digest, token, self._generation))
            self._inflight[digest] = task
            task.add_done_callback(lambda done: self._lookup_done(digest, done))
        return task

    async def _load(self, digest: str, token: str, generation: int) -> Principal | None:
        known = self._entries.get(digest)
        stale = known[1] if known is not None else None
        try:
            principal = await self._db.run(self._lookup, token)
        except SQLAlchemyError as exc:
            if stale is None:
                raise StorageError("the key store is unreachable; try again") from exc
            # A key we knew a moment ago stays valid while the database is away; the next
            # attempt waits a second, so an outage is not hammered by every request.
            principal, ttl = stale, _NEGATIVE_TTL
        else:
            ttl = _POSITIVE_TTL if principal else _NEGATIVE_TTL
        if generation == self._generation:  # else an invalidation came in meanwhile
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = (self._clock() + ttl, principal)
        return principal

    def _lookup_done(self, digest: str, task: asyncio.Task[Principal | None]) -> None:
        if self._inflight.get(digest) is task:
            del self._inflight[digest]
        if task.cancelled():
            return
        exc = task.exception()  # retrieved here, so a refresh nobody awaited is not lost
        if exc is not None and not isinstance(exc, StorageError):
            log.error("key lookup failed", exc_info=exc)

    def _lookup(self, token: str) -> Principal | None:
        with self._db.session() as session:
            return _principal(session, token)

    async def authenticate_key_id(self, key_id: str, fingerprint: str) -> Principal:
        """The principal of a dashboard session: the key named by its id, still active, and
        whose hash starts with ``fingerprint`` (so a forged id alone is not enough). Cached
        like keys, so a revoked key ends its sessions within the same TTL."""
        cache_key = f"session:{key_id}:{fingerprint}"
        entry = self._entries.get(cache_key)
        now = self._clock()
        if entry is None or entry[0] <= now:
            try:
                principal = await self._db.run(self._lookup_id, key_id, fingerprint)
            except SQLAlchemyError as exc:
                raise StorageError("the key store is unreachable; try again") from exc
            ttl = _POSITIVE_TTL if principal else _NEGATIVE_TTL
            self._entries[cache_key] = (now + ttl, principal)
        else:
            principal = entry[1]
        if principal is None:
            raise AuthenticationFailed("the session's key is revoked or unknown; sign in again")
        return principal

    def _lookup_id(self, key_id: str, fingerprint: str) -> Principal | None:
        with self._db.session() as session:
            row = session.get(ApiKey, key_id)
            if row is None or row.revoked_at is not None or len(fingerprint) < 16:
                return None
            if not row.key_hash.startswith(fingerprint):
                return None
            client = get_client(session, row.client_id) if row.client_id else None
            return Principal(key_id=row.id, role=row.role, client=client)

    async def client(self, client_id: str) -> ClientInfo:
        """A client by id for in-process callers (``call_ai``), from the same short-lived
        cache as keys: a bot answering messages does no database round trip per call."""
        entry = self._clients.get(client_id)
        now = self._clock()
        if entry is not None and entry[0] > now:
            return entry[1]
        client = await self._db.run(self._lookup_client, client_id)
        if len(self._clients) >= _MAX_ENTRIES:
            self._clients.clear()
        self._clients[client_id] = (now + _POSITIVE_TTL, client)
        return client

    def _lookup_client(self, client_id: str) -> ClientInfo:
        with self._db.session() as session:
            client = get_client(session, client_id)
        if client.id != client_id:  # get_client also accepts a name; call_ai takes ids
            raise NotFound(f"no client with id '{client_id}'")
        return client

    def invalidate(self, *, client_id: str | None = None) -> None:
        """Forget cached keys and clients (of one client, or all)."""
        self._generation += 1
        self._inflight.clear()  # their answers may predate the change; they finish unstored
        if client_id is None:
            self._entries.clear()
            self._clients.clear()
            return
        self._clients.pop(client_id, None)
        for digest, (_, principal) in list(self._entries.items()):
            # Unknown keys too: the change may be the issue of one of them.
            if principal is None or principal.client_id == client_id:
                del self._entries[digest]

    async def close(self) -> None:
        """Let the lookups in flight finish (before the database is disposed)."""
        await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    def take_last_used(self) -> dict[str, datetime]:
        """Hand over the keys used since the last call (for a batched update)."""
        used, self._last_used = self._last_used, {}
        return used


def _principal(session: Session, token: str) -> Principal | None:
    key = find_key(session, token)
    if key is None:
        return None
    client = get_client(session, key.client_id) if key.client_id else None
    return Principal(key_id=key.id, role=key.role, client=client)
