"""``python -m benchmarks.workload``: build the synthetic WhatsApp traffic, replay it
through an in-process gateway, print the cache hit rate and the cost reduction."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging

from benchmarks.workload.run import run_workload
from benchmarks.workload.traffic import build_workload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=40)
    parser.add_argument("--conversations", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--button-share", type=float, default=0.5)
    parser.add_argument("--one-off-share", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--semantic",
        action="store_true",
        help="opt every tenant in to the semantic cache and ask the labelled pairs",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    workload = build_workload(
        tenants=args.tenants,
        conversations=args.conversations,
        seed=args.seed,
        button_share=args.button_share,
        one_off_share=args.one_off_share,
    )
    report = asyncio.run(
        run_workload(workload, concurrency=args.concurrency, semantic=args.semantic)
    )
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return
    r = report
    print(f"tenants {r.tenants}, conversations {r.conversations}, requests {r.requests}")
    print(f"cache hit rate          {r.hit_rate_percent} %  ({r.cache_hits} hits)")
    print(
        f"  exact / semantic      {r.exact_hit_rate_percent} % / {r.semantic_hit_rate_percent} %"
        f"  ({r.exact_hits} / {r.semantic_hits})"
    )
    turns = ", ".join(f"turn {t}: {rate} %" for t, rate in r.hit_rate_by_turn.items())
    print(f"  by user turn          {turns}")
    print(f"prompt tokens cached    {r.cached_prompt_tokens} of {r.prompt_tokens}")
    print(f"cost without savings    USD {r.cost_without_savings_usd}")
    print(f"cost with the gateway   USD {r.cost_usd}")
    print(f"  saved by the cache    USD {r.cache_saved_usd}  ({r.reduction_by_cache_percent} %)")
    print(
        f"  saved by prompt cache USD {r.prompt_cache_saved_usd}"
        f"  ({r.reduction_by_prompt_cache_percent} %)"
    )
    print(f"cost reduction          {r.cost_reduction_percent} %")
    print(f"  vs. going direct      {r.reduction_vs_direct_percent} %  (the response cache alone)")
    if r.pairs is not None:
        p = r.pairs
        print(f"embedding calls cost    USD {r.embedding_cost_usd}  (in the cost above)")
        print(
            f"labelled pairs          false hits {p.false_hits} of {p.non_equivalent}"
            f" non-equivalent ({p.false_hit_rate_percent} %) at threshold {p.threshold}"
        )
        print(
            f"                        paraphrases caught {p.paraphrase_hits} of {p.equivalent}"
            f" ({p.paraphrase_hit_rate_percent} %)"
        )
    print(f"({r.seconds} s)")


if __name__ == "__main__":
    main()
