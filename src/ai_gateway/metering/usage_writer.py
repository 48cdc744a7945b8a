"""Usage rows leave the request path through a queue and reach the database in batches.

The request path only appends to a list (no I/O). A background task flushes every
``flush_interval`` seconds or as soon as ``batch_size`` rows wait. Rows are never dropped:

- a failed flush keeps the batch in memory and retries with back-off;
- past ``max_memory_rows`` waiting rows (a long outage), rows go to a spool file
  (JSON lines) in the data folder, replayed first once the database answers;
- a graceful shutdown flushes what is left, and spools it if the database is down;
- a process killed without warning leaves its journal (:mod:`.usage_journal`): every row
  is appended to it before its answer leaves, and the next process to start replays it;
- replays cannot double count: inserts are idempotent by row id and only inserted rows
  move a budget (:func:`ai_gateway.storage.usage.write_usage_batch`);
- no row can hold the others back: a batch the database *refuses* (as opposed to a
  database that is down) is split in halves until each refused row is alone, and that
  row goes to the quarantine table with the database's reason (its budget amount is
  still counted); the spool replay follows the same rule. Each landed part is reported
  at once, so a later failure of another part never leaves a budget un-settled.

Batches are written by a :mod:`sink <ai_gateway.metering.usage_sinks>`: a child process
in production (its CPU never stalls the event loop), a thread in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from ai_gateway.metering.usage_journal import UsageJournal
from ai_gateway.metering.usage_sinks import BatchSink, WriteFailed
from ai_gateway.storage.usage import (
    UsageRecord,
    WriteResult,
    decode_record,
    encoded_record,
)

__all__ = ["UsageWriter"]

log = logging.getLogger("ai_gateway.usage")

FlushListener = Callable[[WriteResult], None]
_MAX_BACKOFF = 30.0


class UsageWriter:
    def __init__(
        self,
        sink: BatchSink,
        *,
        spool_dir: Path,
        flush_interval: float = 0.5,
        batch_size: int = 500,
        max_memory_rows: int = 50_000,
        on_flush: FlushListener | None = None,
        journal: bool = True,
    ) -> None:
        self._sink = sink
        self._journal = UsageJournal(spool_dir / "journal") if journal else None
        self._spool = spool_dir / "usage-spool.jsonl"
        self._interval = flush_interval
        self._batch_size = batch_size
        self._max_memory = max_memory_rows
        self._on_flush = on_flush
        self._pending: list[UsageRecord] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()
        self.written = 0
        self.failures = 0
        #: rows this writer put in quarantine; unreadable spool lines it had to drop
        self.quarantined = 0
        self.dropped = 0
        self._spool_rows = 0  # appended to the spool file by this writer since its rename
        self._replaying_rows = 0

    # -- request path ------------------------------------------------------------------

    def submit(self, record: UsageRecord) -> None:
        if self._journal is not None:
            self._journal.append(encoded_record(record))
        self._pending.append(record)
        self._idle.clear()
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    def flush_soon(self) -> None:
        """Try a flush now instead of at the end of the current (back-off) wait."""
        self._wake.set()

    @property
    def backlog(self) -> int:
        """Rows waiting in memory (what the queue gauge shows, read at scrape time)."""
        return len(self._pending)

    @property
    def spooled(self) -> int:
        """Rows waiting in the spool file (known once written or read by this writer)."""
        return self._spool_rows + self._replaying_rows

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        if self._journal is not None:
            self._recover(self._journal.open())
        self._task = asyncio.create_task(self._run(), name="usage-writer")

    def _recover(self, lines: list[bytes]) -> None:
        """Rows journaled by a dead process: into the spool (fsynced), replayed first."""
        records = []
        for line in lines:
            try:
                records.append(decode_record(line))
            except (ValueError, KeyError, TypeError, ArithmeticError):
                log.error("unreadable usage journal line skipped", extra={"bytes": len(line)})
        if records:
            self._spool_out(records)
        assert self._journal is not None
        self._journal.forget_orphans()

    async def stop(self) -> None:
        """Flush everything (or spool it when the database is down), then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._pending:
            self._spool_out(self._pending)
            self._pending = []
        if self._journal is not None:
            self._journal.close(everything_written=True)  # written or spooled (fsynced)
        await self._sink.close()

    async def drain(self) -> None:
        """Wait until every submitted row is written (tests, shutdown hooks); callers bound
        the wait with ``asyncio.timeout``."""
        self._wake.set()
        await self._idle.wait()

    async def _run(self) -> None:
        delay = self._interval
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()
            ok = await self._flush_once()
            delay = self._interval if ok else min(_MAX_BACKOFF, max(delay * 2, 0.25))
        await self._flush_once()  # the last word; stop() spools whatever still fails

    async def _flush_once(self) -> bool:
        if self._journal is not None and self._pending:
            self._journal.seal()
        try:
            if self._spool.exists() or self._spool.with_suffix(".replaying").exists():
                await self._replay_spool()
            while self._pending:
                batch = self._pending[: self._batch_size]
                await self._write(batch)
                del self._pending[: len(batch)]
        except (WriteFailed, OSError) as exc:
            self.failures += 1
            error = exc.message if isinstance(exc, WriteFailed) else f"{type(exc).__name__}: {exc}"
            # The error is in the message itself: a process whose logging is not set up
            # (a spawned worker) prints only the message.
            log.warning(
                "usage flush failed (%s); %d rows kept for retry",
                error,
                len(self._pending),
                extra={"waiting": len(self._pending), "error": error},
            )
            if len(self._pending) > self._max_memory:
                overflow = self._pending[: len(self._pending) - self._max_memory // 2]
                self._spool_out(overflow)
                del self._pending[: len(overflow)]
            return False
        if not self._pending:
            if self._journal is not None:
                self._journal.written()
            self._idle.set()
        return True

    async def _write(self, batch: list[UsageRecord]) -> None:
        """Write ``batch``, reporting each part that lands. Raises :class:`WriteFailed`
        only when the database is unavailable (the caller keeps the batch for retry)."""
        try:
            self._report(await self._sink.write(batch))
            return
        except WriteFailed as exc:
            if not exc.refused:
                raise
            if len(batch) == 1:
                await self._quarantine(batch[0], exc.message)
                return
        middle = len(batch) // 2
        await self._write(batch[:middle])
        await self._write(batch[middle:])

    async def _quarantine(self, record: UsageRecord, reason: str) -> None:
        try:
            result = await self._sink.quarantine([record], reason)
        except WriteFailed as exc:
            # Nothing of a quarantined row comes from outside unbounded, so this is the
            # database's state (a missing table, permissions): keep the row for retry
            # rather than lose it.
            log.error(
                "usage row %s could not be quarantined (%s); the database refused it (%s)",
                record.id,
                exc.message,
                reason,
                extra={"row_id": record.id, "error": exc.message},
            )
            raise WriteFailed(exc.message, refused=False) from exc
        self.quarantined += result.quarantined
        if result.quarantined:
            log.warning(
                "usage row %s quarantined: the database refused it (%s)",
                record.id,
                reason,
                extra={
                    "row_id": record.id,
                    "client_id": record.row.get("client_id"),
                    "error": reason,
                },
            )
        self._report(result)

    def _report(self, result: WriteResult) -> None:
        self.written += result.inserted
        if self._on_flush is not None:
            self._on_flush(result)

    # -- spool file ----------------------------------------------------------------------

    def _spool_out(self, records: list[UsageRecord]) -> None:
        self._spool.parent.mkdir(parents=True, exist_ok=True)
        # 0600: the rows name tenants and conversations.
        fd = os.open(self._spool, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as handle:
            for record in records:
                handle.write(encoded_record(record) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._spool_rows += len(records)
        log.warning("%d usage rows spooled to disk", len(records), extra={"rows": len(records)})

    async def _replay_spool(self) -> None:
        """Write the spooled rows. The file is renamed first so rows spooled meanwhile wait
        for the next round; a failure mid-replay leaves the renamed file, replayed
        (idempotently) next time."""
        replaying = self._spool.with_suffix(".replaying")
        if not replaying.exists():
            os.replace(self._spool, replaying)
            self._spool_rows = 0
        records, unreadable = await asyncio.to_thread(_read_spool, replaying)
        for line in unreadable:  # a line cut by a crash: nothing to write, say what it was
            self.dropped += 1
            log.error("unreadable usage spool line dropped: %r", line[:300])
        self._replaying_rows = len(records)
        for start in range(0, len(records), self._batch_size):
            await self._write(records[start : start + self._batch_size])
        replaying.unlink()
        self._replaying_rows = 0


def _read_spool(path: Path) -> tuple[list[UsageRecord], list[bytes]]:
    records: list[UsageRecord] = []
    unreadable: list[bytes] = []
    for line in path.read_bytes().splitlines():
        if not line:
            continue
        try:
            records.append(decode_record(line))
        except (ValueError, KeyError, TypeError, ArithmeticError):
            unreadable.append(line)
    return records, unreadable
