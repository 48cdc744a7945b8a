"""Where the usage writer's batches are written: a thread, or a process of their own.

Writing a batch is CPU work in Python (SQLAlchemy's parameter processing, the exact
``Money`` conversions, the roll-ups). In a thread of the serving process it holds the
GIL while the event loop waits, which the overhead benchmark measured as the largest
single cost per request and most of the P99 tail (docs/PERFORMANCE.md). The
:class:`ProcessSink` moves that work into a child process with its own interpreter; the
serving process sends each row as the JSON line its journal already holds.

Both sinks report a batch that was not written as :class:`WriteFailed`, so the writer's
retry, split and spool logic does not depend on which one runs. The failure says which
kind it was (:func:`is_refusal`): the database *refused* the data (a constraint, a type,
a value: the same rows fail again, so the writer splits the batch to find them), or it
was *unavailable* (connection, lock, timeout: the batch waits). Its message keeps the
exception's type and first line in every mode, including from the child process.
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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ai_gateway.errors import InternalError
from ai_gateway.storage.db import Database
from ai_gateway.storage.usage import (
    UsageRecord,
    WriteResult,
    decode_record,
    encoded_record,
    quarantine_usage,
    write_usage_batch,
)

__all__ = [
    "BatchSink",
    "ProcessSink",
    "ThreadSink",
    "WriteFailed",
    "describe_error",
    "is_refusal",
]

log = logging.getLogger("ai_gateway.usage")

# The database could not be reached or could not serve now; anything else that stops a
# write (IntegrityError, DataError, a value the Money type refuses, a missing budget row)
# is about the rows themselves.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeout,
    OSError,
)
_ERROR_CHARS = 500


def is_refusal(exc: BaseException) -> bool:
    """True when ``exc`` says the database refused the data (retrying the same rows
    fails again), False when it was unavailable."""
    return not isinstance(exc, _UNAVAILABLE)


def describe_error(exc: BaseException) -> str:
    """``Type: first line of the message``: enough to act on, without the SQL statement
    and parameters SQLAlchemy appends."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    return f"{type(exc).__name__}: {first}"[:_ERROR_CHARS]


class WriteFailed(InternalError):
    """The batch was not written (nothing of it committed); ``refused`` tells whether the
    database refused its data or was unavailable."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.refused = refused


@dataclass(frozen=True, slots=True)
class _Failure:
    """A failed write as it crosses the process boundary (exceptions of database drivers
    do not all survive pickling)."""

    message: str
    refused: bool

    @classmethod
    def of(cls, exc: BaseException) -> _Failure:
        return cls(describe_error(exc), is_refusal(exc))


class BatchSink(ABC):
    @abstractmethod
    async def write(self, batch: list[UsageRecord]) -> WriteResult: ...

    @abstractmethod
    async def quarantine(self, batch: list[UsageRecord], reason: str) -> WriteResult:
        """Keep refused rows in the quarantine table (moving their budgets)."""

    @abstractmethod
    async def close(self) -> None:
        """Release what the sink holds."""


def _write_with(db: Database, batch: list[UsageRecord]) -> WriteResult | _Failure:
    # Broad on purpose: whatever stops this batch (a driver error, a value a column type
    # refuses, a bug a row triggers) must come back as a failure the writer can act on,
    # never kill the writer or lose its words.
    try:
        with db.write() as session:
            return write_usage_batch(session, batch)
    except Exception as exc:
        return _Failure.of(exc)


def _quarantine_with(db: Database, batch: list[UsageRecord], reason: str) -> WriteResult | _Failure:
    try:
        with db.write() as session:
            return quarantine_usage(session, batch, reason=reason, apply_budget=True)
    except Exception as exc:  # see _write_with
        if not is_refusal(exc):
            return _Failure.of(exc)
        budget_error = describe_error(exc)
    # The budget increment itself was refused (an amount beyond the column): keep the row
    # without it, and say so.
    try:
        with db.write() as session:
            return quarantine_usage(
                session,
                batch,
                reason=f"{reason}; budget not moved: {budget_error}",
                apply_budget=False,
            )
    except Exception as exc:  # see _write_with
        return _Failure.of(exc)


def _outcome(value: WriteResult | _Failure) -> WriteResult:
    if isinstance(value, _Failure):
        raise WriteFailed(value.message, refused=value.refused)
    return value


class ThreadSink(BatchSink):
    """Writes in a worker thread of this process (tests, and ``usage_writer_process``
    off)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def write(self, batch: list[UsageRecord]) -> WriteResult:
        return _outcome(await self._db.run(_write_with, self._db, batch))

    async def quarantine(self, batch: list[UsageRecord], reason: str) -> WriteResult:
        return _outcome(await self._db.run(_quarantine_with, self._db, batch, reason))

    async def close(self) -> None:
        """Nothing to release: the database belongs to the gateway."""


# The child process's own database handle, made once by the pool's initializer. This is
# module state by necessity: it lives in the writer process only, which runs nothing else.
_CHILD_DB: list[Database] = []


def _child_init(url: str, log_level: str, parent: int) -> None:
    # A stop signal sent to the whole process group (Ctrl-C, systemd's default) must not
    # kill the writer before the serving process has flushed its last batch through it;
    # the parent shuts the pool down itself, and the child exits when the parent is gone.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # A spawned child starts with no logging set up: its lines would lose their fields.
    from ai_gateway.logs import configure_logging

    configure_logging(log_level)
    _CHILD_DB.append(Database(url))
    # A parent killed outright (kill -9, OOM) never shuts the pool down: without this the
    # writer would wait on its queue forever. The parent's rows are in its journal. Its pid
    # comes from the parent itself: one killed while this child was still starting would
    # make ``os.getppid()`` here name the adopting process, watched forever.
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


#: A record as it crosses to the writer process: its JSON line (the journal's), or the
#: record itself (pickled) in the odd case that it has no JSON form.
_Sent = bytes | UsageRecord


def _to_child(batch: list[UsageRecord]) -> list[_Sent]:
    """The batch as the child receives it. Pickling a record (its dict, Decimals and
    datetime) cost the serving process ~30 µs a row; the journal's line is already made,
    and a list of bytes pickles at memory speed."""
    sent: list[_Sent] = []
    for record in batch:
        try:
            sent.append(encoded_record(record))
        except TypeError:  # not JSON (orjson refuses it): the pickle still carries it
            sent.append(record)
    return sent


def _from_parent(sent: list[_Sent]) -> list[UsageRecord]:
    return [item if isinstance(item, UsageRecord) else decode_record(item) for item in sent]


def _child_write(sent: list[_Sent]) -> WriteResult | _Failure:
    try:
        batch = _from_parent(sent)
    except Exception as exc:  # see _write_with
        return _Failure.of(exc)
    return _write_with(_CHILD_DB[0], batch)


def _child_quarantine(sent: list[_Sent], reason: str) -> WriteResult | _Failure:
    try:
        batch = _from_parent(sent)
    except Exception as exc:  # see _write_with
        return _Failure.of(exc)
    return _quarantine_with(_CHILD_DB[0], batch, reason)


class ProcessSink(BatchSink):
    """Writes in one child process (started on first use, restarted if it dies)."""

    def __init__(self, database_url: str, *, log_level: str = "INFO") -> None:
        self._url = database_url
        self._log_level = log_level
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_child_init,
                initargs=(self._url, self._log_level, os.getpid()),
            )
        return self._pool

    async def write(self, batch: list[UsageRecord]) -> WriteResult:
        return await self._in_child(_child_write, _to_child(batch))

    async def quarantine(self, batch: list[UsageRecord], reason: str) -> WriteResult:
        return await self._in_child(_child_quarantine, _to_child(batch), reason)

    async def _in_child(
        self, work: Callable[..., WriteResult | _Failure], *args: Any
    ) -> WriteResult:
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(self._executor(), work, *args)
        except BrokenProcessPool as exc:
            log.error("the usage writer process died; starting a new one")
            self._pool = None
            raise WriteFailed("BrokenProcessPool: the writer process died") from exc
        return _outcome(outcome)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, wait=True)
