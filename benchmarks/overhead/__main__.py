"""``python -m benchmarks.overhead``: the whole overhead benchmark, end to end.

Starts the fake upstream, the reference proxies (the bare Python hop, and nginx when it is
installed) and fresh gateways (1 and 2 workers, side by side on one database), then,
round after round, runs wrk against the upstream directly, through each reference and
through the gateway in the same round (interleaved), probes streaming TTFB, checks that
every request left a usage row, and prints a markdown table of medians over the rounds,
with the gateway's figures also as ratios to the bare hop's of the same round.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from benchmarks.overhead.cpu import tree_cpu_seconds
from benchmarks.overhead.gateway_setup import BenchGateway, Seeded, free_port, seed_gateway
from benchmarks.overhead.references import Reference, bare_hop, nginx
from benchmarks.overhead.report import Results, render
from benchmarks.overhead.ttfb import probe
from benchmarks.overhead.wrk import ensure_wrk, run_wrk, write_script

#: The request of BENCHMARKS.md (one system + one user message, max_tokens 64), with
#: temperature 0 so that the cache-HIT run may cache it.
BODY: dict[str, Any] = {
    "model": "openai/gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Say hello in one short sentence."},
    ],
    "max_tokens": 64,
    "temperature": 0,
}


def _body(*, stream: bool = False, **extra: Any) -> bytes:
    return orjson.dumps({**BODY, **({"stream": True} if stream else {}), **extra})


@contextlib.contextmanager
def _upstream(port: int, log: Path) -> Iterator[str]:
    command = [sys.executable, "-m", "benchmarks.overhead.fake_upstream", "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
    try:
        time.sleep(1.0)
        if process.poll() is not None:
            raise RuntimeError(f"the fake upstream exited; see {log}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _settled_rows(seeded: Seeded, timeout: float = 15.0) -> tuple[int, dict[str, int]]:
    """Rows once the writer has flushed everything (the count stops moving)."""
    last, stable_since, deadline = -1, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = seeded.usage_rows()
        total = sum(counts.values())
        if total != last:
            last, stable_since = total, time.monotonic()
        elif time.monotonic() - stable_since >= 1.2:
            return total, counts
        time.sleep(0.2)
    return last, seeded.usage_rows()


def _gateway_run(
    res: Results, name: str, seeded: Seeded, gateway: BenchGateway, run: Any, connections: int
) -> None:
    before = sum(seeded.usage_rows().values())
    cpu_before = tree_cpu_seconds(gateway.pid)
    result = run()
    cpu = tree_cpu_seconds(gateway.pid) - cpu_before
    at_end = sum(seeded.usage_rows().values())
    after, by_status = _settled_rows(seeded)
    res.add(name, result)
    res.add_cpu(name, cpu * 1e6 / max(1, result.requests))
    res.add_rows(
        name,
        requests=result.requests,
        rows=after - before,
        backlog_at_end=result.requests - (at_end - before),
        connections=connections,
        by_status=by_status,
    )


def _reference_run(res: Results, name: str, ref: Reference, run: Any) -> None:
    cpu_before = tree_cpu_seconds(ref.pid)
    result = run()
    cpu = tree_cpu_seconds(ref.pid) - cpu_before
    res.add(name, result)
    res.add_cpu(name, cpu * 1e6 / max(1, result.requests))


def _check(url: str, body: bytes, headers: dict[str, str]) -> None:
    import urllib.request

    request = urllib.request.Request(
        url + "/v1/chat/completions", data=body, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        if answer.status != 200:
            raise RuntimeError(f"{url} answered {answer.status}: {answer.read()[:300]!r}")
        answer.read()


def run(args: argparse.Namespace) -> Results:
    wrk = ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="aigw-overhead-"))
    print(f"working folder: {work}", flush=True)
    res = Results(
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        python=platform.python_version(),
        duration=args.duration,
        rounds=args.rounds,
        database="postgresql" if args.postgres else "sqlite",
    )
    with contextlib.ExitStack() as stack:
        upstream = stack.enter_context(_upstream(free_port(), work / "upstream.log"))
        refs = [stack.enter_context(bare_hop(free_port(), upstream, work))]
        if (proxy := stack.enter_context(nginx(free_port(), upstream, work))) is not None:
            refs.append(proxy)
        seeded = seed_gateway(work / "data", upstream, args.postgres)
        gateways = {w: BenchGateway(seeded, w, work / f"gateway-{w}w.log") for w in args.workers}
        try:
            for gateway in gateways.values():
                gateway.start()
            _measure(res, wrk, work, upstream, refs, seeded, gateways, args)
        finally:
            for gateway in gateways.values():
                gateway.stop()
            final, by_status = _settled_rows(seeded, timeout=5)
            res.final_rows = final
            res.final_by_status = by_status
            seeded.cleanup()
            if not args.keep_data:  # a 15 s x 3 rounds run leaves ~300 MB of usage rows
                shutil.rmtree(work / "data", ignore_errors=True)
    return res


def _measure(
    res: Results,
    wrk: str,
    work: Path,
    upstream: str,
    refs: list[Reference],
    seeded: Seeded,
    gateways: dict[int, BenchGateway],
    args: argparse.Namespace,
) -> None:
    auth = {"Authorization": f"Bearer {seeded.key}"}
    no_store = {**auth, "Cache-Control": "no-store"}
    scripts = {
        "json": write_script(work / "json.lua", _body(), no_store),
        "stream": write_script(work / "stream.lua", _body(stream=True), no_store),
        "hit": write_script(work / "hit.lua", _body(), auth),
    }
    one = gateways[min(gateways)]
    for gateway in gateways.values():
        _check(gateway.url, _body(), no_store)
        _check(gateway.url, _body(stream=True), no_store)
    for _ in range(3):  # the first identical request fills the cache entry
        _check(one.url, _body(), auth)
    secs = args.duration

    def wrk_run(url: str, kind: str, c: int) -> Any:
        return lambda: run_wrk(wrk, url, scripts[kind], connections=c, seconds=secs)

    for round_no in range(1, args.rounds + 1):
        print(f"round {round_no}/{args.rounds}", flush=True)
        for kind in ("json", "stream"):
            res.add(f"upstream {kind} c1", wrk_run(upstream, kind, 1)())
            for ref in refs:
                _reference_run(res, f"{ref.name} {kind} c1", ref, wrk_run(ref.url, kind, 1))
            _gateway_run(res, f"gw1 {kind} c1", seeded, one, wrk_run(one.url, kind, 1), 1)
        if not args.skip_cache:
            _gateway_run(res, "gw1 hit c1", seeded, one, wrk_run(one.url, "hit", 1), 1)
        for kind in ("json", "stream"):
            res.add(f"upstream {kind} c50", wrk_run(upstream, kind, 50)())
            for ref in refs:
                _reference_run(res, f"{ref.name} {kind} c50", ref, wrk_run(ref.url, kind, 50))
            for workers, gateway in gateways.items():
                name = f"gw{workers} {kind} c50"
                _gateway_run(res, name, seeded, gateway, wrk_run(gateway.url, kind, 50), 50)
        paced = _body(stream=True, user="ttfb-probe")
        res.ttfb_direct.append(probe(upstream, paced, no_store, args.ttfb_requests))
        res.ttfb_gateway.append(probe(one.url, paced, no_store, args.ttfb_requests))
        at_once = _body(stream=True)
        res.ttfb_warm_direct.append(probe(upstream, at_once, no_store, 10 * args.ttfb_requests))
        res.ttfb_warm_gateway.append(probe(one.url, at_once, no_store, 10 * args.ttfb_requests))
        print(render(res, partial=True), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.overhead", description=__doc__)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved repetitions")
    parser.add_argument(
        "--workers", type=lambda v: sorted({int(x) for x in v.split(",")}), default=[1, 2]
    )
    parser.add_argument("--ttfb-requests", type=int, default=50)
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        help="run on a fresh PostgreSQL database created through this URL "
        "(e.g. postgresql://postgres@127.0.0.1:5432/postgres) instead of SQLite",
    )
    parser.add_argument("--skip-cache", action="store_true", help="no cache-HIT run")
    parser.add_argument("--json", type=Path, help="also write every raw figure here")
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the gateway's data folder (SQLite file)"
    )
    args = parser.parse_args()
    res = run(args)
    print(render(res), flush=True)
    if args.json:
        args.json.write_text(json.dumps(res.raw(), indent=2, default=_plain))


def _plain(value: Any) -> Any:
    return asdict(value) if hasattr(value, "__dataclass_fields__") else str(value)


if __name__ == "__main__":
    main()
