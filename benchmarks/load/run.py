"""The load test's runner: start the cluster (or take a URL), run the users, report.

It prints the client's view (P50/P95/P99 of whole calls, by kind, and the error rate),
the gateway's view (cache hit rate of the calls it answered, from ``/metrics`` and from
its usage rows, and its own share of latency: P50/P95/P99 of
``ai_gateway_overhead_seconds``), and the machine (cores, load average before and after:
the figures mean little without it). ``--json`` writes the same as one document.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import text

from ai_gateway.storage.db import Database
from benchmarks.load.cpu import tree_cpu_seconds
from benchmarks.load.driver import drive, warm_up
from benchmarks.load.gateway_metrics import Scrape, scrape
from benchmarks.load.setup import load_cluster

__all__ = ["main", "run_load"]

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PG_ADMIN_URL = os.environ.get(
    "AI_GATEWAY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _seconds(run_time: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return float(run_time[:-1]) * units[run_time[-1]] if run_time[-1] in units else float(run_time)


def _locust(
    url: str, keys: Sequence[str], args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    keys_file = workdir / "keys.json"
    keys_file.write_text(json.dumps(list(keys)))
    prefix = workdir / "locust"
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
        "--run-time", args.run_time, "--host", url, "--csv", str(prefix),
        "--only-summary", "--stop-timeout", "30", "--loglevel", "WARNING",
    ]  # fmt: skip
    env = {**os.environ, "LOAD_KEYS_FILE": str(keys_file), "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    # Exit code 1 means "some requests failed": the report says how many.
    subprocess.run(command, env=env, check=False)
    rows = {r["Name"]: r for r in csv.DictReader((workdir / "locust_stats.csv").open())}
    total = rows["Aggregated"]

    def figures(row: dict[str, str]) -> dict[str, float]:
        return {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
            "p99_ms": float(row["99%"]),
            "rps": float(row["Requests/s"]),
        }

    by_name = {name: figures(row) for name, row in rows.items() if name != "Aggregated"}
    hits = sum(f["requests"] for n, f in by_name.items() if n.endswith("HIT"))
    result = figures(total)
    ok = result["requests"] - result["failures"]
    result |= {"hit_rate_client": hits / ok if ok else 0.0, "by_name": by_name}
    return result


async def _asyncio_driver(
    url: str, keys: Sequence[str], args: argparse.Namespace
) -> dict[str, Any]:
    results = await drive(
        url, keys, users=args.users, seconds=_seconds(args.run_time), spawn_rate=args.spawn_rate
    )
    failures = sum(not o.ok for o in results.outcomes)
    return {
        "requests": results.count,
        "failures": failures,
        "p50_ms": results.ms(0.50),
        "p95_ms": results.ms(0.95),
        "p99_ms": results.ms(0.99),
        "rps": results.count / results.seconds,
        "hit_rate_client": results.hit_rate,
        "errors": dict(Counter(o.error for o in results.outcomes if o.error)),
    }


def _usage_rows(database_url: str) -> dict[str, int]:
    db = Database(database_url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT cache_hit, status, count(*) FROM gateway_usage_logs GROUP BY 1, 2")
            ).all()
    finally:
        db.dispose()
    counts = {"hit": 0, "miss": 0, "not_success": 0}
    for hit, status, count in rows:
        if status != "success":
            counts["not_success"] += int(count)
        else:
            counts["hit" if hit else "miss"] += int(count)
    return counts


async def _measure(
    url: str,
    metrics_urls: Sequence[str],
    keys: Sequence[str],
    args: argparse.Namespace,
    pids: Sequence[int] = (),
) -> dict[str, Any]:
    await warm_up(metrics_urls, keys)
    before = await scrape(metrics_urls, token=args.metrics_token)
    cpu_before = tree_cpu_seconds(pids) if pids else None
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        if args.driver == "locust":
            client = await asyncio.to_thread(_locust, url, keys, args, Path(tmp))
        else:
            client = await _asyncio_driver(url, keys, args)
    after: Scrape = (await scrape(metrics_urls, token=args.metrics_token)).minus(before)
    cpu_after = tree_cpu_seconds(pids) if pids else None
    answered = sum(after.requests.values())
    cpu_ms = None
    if cpu_before is not None and cpu_after is not None and answered:
        cpu_ms = (cpu_after - cpu_before) * 1000 / answered
    client["error_rate"] = client["failures"] / client["requests"] if client["requests"] else 0.0
    return {
        "client": client,
        "gateway": {
            "hit_rate": after.hit_rate,
            "answered": dict(after.requests),
            "overhead_p50_ms": after.overhead_ms(0.50),
            "overhead_p95_ms": after.overhead_ms(0.95),
            "overhead_p99_ms": after.overhead_ms(0.99),
            "overhead_p95_miss_ms": after.overhead_ms(0.95, "miss"),
            "overhead_p95_hit_ms": after.overhead_ms(0.95, "hit"),
            "replicas_scraped": len(metrics_urls),
            "replica_cpu_ms_per_call": cpu_ms,
        },
    }


async def run_load(args: argparse.Namespace) -> dict[str, Any]:
    machine: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_before": os.getloadavg(),
    }
    if args.url:
        keys = json.loads(Path(args.keys_file).read_text())
        report = await _measure(args.url, args.metrics_url or [args.url], keys, args)
    else:
        with tempfile.TemporaryDirectory(prefix="load-cluster-") as tmp:
            async with load_cluster(
                Path(tmp), postgres_admin_url=args.postgres, tenants=args.tenants
            ) as cluster:
                report = await _measure(
                    cluster.url, cluster.replica_urls, cluster.keys, args, cluster.pids
                )
                await asyncio.sleep(2)  # the usage writers' last flush (0.5 s interval)
                report["gateway"]["usage_rows"] = _usage_rows(cluster.database_url)
    machine["load_after"] = os.getloadavg()
    report["machine"] = machine
    report["settings"] = {
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "run_time": args.run_time,
        "driver": args.driver,
        "tenants": args.tenants,
        "target": args.url or "3 replicas behind nginx, PostgreSQL, Redis (started here)",
    }
    return report


def _print(report: dict[str, Any]) -> None:
    c, g, m = report["client"], report["gateway"], report["machine"]
    print(f"\n== load test: {report['settings']}")
    print(f"machine: {m['cpus']} cores, {m['platform']}, Python {m['python']}")
    print(f"load average before {m['load_before']}, after {m['load_after']}")
    print(
        f"client: {c['requests']} calls ({c['rps']:.1f}/s), errors {c['error_rate']:.3%}, "
        f"P50 {c['p50_ms']:.0f} ms, P95 {c['p95_ms']:.0f} ms, P99 {c['p99_ms']:.0f} ms, "
        f"hit rate seen by the client {c['hit_rate_client']:.1%}"
    )
    for name, f in sorted(c.get("by_name", {}).items()):
        print(f"  {name:12} {f['requests']:6} calls  P50 {f['p50_ms']:.0f}  P95 {f['p95_ms']:.0f}")
    print(
        f"gateway: hit rate {g['hit_rate']:.1%} of {sum(g['answered'].values()):.0f} answered; "
        f"own share of latency P50 {g['overhead_p50_ms']:.2f} ms, "
        f"P95 {g['overhead_p95_ms']:.2f} ms, P99 {g['overhead_p99_ms']:.2f} ms "
        f"(P95 of misses {g['overhead_p95_miss_ms']:.2f} ms, of hits "
        f"{g['overhead_p95_hit_ms']:.2f} ms; {g['replicas_scraped']} replica(s) scraped)"
    )
    if c.get("errors"):
        print(f"errors by kind: {c['errors']}")
    if g.get("replica_cpu_ms_per_call") is not None:
        print(
            f"replicas' CPU time per answered call: {g['replica_cpu_ms_per_call']:.2f} ms "
            "(all three replicas and their usage writers)"
        )
    if "usage_rows" in g:
        print(f"usage rows (warm-up calls included): {g['usage_rows']}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--run-time", default="5m", help="locust's form: 30s, 5m")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--driver", choices=["locust", "asyncio"], default="locust")
    parser.add_argument("--url", help="a running gateway instead of the cluster started here")
    parser.add_argument("--keys-file", help="with --url: a JSON list of client keys")
    parser.add_argument(
        "--metrics-url",
        action="append",
        help="with --url: each replica's base URL to scrape (default: --url itself)",
    )
    parser.add_argument("--metrics-token", default=os.environ.get("AI_GATEWAY_METRICS_TOKEN"))
    parser.add_argument(
        "--postgres", default=PG_ADMIN_URL, help="an admin URL (a database is created)"
    )
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    if args.url and not args.keys_file:
        parser.error("--url needs --keys-file")
    started = time.monotonic()
    report = asyncio.run(run_load(args))
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    _print(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
