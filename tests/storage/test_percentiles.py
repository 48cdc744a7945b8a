"""Percentiles in SQL: the SQLite window version equals PostgreSQL's percentile_cont, and
the histogram's answer stays within its bucket width."""

from __future__ import annotations

import math
import random

from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.percentiles import exact_percentiles, histogram_percentiles
from ai_gateway.storage.rollups import bucket_midpoint, latency_bucket
from ai_gateway.storage.tables import UsageLog
from tests.api.usage_rows import usage_row, write_rows


def percentile_cont(values: list[int], p: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * p
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_exact_and_histogram_percentiles(db: Database) -> None:
    rng = random.Random(7)
    with db.write() as s:
        client = create_client(s, name="p", plan="free").id
    latencies = {
        "openai/gpt-4o": [rng.randint(1, 5000) for _ in range(301)],
        "groq/llama-3.3-70b": [42],
    }
    rows = [
        usage_row(client, model_used=model, latency_ms=ms)
        for model, values in latencies.items()
        for ms in values
    ]
    write_rows(db, rows)
    with db.session() as s:
        exact = exact_percentiles(s, value=UsageLog.latency_ms, group=UsageLog.model_used, where=[])
        histogram = histogram_percentiles(s, since_day="2000-01-01", by="model_id")
    for model, values in latencies.items():
        for name, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            expected = percentile_cont(values, p)
            assert exact[model][name] == round(expected, 1), (model, name)
            assert abs(histogram[model][name] - expected) <= max(1, 0.06 * expected)


def test_buckets_are_monotonic_and_narrow() -> None:
    previous = 0
    for ms in range(0, 200_000, 7):
        bucket = latency_bucket(ms)
        assert previous <= bucket <= ms
        assert abs(bucket_midpoint(bucket) - ms) <= max(1, 0.055 * ms)
        previous = bucket
