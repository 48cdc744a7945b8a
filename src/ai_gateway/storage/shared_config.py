"""The single shared gateway configuration row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ai_gateway.errors import ConfigurationError
from ai_gateway.storage.tables import SharedGatewayConfig

__all__ = ["bump_version", "get_shared_config", "read_version", "update_shared_config"]


def get_shared_config(session: Session) -> SharedGatewayConfig:
    row = session.get(SharedGatewayConfig, 1)
    if row is None:
        raise ConfigurationError(
            "the shared gateway config row is missing; run `ai-gateway migrate`"
        )
    return row


def update_shared_config(session: Session, *, changes: dict[str, Any]) -> SharedGatewayConfig:
    """Apply already-validated ``changes`` and bump ``version`` (what caches compare)."""
    row = get_shared_config(session)
    for field, value in changes.items():
        if not hasattr(SharedGatewayConfig, field) or field in ("id", "version"):
            raise ConfigurationError(f"unknown config field '{field}'")
        setattr(row, field, value)
    row.version += 1
    session.flush()
    return row


def bump_version(session: Session) -> int:
    """Count one admin change of any kind (models, clients, keys, budgets...): every
    process polls this integer, so a change that bumps it reaches replicas without Redis.
    One atomic ``UPDATE``, so concurrent bumps never lose a count."""
    session.execute(
        update(SharedGatewayConfig)
        .where(SharedGatewayConfig.id == 1)
        .values(version=SharedGatewayConfig.version + 1)
    )
    return read_version(session)


def read_version(session: Session) -> int:
    version = session.scalar(select(SharedGatewayConfig.version).where(SharedGatewayConfig.id == 1))
    if version is None:
        raise ConfigurationError(
            "the shared gateway config row is missing; run `ai-gateway migrate`"
        )
    return int(version)
