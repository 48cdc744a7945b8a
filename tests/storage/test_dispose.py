"""Disposing a database closes every connection, also the ones still checked out then.

A storage thread can still hold a connection when its process stops (a cancelled
``asyncio.to_thread`` keeps running): SQLAlchemy returns that connection to the pool that
was just disposed, where nobody closes it, and the garbage collector later finds it open
(psycopg: ``ResourceWarning: ... was deleted while still open``)."""

from __future__ import annotations

import gc
import sqlite3
import warnings

import psycopg
from sqlalchemy import text

from ai_gateway.storage.db import Database


def _is_closed(raw: object) -> bool:
    if isinstance(raw, psycopg.Connection):
        return raw.closed
    assert isinstance(raw, sqlite3.Connection)
    try:
        raw.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return True
    return False


def test_a_connection_returned_after_dispose_is_closed(database_url: str) -> None:
    db = Database(database_url)
    late = db.engine.connect()
    late.execute(text("SELECT 1"))
    raw = late.connection.dbapi_connection
    db.dispose()
    late.close()  # the storage thread finishes after the process began to stop
    assert _is_closed(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        del late, raw
        gc.collect()


def test_the_database_still_works_after_dispose(database_url: str) -> None:
    """Dispose empties the pool; a later use opens new connections, which are pooled again."""
    db = Database(database_url)
    db.ping()
    db.dispose()
    with db.engine.connect() as conn:
        first = conn.connection.dbapi_connection
    with db.engine.connect() as conn:
        assert conn.connection.dbapi_connection is first  # pooled, not closed on checkin
    assert not _is_closed(first)
    db.dispose()
