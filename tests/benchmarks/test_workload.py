"""A smoke run of the workload benchmark: a few conversations through the real gateway;
the figures it reports must add up and agree with the traffic it built."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

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
