"""Sealed provider keys (the vault's rows). Clear keys exist only in memory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ai_gateway.errors import InvalidRequest
from ai_gateway.storage.tables import Secret
from ai_gateway.vault import MasterKey, mask_secret

__all__ = [
    "SECRET_NAMES",
    "SECRET_PREFIXES",
    "SecretInfo",
    "any_secrets",
    "delete_secret",
    "get_secret",
    "list_secrets",
    "reseal_all",
    "set_secret",
]

#: Provider keys the shared config knows; anything else is refused.
SECRET_NAMES = ("gateway", "openai", "anthropic", "groq", "google")
#: Per-owner secrets: WhatsApp tokens, and alert webhook signing secrets
#: (``webhook:<client_id>``, ``webhook:admin``).
SECRET_PREFIXES = ("whatsapp:", "webhook:")


@dataclass(frozen=True, slots=True)
class SecretInfo:
    id: str
    masked: str
    updated_at: datetime


def _check_name(secret_id: str) -> None:
    if secret_id not in SECRET_NAMES and not secret_id.startswith(SECRET_PREFIXES):
        raise InvalidRequest(
            f"unknown secret '{secret_id}'; known: {', '.join(SECRET_NAMES)}", param="provider"
        )


def set_secret(session: Session, *, master: MasterKey, secret_id: str, value: str) -> SecretInfo:
    _check_name(secret_id)
    value = value.strip()
    if not value:
        raise InvalidRequest("the secret is empty", param="value")
    row = session.get(Secret, secret_id)
    sealed = master.seal(secret_id, value)
    if row is None:
        row = Secret(
            id=secret_id, ciphertext=sealed, key_id=master.key_id, masked=mask_secret(value)
        )
        session.add(row)
    else:
        row.ciphertext, row.key_id, row.masked = sealed, master.key_id, mask_secret(value)
    session.flush()
    return SecretInfo(row.id, row.masked, row.updated_at)


def get_secret(session: Session, *, master: MasterKey, secret_id: str) -> str | None:
    row = session.get(Secret, secret_id)
    if row is None:
        return None
    return master.open(row.id, row.ciphertext, key_id=row.key_id)


def delete_secret(session: Session, *, secret_id: str) -> bool:
    row = session.get(Secret, secret_id)
    if row is None:
        return False
    session.delete(row)
    return True


def list_secrets(session: Session) -> list[SecretInfo]:
    rows = session.scalars(select(Secret).order_by(Secret.id))
    return [SecretInfo(r.id, r.masked, r.updated_at) for r in rows]


def any_secrets(session: Session) -> bool:
    return session.scalar(select(Secret.id).limit(1)) is not None


def reseal_all(session: Session, *, old: MasterKey, new: MasterKey) -> int:
    """Re-encrypt every secret under ``new`` in the caller's transaction (all or none)."""
    count = 0
    for row in session.scalars(select(Secret)):
        clear = old.open(row.id, row.ciphertext, key_id=row.key_id)
        row.ciphertext, row.key_id = new.seal(row.id, clear), new.key_id
        count += 1
    session.flush()
    return count
