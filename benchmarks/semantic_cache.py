"""What the semantic cache adds to a miss: the P50 latency of an opted-in client's miss
against a client that has not opted in, through the real gateway in process.

    PYTHONPATH=src:. python -m benchmarks.semantic_cache [--entries 1000] [--calls 400]

Both clients ask the simulated chat model (no upstream latency) one new question per
call, so every call is an exact and a semantic miss; the opted-in client's scope holds
``--entries`` stored entries, so every lookup scans them all. Its extra work per miss is
the embedding call (``simulated/demo-embed`` through the gateway's own pipeline: rate
limits, budget, exact cache, metering), the scope's numpy scan, and the entry's write in
the background. Calls alternate between the clients so both see the same machine. Also
printed: the scan alone at 256 and 1,536 dimensions, and the probe a client that has not
opted in pays (one flag read). A fresh SQLite file in a temporary folder; nothing leaves
the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
import timeit
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from ai_gateway.bootstrap import open_database
from ai_gateway.cache.semantic_index import IndexedEntry, ScopeIndex, vector_to_bytes
from ai_gateway.cache.semantic_rules import SemanticQuery, semantic_query
from ai_gateway.cache.service import CacheDecision
from ai_gateway.gateway import Gateway
from ai_gateway.providers.base import ChatRequest
from ai_gateway.providers.simulated.embedding import simulated_vector
from ai_gateway.settings import PROVIDER_BASE_URL_ENV, Settings
from ai_gateway.storage.clients import create_client, get_client, update_client
from ai_gateway.storage.semantic_cache import add_semantic_entry
from ai_gateway.vault import generate_master_key

CHAT, EMBED = "simulated/demo-chat", "simulated/demo-embed"
SYSTEM = {"role": "system", "content": "Você é o assistente da loja."}
_REFUSED = "http://127.0.0.1:9"


def _settings(folder: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{folder / 'bench.db'}",
        data_dir=folder,
        master_key=generate_master_key(),
        ptax_base_url=_REFUSED + "/odata",
        usage_writer_process=False,
        scheduler_enabled=False,
        semantic_cache_model=EMBED,
        **{f"{provider}_base_url": _REFUSED for provider in PROVIDER_BASE_URL_ENV},
    )


def _question(number: int) -> str:
    return f"qual o status do pedido número {number} feito pelo site?"


def _seed(settings: Settings, entries: int) -> tuple[str, str]:
    db = open_database(settings)
    try:
        with db.write() as s:
            plain = create_client(s, name="plain", plan="enterprise").id
            opted = create_client(s, name="semantic", plan="enterprise").id
            update_client(s, client_id=opted, changes={"semantic_cache": True})
            client = get_client(s, opted)
            now = datetime.now(UTC)
            for number in range(entries):
                text = _question(1_000_000 + number)
                query = semantic_query(ChatRequest(CHAT, [SYSTEM, _user(text)]), client.id)
                assert isinstance(query, SemanticQuery)
                vector = np.asarray(simulated_vector(EMBED, text, 256), dtype=np.float32)
                add_semantic_entry(
                    s,
                    client_id=opted,
                    scope_hash=query.scope_hash,
                    model_id=CHAT,
                    embed_model=EMBED,
                    vector=vector_to_bytes(vector),
                    dimensions=256,
                    literals=list(query.literals),
                    query_text=text,
                    entry=b"{}",
                    cost_usd=Decimal("0.0001"),
                    now=now,
                    expires_at=now + timedelta(days=1),
                )
        return plain, opted
    finally:
        db.dispose()


def _user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measure(settings: Settings, plain: str, opted: str, calls: int) -> dict[str, Any]:
    async with Gateway.running(settings) as gateway:
        times: dict[str, list[float]] = {plain: [], opted: []}
        for number in range(calls + 40):  # the first 40 warm both paths up
            for client_id in (plain, opted) if number % 2 else (opted, plain):
                started = time.perf_counter()
                result = await gateway.call_ai(
                    client_id, [SYSTEM, _user(_question(number))], model=CHAT
                )
                elapsed = (time.perf_counter() - started) * 1000
                assert not result.cache_hit
                if number >= 40:
                    times[client_id].append(elapsed)
        await gateway.semantic_cache.drain()
        await gateway.usage.drain()
        in_memory = len(gateway.semantic_cache.index)
        with gateway.db.session() as s:
            client = get_client(s, plain)
        request = ChatRequest(CHAT, [SYSTEM, _user(_question(1))])
        decision = CacheDecision("k", ttl_seconds=60, lookup=True, store=True)
        probe_ns = (
            min(
                timeit.repeat(
                    lambda: gateway.semantic_cache.probe(request, client, decision),
                    number=100_000,
                    repeat=5,
                )
            )
            / 100_000
            * 1e9
        )
    return {
        "plain_p50_ms": statistics.median(times[plain]),
        "plain_p95_ms": _p(times[plain], 0.95),
        "semantic_p50_ms": statistics.median(times[opted]),
        "semantic_p95_ms": _p(times[opted], 0.95),
        "probe_not_opted_in_ns": probe_ns,
        "entries_in_memory": in_memory,
    }


def _scan_ms(entries: int, dimensions: int) -> float:
    rng = np.random.default_rng(1)
    scope = ScopeIndex(dimensions, entries)
    now = datetime.now(UTC)
    for number in range(entries):
        vector = rng.standard_normal(dimensions).astype(np.float32)
        vector /= np.linalg.norm(vector)
        scope.add(IndexedEntry(str(number), vector, frozenset({str(number)}), 2e9, now))
    query = scope._matrix[0].copy() if scope._matrix is not None else None
    assert query is not None
    runs = timeit.repeat(
        lambda: scope.best(query, frozenset({"x"}), 0.93, 0.0), number=200, repeat=5
    )
    return min(runs) / 200 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000, help="entries in the scope")
    parser.add_argument("--calls", type=int, default=400, help="measured calls per client")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="aigw-semantic-") as folder:
        settings = _settings(Path(folder))
        plain, opted = _seed(settings, args.entries)
        figures = asyncio.run(_measure(settings, plain, opted, args.calls))
    added = figures["semantic_p50_ms"] - figures["plain_p50_ms"]
    print(
        f"calls per client {args.calls}, entries in the scope {args.entries}"
        f" (in memory at the end: {figures['entries_in_memory']})"
    )
    print(
        f"miss, not opted in    P50 {figures['plain_p50_ms']:.2f} ms"
        f"  P95 {figures['plain_p95_ms']:.2f} ms"
    )
    print(
        f"miss, semantic cache  P50 {figures['semantic_p50_ms']:.2f} ms"
        f"  P95 {figures['semantic_p95_ms']:.2f} ms"
    )
    print(f"added at P50          {added:.2f} ms")
    print(f"probe, not opted in   {figures['probe_not_opted_in_ns']:.0f} ns")
    for dimensions in (256, 1536):
        print(f"scan of {args.entries} x {dimensions}  {_scan_ms(args.entries, dimensions):.3f} ms")


if __name__ == "__main__":
    main()
