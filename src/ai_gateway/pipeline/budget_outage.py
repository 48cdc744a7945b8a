"""A client's budget while the shared (Redis) counters are unreachable: each replica
admits only its share of what the database said was left, so the replicas together stay
within the limit.

Why a share, and why this one. Without Redis no replica sees the others' calls in flight
or their usage not yet written, so a replica that lets its own counters decide can spend
the whole remainder, and R replicas up to R times it. Instead, when a replica first finds
Redis away for a client (an *outage* of that client's counters, here) it reads the stored
usage once, ``base``, and from then on admits while

    own usage not in ``base``  <  (limit - base) / replicas

where *own usage not in base* is what this replica settled but has not yet written, what
its calls in flight hold, and what it has written since ``base`` was read (``flushed``:
counted again in the stored usage, so it is never lost from view). ``replicas`` is the
number of live processes (:mod:`ai_gateway.pipeline.replicas`, a heartbeat row each), the
largest seen since the outage began: a replica that dies leaves its share unspent rather
than handing it to the others mid-outage. Summed over the replicas, what the outage adds
is at most ``limit - base`` plus, as always, one call's estimate per replica (each
admission checks before it reserves).

``base`` is not re-read during the outage: re-reading it would count this replica's own
written usage twice, and re-dividing a fresher remainder while another replica still
works from an older read lets their shares overlap (a replica that wrote early would be
given a new share of what the other already holds). Each replica reads ``base`` at a
slightly different moment (its first admission after Redis went away); usage written by
one replica between two such reads is counted in the later read only, so the bound can be
exceeded by at most ``(R-1)/R`` of what was written in that gap (calls admitted through
Redis just before the outage, settling as it starts: milliseconds of traffic under load).

Why not reservations in the database while Redis is away (``UPDATE ... WHERE used +
reserved + x <= limit``)? Exact, but two writes on one hot row per call, serialised by the
row lock, exactly when the database also takes the traffic Redis took; and a crashed
replica's reservations would need their own expiry. The share costs nothing per call:
one read per client when its outage begins, and the heartbeat every few seconds in the
background. When Redis is up nothing here runs (a ``None`` check per admission).

The price is conservatism: a replica whose share is spent refuses (402) while another's
is idle. It lasts a little longer than the outage. When Redis answers again it does not
yet know what the other replicas admitted without it (their calls in flight, their usage
not yet written or not yet re-read here), so for ``SETTLING_SECONDS`` an admission needs
both Redis and the share; this replica's own calls in flight are handed to Redis at once
(reserved there whatever the limit: they are admitted already) and its own settled usage
goes with every admission (``floor``). Then Redis alone decides, as before the outage.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Outage"]


@dataclass(slots=True)
class Outage:
    """One client's counters on this replica while Redis is away."""

    period: str
    #: the stored usage when the outage began (read from the database then)
    base: Decimal
    #: the most live replicas seen since: the share only ever shrinks
    replicas: int
    #: what this replica's writer has stored since ``base`` was read
    flushed: Decimal = Decimal(0)
    #: when Redis answered again (the guard's clock); None while it is away
    back_at: float | None = None

    def share(self, limit: Decimal, live: int) -> Decimal:
        """This replica's part of what was left (never below zero)."""
        self.replicas = max(self.replicas, live, 1)
        return max(Decimal(0), (limit - self.base) / self.replicas)
