"""Which connections a process holds, and which of them could be closed to make room.

A connection is *idle* while no request of it is being answered: before its first
request head is complete (a slow or silent peer), or between keep-alive requests. At the
ceiling a new connection closes the longest-idle one (what nginx does with its reusable
connections), so a flood of idle sockets can never lock out a new caller nor exhaust the
process's descriptors; only when every connection is busy is the new one *shed*: served
for health probes and answered 503 otherwise.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["ConnectionBoard", "Evictable"]


class Evictable(Protocol):
    def evict(self) -> None:
        """Close the connection now (it was idle and room is needed)."""


class ConnectionBoard:
    """Per process (one per uvicorn server); touched only from the event loop thread."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: set[Evictable] = set()
        # Insertion order is idle-since order: the first key is the longest idle.
        self._idle: dict[Evictable, None] = {}
        self.evicted = 0
        self.shed = 0

    @property
    def open(self) -> int:
        return len(self._open)

    def opened(self, conn: Evictable) -> bool:
        """Admit ``conn``; ``False`` means it is over the ceiling with nothing idle to close."""
        if len(self._open) >= self.limit:
            victim = next(iter(self._idle), None)
            if victim is None:
                self.shed += 1
                return False
            self._forget(victim)
            self.evicted += 1
            victim.evict()
        self._open.add(conn)
        self._idle[conn] = None
        return True

    def idle(self, conn: Evictable) -> None:
        if conn in self._open:
            self._idle.pop(conn, None)
            self._idle[conn] = None

    def busy(self, conn: Evictable) -> None:
        self._idle.pop(conn, None)

    def closed(self, conn: Evictable) -> None:
        self._forget(conn)

    def _forget(self, conn: Evictable) -> None:
        self._open.discard(conn)
        self._idle.pop(conn, None)
