"""The shared config is read through a 5-minute cache, invalidated at once on change."""

from __future__ import annotations

from ai_gateway.pipeline.config_cache import CONFIG_TTL_SECONDS, ConfigCache
from ai_gateway.settings import Settings
from ai_gateway.storage.db import Database
from ai_gateway.storage.shared_config import update_shared_config


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_snapshot_is_cached_for_five_minutes(db: Database, settings_factory) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    cache = ConfigCache(db, None, settings_factory(), clock=clock)
    first = await cache.get()
    with db.write() as s:
        update_shared_config(s, changes={"cache_ttl_seconds": 42})
    clock.now += CONFIG_TTL_SECONDS - 1
    assert (await cache.get()) is first  # no database read within the TTL
    assert cache.loads == 1
    clock.now += 2
    assert (await cache.get()).cache.default_ttl_seconds == 42
    assert cache.loads == 2


async def test_invalidation_is_immediate(db: Database, settings_factory) -> None:  # type: ignore[no-untyped-def]
    cache = ConfigCache(db, None, settings_factory(), clock=Clock())
    assert (await cache.get()).default_model == "openai/gpt-4o-mini"
    with db.write() as s:
        update_shared_config(s, changes={"default_model": "openai/gpt-4o"})
    cache.invalidate()
    assert (await cache.get()).default_model == "openai/gpt-4o"


async def test_version_poll_catches_changes_made_elsewhere(db: Database, settings_factory) -> None:  # type: ignore[no-untyped-def]
    cache = ConfigCache(db, None, settings_factory(), clock=Clock())
    await cache.get()
    assert await cache.check_version() is False
    with db.write() as s:  # e.g. the CLI, or another replica's admin API
        update_shared_config(s, changes={"fallback_chain": ["google/gemini-2.0-flash"]})
    assert await cache.check_version() is True
    assert (await cache.get()).fallback_chain == ("google/gemini-2.0-flash",)


async def test_environment_base_urls_win(db: Database, settings_factory) -> None:  # type: ignore[no-untyped-def]
    with db.write() as s:
        update_shared_config(
            s,
            changes={
                "base_urls": {
                    "openai": "https://config.example/v1",
                    "groq": "https://groq.example/v1",
                }
            },
        )
    settings: Settings = settings_factory(openai_base_url="http://127.0.0.1:1/v1")
    snapshot = await ConfigCache(db, None, settings).get()
    assert snapshot.base_urls["openai"] == "http://127.0.0.1:1/v1"
    assert snapshot.base_urls["groq"] == "https://groq.example/v1"


async def test_call_ai_reads_clients_from_the_cache_and_invalidation_works(
    db: Database,
    settings_factory,  # type: ignore[no-untyped-def]
) -> None:
    from sqlalchemy import event

    from ai_gateway.services.auth import Authenticator
    from ai_gateway.storage.clients import create_client, update_client

    with db.write() as s:
        client = create_client(s, name="cached", plan="pro")
    auth = Authenticator(db)
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert (await auth.client(client.id)).status == "active"
    first = len(statements)
    assert (await auth.client(client.id)).status == "active"
    assert len(statements) == first  # no database round trip the second time
    with db.write() as s:
        update_client(s, client_id=client.id, changes={"status": "paused"})
    auth.invalidate(client_id=client.id)
    assert (await auth.client(client.id)).status == "paused"
