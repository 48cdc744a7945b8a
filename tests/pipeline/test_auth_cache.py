"""The key cache is stale-while-refresh: an expired entry is served while ONE lookup per
key refreshes it (no herd of identical queries on expiry), and revocation still takes
effect at once through invalidation (what the change bus calls on every replica)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import delete

from ai_gateway.errors import AuthenticationFailed
from ai_gateway.services.auth import Authenticator, Principal
from ai_gateway.storage.api_keys import issue_key, revoke_key
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import ApiKey
from tests.pipeline.test_config_cache import Clock


class CountingAuth(Authenticator):
    """Counts database lookups; ``gate`` (when set) holds each one until it is opened."""

    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__(db, clock=clock)
        self.lookups = 0
        self.gate: threading.Event | None = None

    def _lookup(self, token: str) -> Principal | None:
        self.lookups += 1
        if self.gate is not None:
            assert self.gate.wait(10)
        return super()._lookup(token)


def _client_key(db: Database) -> tuple[str, str, str]:
    """``(client_id, key_id, plain key)`` of a new client."""
    with db.write() as s:
        client = create_client(s, name="Padaria Pão Quente", plan="basic")
        issued = issue_key(s, role="client", client_id=client.id)
    return client.id, issued.info.id, issued.plain


async def _settle() -> None:
    for _ in range(200):
        await asyncio.sleep(0.005)


async def test_one_refresh_for_many_requests_on_an_expired_entry(db: Database) -> None:
    clock = Clock()
    auth = CountingAuth(db, clock)
    _, _, key = _client_key(db)
    await auth.authenticate(key)
    assert auth.lookups == 1
    clock.now += 10  # past the 5 s TTL
    auth.gate = threading.Event()
    principals = await asyncio.gather(*(auth.authenticate(key) for _ in range(200)))
    # All answered from the stale entry, while one lookup is held in flight.
    assert {p.key_id for p in principals} == {principals[0].key_id}
    await asyncio.sleep(0.05)
    assert auth.lookups == 2
    auth.gate.set()
    await _settle()
    await asyncio.gather(*(auth.authenticate(key) for _ in range(50)))
    assert auth.lookups == 2  # refreshed: fresh again, no more lookups


async def test_concurrent_first_requests_share_one_lookup(db: Database) -> None:
    auth = CountingAuth(db, Clock())
    _, _, key = _client_key(db)
    auth.gate = threading.Event()
    waiting = asyncio.gather(*(auth.authenticate(key) for _ in range(100)))
    await asyncio.sleep(0.05)
    auth.gate.set()
    assert len(await waiting) == 100
    assert auth.lookups == 1


async def test_a_revoked_key_is_refused_after_invalidation(db: Database) -> None:
    clock = Clock()
    auth = CountingAuth(db, clock)
    client_id, key_id, key = _client_key(db)
    await auth.authenticate(key)
    with db.write() as s:
        revoke_key(s, key_id=key_id)
    auth.invalidate(client_id=client_id)  # what the "keys" change does on every replica
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(key)


async def test_invalidation_during_a_refresh_is_not_undone_by_it(db: Database) -> None:
    clock = Clock()
    auth = CountingAuth(db, clock)
    client_id, key_id, key = _client_key(db)
    await auth.authenticate(key)
    clock.now += 10
    auth.gate = threading.Event()
    await auth.authenticate(key)  # stale; a refresh starts and is held before its read
    await asyncio.sleep(0.05)
    with db.write() as s:
        revoke_key(s, key_id=key_id)
    auth.invalidate(client_id=client_id)
    auth.gate.set()
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(key)  # a new lookup, not the one started before the change
    await _settle()
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(key)


async def test_a_key_deleted_in_the_database_is_refused_after_the_refresh(db: Database) -> None:
    clock = Clock()
    auth = CountingAuth(db, clock)
    _, key_id, key = _client_key(db)
    await auth.authenticate(key)
    with db.write() as s:  # behind the gateway's back: no change published
        s.execute(delete(ApiKey).where(ApiKey.id == key_id))
    clock.now += 10
    await auth.authenticate(key)  # the stale entry, once, while the refresh reads
    await _settle()
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(key)
    assert auth.lookups == 2


async def test_an_entry_long_expired_waits_for_the_lookup(db: Database) -> None:
    clock = Clock()
    auth = CountingAuth(db, clock)
    _, key_id, key = _client_key(db)
    await auth.authenticate(key)
    with db.write() as s:
        revoke_key(s, key_id=key_id)
    clock.now += 3600  # an idle key: its entry is too old to be served stale
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate(key)
