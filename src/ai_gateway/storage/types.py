"""Column types that keep money exact and time zone-aware on both engines.

SQLite has no exact decimal type (its NUMERIC affinity stores 0.1 as a binary float), so
:class:`Money` stores a ``Decimal`` there as an INTEGER count of ``10**-scale`` units and as
``NUMERIC(precision, scale)`` on PostgreSQL. SQL arithmetic (``usage + :amount``) and
``SUM()`` stay exact on both because both operands go through the same type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from ai_gateway.rules.money import MONEY_SCALE

__all__ = ["MONEY_SCALE", "Money", "UTCDateTime"]

#: SQLite keeps a Money value as a signed 64-bit count of 10**-scale units.
_SQLITE_MAX_UNITS = 2**63 - 1


class Money(TypeDecorator[Decimal]):
    """An exact ``Decimal``: NUMERIC on PostgreSQL, scaled INTEGER on SQLite."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 28, scale: int = MONEY_SCALE) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale
        self._unit = Decimal(10) ** scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(value).quantize(self._quantum)
        if dialect.name == "sqlite":
            return int(amount * self._unit)
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / self._unit).quantize(self._quantum)
        return Decimal(value).quantize(self._quantum)

    @property
    def max_value(self) -> Decimal:
        """The largest amount this column holds exactly on both engines: PostgreSQL's
        ``NUMERIC(precision, scale)`` and SQLite's 64-bit integer of scaled units."""
        numeric = Decimal(10) ** (self.precision - self.scale) - self._quantum
        return min(numeric, Decimal(_SQLITE_MAX_UNITS) / self._unit)

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError("UTCDateTime takes datetime values")
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        return datetime
