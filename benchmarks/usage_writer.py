"""CPU per usage row of the writer's batch write (``write_usage_batch``): what the usage
writer process spends per answered call, without HTTP around it.

    PYTHONPATH=src:. python -m benchmarks.usage_writer [--rows 150] [--batches 20] [--url URL]
    PYTHONPATH=src:. python -m benchmarks.usage_writer --process --rows 500 [--repeat 5]

A fresh SQLite file by default (``--url`` takes a PostgreSQL database you can throw away).
``--process`` sends the batches through the gateway's own ``ProcessSink`` (the writer child
process, rows shaped as the meter makes them, every column) and reports the CPU of both
sides: the serving process (pickling) and the child (unpickling and the write), read from
``/proc``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from tests.api.usage_rows import meter_row, usage_row

from ai_gateway.metering.usage_sinks import ProcessSink
from ai_gateway.storage import migrate
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.usage import UsageRecord, write_usage_batch


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _through_child(url: str, batches: list[list[UsageRecord]]) -> tuple[float, float]:
    """(serving-process CPU, child CPU) in seconds over the measured batches."""
    sink = ProcessSink(url, log_level="WARNING")
    try:
        for warm in batches[:2]:
            await sink.write(warm)
        pool = sink._executor()
        (child,) = pool._processes  # one worker
        parent_started, child_started = time.process_time(), _cpu_seconds(child)
        for measured in batches[2:]:
            await sink.write(measured)
        return time.process_time() - parent_started, _cpu_seconds(child) - child_started
    finally:
        await sink.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=150, help="rows per batch")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--url", default=None)
    parser.add_argument("--process", action="store_true", help="through the writer process")
    parser.add_argument(
        "--repeat", type=int, default=1, help="measure N times: the best and the median"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{folder}/bench.db"
        db = Database(url)
        migrate.upgrade(db)
        with db.write() as session:
            client_id = create_client(session, name="bench", plan="enterprise").id

        def batch() -> list[UsageRecord]:
            cost = Decimal("0.0000666630")
            if args.process:
                return [
                    UsageRecord(row=meter_row(client_id), budget_amount=cost, cache_lookup=True)
                    for _ in range(args.rows)
                ]
            return [
                UsageRecord(
                    row=usage_row(client_id, latency_ms=random.randint(1, 40), cost_brl=cost),
                    budget_amount=cost,
                )
                for _ in range(args.rows)
            ]

        rows = args.rows * args.batches
        if args.process:
            figures = [
                asyncio.run(_through_child(url, [batch() for _ in range(args.batches + 2)]))
                for _ in range(args.repeat)
            ]
            db.dispose()
            child = [c * 1e6 / rows for _p, c in figures]
            parent = [p * 1e6 / rows for p, _c in figures]
            print(
                f"{args.rows}-row batches through the writer process: "
                f"{_spread(child, '.0f')} µs CPU per row in the child, "
                f"{_spread(parent, '.1f')} µs in the serving process"
            )
            return
        per_row = []
        for _ in range(args.repeat):
            batches = [batch() for _ in range(args.batches + 2)]
            for warm in batches[:2]:  # first compiles and page allocations
                with db.write() as session:
                    write_usage_batch(session, warm)
            started = time.process_time()
            for measured in batches[2:]:
                with db.write() as session:
                    write_usage_batch(session, measured)
            per_row.append((time.process_time() - started) * 1e6 / rows)
        db.dispose()
    print(f"{args.rows}-row batches: {_spread(per_row, '.0f')} µs CPU per row")


def _spread(figures: list[float], spec: str) -> str:
    """One figure, or the best and the median of several (the machine is shared)."""
    if len(figures) == 1:
        return format(figures[0], spec)
    best, median = min(figures), statistics.median(figures)
    return f"best {format(best, spec)}, median {format(median, spec)}"


if __name__ == "__main__":
    main()
