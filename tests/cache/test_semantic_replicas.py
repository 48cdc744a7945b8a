"""Two ``SemanticCache`` objects on one database, as two replicas: an entry one writes is
found by the other after its scope's top-up; an entry purged by one is dropped by the
other when it finds the answer gone; another client's scope stays empty. Both engines."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from ai_gateway.cache.base import CachedEntry
from ai_gateway.cache.semantic import SemanticCache, SemanticSettings, unit
from ai_gateway.cache.semantic_index import Vector
from ai_gateway.cache.service import CacheDecision
from ai_gateway.providers.base import ChatRequest
from ai_gateway.providers.simulated.embedding import simulated_vector
from ai_gateway.storage.clients import ClientInfo, create_client, update_client
from ai_gateway.storage.db import Database

DECISION = CacheDecision("client:x:k", ttl_seconds=600, lookup=True, store=True, owner="x")


class _Embedder:
    model = "simulated/demo-embed"

    def __init__(self) -> None:
        self.calls = 0

    async def embed(self, client: ClientInfo, text: str, **_: Any) -> Vector | None:
        self.calls += 1
        return unit(simulated_vector(self.model, text, 64))


def _client(db: Database, name: str) -> ClientInfo:
    with db.write() as s:
        client = create_client(s, name=name, plan="pro")
        return update_client(s, client_id=client.id, changes={"semantic_cache": True})


def _request(text: str) -> ChatRequest:
    return ChatRequest("openai/gpt-4o-mini", [{"role": "user", "content": text}])


async def _lookup(cache: SemanticCache, client: ClientInfo, text: str) -> Any:
    probe = cache.probe(_request(text), client, DECISION)
    assert probe is not None
    found = await cache.lookup(probe, client=client, request_id="r", conversation_id=None)
    return probe, found


def _answer(text: str) -> CachedEntry:
    body = {"object": "chat.completion", "choices": [{"message": {"content": text}}]}
    return CachedEntry(body=body, model_id="openai/gpt-4o-mini", client_id="x")


async def test_replicas_share_entries_through_the_database(db: Database) -> None:
    settings = SemanticSettings(refresh_seconds=0.0)
    one, two = (SemanticCache(db, settings, _Embedder()) for _ in range(2))
    client, other = _client(db, "replica-a"), _client(db, "replica-b")

    # Replica two loads the (empty) scope first, then replica one stores an answer.
    _probe, found = await _lookup(two, client, "qual o horário de sábado?")
    assert found is None
    probe, found = await _lookup(one, client, "qual o horário de sábado?")
    assert found is None
    one.store_later(probe, _answer("das 9h às 14h"))
    await one.drain()

    # Two tops its scope up from the database and answers a rewording from it.
    _probe, found = await _lookup(two, client, "Qual o horario de sabado")
    assert found is not None and found.body["choices"][0]["message"]["content"] == "das 9h às 14h"
    # Never for another client, not even with the same words.
    _probe, found = await _lookup(two, other, "qual o horário de sábado?")
    assert found is None

    # One purges the client's entries; two still holds the vector, finds the answer gone.
    assert await one.purge(client_id=client.id) == 1
    _probe, found = await _lookup(two, client, "qual o horário de sábado?")
    assert found is None
    assert len(two.index) == 0


async def test_a_database_outage_is_a_miss(db: Database) -> None:
    cache = SemanticCache(db, SemanticSettings(), _Embedder())
    client = _client(db, "outage")
    cache.db = Database("sqlite:////nonexistent-dir/none.db")
    _probe, found = await _lookup(cache, client, "qual o horário?")
    assert found is None
    probe = cache.probe(_request("qual o horário?"), client, DECISION)
    assert probe is not None
    probe.vector = np.ones(64, dtype=np.float32) / 8
    cache.store_later(probe, _answer("x"))
    await asyncio.wait_for(cache.drain(), 10)  # logged, not raised
