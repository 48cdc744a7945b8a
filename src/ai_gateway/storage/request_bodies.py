"""Prompts and answers, kept only for a client that opted in (LGPD).

By default nothing of a call's content is stored: the usage row holds counts, money and
timings only. A client (on its settings page) or the operator (for it) may turn on
``store_bodies`` with a retention in days; from then on the usage writer saves each
call's request and answer in ``request_bodies`` in the same transaction as its usage row
(:func:`save_bodies`, called by ``write_usage_batch``), so nothing extra happens on the
request path of a client that has not opted in. Rows expire after the retention; the
daily ``purge-request-bodies`` job and ``ai-gateway requests purge`` delete them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ai_gateway.errors import InvalidRequest
from ai_gateway.storage.clients import get_client
from ai_gateway.storage.tables import Client, RequestBody

__all__ = [
    "MAX_RETENTION_DAYS",
    "BodySettings",
    "count_bodies",
    "get_body_settings",
    "purge_bodies",
    "purge_expired_bodies",
    "save_bodies",
    "set_body_settings",
]

#: The longest a client may keep its bodies (LGPD asks for the least that serves).
MAX_RETENTION_DAYS = 365


@dataclass(frozen=True, slots=True)
class BodySettings:
    client_id: str
    store_bodies: bool
    retention_days: int


def get_body_settings(session: Session, *, client_id: str) -> BodySettings:
    client = get_client(session, client_id)
    return BodySettings(client.id, client.store_bodies, client.body_retention_days)


def set_body_settings(
    session: Session, *, client_id: str, store_bodies: bool, retention_days: int
) -> BodySettings:
    """Turn storage on or off and set the retention. Turning it off deletes what was kept:
    a client that withdraws consent must not keep its bodies until they expire."""
    if not 1 <= retention_days <= MAX_RETENTION_DAYS:
        raise InvalidRequest(
            f"retention_days must be between 1 and {MAX_RETENTION_DAYS}",
            param="retention_days",
            code="retention_out_of_range",
        )
    row = session.get(Client, get_client(session, client_id).id)
    assert row is not None
    row.store_bodies = store_bodies
    row.body_retention_days = retention_days
    if not store_bodies:
        session.execute(delete(RequestBody).where(RequestBody.client_id == row.id))
    session.flush()
    return BodySettings(row.id, store_bodies, retention_days)


def save_bodies(session: Session, items: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Keep the bodies of newly written usage rows (``(row, body)`` pairs; the writer's
    transaction). Idempotent by usage row id, as the rows themselves are."""
    if not items:
        return
    ids = [row["id"] for row, _body in items]
    existing = set(
        session.scalars(select(RequestBody.usage_id).where(RequestBody.usage_id.in_(ids)))
    )
    for row, body in items:
        if row["id"] in existing:
            continue
        created: datetime = row["created_at"]
        days = int(body.get("retention_days") or 30)
        session.add(
            RequestBody(
                usage_id=row["id"],
                client_id=row["client_id"],
                request=body.get("request"),
                response=body.get("response"),
                created_at=created,
                expires_at=created + timedelta(days=days),
            )
        )
    session.flush()


def purge_expired_bodies(session: Session, *, now: datetime | None = None) -> int:
    """Delete every client's expired bodies (the daily job; an admin session)."""
    deleted = session.execute(
        delete(RequestBody).where(RequestBody.expires_at <= (now or datetime.now(UTC)))
    )
    return int(getattr(deleted, "rowcount", 0) or 0)


def purge_bodies(session: Session, *, client_id: str, older_than_days: int | None = None) -> int:
    """Delete one client's bodies: all of them, or those older than N days (a data
    subject's request, or an operator's clean-up)."""
    query = delete(RequestBody).where(RequestBody.client_id == client_id)
    if older_than_days is not None:
        cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
        query = query.where(RequestBody.created_at < cutoff)
    deleted = session.execute(query)
    return int(getattr(deleted, "rowcount", 0) or 0)


def count_bodies(session: Session, *, client_id: str | None = None) -> int:
    query = select(func.count()).select_from(RequestBody)
    if client_id is not None:
        query = query.where(RequestBody.client_id == client_id)
    return int(session.scalar(query) or 0)
