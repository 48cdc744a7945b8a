"""Apply and revert the schema with Alembic, on the connection of a :class:`Database`.

``upgrade`` run twice is a no-op: Alembic records the revision in ``alembic_version``.
On PostgreSQL an advisory lock keeps two replicas starting together from racing.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from ai_gateway.storage.db import Database

__all__ = ["current_revision", "downgrade", "head_revision", "upgrade"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_KEY = 0x41_49_47_57  # "AIGW"


def _config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate to ``revision``. A database already at head costs one read of its
    revision, not Alembic's walk of every script (every ``serve`` start asks)."""
    with db.engine.begin() as connection:
        if not db.is_sqlite:
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        at = MigrationContext.configure(connection).get_current_revision()
        if revision == "head" and at is not None and at == head_revision():
            return
        command.upgrade(_config(connection), revision)


def downgrade(db: Database, revision: str = "base") -> None:
    with db.engine.begin() as connection:
        command.downgrade(_config(connection), revision)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@functools.cache
def head_revision() -> str | None:
    """The newest revision of the scripts shipped with this package (fixed for a process)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()
