"""The embedded SQLite database and its WAL are private to the service's user."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from ai_gateway.storage.db import Database


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_its_wal_and_shm_are_created_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, which gave 0644 before
    try:
        path = tmp_path / "data" / "gateway.db"
        db = Database(f"sqlite:///{path}")
        with db.write() as s:
            s.execute(text("CREATE TABLE t (x INTEGER)"))
            s.execute(text("INSERT INTO t VALUES (1)"))
        with db.engine.connect() as conn:  # keeps the -wal and -shm files open
            conn.execute(text("SELECT * FROM t"))
            assert _mode(path) == 0o600
            assert _mode(path.with_name("gateway.db-wal")) == 0o600
            assert _mode(path.with_name("gateway.db-shm")) == 0o600
            assert _mode(path.parent) == 0o700
        db.dispose()
    finally:
        os.umask(old)


def test_a_file_readable_by_others_is_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    Database(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o600
