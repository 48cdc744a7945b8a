"""Analytics at scale (5M rows by default, 20M with ``--rows``): fill a dedicated
PostgreSQL database with usage over 90 days and 500 clients, then time every analytics
route through the real app (uvicorn on loopback).

    python benchmarks/analytics/bench_analytics.py                # fill (if empty) + time
    python benchmarks/analytics/bench_analytics.py --fresh        # drop and refill first
    python benchmarks/analytics/bench_analytics.py --fresh --rows 20000000  # 20M rows

The fill is pure SQL (``generate_series``), in chunks, and the roll-ups are built the way
migrations 0004, 0016 and 0017 backfill them; the timing loop calls each route
``--calls`` times in a row (after two warm-up calls) and reports P50/P95 in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import uvicorn
from sqlalchemy import text

from ai_gateway.app import create_app
from ai_gateway.settings import Settings
from ai_gateway.storage import migrate
from ai_gateway.storage.api_keys import issue_key
from ai_gateway.storage.db import Database
from ai_gateway.vault import generate_master_key

ADMIN_URL = os.environ.get(
    "AI_GATEWAY_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DB_NAME = "aigw_bench_analytics"
CHUNK = 1_000_000

MODELS = [
    ("openai/gpt-4o", "openai", "2.5", "10"),
    ("openai/gpt-4o-mini", "openai", "0.15", "0.6"),
    ("groq/llama-3.3-70b", "groq", "0.59", "0.79"),
    ("anthropic/claude-3-5-sonnet", "anthropic", "3", "15"),
    ("anthropic/claude-3-opus", "anthropic", "15", "75"),
    ("google/gemini-2.0-flash", "google", "0.1", "0.4"),
]


def _models_cte() -> str:
    rows = ", ".join(
        f"({i}, '{m}', '{p}', {inp}::numeric, {out}::numeric)"
        for i, (m, p, inp, out) in enumerate(MODELS)
    )
    return f"models(idx, id, provider, inp, outp) AS (VALUES {rows})"


def fill(url: str, rows: int, clients: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO clients (id, name, plan, use_ai_gateway, timezone, status, created_at, "
            "updated_at) SELECT lpad(to_hex(g), 32, '0'), 'bench-client-' || g, "
            "(ARRAY['free','basic','pro','enterprise'])[1 + g % 4], g % 2 = 0, "
            "'America/Sao_Paulo', 'active', now() - interval '200 days' + g * interval '1 min', "
            f"now() FROM generate_series(1, {clients}) g"
        )
        conn.execute(
            "INSERT INTO client_budgets (client_id, is_custom, current_usage, is_paused, "
            "updated_at) SELECT id, false, 0, false, now() FROM clients"
        )
        # Bulk load without the secondary indexes, then rebuild them (in parallel) once:
        # much faster than maintaining seven B-trees row by row.
        indexes = [
            (name, definition)
            for name, definition in conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
                "'gateway_usage_logs' AND indexname <> 'gateway_usage_logs_pkey'"
            )
        ]
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        done = 0
        while done < rows:
            n = min(CHUNK, rows - done)
            started = time.perf_counter()
            conn.execute(f"""
                WITH {_models_cte()},
                calls AS (
                    SELECT g,
                        1 + (hashint4(g) & 2147483647) % {clients} AS client_no,
                        (hashint4(g + 7) & 2147483647) % 6 AS model_no,
                        now() - (((hashint4(g + 13) & 2147483647) % 7776000) * interval '1 s')
                            AS at,
                        random() AS r1, random() AS r2, random() AS r3
                    FROM generate_series({done + 1}, {done + n}) g
                )
                INSERT INTO gateway_usage_logs (id, client_id, conversation_id, request_id,
                    model_requested, model_used, provider, route, is_stream, input_tokens,
                    output_tokens, cached_tokens, cost_usd, cost_brl, exchange_rate, unpriced,
                    latency_ms, cache_hit, saved_usd, saved_brl, fallback_from,
                    fallback_attempts, fallback_reason, status, error_code, created_at)
                SELECT md5(c.g::text), lpad(to_hex(c.client_no), 32, '0'),
                    'conv-' || c.client_no || '-' || (c.g / 7) % 400, md5(c.g::text || 'r'),
                    m.id, m.id, m.provider, 'direct', false,
                    100 + (c.r1 * 900)::int, 20 + (c.r2 * 300)::int, 0,
                    round(((100 + (c.r1 * 900)::int) * m.inp + (20 + (c.r2 * 300)::int) * m.outp)
                        / 1000000, 10),
                    round(((100 + (c.r1 * 900)::int) * m.inp + (20 + (c.r2 * 300)::int) * m.outp)
                        / 1000000 * 5, 10),
                    5, false,
                    CASE WHEN c.r3 < 0.2 THEN 2 + (c.r1 * 10)::int
                         ELSE (exp(5 + c.r2 * 2.5 + c.r1 * 0.8))::int END,
                    c.r3 < 0.2, 0, 0,
                    CASE WHEN c.r3 BETWEEN 0.2 AND 0.23 THEN 'openai/gpt-4o' END,
                    CASE WHEN c.r3 BETWEEN 0.2 AND 0.23 THEN 2 ELSE 0 END,
                    CASE WHEN c.r3 BETWEEN 0.2 AND 0.23 THEN 'rate_limited' END,
                    CASE WHEN c.r3 > 0.98 THEN 'error' ELSE 'success' END,
                    CASE WHEN c.r3 > 0.98 THEN 'upstream_failed' END,
                    c.at
                FROM calls c JOIN models m ON m.idx = c.model_no
            """)
            done += n
            print(f"  usage rows: {done:,} ({time.perf_counter() - started:.1f} s)", flush=True)
        started = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            conn.execute(definition)
        print(f"  {len(indexes)} indexes rebuilt ({time.perf_counter() - started:.1f} s)")
    build_rollups(url)


def build_rollups(url: str) -> None:
    """(Re)build every roll-up from the usage rows, as migrations 0004, 0016 and 0017
    backfill them."""
    sums = (
        "requests, errors, cache_hits, fallbacks, input_tokens, output_tokens, "
        "cached_tokens, cost_usd, cost_brl, latency_ms_sum"
    )
    summed = ", ".join(f"SUM({c.strip()})" for c in sums.split(","))
    day = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE gateway_usage_daily, gateway_usage_daily_totals, "
            "gateway_usage_daily_clients, gateway_usage_daily_endpoints, gateway_usage_monthly, "
            "gateway_latency_daily, gateway_cache_performance, gateway_usage_daily_conversations, "
            "gateway_cache_daily_totals"
        )
        conn.execute(f"""
            INSERT INTO gateway_usage_daily (day, client_id, model_id, provider, {sums})
            SELECT {day}, client_id, model_used, provider, COUNT(*),
                COUNT(*) FILTER (WHERE status IN ('error', 'cut')),
                COUNT(*) FILTER (WHERE cache_hit),
                COUNT(*) FILTER (WHERE fallback_from IS NOT NULL),
                SUM(input_tokens), SUM(output_tokens), SUM(cached_tokens), SUM(cost_usd),
                SUM(cost_brl), SUM(latency_ms)
            FROM gateway_usage_logs GROUP BY 1, 2, 3, 4
        """)
        conn.execute(f"""
            INSERT INTO gateway_usage_daily_totals (day, model_id, provider, {sums})
            SELECT day, model_id, provider, {summed} FROM gateway_usage_daily GROUP BY 1, 2, 3
        """)
        conn.execute(f"""
            INSERT INTO gateway_usage_daily_clients (day, client_id, {sums})
            SELECT day, client_id, {summed} FROM gateway_usage_daily GROUP BY 1, 2
        """)
        conn.execute(f"""
            INSERT INTO gateway_usage_daily_endpoints (day, client_id, endpoint, {sums})
            SELECT {day}, client_id, endpoint, COUNT(*),
                COUNT(*) FILTER (WHERE status IN ('error', 'cut')),
                COUNT(*) FILTER (WHERE cache_hit),
                COUNT(*) FILTER (WHERE fallback_from IS NOT NULL),
                SUM(input_tokens), SUM(output_tokens), SUM(cached_tokens), SUM(cost_usd),
                SUM(cost_brl), SUM(latency_ms)
            FROM gateway_usage_logs GROUP BY 1, 2, 3
        """)
        conn.execute(f"""
            INSERT INTO gateway_usage_monthly (month, client_id, model_id, provider, {sums})
            SELECT substr(day, 1, 7), client_id, model_id, provider, {summed}
            FROM gateway_usage_daily GROUP BY 1, 2, 3, 4
        """)
        conn.execute(f"""
            INSERT INTO gateway_latency_daily (day, model_id, bucket_ms, calls)
            SELECT {day}, model_used,
                CASE WHEN latency_ms < 20 THEN latency_ms
                     ELSE floor(exp(floor(ln(latency_ms) * 20) / 20))::int END, COUNT(*)
            FROM gateway_usage_logs GROUP BY 1, 2, 3
        """)
        conn.execute(f"""
            INSERT INTO gateway_cache_performance (day, client_id, model_id, hits, misses,
                tokens_saved, saved_usd, saved_brl)
            SELECT {day}, client_id, model_used, COUNT(*) FILTER (WHERE cache_hit),
                COUNT(*) FILTER (WHERE NOT cache_hit),
                COALESCE(SUM(input_tokens + output_tokens) FILTER (WHERE cache_hit), 0),
                COALESCE(SUM(cost_usd) FILTER (WHERE cache_hit), 0),
                COALESCE(SUM(cost_brl) FILTER (WHERE cache_hit), 0)
            FROM gateway_usage_logs GROUP BY 1, 2, 3
        """)
        conn.execute("""
            INSERT INTO gateway_cache_daily_totals (day, model_id, hits, semantic_hits, misses,
                tokens_saved, saved_usd, saved_brl)
            SELECT day, model_id, SUM(hits), SUM(semantic_hits), SUM(misses),
                SUM(tokens_saved), SUM(saved_usd), SUM(saved_brl)
            FROM gateway_cache_performance GROUP BY day, model_id
        """)
        conn.execute("SET work_mem = '256MB'")
        conn.execute(f"""
            INSERT INTO gateway_usage_daily_conversations (client_id, day, conversation_id,
                requests, errors, cache_hits, input_tokens, output_tokens, cost_usd, cost_brl,
                latency_ms_sum, first_at, last_at)
            SELECT client_id, {day}, conversation_id, COUNT(*),
                COUNT(*) FILTER (WHERE status IN ('error', 'cut')),
                COUNT(*) FILTER (WHERE cache_hit), SUM(input_tokens), SUM(output_tokens),
                SUM(cost_usd), SUM(cost_brl), SUM(latency_ms), MIN(created_at),
                MAX(created_at)
            FROM gateway_usage_logs WHERE conversation_id IS NOT NULL GROUP BY 1, 2, 3
        """)
        conn.execute("VACUUM ANALYZE")
    print(f"  roll-ups and ANALYZE: {time.perf_counter() - started:.1f} s", flush=True)


def prepare(fresh: bool, rows: int, clients: int) -> str:
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{DB_NAME}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone()
        if exists and fresh:
            conn.execute(f"DROP DATABASE {DB_NAME} WITH (FORCE)")
            exists = None
        if not exists:
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT COUNT(*) FROM gateway_usage_logs").fetchone()
    if not have or have[0] == 0:
        started = time.perf_counter()
        print(f"filling {DB_NAME} with {rows:,} usage rows over 90 days, {clients} clients")
        fill(url, rows, clients)
        print(f"fill done in {time.perf_counter() - started:.0f} s")
    return url


async def time_routes(url: str, calls: int) -> list[tuple[str, float, float]]:
    db = Database(url)
    with db.write() as s:
        admin = issue_key(s, role="admin", name="bench").plain
        # The busiest client: the worst case for the per-client routes.
        client_id = s.execute(
            text(
                "SELECT client_id FROM gateway_usage_daily_clients GROUP BY client_id "
                "ORDER BY SUM(requests) DESC LIMIT 1"
            )
        ).scalar_one()
        client = issue_key(s, role="client", client_id=client_id, name="bench").plain
        conversation = s.execute(
            text(
                "SELECT conversation_id FROM gateway_usage_logs WHERE client_id = :c "
                "ORDER BY created_at DESC LIMIT 1"
            ),
            {"c": client_id},
        ).scalar_one()
    db.dispose()
    month = datetime.now(UTC).strftime("%Y-%m")
    routes = [
        ("GET /api/ai-gateway/metrics?period=90d", admin),
        ("GET /api/ai-gateway/metrics?period=7d", admin),
        ("GET /api/analytics/gateway?period=90d", client),
        ("GET /api/analytics/gateway/conversations?period=90d", client),
        ("GET /api/analytics/gateway/fallbacks?period=90d", client),
        ("GET /api/analytics/gateway/conversations.csv?period=90d", client),
        (f"GET /api/billing/summary?month={month}", client),
        (f"GET /api/billing/summary?month={month}", admin),
        ("GET /api/ai-gateway/cache?period=90d", admin),
        ("GET /api/ai-gateway/cache?period=90d", client),
        (f"GET /api/analytics/gateway/conversations/{conversation}", client),
        ("GET /api/analytics/gateway?period=7d", client),
        (f"GET /api/analytics/gateway?period=90d&client_id={client_id}", admin),
        ("GET /api/ai-gateway/metrics?period=90d&offset=10000", admin),
    ]
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(
            database_url=url,
            data_dir=Path(data),
            master_key=generate_master_key(),
            scheduler_enabled=False,
            ptax_base_url="http://127.0.0.1:9/odata",
        )
        app = create_app(settings)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=8765, log_level="warning", lifespan="on")
        )
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        results = []
        async with httpx.AsyncClient(base_url="http://127.0.0.1:8765", timeout=60) as http:
            for spec, key in routes:
                method, path = spec.split(" ", 1)
                who = "admin" if key == admin else "client"
                samples = []
                for i in range(calls + 2):
                    started = time.perf_counter()
                    response = await http.request(
                        method, path, headers={"Authorization": f"Bearer {key}"}
                    )
                    elapsed = (time.perf_counter() - started) * 1000
                    response.raise_for_status()
                    if i >= 2:
                        samples.append(elapsed)
                samples.sort()
                p50 = statistics.median(samples)
                p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
                results.append((f"{spec} ({who})", p50, p95))
                print(f"{spec:60} {who:6} P50 {p50:7.1f} ms  P95 {p95:7.1f} ms", flush=True)
        server.should_exit = True
        await task
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--fresh", action="store_true", help="drop and refill the database")
    parser.add_argument(
        "--rebuild-rollups", action="store_true", help="rebuild the roll-ups from the rows"
    )
    args = parser.parse_args()
    url = prepare(args.fresh, args.rows, args.clients)
    if args.rebuild_rollups:
        build_rollups(url)
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {sys.platform}")
    asyncio.run(time_routes(url, args.calls))


if __name__ == "__main__":
    main()
