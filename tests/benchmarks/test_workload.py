"""A smoke run of the workload benchmark: a few conversations through the real gateway;
the figures it reports must add up and agree with the traffic it built."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from benchmarks.workload.paraphrases import build_pairs
from benchmarks.workload.run import run_workload
from benchmarks.workload.traffic import build_workload, zipf_weights


def test_traffic_is_deterministic_and_skewed() -> None:
    one = build_workload(tenants=3, conversations=40, seed=1)
    two = build_workload(tenants=3, conversations=40, seed=1)
    assert [c.turns for c in one.conversations] == [c.turns for c in two.conversations]
    assert all(len(t.system_prompt) // 4 >= 1024 for t in one.tenants)  # long prompts
    weights = zipf_weights(4, 1.0)
    assert weights == [1.0, 0.5, 1 / 3, 0.25]


async def test_a_small_run_reports_consistent_figures(tmp_path: Path) -> None:
    workload = build_workload(tenants=2, conversations=30, seed=3)
    report = await run_workload(workload, concurrency=4, folder=tmp_path)
    assert report.requests == workload.requests
    assert 0 < report.cache_hits < report.requests
    assert sum(1 for _ in report.hit_rate_by_turn) >= 1
    # The long system prompts are read from the simulated provider's prefix cache.
    assert 0 < report.cached_prompt_tokens < report.prompt_tokens
    assert report.cache_saved_usd > 0 and report.prompt_cache_saved_usd > 0
    assert report.cost_without_savings_usd == (
        report.cost_usd + report.cache_saved_usd + report.prompt_cache_saved_usd
    )
    assert Decimal(0) < report.cost_reduction_percent < Decimal(100)
    assert report.cost_reduction_percent == (
        (report.cache_saved_usd + report.prompt_cache_saved_usd)
        * 100
        / report.cost_without_savings_usd
    ).quantize(Decimal("0.01"))


async def test_a_small_semantic_run_splits_hits_and_asks_the_labelled_pairs(
    tmp_path: Path,
) -> None:
    workload = build_workload(tenants=2, conversations=30, seed=3)
    pairs = build_pairs(non_equivalent=40, equivalent=10, seed=5)
    report = await run_workload(
        workload, concurrency=4, folder=tmp_path, semantic=True, pairs=pairs
    )
    assert report.requests == workload.requests  # chat calls only, not the embeddings
    assert report.exact_hits + report.semantic_hits == report.cache_hits
    assert report.embedding_cost_usd > 0
    assert report.cost_usd > report.embedding_cost_usd
    assert report.pairs is not None
    assert report.pairs.non_equivalent == 40 and report.pairs.equivalent == 10
    assert report.pairs.false_hits == 0  # the target is < 1 %
    assert report.pairs.paraphrase_hits > 0


def test_the_labelled_pairs_are_deterministic_and_really_differ() -> None:
    pairs = build_pairs(seed=2)
    assert pairs == build_pairs(seed=2)
    assert all(p.first != p.second for p in pairs)
    kinds = {p.kind for p in pairs if not p.equivalent}
    assert {"product", "size", "date", "weekday", "city"} <= kinds


async def test_the_semantic_cache_latency_benchmark_runs(tmp_path: Path) -> None:
    from benchmarks import semantic_cache

    settings = semantic_cache._settings(tmp_path)
    plain, opted = semantic_cache._seed(settings, 20)
    figures = await semantic_cache._measure(settings, plain, opted, 5)
    assert figures["entries_in_memory"] == 20 + 45  # the seeded ones and every miss since
    assert figures["semantic_p50_ms"] > 0 and figures["plain_p50_ms"] > 0
    assert semantic_cache._scan_ms(50, 8) > 0
