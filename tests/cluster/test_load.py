"""The seed's load test, 30-second variant: 50 users on the 3-replica cluster
(``benchmarks/load``; the 5-minute run and its figures are in docs/PERFORMANCE.md).

Driven by the asyncio driver, not locust: locust runs on gevent, which patches the
standard library of the process it runs in, and this suite runs on asyncio with warnings
as errors; so the test needs nothing beyond ``.[dev]``, with the same traffic as the
locustfile (:mod:`benchmarks.load.traffic`).

What is asserted is what holds on any machine: errors below the seed's 0.5 %, a cache
that hits under load, P95 under the seed's 2000 ms with a tolerance. The tolerance: the
simulated upstream alone takes up to 1.85 s (P95 about 1.65 s), which leaves 350 ms for
the gateway, nginx and the client on a quiet machine; a 2-core CI runner also runs the
three replicas, nginx, PostgreSQL, Redis and the 50 users of this very process, and a
busy one has been measured adding about 2 s at P95 in scheduling delays. So the test
fails above 4000 ms, and prints the real figure (and the gateway's own overhead, which
is reported, not asserted) for the reader to compare with the 2000 ms target.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from benchmarks.load.driver import drive, warm_up
from benchmarks.load.gateway_metrics import scrape
from benchmarks.load.setup import load_cluster

from tests.conftest import PG_ADMIN_URL, require_service

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

P95_TARGET_MS = 2000
P95_TOLERANCE_MS = 2000


async def test_fifty_users_for_thirty_seconds(tmp_path: Path) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with load_cluster(tmp_path, postgres_admin_url=PG_ADMIN_URL, tenants=10) as cluster:
        await warm_up(cluster.replica_urls, cluster.keys)
        before = await scrape(cluster.replica_urls)
        results = await drive(cluster.url, cluster.keys, users=50, seconds=30, seed=7)
        gateway = (await scrape(cluster.replica_urls)).minus(before)
    p95 = results.ms(0.95)
    errors = [o.error for o in results.outcomes if o.error]
    print(
        f"\nload 30 s, 50 users: {results.count} calls, errors {results.error_rate:.2%}, "
        f"P50 {results.ms(0.5):.0f} ms, P95 {p95:.0f} ms (target {P95_TARGET_MS}), "
        f"P99 {results.ms(0.99):.0f} ms; hit rate {gateway.hit_rate:.1%} (client "
        f"{results.hit_rate:.1%}); gateway overhead P95 {gateway.overhead_ms(0.95):.2f} ms; "
        f"errors by kind {dict(Counter(errors))}"
    )
    assert results.count > 300  # 50 users for 30 s at ~1 s a call and ~1.25 s thinking
    assert results.error_rate < 0.005, errors[:10]
    assert gateway.hit_rate > 0 and results.hit_rate > 0
    assert p95 < P95_TARGET_MS + P95_TOLERANCE_MS
