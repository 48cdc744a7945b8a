"""Shared fixtures: real databases (SQLite always; PostgreSQL and Redis when reachable, and
required when ``CI=true``), settings isolated per test, and a real HTTP server."""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
import uvicorn
from sqlalchemy import text

from ai_gateway.settings import Settings
from ai_gateway.storage import migrate
from ai_gateway.storage.db import Database

PG_ADMIN_URL = os.environ.get(
    "AI_GATEWAY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _worker_redis_url(base: str, worker: str) -> str:
    """The test Redis database of this pytest process: under ``pytest -n N`` worker ``gwK``
    takes the base database's index minus K, so two workers never share budget counters,
    limiter buckets or the session's clean-up (15, 14, ... by default)."""
    if not worker.startswith("gw"):
        return base
    prefix, _, index = base.rpartition("/")
    database = int(index) if index.isdigit() else 0
    offset = int(worker[2:])
    if offset > database:
        raise RuntimeError(f"{base}: not enough Redis databases below it for worker {worker}")
    return f"{prefix}/{database - offset}"


REDIS_URL = _worker_redis_url(
    os.environ.get("AI_GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    os.environ.get("PYTEST_XDIST_WORKER", ""),
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    if IN_CI:
        pytest.fail(f"{name} at {host}:{port} is unreachable and CI=true requires it")
    pytest.skip(f"{name} at {host}:{port} is unreachable")


def free_port() -> int:
    """A port free now, for a server in ANOTHER process (it may be taken before it binds:
    in-process servers take :func:`bound_socket` instead)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bound_socket() -> socket.socket:
    """A loopback socket bound to a free port, for uvicorn's ``serve(sockets=[...])``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="session", autouse=True)
def _redis_left_as_found() -> Iterator[None]:
    """The session takes away every gateway key it wrote to the test Redis database
    (budget counters, cache entries, limiter buckets carry TTLs of up to 40 days): keys
    that were there before it started are left alone. Two suites run at once against the
    same database would lose each other's keys when the first ends: use
    ``AI_GATEWAY_TEST_REDIS_URL`` to give each its own."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        before = set(client.scan_iter(match="aigw:*", count=1000))
    except redis.RedisError:  # no Redis here: the Redis tests skip (or fail under CI)
        client.close()
        yield
        return
    yield
    try:
        written = set(client.scan_iter(match="aigw:*", count=1000)) - before
        for key in written:
            client.delete(key)
    finally:
        client.close()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once, dropped after."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"aigw_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _reset_pg(db: Database) -> None:
    """Empty every table, and put the seeded rows (config, plans, models and their price
    history) back as migrated: a test's change must not leak into the next.

    DELETE with the foreign-key triggers off for the transaction (any order will do), not
    TRUNCATE: on tables this small TRUNCATE's fixed cost per table (130 ms for the lot)
    was most of a PostgreSQL test's set-up; DELETE takes about 5 ms."""
    key = str(db.url)
    with db.engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        tables = _SCHEMA_TABLES.get(key)
        if tables is None:
            tables = _SCHEMA_TABLES[key] = [
                name
                for (name,) in conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
                if name not in _SEEDED_TABLES and name != "alembic_version"
            ]
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table}"'))
        if key not in _SEEDED_ROWS:
            _SEEDED_ROWS[key] = {
                table: [dict(r._mapping) for r in conn.execute(text(f"SELECT * FROM {table}"))]
                for table in _SEEDED_TABLES
            }
            return
        for table in _SEEDED_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
            rows = _SEEDED_ROWS[key][table]
            if rows:
                columns = ", ".join(rows[0])
                values = ", ".join(f":{c}" for c in rows[0])
                conn.execute(
                    text(f"INSERT INTO {table} ({columns}) VALUES ({values})"),
                    [_jsonable(r) for r in rows],
                )
        conn.execute(text("SET LOCAL session_replication_role = origin"))
        conn.execute(text("UPDATE shared_gateway_config SET version = version + 1"))


def _jsonable(row: dict[str, object]) -> dict[str, object]:
    import json

    return {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()}


#: Seeded tables restored between PostgreSQL tests (their rows as first seen).
_SEEDED_TABLES = (
    "plan_budgets",
    "ai_models_registry",
    "model_price_history",
    "shared_gateway_config",
)
_SEEDED_ROWS: dict[str, dict[str, list[dict[str, object]]]] = {}
#: Every other table of a test database (by URL), emptied between tests.
_SCHEMA_TABLES: dict[str, list[str]] = {}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head for the whole session: each test copies it
    (a copy takes about a millisecond, the migrations about 120 ms)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "gateway.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    db.dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A new, migrated SQLite database of this test's own (a copy of the template made
    with SQLite's backup API, so nothing in a write-ahead log can be missed)."""
    target = tmp_path / "gateway.db"
    with sqlite3.connect(sqlite_template) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of an empty, migrated database: a new SQLite file, or the session's
    PostgreSQL database emptied of everything but the seed data."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
        return
    url = request.getfixturevalue("pg_database_url")
    db = Database(url)
    _reset_pg(db)
    db.dispose()
    yield url


@pytest.fixture
def pg_db(pg_database_url: str) -> Iterator[Database]:
    """PostgreSQL only (for what SQLite does not have, like row-level security)."""
    database = Database(pg_database_url)
    _reset_pg(database)
    yield database
    database.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def settings_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Build ``Settings`` for a test, never from the developer's own environment."""
    for key in list(os.environ):
        if key.startswith("AI_GATEWAY_") or key == "ENABLE_AI_GATEWAY":
            monkeypatch.delenv(key, raising=False)

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "scheduler_enabled": False,
            "usage_writer_process": False,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return build


class ServerThread:
    """A real uvicorn server on a free loopback port, in a thread of the test process."""

    def __init__(self, app: object) -> None:
        self.socket = bound_socket()
        self.port = int(self.socket.getsockname()[1])
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            loop="asyncio",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Settings a test module changes for its harness (override this fixture)."""
    return {}
