"""Stored exchange-rate quotes: the history of what the gateway converted with.

Each successful fetch adds a row (never an update), so the rate used on any past day can be
explained, and the latest row is the fallback when the official source is down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ai_gateway.storage.tables import ExchangeRate, utcnow

__all__ = ["StoredRate", "add_exchange_rate", "latest_exchange_rate"]


@dataclass(frozen=True, slots=True)
class StoredRate:
    base: str
    quote: str
    rate: Decimal
    source: str
    quoted_at: datetime | None
    fetched_at: datetime


def add_exchange_rate(
    session: Session,
    *,
    base: str,
    quote: str,
    rate: Decimal,
    source: str,
    quoted_at: datetime | None,
    fetched_at: datetime | None = None,
) -> None:
    session.add(
        ExchangeRate(
            base=base,
            quote=quote,
            rate=rate,
            source=source,
            quoted_at=quoted_at,
            fetched_at=fetched_at or utcnow(),
        )
    )


def latest_exchange_rate(session: Session, *, base: str, quote: str) -> StoredRate | None:
    """The most recently fetched quote for the pair, or ``None`` if there never was one."""
    row = session.scalars(
        select(ExchangeRate)
        .where(ExchangeRate.base == base, ExchangeRate.quote == quote)
        .order_by(ExchangeRate.fetched_at.desc(), ExchangeRate.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return StoredRate(
        base=row.base,
        quote=row.quote,
        rate=row.rate,
        source=row.source,
        quoted_at=row.quoted_at,
        fetched_at=row.fetched_at,
    )
