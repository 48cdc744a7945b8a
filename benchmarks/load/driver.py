"""The load's users on asyncio + aiohttp: what the CI variant drives the cluster with.

The same traffic as the locustfile (:mod:`.traffic`), the same measure (a call's time is
from sending it to the last byte of its answer, a stream's ``[DONE]`` included; a failure
is a status other than 200, a broken connection, or a stream that ends without
``[DONE]``), without locust: locust runs on gevent, which patches the standard library of
the process it runs in, and the test suite runs on asyncio with warnings as errors. So
the CI variant needs nothing beyond ``.[dev]``, and the 5-minute run keeps locust (its
reports are what people know).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp

from benchmarks.load.traffic import MODEL, LoadTraffic

__all__ = ["Outcome", "Results", "drive", "percentile", "warm_up"]


@dataclass(frozen=True, slots=True)
class Outcome:
    ms: float
    stream: bool
    hit: bool
    #: None when the call succeeded; else what went wrong ("HTTP 502", "no [DONE]", ...).
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (as locust reports them); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Results:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def count(self) -> int:
        return len(self.outcomes)

    @property
    def error_rate(self) -> float:
        return sum(not o.ok for o in self.outcomes) / self.count if self.count else 0.0

    @property
    def hit_rate(self) -> float:
        ok = [o for o in self.outcomes if o.ok]
        return sum(o.hit for o in ok) / len(ok) if ok else 0.0

    def ms(self, q: float, *, hit: bool | None = None) -> float:
        return percentile(
            [o.ms for o in self.outcomes if o.ok and (hit is None or o.hit == hit)], q
        )


async def _one(
    http: aiohttp.ClientSession,
    url: str,
    keys: Sequence[str],
    traffic: LoadTraffic,
    rng: random.Random,
) -> Outcome:
    call = traffic.next_call(rng)
    headers = {
        "Authorization": f"Bearer {keys[call.tenant]}",
        "X-Conversation-Id": call.conversation_id,
    }
    started = time.perf_counter()
    try:
        async with http.post(url + "/v1/chat/completions", json=call.body, headers=headers) as r:
            body = await r.read()
            hit = r.headers.get("x-ai-gateway-cache") == "HIT"
            error = None
            if r.status != 200:
                error = f"HTTP {r.status}: {body[:200].decode(errors='replace')}"
            elif call.stream and not body.rstrip().endswith(b"[DONE]"):
                error = "stream without [DONE]"
    except (aiohttp.ClientError, TimeoutError) as exc:
        hit, error = False, type(exc).__name__
    return Outcome((time.perf_counter() - started) * 1000, call.stream, hit, error)


async def warm_up(urls: Sequence[str], keys: Sequence[str]) -> None:
    """One call per key on every replica, before the clock starts: the first call of a
    tenant on a replica reads its key, client and budget from the database (and runs
    code paths for the first time), which is start-up, not the steady state measured.
    Each asks a question of its own, so no load question is in the cache before."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        for replica, url in enumerate(urls):
            for tenant, key in enumerate(keys):
                body = {
                    "model": MODEL,
                    "messages": [{"role": "user", "content": f"aquecimento {replica} {tenant}"}],
                }
                headers = {"Authorization": f"Bearer {key}"}
                async with http.post(url + "/v1/chat/completions", json=body, headers=headers) as r:
                    await r.read()
                    if r.status != 200:
                        raise RuntimeError(f"warm-up call failed on {url}: HTTP {r.status}")


async def drive(
    url: str,
    keys: Sequence[str],
    *,
    users: int = 50,
    seconds: float = 30.0,
    spawn_rate: float = 10.0,
    think: tuple[float, float] = (0.5, 2.0),
    seed: int = 1,
) -> Results:
    """``users`` users, started ``spawn_rate`` a second, each sending a call, reading its
    answer and thinking ``think`` seconds, until ``seconds`` have passed."""
    traffic = LoadTraffic(len(keys))
    results = Results()
    started = time.monotonic()
    deadline = started + seconds
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=users)

    async def user(index: int) -> None:
        rng = random.Random(seed * 100_003 + index)
        await asyncio.sleep(index / spawn_rate)
        while time.monotonic() < deadline:
            results.outcomes.append(await _one(http, url, keys, traffic, rng))
            await asyncio.sleep(rng.uniform(*think))

    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        await asyncio.gather(*(user(i) for i in range(users)))
    results.seconds = time.monotonic() - started
    return results
