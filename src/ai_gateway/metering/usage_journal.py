"""A per-process journal of usage rows not yet in the database, so ``kill -9`` loses none.

The usage writer holds rows in memory for up to one flush interval. A process killed
without warning (OOM killer, ``kill -9``, a node lost by the orchestrator) would take
them along, although their calls were answered. So every row is also appended to a
journal file *before* the answer leaves: one ``write`` system call, no ``fsync``. The
kernel keeps the bytes when the process dies; only a crash of the machine itself can
still lose the last rows, the price of not paying an ``fsync`` per request.

Files, in ``<data dir>/spool/journal/``:

- ``<id>.lock``: held with ``flock`` for the life of the process; a lock nobody holds
  means its owner is dead.
- ``<id>.<n>.jsonl``: segments. The writer seals the open segment when a flush starts
  and deletes the sealed ones once everything before it is in the database.

At start each process claims the journals of dead owners (the lock taken without
waiting, so two starting processes cannot both claim one), hands their rows to its spool
and deletes them. Replays are harmless: usage inserts are idempotent by row id.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import logging
import os
import uuid
from pathlib import Path

__all__ = ["UsageJournal"]

log = logging.getLogger("ai_gateway.usage")


class UsageJournal:
    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._lock: io.BufferedWriter | None = None
        self._segment: io.FileIO | None = None
        self._number = 0
        self._sealed: list[Path] = []
        self._dirty = False
        self._orphans: list[tuple[Path, list[Path]]] = []

    def open(self) -> list[bytes]:
        """Take this process's lock, open its first segment, and return the lines left
        by dead processes (their files are gone once the caller has spooled them)."""
        self._dir.mkdir(parents=True, exist_ok=True)
        lock = (self._dir / f"{self._id}.lock").open("wb")
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._lock = lock
        self._open_segment()
        return self._claim_orphans()

    def append(self, line: bytes) -> None:
        """One row, on the request path: a single unbuffered write."""
        if self._segment is None:
            return
        try:
            self._segment.write(line + b"\n")
            self._dirty = True
        except OSError:
            log.exception("usage journal write failed; the row is only in memory")

    def seal(self) -> None:
        """A flush starts: rows journaled so far are in the batch it will write."""
        if self._segment is None or not self._dirty:
            return
        self._segment.close()
        self._sealed.append(self._segment_path(self._number))
        self._number += 1
        self._open_segment()

    def written(self) -> None:
        """Every row of the sealed segments is in the database (or in the spool)."""
        for path in self._sealed:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self._sealed.clear()

    def close(self, *, everything_written: bool) -> None:
        if self._segment is not None:
            self._segment.close()
            self._segment = None
        if everything_written:
            self.written()
            with contextlib.suppress(FileNotFoundError):
                self._segment_path(self._number).unlink()
        if self._lock is not None:
            if everything_written:
                with contextlib.suppress(FileNotFoundError):
                    (self._dir / f"{self._id}.lock").unlink()
            self._lock.close()  # releases the flock: what is left is claimable
            self._lock = None

    # -- internals ------------------------------------------------------------------------

    def _segment_path(self, number: int) -> Path:
        return self._dir / f"{self._id}.{number}.jsonl"

    def _open_segment(self) -> None:
        self._segment = io.FileIO(self._segment_path(self._number), "ab")
        self._dirty = False

    def _claim_orphans(self) -> list[bytes]:
        lines: list[bytes] = []
        for lock_path in sorted(self._dir.glob("*.lock")):
            owner = lock_path.stem
            if owner == self._id:
                continue
            try:
                handle = lock_path.open("rb")
            except FileNotFoundError:
                continue  # another process claimed it meanwhile
            with handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # alive
                segments = sorted(self._dir.glob(f"{owner}.*.jsonl"))
                for segment in segments:
                    lines.extend(x for x in segment.read_bytes().splitlines() if x.strip())
                self._orphans.append((lock_path, segments))
        if lines:
            log.warning("usage journal of a dead process recovered", extra={"rows": len(lines)})
        return lines

    def forget_orphans(self) -> None:
        """The recovered lines are safe elsewhere (the spool): drop their files."""
        for lock_path, segments in self._orphans:
            for segment in segments:
                with contextlib.suppress(FileNotFoundError):
                    segment.unlink()
            with contextlib.suppress(FileNotFoundError):
                lock_path.unlink()
        self._orphans.clear()
