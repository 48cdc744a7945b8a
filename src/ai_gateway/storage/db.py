"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

Synchronous SQLAlchemy on purpose: the CLI, the jobs and the background writers share one
code path, and the request path never waits on the database (keys, config and registry are
cached; usage is written in batches), so async drivers would buy nothing there. Async
callers use :meth:`Database.run`, which hops to a worker thread.

SQLite write transactions start with ``BEGIN IMMEDIATE`` (datasette's habit): a deferred
transaction that reads and then writes cannot wait for the lock and fails at once with
"database is locked"; an immediate one waits up to ``busy_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from ai_gateway.errors import ConfigurationError

__all__ = ["TENANT_ROLE", "Database", "parse_database_url"]

T = TypeVar("T")

#: The PostgreSQL role tenant-scoped sessions switch to, so row-level security applies.
TENANT_ROLE = "ai_gateway_tenant"

_SQLITE_BUSY_MS = 30_000


def parse_database_url(raw: str) -> URL:
    """Parse and check a database URL; a clear error names what is accepted."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise ConfigurationError(
            "AI_GATEWAY_DATABASE_URL is not a valid database URL; use "
            "sqlite:///path/to/file.db or postgresql://user@host:5432/dbname"
        ) from exc
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"database '{backend}' is not supported; use sqlite:/// or postgresql://"
        )
    if backend == "postgresql" and url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and not url.database:
        raise ConfigurationError("a SQLite URL needs a file path: sqlite:///path/to/file.db")
    return url


class Database:
    """One engine per process, created once and shared by every caller."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = parse_database_url(url)
        self.dialect = self.url.get_backend_name()
        self.engine = self._create_engine(echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = self.engine.execution_options(sqlite_immediate=True)
        self._write_sessions = sessionmaker(self._writer, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite or not self.url.database or self.url.database == ":memory:":
            return None
        return Path(self.url.database)

    def _create_engine(self, echo: bool) -> Engine:
        if self.is_sqlite:
            path = self.sqlite_path
            if path is not None:
                _private_file(path)
            engine = create_engine(
                self.url,
                echo=echo,
                connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_MS / 1000},
            )
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
            return engine
        try:
            return create_engine(
                self.url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True
            )
        except NoSuchModuleError as exc:
            raise ConfigurationError(f"no driver for {self.url.drivername}") from exc

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read (or read-mostly) transaction, committed on success."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction; on SQLite it takes the write lock up front."""
        with self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def tenant_session(self, client_id: str) -> Iterator[Session]:
        """A transaction that can only see ``client_id``'s rows.

        On PostgreSQL the row-level-security policies enforce it, even for a query that
        forgets its WHERE; SQLite has no RLS, so there the data-access functions' explicit
        ``client_id`` filters are the wall."""
        with self.write() as session:
            if not self.is_sqlite:
                session.execute(text(f"SET LOCAL ROLE {TENANT_ROLE}"))
                session.execute(
                    text("SELECT set_config('ai_gateway.client_id', :cid, true)"),
                    {"cid": client_id},
                )
            yield session

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run a blocking storage function off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close the pool's connections. One still checked out (a storage thread that
        outlived a cancelled task as the process stops) is closed when it comes back,
        instead of waiting, open, in the retired pool for the garbage collector."""
        retired = self.engine.pool
        self.engine.dispose()
        event.listen(retired, "checkin", _close_on_checkin)


def _close_on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.invalidate()


def _private_file(path: Path) -> None:
    """Create the database file 0600 (its folder 0700) before SQLite opens it: it holds
    key hashes, sealed provider keys and every tenant's usage. SQLite gives the ``-wal``
    and ``-shm`` files the database file's mode, so they follow. A file left readable by
    others from an older version is narrowed to its owner."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            mode = name.stat().st_mode
            if mode & 0o077:
                name.chmod(mode & 0o700)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event (below) issue BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
