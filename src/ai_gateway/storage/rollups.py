"""Daily roll-ups of the usage log, written with the usage rows (one transaction).

All upserted with ``INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x`` so
concurrent writers and replays add up instead of overwriting:

- ``gateway_usage_daily``: requests, errors, cache hits, fallbacks, tokens, cost and the
  latency sum per UTC day x client x model x provider (one client's views, billing);
- ``gateway_usage_daily_totals``: the same per day x model x provider, every client
  together (the operator's totals, breakdowns and series);
- ``gateway_usage_daily_clients``: the same per day x client (the top-clients ranking);
- ``gateway_usage_daily_endpoints``: the same per day x client x endpoint (one client's
  breakdown by endpoint);
- ``gateway_usage_daily_conversations``: calls, tokens, cost, errors, cache hits, the
  latency sum and the first and last call per client x UTC day x conversation (one
  client's conversation table; calls without a conversation are not kept);
- ``gateway_usage_monthly``: the same per calendar month x client x model x provider
  (monthly billing);
- ``gateway_latency_daily``: a latency histogram per UTC day x model with log-scale
  buckets about 5 % wide (:func:`latency_bucket`).

Why: an operator dashboard over 90 days and every client would otherwise aggregate and
sort millions of rows per page view; even the per-client-model-day roll-up is ~270k rows
for 500 clients over 90 days, too many to sum per view. Each view reads the narrowest
roll-up that answers it, so its cost stays flat as the log grows. Per-client latency
percentiles still read the log itself through ``(client_id, created_at)``, exactly.
"""

from __future__ import annotations

import functools
import math
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, TextClause, bindparam, text
from sqlalchemy.orm import Session

from ai_gateway.storage.tables import (
    UsageDaily,
    UsageDailyClient,
    UsageDailyConversation,
    UsageDailyEndpoint,
    UsageDailyTotal,
    UsageLatencyDaily,
    UsageMonthly,
)

__all__ = [
    "DEFAULT_ENDPOINT",
    "ERROR_STATUSES",
    "LATENCY_BUCKETS_PER_E",
    "OTHER_MODEL",
    "add_upserts",
    "bucket_midpoint",
    "latency_bucket",
    "roll_up_usage",
]

#: Buckets per factor e: 20 gives buckets exp(1/20) = 5.1 % wide.
LATENCY_BUCKETS_PER_E = 20
_EXACT_BELOW_MS = 20
#: The roll-ups' model of calls refused because their model does not exist: one key for
#: every name clients invent, so the roll-ups (and the dashboards) stay small.
OTHER_MODEL = "other"
#: Statuses that count as failed calls (``abandoned`` is the caller leaving, not a failure).
ERROR_STATUSES = ("error", "cut")
#: What a row without an endpoint is (the column's default).
DEFAULT_ENDPOINT = "chat.completions"

_SUMS = (
    "requests",
    "errors",
    "cache_hits",
    "fallbacks",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "cost_usd",
    "cost_brl",
    "prompt_cache_saved_usd",
    "prompt_cache_saved_brl",
    "latency_ms_sum",
)


def latency_bucket(ms: int) -> int:
    """The lower bound (ms) of the histogram bucket holding ``ms``: exact under 20 ms,
    then log-scale. The same formula runs in SQL in the migration and the benchmark."""
    if ms < _EXACT_BELOW_MS:
        return max(ms, 0)
    return math.floor(math.exp(math.floor(math.log(ms) * LATENCY_BUCKETS_PER_E) / 20))


def bucket_midpoint(bucket_ms: int) -> float:
    """The value reported for a bucket: its middle (at most ~2.5 % off the true value)."""
    if bucket_ms < _EXACT_BELOW_MS:
        return float(bucket_ms)
    return round(bucket_ms * math.exp(0.5 / LATENCY_BUCKETS_PER_E), 1)


def roll_up_usage(session: Session, rows: list[dict[str, Any]]) -> None:
    """Add ``rows`` (new usage rows, as inserted) to every roll-up."""
    # The finest key (day, client, model, provider, endpoint); each roll-up folds it.
    finest: dict[tuple[str, ...], dict[str, Any]] = {}
    latency: dict[tuple[str, str, int], int] = {}
    for row in rows:
        day = row["created_at"].date().isoformat()
        model = _model_key(row)
        endpoint = row.get("endpoint") or DEFAULT_ENDPOINT
        key = (day, row["client_id"], model, row.get("provider") or "", endpoint)
        acc = finest.setdefault(key, {name: 0 for name in _SUMS})
        acc["requests"] += 1
        acc["errors"] += 1 if row.get("status") in ERROR_STATUSES else 0
        acc["cache_hits"] += 1 if row.get("cache_hit") else 0
        acc["fallbacks"] += 1 if row.get("fallback_from") else 0
        for name in ("input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens"):
            acc[name] += int(row.get(name) or 0)
        for name in ("cost_usd", "cost_brl", "prompt_cache_saved_usd", "prompt_cache_saved_brl"):
            acc[name] += Decimal(row.get(name) or 0)
        ms = int(row.get("latency_ms") or 0)
        acc["latency_ms_sum"] += ms
        bucket = (day, model, latency_bucket(ms))
        latency[bucket] = latency.get(bucket, 0) + 1
    daily = _fold(finest, 0, 1, 2, 3)
    add_upserts(session, UsageDaily, ("day", "client_id", "model_id", "provider"), daily)
    add_upserts(session, UsageDailyTotal, ("day", "model_id", "provider"), _fold(daily, 0, 2, 3))
    add_upserts(session, UsageDailyClient, ("day", "client_id"), _fold(daily, 0, 1))
    add_upserts(
        session, UsageDailyEndpoint, ("day", "client_id", "endpoint"), _fold(finest, 0, 1, 4)
    )
    add_upserts(
        session,
        UsageMonthly,
        ("month", "client_id", "model_id", "provider"),
        _fold_months(daily),
    )
    _upsert_latency(session, latency)
    _upsert_conversations(session, rows)


def _model_key(row: dict[str, Any]) -> str:
    if row.get("model_used"):
        return str(row["model_used"])
    if row.get("error_code") == "model_not_found":
        return OTHER_MODEL
    return str(row["model_requested"])


def _fold(
    sums: dict[tuple[str, ...], dict[str, Any]], *keep: int
) -> dict[tuple[str, ...], dict[str, Any]]:
    """Sum a finer roll-up's entries over the key parts not in ``keep``."""
    folded: dict[tuple[str, ...], dict[str, Any]] = {}
    for key, acc in sums.items():
        target = folded.setdefault(tuple(key[i] for i in keep), {name: 0 for name in _SUMS})
        for name in _SUMS:
            target[name] += acc[name]
    return folded


def add_upserts(
    session: Session,
    model: type[Any],
    keys: tuple[str, ...],
    totals: dict[Any, dict[str, Any]],
) -> None:
    """Add every ``key -> sums`` of ``totals`` to ``model``'s rows: ONE executemany of
    ``INSERT ... ON CONFLICT (keys) DO UPDATE SET x = x + excluded.x``, in key order, so
    concurrent writers take row locks in one order and cannot deadlock."""
    if not totals:
        return
    entries = sorted(totals.items())
    statement = _adding_upsert(model.__table__, keys, tuple(entries[0][1]))
    session.execute(statement, [dict(zip(keys, key, strict=True)) | sums for key, sums in entries])


@functools.cache
def _adding_upsert(
    table: Table,
    keys: tuple[str, ...],
    names: tuple[str, ...],
    kept: tuple[tuple[str, str], ...] = (),
) -> TextClause:
    """The upsert as text with typed parameters: ``names`` are added to the line's sums;
    each ``(column, function)`` of ``kept`` keeps ``function(old, new)`` (the first and
    last call). Why not ``insert().on_conflict_do_update``: SQLAlchemy 2.0 cannot cache
    that construct ("no key"), so it compiled it again on every execution, ~1 ms each,
    five times per batch; a text clause is compiled once. SQLite and PostgreSQL share
    this syntax."""
    columns = keys + names + tuple(c for c, _ in kept)
    name = table.name
    sql = (
        f"INSERT INTO {name} ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
        + ", ".join(
            [f"{c} = {name}.{c} + excluded.{c}" for c in names]
            + [f"{c} = {fn}({name}.{c}, excluded.{c})" for c, fn in kept]
        )
    )
    return text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))


def _upsert_latency(session: Session, counts: dict[tuple[str, str, int], int]) -> None:
    add_upserts(
        session,
        UsageLatencyDaily,
        ("day", "model_id", "bucket_ms"),
        {key: {"calls": calls} for key, calls in counts.items()},
    )


def _fold_months(
    daily: dict[tuple[str, ...], dict[str, Any]],
) -> dict[tuple[str, ...], dict[str, Any]]:
    months: dict[tuple[str, ...], dict[str, Any]] = {}
    for (day, client_id, model_id, provider), acc in daily.items():
        target = months.setdefault(
            (day[:7], client_id, model_id, provider), {name: 0 for name in _SUMS}
        )
        for name in _SUMS:
            target[name] += acc[name]
    return months


_CONVERSATION_KEY = ("client_id", "day", "conversation_id")
_CONVERSATION_SUMS = (
    "requests",
    "errors",
    "cache_hits",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "cost_brl",
    "latency_ms_sum",
)


def _upsert_conversations(session: Session, rows: list[dict[str, Any]]) -> None:
    """Add the rows that belong to a conversation to ``gateway_usage_daily_conversations``
    (sums added, first and last call kept by ``MIN``/``MAX``), in key order like
    :func:`add_upserts`."""
    totals: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        conversation = row.get("conversation_id")
        if conversation is None:
            continue
        at = row["created_at"]
        key = (row["client_id"], at.date().isoformat(), conversation)
        acc = totals.get(key)
        if acc is None:
            acc = totals[key] = {name: 0 for name in _CONVERSATION_SUMS}
            acc["cost_usd"] = acc["cost_brl"] = Decimal(0)
            acc["first_at"] = acc["last_at"] = at
        acc["requests"] += 1
        acc["errors"] += 1 if row.get("status") in ERROR_STATUSES else 0
        acc["cache_hits"] += 1 if row.get("cache_hit") else 0
        acc["input_tokens"] += int(row.get("input_tokens") or 0)
        acc["output_tokens"] += int(row.get("output_tokens") or 0)
        acc["cost_usd"] += Decimal(row.get("cost_usd") or 0)
        acc["cost_brl"] += Decimal(row.get("cost_brl") or 0)
        acc["latency_ms_sum"] += int(row.get("latency_ms") or 0)
        acc["first_at"] = min(acc["first_at"], at)
        acc["last_at"] = max(acc["last_at"], at)
    if not totals:
        return
    statement = _conversation_upsert(
        UsageDailyConversation.__table__, session.get_bind().dialect.name
    )
    session.execute(
        statement,
        [
            dict(zip(_CONVERSATION_KEY, key, strict=True)) | acc
            for key, acc in sorted(totals.items())
        ],
    )


@functools.cache
def _conversation_upsert(table: Table, dialect: str) -> TextClause:
    """:func:`_adding_upsert` keeping the first and last call: ``LEAST``/``GREATEST`` on
    PostgreSQL, the two-argument ``min``/``max`` on SQLite (its datetimes are fixed-width
    text, so they compare in time order)."""
    least, greatest = ("min", "max") if dialect == "sqlite" else ("LEAST", "GREATEST")
    kept = (("first_at", least), ("last_at", greatest))
    return _adding_upsert(table, _CONVERSATION_KEY, _CONVERSATION_SUMS, kept)
