"""The ``gateway_replicas`` table: which gateway processes are alive.

Each process rewrites its own row's ``seen_at`` every few seconds (only it writes that
row, so an UPDATE that finds nothing is followed by an INSERT with no race); a row not
seen since ``dead_before`` is a process that stopped or died, is not counted, and is
deleted by whichever process beats next. The clocks are the processes' own (UTC): a skew
of a second or two against a window of three beats is harmless.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ai_gateway.storage.tables import GatewayReplica

__all__ = ["beat_replica", "remove_replica"]


def beat_replica(session: Session, *, replica_id: str, now: datetime, dead_before: datetime) -> int:
    """Say ``replica_id`` is alive at ``now``; return how many replicas are (itself
    included)."""
    seen = session.execute(
        update(GatewayReplica).where(GatewayReplica.id == replica_id).values(seen_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if not seen:
        session.add(GatewayReplica(id=replica_id, started_at=now, seen_at=now))
    session.execute(delete(GatewayReplica).where(GatewayReplica.seen_at < dead_before))
    session.flush()
    live = session.scalar(select(func.count()).select_from(GatewayReplica))
    return int(live or 1)


def remove_replica(session: Session, *, replica_id: str) -> None:
    """A clean stop: the others stop counting this process at once."""
    session.execute(delete(GatewayReplica).where(GatewayReplica.id == replica_id))
