"""Stored quotes: the latest fetch of the pair wins, with exact digits, on both engines."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from ai_gateway.metering.currency import Quote, latest_stored_rate
from ai_gateway.storage import migrate
from ai_gateway.storage.db import Database
from ai_gateway.storage.exchange_rates import add_exchange_rate

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'rates.db'}")
        migrate.upgrade(database)
        yield database
        database.dispose()
        return
    yield from _postgres_db()


def _postgres_db() -> Iterator[Database]:
    name = f"aigw_metering_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=2)
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        database = Database(f"postgresql://postgres@127.0.0.1:5432/{name}")
        try:
            migrate.upgrade(database)
            yield database
        finally:
            database.dispose()
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_the_latest_fetch_wins_and_keeps_its_digits(any_db: Database) -> None:
    now = datetime(2025, 6, 6, 12, tzinfo=UTC)
    with any_db.write() as session:
        add_exchange_rate(
            session,
            base="USD",
            quote="BRL",
            rate=Decimal("5.4321"),
            source="bcb-ptax",
            quoted_at=now - timedelta(days=2),
            fetched_at=now - timedelta(days=1),
        )
        add_exchange_rate(
            session,
            base="USD",
            quote="BRL",
            rate=Decimal("5.635101"),
            source="bcb-ptax",
            quoted_at=now - timedelta(hours=3),
            fetched_at=now,
        )
        add_exchange_rate(
            session,
            base="USD",
            quote="EUR",
            rate=Decimal("0.9"),
            source="manual",
            quoted_at=None,
            fetched_at=now + timedelta(hours=1),
        )
    assert latest_stored_rate(any_db) == Quote(
        rate=Decimal("5.635101"), source="bcb-ptax", quoted_at=now - timedelta(hours=3)
    )


def test_nothing_stored_is_none(any_db: Database) -> None:
    assert latest_stored_rate(any_db) is None
