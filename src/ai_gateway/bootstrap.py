"""Opening the database the same way for the CLI, the service and ``call_ai``.

The embedded default (SQLite) migrates itself so a fresh machine needs no set-up; on
PostgreSQL migrations are an explicit step (``ai-gateway migrate``), since several replicas
share one database and a deploy should decide when the schema moves.
"""

from __future__ import annotations

from ai_gateway.errors import ConfigurationError, VaultError
from ai_gateway.settings import Settings
from ai_gateway.storage import migrate
from ai_gateway.storage.api_keys import ensure_bootstrap_admin
from ai_gateway.storage.db import Database
from ai_gateway.storage.secrets import any_secrets
from ai_gateway.vault import MasterKey, resolve_master_key

__all__ = ["master_key_for", "open_database", "require_master_key"]


def open_database(settings: Settings, *, migrate_embedded: bool = True) -> Database:
    db = Database(settings.effective_database_url)
    if db.is_sqlite and migrate_embedded:
        migrate.upgrade(db)
    elif migrate.current_revision(db) != migrate.head_revision():
        raise ConfigurationError(
            "the database schema is not up to date; run `ai-gateway migrate` first"
        )
    if settings.admin_key:
        with db.write() as session:
            ensure_bootstrap_admin(session, settings.admin_key)
    return db


def master_key_for(settings: Settings, db: Database) -> MasterKey | None:
    path = db.sqlite_path
    return resolve_master_key(
        configured=settings.master_key,
        embedded_dir=path.parent if path is not None else None,
    )


def require_master_key(settings: Settings, db: Database) -> MasterKey:
    key = master_key_for(settings, db)
    if key is None:
        with db.session() as session:
            exists = any_secrets(session)
        raise VaultError(
            "AI_GATEWAY_MASTER_KEY is not set"
            + (" but sealed secrets exist" if exists else "")
            + "; set it to 32 random bytes in base64"
        )
    return key
