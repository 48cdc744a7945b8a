"""Stored ``/v1/responses`` answers: what ``previous_response_id`` continues.

Every function takes the owning client and filters on it, and callers run them in
``Database.tenant_session(client_id)`` so PostgreSQL's row-level security is a second
wall: another client's id reads as "not found", never as "forbidden", so ids cannot be
probed. Expired rows are never read, and a client's expired rows are deleted when it
stores a new one (the index on ``expires_at`` keeps that cheap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ai_gateway.storage.tables import StoredResponse

__all__ = [
    "StoredResponseInfo",
    "delete_response",
    "get_response",
    "purge_expired",
    "save_response",
]


@dataclass(frozen=True, slots=True)
class StoredResponseInfo:
    id: str
    model: str
    conversation: list[dict[str, Any]]
    body: dict[str, Any]


def save_response(
    session: Session,
    *,
    client_id: str,
    response_id: str,
    model: str,
    conversation: list[dict[str, Any]],
    body: dict[str, Any],
    now: datetime,
    retention: timedelta,
) -> None:
    session.execute(
        delete(StoredResponse).where(
            StoredResponse.client_id == client_id, StoredResponse.expires_at <= now
        )
    )
    session.add(
        StoredResponse(
            id=response_id,
            client_id=client_id,
            model=model,
            conversation=conversation,
            body=body,
            created_at=now,
            expires_at=now + retention,
        )
    )


def get_response(
    session: Session, *, client_id: str, response_id: str, now: datetime
) -> StoredResponseInfo | None:
    row = session.scalar(
        select(StoredResponse).where(
            StoredResponse.id == response_id,
            StoredResponse.client_id == client_id,
            StoredResponse.expires_at > now,
        )
    )
    if row is None:
        return None
    return StoredResponseInfo(row.id, row.model, list(row.conversation), dict(row.body))


def delete_response(session: Session, *, client_id: str, response_id: str) -> bool:
    deleted = session.execute(
        delete(StoredResponse).where(
            StoredResponse.id == response_id, StoredResponse.client_id == client_id
        )
    )
    return bool(getattr(deleted, "rowcount", 0))


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete every client's expired rows (the daily job; needs an admin session)."""
    deleted = session.execute(delete(StoredResponse).where(StoredResponse.expires_at <= now))
    return int(getattr(deleted, "rowcount", 0) or 0)
