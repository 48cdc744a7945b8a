"""``ai-gateway db backup`` and ``db restore`` on both engines: a backup restored into an
empty database reads back the same rows; restoring again replaces what came after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from ai_gateway.storage import migrate
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import Client
from tests.cli.conftest import RunCli
from tests.conftest import PG_ADMIN_URL


@pytest.fixture
def empty_target(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database URL of the same engine with nothing in it."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"aigw_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _names(url: str) -> set[str]:
    db = Database(url)
    try:
        with db.session() as s:
            return set(s.scalars(select(Client.name)))
    finally:
        db.dispose()


def _revision(url: str) -> str | None:
    db = Database(url)
    try:
        return migrate.current_revision(db)
    finally:
        db.dispose()


def _add_client(url: str, name: str) -> None:
    db = Database(url)
    try:
        with db.write() as s:
            create_client(s, name=name, plan="pro")
    finally:
        db.dispose()


def test_backup_then_restore_reads_the_data_back(
    run_cli: RunCli, database_url: str, empty_target: str, tmp_path: Path
) -> None:
    _add_client(database_url, "kept-by-the-backup")
    out = tmp_path / "backup.bin"
    result = run_cli("db", "backup", "--output", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["file"] == str(out) and out.stat().st_size > 0
    assert result.stderr  # progress lines (pages copied / tables dumped)

    restored = run_cli(
        "db", "restore", str(out), "--yes", "--json", env={"AI_GATEWAY_DATABASE_URL": empty_target}
    )
    assert restored.exit_code == 0, restored.stderr
    assert "kept-by-the-backup" in _names(empty_target)
    assert _revision(empty_target) == _revision(database_url)

    _add_client(empty_target, "made-after-the-backup")
    again = run_cli(
        "db", "restore", str(out), "--yes", "--quiet", env={"AI_GATEWAY_DATABASE_URL": empty_target}
    )
    assert again.exit_code == 0, again.stderr
    names = _names(empty_target)
    assert "kept-by-the-backup" in names and "made-after-the-backup" not in names


def test_backup_refuses_to_overwrite_and_restore_refuses_garbage(
    run_cli: RunCli, database_url: str, tmp_path: Path
) -> None:
    existing = tmp_path / "there.bin"
    existing.write_bytes(b"old")
    result = run_cli("db", "backup", "--output", str(existing))
    assert result.exit_code == 1 and "exists" in result.stderr
    assert existing.read_bytes() == b"old"
    refused = run_cli("db", "restore", str(existing), "--yes")
    assert refused.exit_code == 1 and "error:" in refused.stderr
    assert "Traceback" not in refused.stderr
