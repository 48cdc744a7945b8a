"""Where the usage writer's batches are written: a thread, or a process of their own.

Writing a batch is CPU work in Python (SQLAlchemy's parameter processing, the exact
``Money`` conversions, the roll-ups). In a thread of the serving process it holds the
GIL while the event loop waits, which the overhead benchmark measured as the largest
single cost per request and most of the P99 tail (docs/PERFORMANCE.md). The
:class:`ProcessSink` moves that work into a child process with its own interpreter, so the
serving process only pickles the batch (a few microseconds a row, in C).

Both sinks report a database that cannot be written as :class:`WriteFailed`, so the
writer's retry and spool logic does not depend on which one runs.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from abc import ABC, abstractmethod
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from sqlalchemy.exc import SQLAlchemyError

from ai_gateway.storage.db import Database
from ai_gateway.storage.usage import UsageRecord, WriteResult, write_usage_batch

__all__ = ["BatchSink", "ProcessSink", "ThreadSink", "WriteFailed"]

log = logging.getLogger("ai_gateway.usage")


class WriteFailed(Exception):
    """The batch was not written (nothing of it committed); it can be retried as it is."""


class BatchSink(ABC):
    @abstractmethod
    async def write(self, batch: list[UsageRecord]) -> WriteResult: ...

    @abstractmethod
    async def close(self) -> None:
        """Release what the sink holds."""


def _write_with(db: Database, batch: list[UsageRecord]) -> WriteResult:
    with db.write() as session:
        return write_usage_batch(session, batch)


class ThreadSink(BatchSink):
    """Writes in a worker thread of this process (tests, and ``usage_writer_process``
    off)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def write(self, batch: list[UsageRecord]) -> WriteResult:
        try:
            return await self._db.run(_write_with, self._db, batch)
        except (SQLAlchemyError, OSError) as exc:
            raise WriteFailed(type(exc).__name__) from exc

    async def close(self) -> None:
        """Nothing to release: the database belongs to the gateway."""


# The child process's own database handle, made once by the pool's initializer. This is
# module state by necessity: it lives in the writer process only, which runs nothing else.
_CHILD_DB: list[Database] = []


def _child_init(url: str) -> None:
    # A stop signal sent to the whole process group (Ctrl-C, systemd's default) must not
    # kill the writer before the serving process has flushed its last batch through it;
    # the parent shuts the pool down itself, and the child exits when the parent is gone.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _CHILD_DB.append(Database(url))
    # A parent killed outright (kill -9, OOM) never shuts the pool down: without this the
    # writer would wait on its queue forever. The parent's rows are in its journal.
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _child_write(batch: list[UsageRecord]) -> WriteResult | str:
    """In the child: write, or return the error's name (exceptions from SQLAlchemy do not
    all survive pickling back to the parent)."""
    try:
        return _write_with(_CHILD_DB[0], batch)
    except (SQLAlchemyError, OSError) as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


class ProcessSink(BatchSink):
    """Writes in one child process (started on first use, restarted if it dies)."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_child_init,
                initargs=(self._url,),
            )
        return self._pool

    async def write(self, batch: list[UsageRecord]) -> WriteResult:
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(self._executor(), _child_write, batch)
        except BrokenProcessPool as exc:
            log.error("the usage writer process died; starting a new one")
            self._pool = None
            raise WriteFailed("writer process died") from exc
        if isinstance(outcome, str):
            raise WriteFailed(outcome)
        return outcome

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, wait=True)
