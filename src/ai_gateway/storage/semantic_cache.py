"""The semantic cache's entries (``semantic_cache_entries``): written by whichever replica
answered, read by every replica.

Request-path functions take the owning client and filter on it, and callers run them in
``Database.tenant_session(client_id)`` so PostgreSQL's row-level security is a second
wall. The admin functions (list, purge) take ``client_id=None`` for "every client" and
run in an ordinary session. Expired rows are never read; a client's expired rows are
deleted when it stores a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ai_gateway.storage.tables import SemanticCacheEntry

__all__ = [
    "SemanticEntryInfo",
    "SemanticEntryRow",
    "add_semantic_entry",
    "count_semantic_entries",
    "list_semantic_entries",
    "load_semantic_scope",
    "purge_semantic_entries",
    "take_semantic_answer",
]

#: The question as the admin listing shows it.
_QUERY_CHARS = 2000


@dataclass(frozen=True, slots=True)
class SemanticEntryRow:
    """What the in-memory index loads of an entry (no answer)."""

    id: str
    vector: bytes
    literals: list[str]
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SemanticEntryInfo:
    """What the admin listing shows of an entry (no answer, no vector)."""

    id: str
    client_id: str
    model_id: str
    embed_model: str
    query_text: str
    hits: int
    cost_usd: Decimal
    created_at: datetime
    expires_at: datetime


def add_semantic_entry(
    session: Session,
    *,
    client_id: str,
    scope_hash: str,
    model_id: str,
    embed_model: str,
    vector: bytes,
    dimensions: int,
    literals: list[str],
    query_text: str,
    entry: bytes,
    cost_usd: Decimal,
    now: datetime,
    expires_at: datetime,
) -> str:
    session.execute(
        delete(SemanticCacheEntry).where(
            SemanticCacheEntry.client_id == client_id, SemanticCacheEntry.expires_at <= now
        )
    )
    row = SemanticCacheEntry(
        client_id=client_id,
        scope_hash=scope_hash,
        model_id=model_id,
        embed_model=embed_model,
        dimensions=dimensions,
        vector=vector,
        literals=sorted(literals),
        query_text=query_text[:_QUERY_CHARS],
        entry=entry,
        cost_usd=cost_usd,
        hits=0,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row.id


def load_semantic_scope(
    session: Session,
    *,
    client_id: str,
    scope_hash: str,
    embed_model: str,
    now: datetime,
    newer_than: datetime | None,
    limit: int,
) -> list[SemanticEntryRow]:
    """The live entries of one scope made by ``embed_model``, newest ``limit`` of them
    (after ``newer_than`` for a top-up), oldest first."""
    query = select(
        SemanticCacheEntry.id,
        SemanticCacheEntry.vector,
        SemanticCacheEntry.literals,
        SemanticCacheEntry.created_at,
        SemanticCacheEntry.expires_at,
    ).where(
        SemanticCacheEntry.client_id == client_id,
        SemanticCacheEntry.scope_hash == scope_hash,
        SemanticCacheEntry.embed_model == embed_model,
        SemanticCacheEntry.expires_at > now,
    )
    if newer_than is not None:
        query = query.where(SemanticCacheEntry.created_at > newer_than)
    rows = session.execute(query.order_by(SemanticCacheEntry.created_at.desc()).limit(limit)).all()
    return [
        SemanticEntryRow(r.id, bytes(r.vector), list(r.literals), r.created_at, r.expires_at)
        for r in reversed(rows)
    ]


def take_semantic_answer(
    session: Session, *, client_id: str, entry_id: str, now: datetime
) -> bytes | None:
    """The answer of a live entry of ``client_id``, counting one hit; ``None`` when it is
    gone (purged, expired, another client's)."""
    answer = session.scalar(
        select(SemanticCacheEntry.entry).where(
            SemanticCacheEntry.id == entry_id,
            SemanticCacheEntry.client_id == client_id,
            SemanticCacheEntry.expires_at > now,
        )
    )
    if answer is None:
        return None
    session.execute(
        update(SemanticCacheEntry)
        .where(SemanticCacheEntry.id == entry_id)
        .values(hits=SemanticCacheEntry.hits + 1)
    )
    return bytes(answer)


def list_semantic_entries(
    session: Session,
    *,
    client_id: str | None,
    now: datetime,
    limit: int = 50,
    offset: int = 0,
) -> list[SemanticEntryInfo]:
    query = select(SemanticCacheEntry).where(SemanticCacheEntry.expires_at > now)
    if client_id is not None:
        query = query.where(SemanticCacheEntry.client_id == client_id)
    rows = session.scalars(
        query.order_by(SemanticCacheEntry.created_at.desc(), SemanticCacheEntry.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        SemanticEntryInfo(
            r.id,
            r.client_id,
            r.model_id,
            r.embed_model,
            r.query_text,
            r.hits,
            r.cost_usd,
            r.created_at,
            r.expires_at,
        )
        for r in rows
    ]


def count_semantic_entries(session: Session, *, client_id: str | None, now: datetime) -> int:
    query = (
        select(func.count())
        .select_from(SemanticCacheEntry)
        .where(SemanticCacheEntry.expires_at > now)
    )
    if client_id is not None:
        query = query.where(SemanticCacheEntry.client_id == client_id)
    return int(session.scalar(query) or 0)


def purge_semantic_entries(
    session: Session, *, client_id: str | None = None, entry_id: str | None = None
) -> int:
    """Delete one entry, a client's entries, or (both ``None``) every entry; how many."""
    statement = delete(SemanticCacheEntry)
    if client_id is not None:
        statement = statement.where(SemanticCacheEntry.client_id == client_id)
    if entry_id is not None:
        statement = statement.where(SemanticCacheEntry.id == entry_id)
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
