"""The audit trail: who changed config, keys, budgets, flags; pauses and resets."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ai_gateway.storage.tables import AuditLog

__all__ = ["record_audit"]


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    client_id: str | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an audit row in the caller's transaction, so it commits with the change itself."""
    session.add(
        AuditLog(
            actor=actor, action=action, client_id=client_id, target=target, details=details or {}
        )
    )
