"""CPU seconds of process trees, from ``/proc`` (Linux): what the replicas spent, which a
busy machine stretches in wall time but not in CPU time.

On a shared machine a call's latency includes the time its process waited for a CPU;
the CPU time the replicas used per call does not, so it bounds the gateway's own work
per call (every replica's process and its children, the usage writer among them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["tree_cpu_seconds"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _cpu(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def tree_cpu_seconds(pids: Iterable[int]) -> float | None:
    """User + system CPU seconds of ``pids`` and their live descendants; None off Linux."""
    if not Path("/proc/self/stat").exists():
        return None
    total, todo, seen = 0.0, list(pids), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _cpu(pid)
        todo += _children(pid)
    return total
