"""Replay a :class:`~benchmarks.workload.traffic.Workload` through a real gateway, in
process, and read the figures back from its usage log.

The gateway is the production one (``Gateway.running``: auth, budgets, the response
cache with coalescing, metering, the usage writer) on a fresh embedded SQLite database
in a temporary folder; calls enter through ``Gateway.call_ai``, the library entry point
the WhatsApp responder uses, so no HTTP is measured. The upstream is the simulated
provider, which reports prompt-prefix cache reads like OpenAI; the model is priced like
``openai/gpt-4o-mini`` (USD 0.15 input, 0.075 cached input, 0.60 output per 1M tokens).
Every other provider points at a refused loopback port: nothing leaves the machine.

With ``semantic=True`` every tenant opts in to the semantic cache (questions embedded by
``simulated/demo-embed``, the simulated provider's hashed bag of words: a test embedder,
not a semantic model), the report splits exact and semantic hits, and the labelled pairs
of :mod:`benchmarks.workload.paraphrases` are asked by one more client, each pair in a
scope of its own, to measure the false-hit rate on non-equivalent pairs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select

from ai_gateway.bootstrap import open_database
from ai_gateway.gateway import Gateway
from ai_gateway.settings import PROVIDER_BASE_URL_ENV, Settings
from ai_gateway.storage.clients import create_client, update_client
from ai_gateway.storage.models_registry import create_model
from ai_gateway.storage.shared_config import update_shared_config
from ai_gateway.storage.tables import UsageLog
from ai_gateway.vault import generate_master_key
from benchmarks.workload.paraphrases import LabelledPair, build_pairs
from benchmarks.workload.traffic import Conversation, Workload

__all__ = ["EMBED_MODEL", "MODEL", "PairsReport", "Report", "run_workload"]

MODEL = "simulated/bench-chat"
EMBED_MODEL = "simulated/demo-embed"
#: Messages of history sent with each call, as the WhatsApp responder does.
HISTORY = 10
_REFUSED = "http://127.0.0.1:9"
_PRICES = {
    "input_price_per_1m": Decimal("0.15"),
    "cached_input_price_per_1m": Decimal("0.075"),
    "output_price_per_1m": Decimal("0.60"),
}


@dataclass(frozen=True)
class PairsReport:
    """The labelled pairs: how many non-equivalent pairs the semantic cache wrongly
    answered (the false-hit rate), and how many true paraphrases it caught."""

    non_equivalent: int
    false_hits: int
    false_hit_rate_percent: Decimal
    false_hits_by_kind: dict[str, int]
    equivalent: int
    paraphrase_hits: int
    paraphrase_hit_rate_percent: Decimal
    threshold: float


@dataclass(frozen=True)
class Report:
    tenants: int
    conversations: int
    requests: int
    cache_hits: int
    hit_rate_percent: Decimal
    prompt_tokens: int
    cached_prompt_tokens: int
    cost_usd: Decimal
    cache_saved_usd: Decimal
    prompt_cache_saved_usd: Decimal
    cost_without_savings_usd: Decimal
    cost_reduction_percent: Decimal
    reduction_by_cache_percent: Decimal
    reduction_by_prompt_cache_percent: Decimal
    #: The response cache alone against calling the providers directly, whose prompt
    #: caches apply either way: saved by the cache / (cost + saved by the cache).
    reduction_vs_direct_percent: Decimal
    seconds: float
    #: user turn (1 = the conversation's first message) -> hit rate %
    hit_rate_by_turn: dict[int, Decimal]
    #: ``cache_hits`` split by the cache that served them (semantic: 0 unless enabled).
    exact_hits: int = 0
    semantic_hits: int = 0
    exact_hit_rate_percent: Decimal = Decimal(0)
    semantic_hit_rate_percent: Decimal = Decimal(0)
    #: What the semantic cache's embedding calls cost (part of ``cost_usd``).
    embedding_cost_usd: Decimal = Decimal(0)
    pairs: PairsReport | None = None

    def as_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, dict):
                return {str(k): plain(v) for k, v in value.items()}
            return str(value) if isinstance(value, Decimal) else value

        return {k: plain(v) for k, v in asdict(self).items()}


def _settings(folder: Path) -> Settings:
    values: dict[str, Any] = {
        "semantic_cache_model": EMBED_MODEL,
        "database_url": f"sqlite:///{folder / 'workload.db'}",
        "data_dir": folder,
        "master_key": generate_master_key(),
        "ptax_base_url": _REFUSED + "/odata",  # refused: the 5.00 fallback rate
        "usage_writer_process": False,
        "scheduler_enabled": False,
        "usage_flush_interval": 0.2,
        **{f"{provider}_base_url": _REFUSED for provider in PROVIDER_BASE_URL_ENV},
    }
    return Settings(**values)


def _seed(settings: Settings, workload: Workload, *, semantic: bool) -> list[str]:
    db = open_database(settings)
    try:
        with db.write() as s:
            create_model(
                s,
                model_id=MODEL,
                values={
                    "provider": "simulated",
                    "model_name": "bench-chat",
                    "display_name": "Simulated chat (gpt-4o-mini prices)",
                    "context_window": 128_000,
                    "capabilities": ["chat", "streaming"],
                    **_PRICES,
                },
            )
            # The system prompt is part of the key, so a changed prompt never serves an
            # old answer: an FAQ bot can keep answers for a day.
            update_shared_config(
                s,
                changes={"default_model": MODEL, "fallback_chain": [], "cache_ttl_seconds": 86400},
            )
            clients = [
                create_client(s, name=tenant.name, plan="enterprise").id
                for tenant in workload.tenants
            ]
            if semantic:
                for client_id in clients:
                    update_client(s, client_id=client_id, changes={"semantic_cache": True})
            return clients
    finally:
        db.dispose()


async def _converse(
    gateway: Gateway,
    client_id: str,
    system: str,
    conversation: Conversation,
    by_turn: dict[int, list[int]],
) -> None:
    history: list[dict[str, str]] = []
    for turn, text in enumerate(conversation.turns):
        user = {"role": "user", "content": text}
        messages = [{"role": "system", "content": system}, *history[-HISTORY:], user]
        result = await gateway.call_ai(
            client_id,
            messages,
            model=MODEL,
            conversation_id=f"whatsapp:{conversation.contact}",
            temperature=0.2,
        )
        counts = by_turn.setdefault(turn + 1, [0, 0])
        counts[0] += 1
        counts[1] += 1 if result.cache_hit else 0
        answer = result.body["choices"][0]["message"]["content"]
        history += [user, {"role": "assistant", "content": answer}]


async def _ask_pairs(gateway: Gateway, pairs: list[LabelledPair]) -> PairsReport:
    """Each pair in its own scope (its own system prompt): the first question is a miss
    and is stored; is the second answered from it?"""

    def opted_in() -> str:
        with gateway.db.write() as s:
            client = create_client(s, name="labelled-pairs", plan="enterprise")
            update_client(s, client_id=client.id, changes={"semantic_cache": True})
            return client.id

    client_id = await gateway.db.run(opted_in)
    gateway.auth.invalidate()
    hits: list[bool] = []
    for number, pair in enumerate(pairs):
        system = {"role": "system", "content": f"Par rotulado {number}."}
        for text in (pair.first, pair.second):
            result = await gateway.call_ai(
                client_id, [system, {"role": "user", "content": text}], model=MODEL
            )
            await gateway.semantic_cache.drain()
        hits.append(result.cache_semantic)
    wrong = [p for p, hit in zip(pairs, hits, strict=True) if hit and not p.equivalent]
    caught = [p for p, hit in zip(pairs, hits, strict=True) if hit and p.equivalent]
    non_equivalent = sum(1 for p in pairs if not p.equivalent)
    equivalent = len(pairs) - non_equivalent
    by_kind: dict[str, int] = {}
    for pair in wrong:
        by_kind[pair.kind] = by_kind.get(pair.kind, 0) + 1
    return PairsReport(
        non_equivalent=non_equivalent,
        false_hits=len(wrong),
        false_hit_rate_percent=_percent(Decimal(len(wrong)), Decimal(non_equivalent)),
        false_hits_by_kind=by_kind,
        equivalent=equivalent,
        paraphrase_hits=len(caught),
        paraphrase_hit_rate_percent=_percent(Decimal(len(caught)), Decimal(equivalent)),
        threshold=gateway.semantic_cache.settings.threshold,
    )


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.01")) if whole else Decimal(0)


async def run_workload(
    workload: Workload,
    *,
    concurrency: int = 16,
    folder: Path | None = None,
    semantic: bool = False,
    pairs: list[LabelledPair] | None = None,
) -> Report:
    """Replay ``workload`` (``concurrency`` conversations at a time) and report; with
    ``semantic``, through the semantic cache too, then ask the labelled ``pairs``
    (default: :func:`~benchmarks.workload.paraphrases.build_pairs`)."""
    with tempfile.TemporaryDirectory(prefix="aigw-workload-") as tmp:
        settings = _settings(folder or Path(tmp))
        clients = _seed(settings, workload, semantic=semantic)
        started = time.perf_counter()
        async with Gateway.running(settings) as gateway:
            gate = asyncio.Semaphore(concurrency)
            by_turn: dict[int, list[int]] = {}

            async def one(conversation: Conversation) -> None:
                async with gate:
                    tenant = workload.tenants[conversation.tenant]
                    await _converse(
                        gateway,
                        clients[conversation.tenant],
                        tenant.system_prompt,
                        conversation,
                        by_turn,
                    )

            await asyncio.gather(*(one(c) for c in workload.conversations))
            await gateway.semantic_cache.drain()
            await gateway.usage.drain()
            seconds = time.perf_counter() - started
            report = _report(gateway, workload, seconds, by_turn)
            if not semantic:
                return report
            labelled = await _ask_pairs(gateway, build_pairs() if pairs is None else pairs)
            return dataclasses.replace(report, pairs=labelled)


def _report(
    gateway: Gateway, workload: Workload, seconds: float, by_turn: dict[int, list[int]]
) -> Report:
    u = UsageLog
    with gateway.db.session() as s:
        row = s.execute(
            select(
                func.count(),
                func.sum(case((u.cache_hit.is_(True), 1), else_=0)),
                func.sum(u.input_tokens),
                func.sum(u.cached_tokens),
                func.sum(case((u.cache_semantic.is_(True), 1), else_=0)),
                func.sum(u.cost_usd),
                func.sum(u.saved_usd),
                func.sum(u.prompt_cache_saved_usd),
            ).where(u.status == "success", u.endpoint == "chat.completions")
        ).one()
        embedding_cost = s.scalar(
            select(func.sum(u.cost_usd)).where(u.status == "success", u.endpoint == "embeddings")
        ) or Decimal(0)
    requests, hits, prompt, cached, semantic_hits = (int(v or 0) for v in row[:5])
    chat_cost, saved, prompt_saved = (v or Decimal(0) for v in row[5:])
    cost = chat_cost + embedding_cost
    # What the same traffic costs with neither cache: every hit's stored cost was itself
    # paid at the prompt-cached rate, so this slightly understates the savings. Without
    # the semantic cache there are no embedding calls either: they count against it.
    without = chat_cost + saved + prompt_saved

    percent = _percent
    return Report(
        tenants=len(workload.tenants),
        conversations=len(workload.conversations),
        requests=requests,
        cache_hits=hits,
        hit_rate_percent=percent(Decimal(hits), Decimal(requests)),
        prompt_tokens=prompt,
        cached_prompt_tokens=cached,
        cost_usd=cost,
        cache_saved_usd=saved,
        prompt_cache_saved_usd=prompt_saved,
        cost_without_savings_usd=without,
        cost_reduction_percent=percent(without - cost, without),
        reduction_by_cache_percent=percent(saved, without),
        reduction_by_prompt_cache_percent=percent(prompt_saved, without),
        reduction_vs_direct_percent=percent(saved - embedding_cost, chat_cost + saved),
        seconds=round(seconds, 1),
        hit_rate_by_turn={
            turn: percent(Decimal(hits), Decimal(calls))
            for turn, (calls, hits) in sorted(by_turn.items())
        },
        exact_hits=hits - semantic_hits,
        semantic_hits=semantic_hits,
        exact_hit_rate_percent=percent(Decimal(hits - semantic_hits), Decimal(requests)),
        semantic_hit_rate_percent=percent(Decimal(semantic_hits), Decimal(requests)),
        embedding_cost_usd=embedding_cost,
    )
