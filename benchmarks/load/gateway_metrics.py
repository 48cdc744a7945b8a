"""What the gateway itself says about a run, from its ``/metrics`` (scraped before and
after, per replica, and differenced, so earlier traffic does not count):

* the cache hit rate of the calls it answered (``ai_gateway_requests_total`` by
  ``cache``);
* its own share of latency: ``ai_gateway_overhead_seconds``, the time a successful call
  spent in the gateway outside the provider's call (auth, parsing, budget, cache,
  metering, sending the answer), P50/P95/P99 interpolated within histogram buckets as
  Prometheus' ``histogram_quantile`` does.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

__all__ = ["Scrape", "histogram_quantile", "scrape"]


@dataclass
class Scrape:
    """Summed over replicas: requests by cache label, overhead buckets by ``le``."""

    requests: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    #: ``(cache label, le) -> cumulative count``
    overhead_buckets: dict[tuple[str, float], float] = field(
        default_factory=lambda: defaultdict(float)
    )

    def minus(self, before: Scrape) -> Scrape:
        delta = Scrape()
        for label, value in self.requests.items():
            delta.requests[label] = value - before.requests.get(label, 0.0)
        for key, value in self.overhead_buckets.items():
            delta.overhead_buckets[key] = value - before.overhead_buckets.get(key, 0.0)
        return delta

    @property
    def hit_rate(self) -> float:
        total = self.requests.get("hit", 0.0) + self.requests.get("miss", 0.0)
        return self.requests.get("hit", 0.0) / total if total else 0.0

    def overhead_ms(self, q: float, cache: str | None = None) -> float:
        """The ``q`` quantile in ms, of hits, of misses or (None) of both."""
        buckets: dict[float, float] = defaultdict(float)
        for (label, le), count in self.overhead_buckets.items():
            if cache is None or label == cache:
                buckets[le] += count
        return histogram_quantile(q, buckets) * 1000


def histogram_quantile(q: float, buckets: dict[float, float]) -> float:
    """The ``q`` quantile of cumulative ``buckets`` (upper bound -> count), linear within
    the bucket it falls in; NaN without observations."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return math.nan
    rank = q * buckets[bounds[-1]]
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower  # beyond the last finite bucket: its bound, as Prometheus does
            inside = count - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 0.0)
        lower, below = bound, count
    return lower


def _parse(text: str, into: Scrape) -> None:
    for family in text_string_to_metric_families(text):
        if family.name == "ai_gateway_requests":
            for sample in family.samples:
                if sample.name == "ai_gateway_requests_total" and sample.labels["status"] in (
                    "success",
                ):
                    into.requests[sample.labels["cache"]] += sample.value
        elif family.name == "ai_gateway_overhead_seconds":
            for sample in family.samples:
                if sample.name == "ai_gateway_overhead_seconds_bucket":
                    key = (sample.labels["cache"], float(sample.labels["le"]))
                    into.overhead_buckets[key] += sample.value


async def scrape(urls: Sequence[str], *, token: str | None = None) -> Scrape:
    """One scrape of every URL's ``/metrics``, summed."""
    total = Scrape()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession(headers=headers) as http:
        for url in urls:
            async with http.get(url + "/metrics") as resp:
                resp.raise_for_status()
                _parse(await resp.text(), total)
    return total
