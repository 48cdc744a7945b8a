"""The load test's pieces that need no cluster: its traffic repeats questions within a
tenant and mixes streams in, the percentile of a histogram is interpolated as
Prometheus does, and ``/metrics`` text is read into hits, misses and overhead buckets."""

from __future__ import annotations

import math
import random
from collections import Counter

from benchmarks.load.driver import percentile
from benchmarks.load.gateway_metrics import Scrape, _parse, histogram_quantile
from benchmarks.load.traffic import MODEL, LoadTraffic


def test_traffic_repeats_questions_and_mixes_streams() -> None:
    traffic = LoadTraffic(10)
    calls = [traffic.next_call(random.Random(i)) for i in range(2000)]
    assert {c.body["model"] for c in calls} == {MODEL}
    asked = Counter((c.tenant, c.body["messages"][-1]["content"]) for c in calls)
    repeated = sum(n - 1 for n in asked.values())
    assert repeated / len(calls) > 0.4  # what a cache can answer
    assert 0.4 < sum(c.stream for c in calls) / len(calls) < 0.6
    tenants = Counter(c.tenant for c in calls)
    assert tenants[0] > tenants[9] and len(tenants) == 10  # skewed, all present
    again = [traffic.next_call(random.Random(i)) for i in range(50)]
    assert [c.body for c in again] == [c.body for c in calls[:50]]


def test_histogram_quantile_interpolates_within_buckets() -> None:
    buckets = {0.001: 50.0, 0.002: 90.0, 0.005: 100.0, math.inf: 100.0}
    assert histogram_quantile(0.5, buckets) == 0.001
    assert abs(histogram_quantile(0.7, buckets) - 0.0015) < 1e-12
    assert abs(histogram_quantile(0.95, buckets) - 0.0035) < 1e-12
    assert math.isnan(histogram_quantile(0.5, {math.inf: 0.0}))
    assert histogram_quantile(0.99, {0.001: 0.0, math.inf: 10.0}) == 0.001


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.95) == 95.0 and percentile(values, 0.5) == 50.0
    assert math.isnan(percentile([], 0.5))


def test_metrics_text_is_read_and_differenced() -> None:
    text = "\n".join(
        [
            "# TYPE ai_gateway_requests_total counter",
            'ai_gateway_requests_total{model="m",status="success",cache="hit"} 7.0',
            'ai_gateway_requests_total{model="m",status="success",cache="miss"} 3.0',
            'ai_gateway_requests_total{model="m",status="error",cache="miss"} 5.0',
            "# TYPE ai_gateway_overhead_seconds histogram",
            'ai_gateway_overhead_seconds_bucket{cache="miss",le="0.001"} 1.0',
            'ai_gateway_overhead_seconds_bucket{cache="miss",le="+Inf"} 3.0',
            'ai_gateway_overhead_seconds_bucket{cache="hit",le="0.001"} 7.0',
            'ai_gateway_overhead_seconds_bucket{cache="hit",le="+Inf"} 7.0',
            'ai_gateway_overhead_seconds_count{cache="miss"} 3.0',
            'ai_gateway_overhead_seconds_sum{cache="miss"} 0.01',
            "",
        ]
    )
    after = Scrape()
    _parse(text, after)
    assert after.hit_rate == 0.7  # errors are not answered calls
    delta = after.minus(Scrape())
    assert delta.requests == after.requests
    assert delta.overhead_ms(0.5, "hit") <= 1.0
    assert delta.overhead_ms(0.5) <= 1.0
