"""Retention at scale: what pruning raw usage rows costs the usage writer, as the job
does it (batched DELETE) and as monthly partitions would (DETACH + DROP PARTITION).

Runs on the database ``bench_analytics.py`` filled (``aigw_bench_analytics``)::

    python benchmarks/analytics/bench_retention.py delete --keep-days 89
    python benchmarks/analytics/bench_retention.py partitions

``delete``: a separate process inserts usage rows the way the writer does (a small batch
per transaction, ``INSERT ... ON CONFLICT (id) DO NOTHING``, paced) for ``--baseline``
seconds, then keeps inserting while the ``prune-usage-logs`` batches (the job's own
function) delete every row older than ``--keep-days``; it reports each batch's time
(the longest a batch holds its row locks), the rows per second, the WAL written, the
locks anyone waited for, and the inserts' P50/P99/max without and during the prune.

``partitions``: copies the oldest calendar month of rows into a table partitioned by
month (primary key ``(id, created_at)``: PostgreSQL requires the partition key in every
unique key) plus an empty current partition, then times, under the same insert loop,
``DETACH PARTITION`` + ``DROP TABLE``, ``DETACH PARTITION ... CONCURRENTLY``, and a
plain ``DETACH`` queued behind one long dashboard query. Drops its tables afterwards.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg

from ai_gateway.jobs.prune_usage_logs import _archive_path, _one_batch
from ai_gateway.storage.db import Database

ADMIN_URL = os.environ.get(
    "AI_GATEWAY_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
URL = ADMIN_URL.rsplit("/", 1)[0] + "/aigw_bench_analytics"
PART = "bench_usage_part"
COLUMNS = (
    "id, client_id, conversation_id, request_id, model_requested, model_used, provider, "
    "route, is_stream, input_tokens, output_tokens, cached_tokens, cost_usd, cost_brl, "
    "exchange_rate, unpriced, latency_ms, cache_hit, saved_usd, saved_brl, "
    "fallback_attempts, status, created_at"
)


# -- the concurrent writer ------------------------------------------------------------


def _insert_loop(
    table: str, conflict: str, client_id: str, stop: Any, out: Any, rows: int, pace_s: float
) -> None:
    """Insert ``rows`` rows per transaction until ``stop``; put (start, seconds) pairs."""
    sql = (
        f"INSERT INTO {table} ({COLUMNS}) VALUES (%s, %s, 'bench-conv', %s, 'openai/gpt-4o', "
        "'openai/gpt-4o', 'openai', 'direct', false, 500, 100, 0, 0.0025, 0.0125, 5, false, "
        f"300, false, 0, 0, 0, 'success', %s) ON CONFLICT ({conflict}) DO NOTHING"
    )
    samples: list[tuple[float, float]] = []
    with psycopg.connect(URL) as conn:
        while not stop.is_set():
            batch = [
                (uuid.uuid4().hex, client_id, uuid.uuid4().hex, datetime.now(UTC))
                for _ in range(rows)
            ]
            started = time.perf_counter()
            with conn.cursor() as cur:
                cur.executemany(sql, batch)
            conn.commit()
            samples.append((started, time.perf_counter() - started))
            time.sleep(pace_s)
    out.put(samples)


@contextmanager
def inserting(table: str, conflict: str, args: argparse.Namespace) -> Iterator[Callable[[], Any]]:
    """Run the insert loop in another process; yields a function returning its samples
    (call it after the ``with`` block)."""
    with psycopg.connect(URL) as conn:
        row = conn.execute("SELECT id FROM clients ORDER BY id LIMIT 1").fetchone()
    assert row is not None
    ctx = mp.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    proc = ctx.Process(
        target=_insert_loop,
        args=(table, conflict, row[0], stop, out, args.insert_rows, args.pace_ms / 1000),
    )
    proc.start()
    time.sleep(1.0)  # connected and warm
    result: list[Any] = []
    try:
        yield lambda: result[0]
    finally:
        stop.set()
        result.append(out.get(timeout=60))
        proc.join(timeout=30)


def _stats(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"n={len(ms)} P50 {statistics.median(ms):.1f} ms  P99 {p99:.1f} ms  max {ms[-1]:.1f} ms"


def _in(samples: list[tuple[float, float]], start: float, end: float) -> list[float]:
    return [d for s, d in samples if start <= s < end]


class LockWatch:
    """Samples pg_stat_activity every 20 ms: the longest anyone waited on a lock."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.waits = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(URL, autocommit=True) as conn:
            while not self._stop.is_set():
                for (waited,) in conn.execute(
                    "SELECT extract(epoch FROM now() - state_change) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                ):
                    self.waits += 1
                    self.longest = max(self.longest, float(waited))
                time.sleep(0.02)


def _wal_lsn(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    assert row is not None
    return int(row[0])


# -- batched DELETE (the job as implemented) -----------------------------------------


def bench_delete(args: argparse.Namespace) -> None:
    db = Database(URL)
    archive_dir = Path(tempfile.mkdtemp()) if args.archive else None
    settings = SimpleNamespace(usage_retention_batch=args.batch, usage_archive_dir=archive_dir)
    ctx: Any = SimpleNamespace(db=db, settings=settings)
    with psycopg.connect(URL, autocommit=True) as conn:
        oldest = conn.execute("SELECT min(created_at) FROM gateway_usage_logs").fetchone()
        assert oldest is not None and oldest[0] is not None
        before = datetime.now(UTC) - timedelta(days=args.keep_days)
        due = conn.execute(
            "SELECT count(*) FROM gateway_usage_logs WHERE created_at < %s", (before,)
        ).fetchone()
        assert due is not None
        print(f"rows older than {args.keep_days} days: {due[0]:,} (oldest {oldest[0]:%F %T})")
        wal_before = _wal_lsn(conn)
    archive = _archive_path(archive_dir, datetime.now(UTC))
    with inserting("gateway_usage_logs", "id", args) as samples, LockWatch() as locks:
        t0 = time.perf_counter()
        time.sleep(args.baseline)
        t1 = time.perf_counter()
        batches: list[float] = []
        deleted = 0
        while True:
            started = time.perf_counter()
            removed = _one_batch(ctx, before, archive)
            if removed == 0:
                break
            batches.append(time.perf_counter() - started)
            deleted += removed
            if args.max_batches and len(batches) >= args.max_batches:
                break
        t2 = time.perf_counter()
        time.sleep(2)
    with psycopg.connect(URL, autocommit=True) as conn:
        wal = _wal_lsn(conn) - wal_before
    taken = samples()
    print(f"batch size {args.batch}, archive {'on' if archive_dir else 'off'}")
    print(
        f"deleted {deleted:,} rows in {len(batches)} batches, {t2 - t1:.1f} s "
        f"({deleted / max(t2 - t1, 1e-9):,.0f} rows/s), WAL {wal / 2**20:,.0f} MiB"
    )
    print(f"batch time: {_stats(batches)}")
    print(f"inserts before: {_stats(_in(taken, t0, t1))}")
    print(f"inserts during: {_stats(_in(taken, t1, t2))}")
    print(f"lock waits seen: {locks.waits}, longest {locks.longest * 1000:.0f} ms")
    db.dispose()
    if archive is not None and archive.exists():
        print(f"archive {archive.stat().st_size / 2**20:.1f} MiB")
        archive.unlink()
    if archive_dir is not None:
        archive_dir.rmdir()


# -- monthly partitions (what they would give) ---------------------------------------


def _timed(conn: psycopg.Connection[Any], sql: str) -> float:
    started = time.perf_counter()
    conn.execute(sql)
    return time.perf_counter() - started


def _build_partitioned(
    conn: psycopg.Connection[Any], copy_days: float
) -> tuple[str, int, datetime]:
    """The oldest whole-or-partial month of rows in its own partition; returns its name
    and row count."""
    row = conn.execute(
        "SELECT date_trunc('month', min(created_at) AT TIME ZONE 'UTC'), min(created_at) "
        "FROM gateway_usage_logs"
    ).fetchone()
    assert row is not None
    first: datetime = row[0].replace(tzinfo=UTC)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    old = f"{PART}_{first:%Y%m}"
    conn.execute(f"DROP TABLE IF EXISTS {PART}")
    conn.execute(
        f"CREATE TABLE {PART} (LIKE gateway_usage_logs INCLUDING DEFAULTS) "
        "PARTITION BY RANGE (created_at)"
    )
    conn.execute(f"ALTER TABLE {PART} ADD PRIMARY KEY (id, created_at)")
    conn.execute(
        f"CREATE TABLE {old} PARTITION OF {PART} "
        f"FOR VALUES FROM ('{first:%F}+00') TO ('{following:%F}+00')"
    )
    conn.execute(
        f"CREATE TABLE {PART}_rest PARTITION OF {PART} "
        f"FOR VALUES FROM ('{following:%F}+00') TO (MAXVALUE)"
    )
    started = time.perf_counter()
    copy_until = following
    if copy_days:  # a smaller copy when the machine is busy (the DROP barely depends on it)
        copy_until = min(following, row[1] + timedelta(days=copy_days))
    conn.execute(
        f"INSERT INTO {old} SELECT * FROM gateway_usage_logs WHERE created_at < %s",
        (copy_until,),
    )
    print(f"  copied the oldest month ({time.perf_counter() - started:.0f} s)", flush=True)
    started = time.perf_counter()
    conn.execute("SET maintenance_work_mem = '512MB'")
    for (definition,) in conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'gateway_usage_logs' "
        "AND indexname <> 'gateway_usage_logs_pkey'"
    ).fetchall():
        conn.execute(
            definition.replace(" INDEX ", " INDEX bp_", 1).replace(
                "ON public.gateway_usage_logs", f"ON {PART}"
            )
        )
    conn.execute(f"ANALYZE {PART}")
    print(f"  indexes ({time.perf_counter() - started:.0f} s)", flush=True)
    count = conn.execute(f"SELECT count(*) FROM {old}").fetchone()
    size = conn.execute(f"SELECT pg_total_relation_size('{old}')").fetchone()
    assert count is not None and size is not None
    print(f"  partition {old}: {count[0]:,} rows, {size[0] / 2**30:.2f} GiB with indexes")
    return old, int(count[0]), first


def bench_partitions(args: argparse.Namespace) -> None:
    with psycopg.connect(URL, autocommit=True) as conn:
        try:
            old, rows, first = _build_partitioned(conn, args.copy_days)
            older = f"MINVALUE) TO ('{first:%F}+00')"
            # 1. DETACH (ACCESS EXCLUSIVE on the parent, briefly) + DROP, under inserts.
            with inserting(PART, "id, created_at", args) as samples, LockWatch() as locks:
                t0 = time.perf_counter()
                time.sleep(args.baseline)
                t1 = time.perf_counter()
                detach = _timed(conn, f"ALTER TABLE {PART} DETACH PARTITION {old}")
                drop = _timed(conn, f"DROP TABLE {old}")
                t2 = time.perf_counter()
                time.sleep(args.baseline)
                t3 = time.perf_counter()
            taken = samples()
            print(f"DETACH {detach * 1000:.1f} ms, DROP {drop * 1000:.1f} ms ({rows:,} rows)")
            print(f"inserts before: {_stats(_in(taken, t0, t1))}")
            print(f"inserts around: {_stats(_in(taken, t1, t3))}")
            print(f"lock waits seen: {locks.waits}, longest {locks.longest * 1000:.0f} ms")
            # 2. The lock queue: a plain DETACH behind one 3 s dashboard query.
            conn.execute(f"CREATE TABLE {old} PARTITION OF {PART} FOR VALUES FROM ({older}")
            with inserting(PART, "id, created_at", args) as samples, LockWatch() as locks:
                reader = threading.Thread(target=_long_read, args=(args.long_query_s,), daemon=True)
                t1 = time.perf_counter()
                reader.start()
                time.sleep(0.3)
                detach = _timed(conn, f"ALTER TABLE {PART} DETACH PARTITION {old}")
                reader.join()
                t2 = time.perf_counter()
                time.sleep(1)
            taken = samples()
            print(
                f"DETACH behind a {args.long_query_s:.0f} s query: waited {detach * 1000:.0f} ms;"
                f" inserts meanwhile: {_stats(_in(taken, t1, t2))}; "
                f"lock waits {locks.waits}, longest {locks.longest * 1000:.0f} ms"
            )
            # 3. DETACH CONCURRENTLY (two transactions, no ACCESS EXCLUSIVE on the parent).
            conn.execute(f"ALTER TABLE {PART} ATTACH PARTITION {old} FOR VALUES FROM ({older}")
            with inserting(PART, "id, created_at", args) as samples, LockWatch() as locks:
                reader = threading.Thread(target=_long_read, args=(args.long_query_s,), daemon=True)
                t1 = time.perf_counter()
                reader.start()
                time.sleep(0.3)
                detach = _timed(conn, f"ALTER TABLE {PART} DETACH PARTITION {old} CONCURRENTLY")
                reader.join()
                t2 = time.perf_counter()
                time.sleep(1)
            taken = samples()
            print(
                f"DETACH CONCURRENTLY behind the same query: {detach * 1000:.0f} ms; inserts "
                f"meanwhile: {_stats(_in(taken, t1, t2))}; lock waits {locks.waits}, "
                f"longest {locks.longest * 1000:.0f} ms"
            )
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {PART}")
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE %s", (f"{PART}_%",)
            ).fetchall():
                conn.execute(f"DROP TABLE IF EXISTS {name}")


def _long_read(seconds: float) -> None:
    """A dashboard query holding ACCESS SHARE on the parent for ``seconds``."""
    with psycopg.connect(URL) as conn:
        conn.execute(f"SELECT count(*) FROM {PART} WHERE false")
        conn.execute(f"SELECT pg_sleep({seconds})")
        conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["delete", "partitions"])
    parser.add_argument("--keep-days", type=float, default=89)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--max-batches", type=int, default=0)
    parser.add_argument("--archive", action="store_true")
    parser.add_argument("--baseline", type=float, default=10)
    parser.add_argument("--insert-rows", type=int, default=20, help="rows per transaction")
    parser.add_argument("--pace-ms", type=float, default=10, help="pause between inserts")
    parser.add_argument("--long-query-s", type=float, default=3)
    parser.add_argument("--copy-days", type=float, default=0, help="partitions: copy fewer")
    args = parser.parse_args()
    with psycopg.connect(URL) as conn:
        print(f"load average {os.getloadavg()}, {conn.info.server_version}")
    if args.what == "delete":
        bench_delete(args)
    else:
        bench_partitions(args)


if __name__ == "__main__":
    main()
