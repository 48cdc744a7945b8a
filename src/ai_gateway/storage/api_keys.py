"""API keys: high-entropy tokens stored only as SHA-256 hashes.

A plain SHA-256 is right here (not a slow password hash): the tokens carry 256 bits of
randomness, so there is nothing to brute-force, and auth must stay cheap on the hot path.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ai_gateway.errors import InvalidRequest, NotFound
from ai_gateway.storage.tables import ApiKey, Client, utcnow

__all__ = [
    "KEY_PREFIX",
    "IssuedKey",
    "KeyInfo",
    "ensure_bootstrap_admin",
    "find_key",
    "hash_key",
    "issue_key",
    "list_keys",
    "mark_used",
    "revoke_key",
]

KEY_PREFIX = "aigw_"


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: str
    prefix: str
    role: str
    client_id: str | None
    name: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> KeyInfo:
        return cls(
            row.id,
            row.prefix,
            row.role,
            row.client_id,
            row.name,
            row.created_at,
            row.revoked_at,
            row.last_used_at,
        )


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: ``plain`` is shown once and never stored."""

    info: KeyInfo
    plain: str


def issue_key(
    session: Session, *, role: str, client_id: str | None = None, name: str | None = None
) -> IssuedKey:
    if role not in ("admin", "client"):
        raise InvalidRequest("role must be 'admin' or 'client'", param="role")
    if role == "client":
        if client_id is None or session.get(Client, client_id) is None:
            raise NotFound(f"no client with id '{client_id}'")
    else:
        client_id = None
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        key_hash=hash_key(plain), prefix=plain[:13], role=role, client_id=client_id, name=name
    )
    session.add(row)
    session.flush()
    return IssuedKey(KeyInfo.of(row), plain)


def ensure_bootstrap_admin(session: Session, plain: str) -> bool:
    """Make ``AI_GATEWAY_ADMIN_KEY`` a valid admin key; True when it was added now."""
    digest = hash_key(plain)
    if session.scalar(select(ApiKey.id).where(ApiKey.key_hash == digest)) is not None:
        return False
    session.add(
        ApiKey(
            key_hash=digest,
            prefix=plain[:6] + "...",
            role="admin",
            name="bootstrap (AI_GATEWAY_ADMIN_KEY)",
        )
    )
    session.flush()
    return True


def find_key(session: Session, plain: str) -> KeyInfo | None:
    """The active key for ``plain``, or None (unknown or revoked)."""
    row = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(plain), ApiKey.revoked_at.is_(None))
    )
    return KeyInfo.of(row) if row else None


def revoke_key(session: Session, *, key_id: str) -> KeyInfo:
    row = session.get(ApiKey, key_id)
    if row is None:
        row = session.scalar(select(ApiKey).where(ApiKey.prefix == key_id))
    if row is None:
        raise NotFound(f"no key with id or prefix '{key_id}'")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.flush()
    return KeyInfo.of(row)


def list_keys(session: Session, *, client_id: str | None = None) -> list[KeyInfo]:
    query = select(ApiKey).order_by(ApiKey.created_at)
    if client_id is not None:
        query = query.where(ApiKey.client_id == client_id)
    return [KeyInfo.of(r) for r in session.scalars(query)]


def mark_used(session: Session, *, key_ids: dict[str, datetime]) -> None:
    """Record ``last_used_at`` for many keys at once (batched off the request path)."""
    for key_id, when in key_ids.items():
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=when))
