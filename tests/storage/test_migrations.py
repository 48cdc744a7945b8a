"""Migrations: blank database to head and back, idempotent, in step with the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from ai_gateway.storage import migrate
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import AiModel, Base, PlanBudget, SharedGatewayConfig


def test_blank_database_upgrades_and_seeds(db: Database) -> None:
    assert migrate.current_revision(db) == migrate.head_revision()
    with db.session() as s:
        # The six models of the seed, the simulated one a first call can use (0012), then
        # 0011's embedding, transcription and simulated ones (demo-chat counted once).
        kinds = dict(s.execute(select(AiModel.id, AiModel.kind)).tuples().all())
        assert len(kinds) == 16
        assert sum(k == "chat" for k in kinds.values()) == 7
        assert kinds["simulated/demo-embed"] == "embedding"
        assert kinds["groq/whisper-large-v3"] == "transcription"
        simulated = s.get(AiModel, "simulated/demo-chat")
        assert simulated is not None and simulated.is_active and simulated.kind == "chat"
        assert set(s.scalars(select(PlanBudget.plan))) == {"free", "basic", "pro", "enterprise"}
        assert s.scalar(select(func.count()).select_from(SharedGatewayConfig)) == 1


def test_upgrade_twice_is_a_noop(db: Database) -> None:
    migrate.upgrade(db)
    with db.session() as s:
        # The seed's six, simulated/demo-chat (0012) and 0011's nine others.
        assert s.scalar(select(func.count()).select_from(AiModel)) == 16


def test_models_match_migrations(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_single_config_row_is_enforced_in_sql(db: Database) -> None:
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO shared_gateway_config (id, base_urls, provider_options, "
                "cache_enabled, cache_ttl_seconds, cache_scope, cache_nondeterministic, "
                "cache_count_tokens, default_model, fallback_chain, connect_timeout_s, "
                "read_timeout_s, total_timeout_s, max_retries, version, updated_at) "
                "VALUES (2, '{}', '{}', true, 1, 'client', false, false, 'x', '[]', "
                "1, 1, 1, 0, 1, CURRENT_TIMESTAMP)"
            )
        )


def test_downgrade_to_base_and_up_again(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'down.db'}")
    migrate.upgrade(db)
    migrate.downgrade(db, "base")
    assert migrate.current_revision(db) is None
    with db.engine.connect() as conn:
        tables = conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).all()
    assert {t[0] for t in tables} <= {"alembic_version"}
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision()
    db.dispose()


@pytest.mark.postgres
def test_downgrade_on_postgres(pg_database_url: str) -> None:
    import uuid

    import psycopg

    from tests.conftest import PG_ADMIN_URL

    name = f"aigw_down_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        db = Database(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
        migrate.upgrade(db)
        migrate.downgrade(db, "base")
        assert migrate.current_revision(db) is None
        migrate.upgrade(db)
        assert migrate.current_revision(db) == migrate.head_revision()
        db.dispose()
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
