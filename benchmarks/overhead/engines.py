"""``python -m benchmarks.overhead.engines``: SQLite against PostgreSQL + Redis, same run.

The production question of the scale-out work: per worker, does the PostgreSQL + Redis
deployment serve as many requests as the embedded SQLite one, and does ``--workers 2``
serve more than ``--workers 1`` on each? Four gateways run side by side (SQLite 1 and 2
workers on one seeded file; PostgreSQL + Redis 1 and 2 workers on one fresh database and
the given Redis database) and every round runs wrk ``-t2 -c50`` (non-streamed,
``Cache-Control: no-store``) against the upstream and each gateway in a rotated order, so
no target always gets the machine's quietest or busiest moment.

Then it counts what one request costs the shared stores, on the 1-worker gateways with
sequential requests: Redis commands of this Redis database (``MONITOR``, filtered by the
database index) and PostgreSQL transactions and rows written (``pg_stat_database``
deltas of the benchmark's database, read after the usage writer has flushed).

Every gateway key it wrote in Redis (``aigw:*``) is deleted at the end; the PostgreSQL
database is dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

import psycopg
import redis

from benchmarks.overhead.__main__ import _body, _check, _settled_rows, _upstream
from benchmarks.overhead.cpu import tree_cpu_seconds
from benchmarks.overhead.gateway_setup import BenchGateway, Seeded, free_port, seed_gateway
from benchmarks.overhead.wrk import ensure_wrk, run_wrk, write_script

_PROBE_REQUESTS = 20


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    request = urllib.request.Request(
        url + "/v1/chat/completions", data=body, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


def _redis_commands(redis_url: str, url: str, body: bytes, headers: dict[str, str]) -> Counter[str]:
    """Commands the gateway sent to this Redis database for ``_PROBE_REQUESTS`` calls."""
    index = redis_url.rsplit("/", 1)[1] or "0"
    host = redis_url.split("//", 1)[1].split("/", 1)[0]
    hostname, _, port = host.partition(":")
    monitor = subprocess.Popen(
        ["redis-cli", "-h", hostname, "-p", port or "6379", "MONITOR"],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)
    for _ in range(_PROBE_REQUESTS):
        _post(url, body, headers)
    time.sleep(1.0)  # the settle/finish scripts run after the answer
    monitor.terminate()
    out, _ = monitor.communicate(timeout=10)
    commands: Counter[str] = Counter()
    for line in out.splitlines():
        if f"[{index} " not in line:
            continue
        name = line.split("]", 1)[1].split()[0].strip('"').upper()
        commands[name] += 1
    return commands


def _pg_counters(admin_url: str, name: str) -> tuple[int, int]:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit + xact_rollback, tup_inserted + tup_updated + tup_deleted "
            "FROM pg_stat_database WHERE datname = %s",
            (name,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _pg_per_request(
    seeded: Seeded, admin_url: str, url: str, body: bytes, headers: dict[str, str]
) -> tuple[float, float]:
    assert seeded.drop_database is not None
    name = seeded.drop_database[1]
    _settled_rows(seeded)
    time.sleep(1.0)  # pg_stat_database is updated by the backends at most every 0.5-1 s
    before = _pg_counters(admin_url, name)
    for _ in range(_PROBE_REQUESTS):
        _post(url, body, headers)
    _settled_rows(seeded)
    time.sleep(1.5)
    after = _pg_counters(admin_url, name)
    return (
        (after[0] - before[0]) / _PROBE_REQUESTS,
        (after[1] - before[1]) / _PROBE_REQUESTS,
    )


def _clean_redis(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match="aigw:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def run(args: argparse.Namespace) -> None:
    wrk = ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="aigw-engines-"))
    print(f"working folder: {work}; load average {os.getloadavg()}", flush=True)
    rps: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    with contextlib.ExitStack() as stack:
        upstream = stack.enter_context(_upstream(free_port(), work / "upstream.log"))
        lite = seed_gateway(work / "lite", upstream, None)
        pg = seed_gateway(work / "pg", upstream, args.postgres)
        stack.callback(pg.cleanup)
        stack.callback(_clean_redis, args.redis)
        pg.env["AI_GATEWAY_REDIS_URL"] = args.redis
        gateways = {
            f"{engine} {w}w": BenchGateway(seeded, w, work / f"{engine}-{w}w.log")
            for engine, seeded in (("sqlite", lite), ("pg+redis", pg))
            for w in (1, 2)
        }
        for gateway in gateways.values():
            gateway.start()
            stack.callback(gateway.stop)
        headers = {"Authorization": "", "Cache-Control": "no-store"}
        keys = {"sqlite": lite.key, "pg+redis": pg.key}
        scripts = {}
        for engine, key in keys.items():
            headers["Authorization"] = f"Bearer {key}"
            scripts[engine] = write_script(work / f"{engine}.lua", _body(), dict(headers))
            for name, gateway in gateways.items():
                if name.startswith(engine + " "):
                    _check(gateway.url, _body(), dict(headers))
        names = list(gateways)
        loads = [os.getloadavg()[0]]
        for round_no in range(args.rounds):
            order = names[round_no % len(names) :] + names[: round_no % len(names)]
            print(f"round {round_no + 1}/{args.rounds}: {order}", flush=True)
            up = run_wrk(wrk, upstream, scripts["sqlite"], connections=50, seconds=args.duration)
            rps.setdefault("upstream", []).append(up.rps)
            for name in order:
                gateway, engine = gateways[name], name.rsplit(" ", 1)[0]
                before = tree_cpu_seconds(gateway.pid)
                result = run_wrk(
                    wrk, gateway.url, scripts[engine], connections=50, seconds=args.duration
                )
                used = tree_cpu_seconds(gateway.pid) - before
                errors = result.status_errors + result.socket_errors
                rps.setdefault(name, []).append(result.rps)
                cpu.setdefault(name, []).append(used * 1e6 / max(1, result.requests))
                print(f"  {name}: {result.rps:.0f} req/s, {errors} errors", flush=True)
            loads.append(os.getloadavg()[0])
        headers["Authorization"] = f"Bearer {pg.key}"
        commands = _redis_commands(args.redis, gateways["pg+redis 1w"].url, _body(), headers)
        xacts, rows = _pg_per_request(
            pg, args.postgres, gateways["pg+redis 1w"].url, _body(), headers
        )
    _print(rps, cpu, loads, args, commands, xacts, rows)


def _med(values: list[float]) -> float:
    return statistics.median(values)


def _print(
    rps: dict[str, list[float]],
    cpu: dict[str, list[float]],
    loads: list[float],
    args: argparse.Namespace,
    commands: Counter[str],
    xacts: float,
    rows: float,
) -> None:
    print(f"\n{args.rounds} rounds x {args.duration:.0f} s, wrk -t2 -c50, non-streamed")
    print(f"load average (1 min) over the rounds: {min(loads):.2f}-{max(loads):.2f}\n")
    print("| target | req/s | req/s per worker | CPU µs/request |")
    print("|---|---|---|---|")
    for name, values in rps.items():
        workers = int(name[-2]) if name.endswith("w") else 1
        spread = f"{_med(values):.0f} [{min(values):.0f}–{max(values):.0f}]"
        per_worker = f"{_med(values) / workers:.0f}" if name != "upstream" else "—"
        cpu_us = f"{_med(cpu[name]):.0f}" if name in cpu else "—"
        print(f"| {name} | {spread} | {per_worker} | {cpu_us} |")

    def ratio(a: str, b: str, per_a: int = 1, per_b: int = 1) -> str:
        values = [(x / per_a) / (y / per_b) for x, y in zip(rps[a], rps[b], strict=True)]
        return f"{_med(values):.2f} [{min(values):.2f}–{max(values):.2f}]"

    print("\n| ratio (per round, median [min–max]) | value |")
    print("|---|---|")
    print(f"| pg+redis 1w / sqlite 1w | {ratio('pg+redis 1w', 'sqlite 1w')} |")
    print(f"| pg+redis 2w / sqlite 2w | {ratio('pg+redis 2w', 'sqlite 2w')} |")
    print(f"| sqlite 2w / sqlite 1w | {ratio('sqlite 2w', 'sqlite 1w')} |")
    print(f"| pg+redis 2w / pg+redis 1w | {ratio('pg+redis 2w', 'pg+redis 1w')} |")
    per_request = {k: v / _PROBE_REQUESTS for k, v in commands.most_common()}
    total = sum(commands.values()) / _PROBE_REQUESTS
    print(f"\nRedis commands per request (pg+redis 1w, {_PROBE_REQUESTS} sequential calls):")
    print(f"  {total:.2f} in all: " + ", ".join(f"{k} {v:.2f}" for k, v in per_request.items()))
    print(f"PostgreSQL per request: {xacts:.2f} transactions, {rows:.2f} rows written")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.overhead.engines")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a fresh database is created through this URL and dropped at the end",
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/15",
        help="the Redis database the PostgreSQL gateways share (its aigw:* keys are deleted)",
    )
    run(parser.parse_args())


if __name__ == "__main__":
    main()
