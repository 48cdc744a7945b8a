"""``SemanticCache``: answers reused for questions of the same meaning, per client, opt-in.

Per request (``pipeline/run.py``), only for a client with ``semantic_cache`` on and only
where the exact cache would look (cacheable, no ``Cache-Control: no-store``)::

    probe = semantic.probe(request, client, decision)   # no I/O; None for most clients
    ...exact cache miss...
    entry = await semantic.lookup(probe, client=..., request_id=..., conversation_id=...)
    if entry is None:
        ...call upstream...
        semantic.store_later(probe, entry_built_from_the_answer)

``lookup`` embeds the last user message (the :class:`Embedder`; by default the configured
embedding model through the gateway's own pipeline, priced and metered to the client as
an embedding call), scans the scope's vectors in memory
(:mod:`~ai_gateway.cache.semantic_index`) and, for the best live candidate at or above
the client's threshold whose literals match (:mod:`~ai_gateway.cache.semantic_rules`),
reads its answer from the database. ``store_later`` writes the entry off the request
path. Any failure (embedding refused, database down) is logged and served as a miss:
the cache is an optimisation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import numpy as np
from sqlalchemy.exc import SQLAlchemyError

from ai_gateway.cache.base import CachedEntry, CacheUnavailable
from ai_gateway.cache.semantic_index import (
    IndexedEntry,
    ScopeIndex,
    SemanticIndex,
    Vector,
    vector_from_bytes,
    vector_to_bytes,
)
from ai_gateway.cache.semantic_rules import DEFAULT_THRESHOLD, SemanticQuery, semantic_query
from ai_gateway.cache.service import CacheDecision
from ai_gateway.errors import StorageError
from ai_gateway.providers.base import ChatRequest
from ai_gateway.storage.clients import ClientInfo
from ai_gateway.storage.db import Database
from ai_gateway.storage.semantic_cache import (
    SemanticEntryInfo,
    add_semantic_entry,
    count_semantic_entries,
    list_semantic_entries,
    load_semantic_scope,
    purge_semantic_entries,
    take_semantic_answer,
)

__all__ = ["Embedder", "SemanticCache", "SemanticProbe", "SemanticSettings"]

_log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns a question into a vector for one client (``None``: could not, a miss)."""

    model: str

    async def embed(
        self, client: ClientInfo, text: str, *, request_id: str, conversation_id: str | None
    ) -> Vector | None: ...


@dataclass(frozen=True, slots=True)
class SemanticSettings:
    """Deployment settings (environment); the threshold is the default a client's own
    ``semantic_cache_threshold`` overrides."""

    threshold: float = DEFAULT_THRESHOLD
    max_scopes: int = 1024
    max_entries: int = 1000
    #: How stale a loaded scope may be before it is topped up from the database (entries
    #: other replicas wrote).
    refresh_seconds: float = 2.0


@dataclass(slots=True)
class SemanticProbe:
    """One request's semantic-cache state: its query, then its vector once embedded."""

    query: SemanticQuery
    client_id: str
    model_id: str
    threshold: float
    ttl_seconds: int
    lookup: bool
    store: bool
    vector: Vector | None = None
    score: float | None = None


def unit(values: list[float]) -> Vector | None:
    """``values`` as a float32 unit vector (``None`` for an empty or all-zero one)."""
    vector = np.asarray(values, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    if vector.ndim != 1 or vector.size == 0 or not np.isfinite(norm) or norm == 0.0:
        return None
    result: Vector = vector / np.float32(norm)
    return result


class SemanticCache:
    def __init__(
        self,
        db: Database,
        settings: SemanticSettings | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.db = db
        self.settings = settings or SemanticSettings()
        #: Set by the gateway once the pipeline it calls exists.
        self.embedder = embedder
        self.index = SemanticIndex(
            max_scopes=self.settings.max_scopes, max_entries=self.settings.max_entries
        )
        self._writes: set[asyncio.Task[None]] = set()

    # -- per request -----------------------------------------------------------------------

    def probe(
        self, request: ChatRequest, client: ClientInfo, decision: CacheDecision
    ) -> SemanticProbe | None:
        """The request's probe, or ``None`` (not opted in, not cacheable, not eligible).
        The first test is the client's flag, so a client that has not opted in pays one
        attribute read."""
        if not client.semantic_cache or self.embedder is None or decision.key is None:
            return None
        query = semantic_query(request, client.id)
        if isinstance(query, str):
            return None
        threshold = client.semantic_cache_threshold or self.settings.threshold
        return SemanticProbe(
            query=query,
            client_id=client.id,
            model_id=request.model,
            threshold=threshold,
            ttl_seconds=decision.ttl_seconds,
            lookup=decision.lookup,
            store=decision.store,
        )

    async def lookup(
        self,
        probe: SemanticProbe,
        *,
        client: ClientInfo,
        request_id: str,
        conversation_id: str | None,
    ) -> CachedEntry | None:
        """The answer to a question of the same meaning, or ``None`` (a miss). Embeds the
        question even when the probe does not look up, so the fresh answer can be stored."""
        assert self.embedder is not None
        probe.vector = await self.embedder.embed(
            client, probe.query.text, request_id=request_id, conversation_id=conversation_id
        )
        if probe.vector is None or not probe.lookup:
            return None
        try:
            scope = await self._scope(probe, probe.vector.shape[0])
            found = scope.best(probe.vector, probe.query.literals, probe.threshold, time.time())
            if found is None:
                return None
            entry_id, probe.score = found
            answer = await self.db.run(self._take, probe.client_id, entry_id)
            if answer is None:
                scope.remove(entry_id)  # purged or expired elsewhere
                return None
            return CachedEntry.from_bytes(answer)
        except (SQLAlchemyError, CacheUnavailable) as exc:
            _log.warning("semantic cache lookup failed, serving as a miss: %s", exc)
            return None

    def _take(self, client_id: str, entry_id: str) -> bytes | None:
        with self.db.tenant_session(client_id) as session:
            return take_semantic_answer(
                session, client_id=client_id, entry_id=entry_id, now=datetime.now(UTC)
            )

    async def _scope(self, probe: SemanticProbe, dimensions: int) -> ScopeIndex:
        query = probe.query
        scope = self.index.get(probe.client_id, query.scope_hash)
        if scope is not None and scope.dimensions != dimensions:
            scope = None  # the embedding model changed: start again with its vectors
        if scope is None:
            scope = self.index.create(probe.client_id, query.scope_hash, dimensions)
            await self._load(probe, scope, newer_than=None)
        elif time.monotonic() - scope.loaded_at > self.settings.refresh_seconds:
            scope.loaded_at = time.monotonic()
            await self._load(probe, scope, newer_than=scope.newest)
        return scope

    async def _load(
        self, probe: SemanticProbe, scope: ScopeIndex, *, newer_than: datetime | None
    ) -> None:
        assert self.embedder is not None
        embed_model = self.embedder.model

        def run() -> list[IndexedEntry]:
            with self.db.tenant_session(probe.client_id) as session:
                rows = load_semantic_scope(
                    session,
                    client_id=probe.client_id,
                    scope_hash=probe.query.scope_hash,
                    embed_model=embed_model,
                    now=datetime.now(UTC),
                    newer_than=newer_than,
                    limit=self.settings.max_entries,
                )
            return [
                IndexedEntry(
                    row.id,
                    vector_from_bytes(row.vector),
                    frozenset(row.literals),
                    row.expires_at.timestamp(),
                    row.created_at,
                )
                for row in rows
            ]

        for entry in await self.db.run(run):
            scope.add(entry)

    def store_later(self, probe: SemanticProbe | None, entry: CachedEntry) -> None:
        """Write the entry for ``probe``'s question in the background (a miss already
        waited for its upstream call; it should not wait for this write too)."""
        if probe is None or probe.vector is None or not probe.store or probe.ttl_seconds <= 0:
            return
        task = asyncio.get_running_loop().create_task(self._store(probe, probe.vector, entry))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _store(self, probe: SemanticProbe, vector: Vector, entry: CachedEntry) -> None:
        assert self.embedder is not None
        embed_model = self.embedder.model
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=probe.ttl_seconds)

        def run() -> str:
            with self.db.tenant_session(probe.client_id) as session:
                return add_semantic_entry(
                    session,
                    client_id=probe.client_id,
                    scope_hash=probe.query.scope_hash,
                    model_id=probe.model_id,
                    embed_model=embed_model,
                    vector=vector_to_bytes(vector),
                    dimensions=int(vector.shape[0]),
                    literals=list(probe.query.literals),
                    query_text=probe.query.text,
                    entry=entry.to_bytes(),
                    cost_usd=entry.cost_usd,
                    now=now,
                    expires_at=expires,
                )

        try:
            entry_id = await self.db.run(run)
        except SQLAlchemyError as exc:
            _log.warning("semantic cache store failed, answer not cached: %s", exc)
            return
        scope = self.index.get(probe.client_id, probe.query.scope_hash)
        if scope is not None:
            scope.add(
                IndexedEntry(entry_id, vector, probe.query.literals, expires.timestamp(), now)
            )

    async def drain(self) -> None:
        """Wait for the background writes (shutdown, tests)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    # -- management --------------------------------------------------------------------------

    async def list_entries(
        self, *, client_id: str | None, limit: int = 50, offset: int = 0
    ) -> tuple[list[SemanticEntryInfo], int]:
        def run() -> tuple[list[SemanticEntryInfo], int]:
            now = datetime.now(UTC)
            with self.db.session() as session:
                rows = list_semantic_entries(
                    session, client_id=client_id, now=now, limit=limit, offset=offset
                )
                return rows, count_semantic_entries(session, client_id=client_id, now=now)

        try:
            return await self.db.run(run)
        except SQLAlchemyError as exc:
            raise StorageError("the semantic cache is unavailable") from exc

    async def purge(self, *, client_id: str | None = None, entry_id: str | None = None) -> int:
        """Delete entries (one, a client's, or all) from the database and this process's
        index; other replicas drop them when they find them gone."""

        def run() -> int:
            with self.db.write() as session:
                return purge_semantic_entries(session, client_id=client_id, entry_id=entry_id)

        try:
            removed = await self.db.run(run)
        except SQLAlchemyError as exc:
            raise StorageError("the semantic cache is unavailable") from exc
        if entry_id is not None:
            self.index.remove(entry_id)
        else:
            self.index.forget(client_id=client_id)
        return removed
