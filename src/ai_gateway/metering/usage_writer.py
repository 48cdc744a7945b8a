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
  move a budget (:func:`ai_gateway.storage.usage.write_usage_batch`).

Batches are written by a :mod:`sink <ai_gateway.metering.usage_sinks>`: a child process
in production (its CPU never stalls the event loop), a thread in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from ai_gateway.metering.usage_journal import UsageJournal
from ai_gateway.metering.usage_sinks import BatchSink, WriteFailed
from ai_gateway.storage.usage import UsageRecord, WriteResult

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

    # -- request path ------------------------------------------------------------------

    def submit(self, record: UsageRecord) -> None:
        if self._journal is not None:
            self._journal.append(_encode(record))
        self._pending.append(record)
        self._idle.clear()
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    def flush_soon(self) -> None:
        """Try a flush now instead of at the end of the current (back-off) wait."""
        self._wake.set()

    @property
    def backlog(self) -> int:
        return len(self._pending)

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
                records.append(_decode(line))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
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
                result = await self._sink.write(batch)
                del self._pending[: len(batch)]
                self._report(result)
        except (WriteFailed, OSError) as exc:
            self.failures += 1
            log.warning(
                "usage flush failed; rows kept for retry",
                extra={"waiting": len(self._pending), "error": str(exc)},
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

    def _report(self, result: WriteResult) -> None:
        self.written += result.inserted
        if self._on_flush is not None:
            self._on_flush(result)

    # -- spool file ----------------------------------------------------------------------

    def _spool_out(self, records: list[UsageRecord]) -> None:
        self._spool.parent.mkdir(parents=True, exist_ok=True)
        with self._spool.open("ab") as handle:
            for record in records:
                handle.write(_encode(record) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        log.warning("usage rows spooled to disk", extra={"rows": len(records)})

    async def _replay_spool(self) -> None:
        """Write the spooled rows. The file is renamed first so rows spooled meanwhile wait
        for the next round; a failure mid-replay leaves the renamed file, replayed
        (idempotently) next time."""
        replaying = self._spool.with_suffix(".replaying")
        if not replaying.exists():
            os.replace(self._spool, replaying)
        records = await asyncio.to_thread(_read_spool, replaying)
        for start in range(0, len(records), self._batch_size):
            self._report(await self._sink.write(records[start : start + self._batch_size]))
        replaying.unlink()


def _read_spool(path: Path) -> list[UsageRecord]:
    return [_decode(line) for line in path.read_bytes().splitlines() if line]


_DECIMAL_FIELDS = (
    "cost_usd",
    "cost_brl",
    "exchange_rate",
    "input_price_per_1m",
    "output_price_per_1m",
    "cached_input_price_per_1m",
    "saved_usd",
    "saved_brl",
)


def _encode(record: UsageRecord) -> bytes:
    payload = {
        "row": record.row,
        "budget_amount": record.budget_amount,
        "cache_lookup": record.cache_lookup,
    }
    return orjson.dumps(payload, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def _decode(line: bytes) -> UsageRecord:
    payload = orjson.loads(line)
    row = payload["row"]
    for name in _DECIMAL_FIELDS:
        if row.get(name) is not None:
            row[name] = Decimal(row[name])
    row["created_at"] = datetime.fromisoformat(row["created_at"])
    return UsageRecord(
        row=row,
        budget_amount=Decimal(payload["budget_amount"]),
        cache_lookup=bool(payload["cache_lookup"]),
    )
