"""CPU per usage row of the writer's batch write (``write_usage_batch``): what the usage
writer process spends per answered call, without HTTP around it.

    PYTHONPATH=src:. python -m benchmarks.usage_writer [--rows 150] [--batches 20] [--url URL]

A fresh SQLite file by default (``--url`` takes a PostgreSQL database you can throw away).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from decimal import Decimal

from tests.api.usage_rows import usage_row

from ai_gateway.storage import migrate
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.usage import UsageRecord, write_usage_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=150, help="rows per batch")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Database(args.url or f"sqlite:///{folder}/bench.db")
        migrate.upgrade(db)
        with db.write() as session:
            client_id = create_client(session, name="bench", plan="enterprise").id

        def batch() -> list[UsageRecord]:
            cost = Decimal("0.0000666630")
            return [
                UsageRecord(
                    row=usage_row(client_id, latency_ms=random.randint(1, 40), cost_brl=cost),
                    budget_amount=cost,
                )
                for _ in range(args.rows)
            ]

        batches = [batch() for _ in range(args.batches + 2)]
        for warm in batches[:2]:  # first compiles and page allocations
            with db.write() as session:
                write_usage_batch(session, warm)
        started = time.process_time()
        for measured in batches[2:]:
            with db.write() as session:
                write_usage_batch(session, measured)
        spent = time.process_time() - started
        db.dispose()
    per_row = spent * 1e6 / (args.rows * args.batches)
    print(f"{args.rows}-row batches: {per_row:.0f} µs CPU per row")


if __name__ == "__main__":
    main()
