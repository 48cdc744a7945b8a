"""Prometheus across the workers of one replica (``serve --workers N``).

Each uvicorn worker is its own process with its own counters, and a scrape reaches
whichever worker accepts it: without aggregation ``/metrics`` shows one worker's share.
prometheus_client's multiprocess mode keeps every worker's values in memory-mapped files
of one directory, ``PROMETHEUS_MULTIPROC_DIR``; a scrape sums them. ``serve`` prepares
that directory before the workers start (empty: files of a previous run would be counted
again) and the library reads the variable when it is first imported in each worker.

Gauges say how they combine (``multiprocess_mode`` in :mod:`ai_gateway.metrics`); a dead
worker's counters stay counted, which is what a counter means.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["ENV", "aggregated_registry", "prepare_directory"]

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_directory(default: Path) -> Path:
    """Point ``PROMETHEUS_MULTIPROC_DIR`` at an empty directory (the operator's, if set)
    for the workers about to start; called once by ``serve`` before it forks."""
    directory = Path(os.environ.get(ENV) or default)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[ENV] = str(directory)
    return directory


def aggregated_registry() -> CollectorRegistry | None:
    """A registry summing every worker's files, or None in single-process mode."""
    directory = os.environ.get(ENV)
    if not directory:
        return None
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return registry
