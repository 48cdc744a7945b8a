"""Writing usage rows: idempotent inserts, the budget increments they imply, and the daily
roll-ups (cache performance; usage and latency, see ``rollups``), all in ONE transaction
so the settled usage always equals the logged usage.

Rows carry their own id. ``INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id`` tells
which rows are new; only those move a budget, so a batch replayed after an uncertain
commit (or from the spool file) can never count twice.

No row may stop the others (one over-long string once stopped all metering on
PostgreSQL): :func:`fit_usage_row` bounds every string to its column before a row is
queued, and a row the database still refuses is kept in ``gateway_usage_quarantine``
(:func:`quarantine_usage`) by the writer, which moves the budget by its amount all the
same -- a tenant must not get free calls by making its rows unwritable.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import orjson
from sqlalchemy import Insert, String, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ai_gateway.storage.budgets import increment_budget_usage
from ai_gateway.storage.request_bodies import save_bodies
from ai_gateway.storage.rollups import add_upserts, roll_up_usage
from ai_gateway.storage.tables import CacheDailyTotal, CachePerformance, UsageLog, UsageQuarantine
from ai_gateway.storage.usage_insert import insert_new_rows

__all__ = [
    "QuarantinedRow",
    "UsageRecord",
    "WriteResult",
    "count_quarantined",
    "decode_record",
    "encode_record",
    "encoded_record",
    "fit_usage_row",
    "list_quarantined",
    "quarantine_usage",
    "redrive_quarantined",
    "write_usage_batch",
]

#: every text column of the usage log -> its length (None: unbounded)
_TEXT_COLUMNS: dict[str, int | None] = {
    column.name: column.type.length
    for column in UsageLog.__table__.columns
    if isinstance(column.type, String)
}
_REASON_CHARS = 2000
_USAGE_LOG = cast(Table, UsageLog.__table__)


@dataclass(slots=True)
class UsageRecord:
    """One call's row plus what it does to the budget (``budget_amount`` in the client's
    budget unit) and to the cache roll-up."""

    row: dict[str, Any]
    budget_amount: Decimal = Decimal(0)
    cache_lookup: bool = False
    #: ``{"request", "response", "retention_days"}`` for a client that opted in to
    #: keeping its prompts and answers (written with the row), else None.
    body: dict[str, Any] | None = None
    #: the record as one JSON line (:func:`encoded_record`), kept once made: the usage
    #: writer journals it and sends it to its writer process as it is. A record is not
    #: changed once submitted.
    line: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def id(self) -> str:
        return str(self.row["id"])

    @property
    def client_id(self) -> str:
        return str(self.row["client_id"])


@dataclass(slots=True)
class WriteResult:
    inserted: int = 0
    duplicates: int = 0
    #: rows put in quarantine (refused by the database) by this write
    quarantined: int = 0
    #: client id -> (amount added by this batch, the budget total after it)
    budgets: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)


def _clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL; nothing a row says needs one.
    return text.replace("\x00", "") if "\x00" in text else text


def fit_usage_row(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with every string cut to its column's length and stripped of NUL bytes
    (in place; returned for convenience). Caller- and upstream-supplied text (ids,
    headers, error messages) must never make a row unwritable. On the request path:
    it only looks at the text columns and rewrites only what it must."""
    for name, limit in _TEXT_COLUMNS.items():
        value = row.get(name)
        if value.__class__ is not str:
            continue
        if "\x00" in value:
            value = row[name] = value.replace("\x00", "")
        if limit is not None and len(value) > limit:
            row[name] = value[:limit]
    return row


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return sqlite.insert if dialect == "sqlite" else postgresql.insert


def write_usage_batch(session: Session, records: list[UsageRecord]) -> WriteResult:
    result = WriteResult()
    if not records:
        return result
    inserted_ids = _insert_new_rows(session, [r.row for r in records])
    result.inserted = len(inserted_ids)
    result.duplicates = len(records) - result.inserted
    new_records = [r for r in records if r.id in inserted_ids]

    per_client: dict[str, Decimal] = defaultdict(Decimal)
    for record in new_records:
        if record.budget_amount:
            per_client[record.client_id] += record.budget_amount
    for client_id in sorted(per_client):  # a fixed order avoids deadlocks between writers
        amount = per_client[client_id]
        total = increment_budget_usage(session, client_id=client_id, amount=amount)
        result.budgets[client_id] = (amount, total)

    _roll_up_cache(session, new_records)
    roll_up_usage(session, [r.row for r in new_records])
    save_bodies(session, [(r.row, r.body) for r in new_records if r.body is not None])
    return result


def _insert_new_rows(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """The ids of ``rows`` that were not in the log yet, now inserted: one statement built
    once per dialect (:mod:`.usage_insert`), where the dialect
    ``insert().on_conflict_do_nothing()`` had no cache key and was compiled per batch."""
    return {str(i) for i in insert_new_rows(session, _USAGE_LOG, rows)}


def _roll_up_cache(session: Session, records: list[UsageRecord]) -> None:
    """Add hits, misses and savings to ``gateway_cache_performance`` per day x client x
    model and to ``gateway_cache_daily_totals`` per day x model (only for cacheable
    calls: rows whose ``cache_lookup`` was made)."""
    totals: dict[tuple[str, str, str], dict[str, Any]] = {}
    for record in records:
        row = record.row
        if not record.cache_lookup:
            continue
        created: datetime = row["created_at"]
        key = (
            created.date().isoformat(),
            row["client_id"],
            row.get("model_used") or row["model_requested"],
        )
        acc = totals.setdefault(
            key,
            {
                "hits": 0,
                "semantic_hits": 0,
                "misses": 0,
                "tokens_saved": 0,
                "saved_usd": Decimal(0),
                "saved_brl": Decimal(0),
            },
        )
        if row.get("cache_hit"):
            acc["hits"] += 1
            acc["semantic_hits"] += 1 if row.get("cache_semantic") else 0
            acc["tokens_saved"] += int(row.get("input_tokens", 0)) + int(
                row.get("output_tokens", 0)
            )
            acc["saved_usd"] += row.get("saved_usd", Decimal(0))
            acc["saved_brl"] += row.get("saved_brl", Decimal(0))
        else:
            acc["misses"] += 1
    add_upserts(session, CachePerformance, ("day", "client_id", "model_id"), totals)
    every_client: dict[tuple[str, str], dict[str, Any]] = {}
    for (day, _, model), acc in totals.items():
        target = every_client.setdefault((day, model), dict.fromkeys(acc, 0))
        for name, value in acc.items():
            target[name] += value
    add_upserts(session, CacheDailyTotal, ("day", "model_id"), every_client)


# -- the record as text (spool file, quarantine) -------------------------------------------

_DECIMAL_FIELDS = (
    "cost_usd",
    "cost_brl",
    "exchange_rate",
    "input_price_per_1m",
    "output_price_per_1m",
    "cached_input_price_per_1m",
    "cache_write_price_per_1m",
    "saved_usd",
    "saved_brl",
    "prompt_cache_saved_usd",
    "prompt_cache_saved_brl",
)


def encode_record(record: UsageRecord) -> bytes:
    """One JSON line: what the spool file and the quarantine keep of a record."""
    payload: dict[str, Any] = {
        "row": record.row,
        "budget_amount": record.budget_amount,
        "cache_lookup": record.cache_lookup,
    }
    if record.body is not None:
        payload["body"] = record.body
    return orjson.dumps(payload, default=_default)


def encoded_record(record: UsageRecord) -> bytes:
    """:func:`encode_record`, made once per record (the journal's line is also what the
    writer process receives: bytes cross a pipe for nothing, where pickling the record
    cost the serving process ~30 µs a row)."""
    line = record.line
    if line is None:
        line = record.line = encode_record(record)
    return line


def _default(value: Any) -> Any:
    # Decimals as exact strings; anything else odd as text rather than losing the record.
    return str(value)


def decode_record(line: bytes | str) -> UsageRecord:
    payload = orjson.loads(line)
    row = payload["row"]
    for name in _DECIMAL_FIELDS:
        if row.get(name) is not None:
            row[name] = Decimal(row[name])
    row["created_at"] = datetime.fromisoformat(row["created_at"])
    return UsageRecord(
        row=row,
        budget_amount=Decimal(payload["budget_amount"]),
        cache_lookup=bool(payload["cache_lookup"]),
        body=payload.get("body"),
    )


# -- quarantine ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuarantinedRow:
    id: str
    client_id: str | None
    request_id: str | None
    reason: str
    budget_applied: bool
    quarantined_at: datetime
    payload: str


def _text_or_none(value: Any, limit: int) -> str | None:
    return _clean(str(value))[:limit] if value is not None else None


def quarantine_usage(
    session: Session, records: list[UsageRecord], *, reason: str, apply_budget: bool
) -> WriteResult:
    """Keep ``records`` (refused by the database) in the quarantine, idempotently by row
    id; with ``apply_budget`` the new ones also move their client's budget. The caller
    retries without it when the increment itself is what the database refuses."""
    result = WriteResult()
    if not records:
        return result
    values = [
        {
            "id": record.id[:32],
            "client_id": _text_or_none(record.row.get("client_id"), 64),
            "request_id": _text_or_none(record.row.get("request_id"), 64),
            "reason": _clean(reason)[:_REASON_CHARS],
            "payload": encode_record(record).decode(),
            "budget_applied": apply_budget and bool(record.budget_amount),
            "quarantined_at": datetime.now(UTC),
        }
        for record in records
    ]
    statement: Insert = (
        _insert(session)(UsageQuarantine)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(UsageQuarantine.id)
    )
    new_ids = set(session.scalars(statement, values).all())
    result.quarantined = len(new_ids)
    result.duplicates = len(records) - len(new_ids)
    per_client: dict[str, Decimal] = defaultdict(Decimal)
    for record in records:
        if record.id[:32] in new_ids and record.budget_amount:
            per_client[record.client_id] += record.budget_amount
    for client_id in sorted(per_client):
        amount = per_client[client_id]
        total = Decimal(0)
        if apply_budget:
            total = increment_budget_usage(session, client_id=client_id, amount=amount)
        # Without the increment the total stays unknown (0): the in-memory guard then
        # only drops the amount from its pending sum, as the database never had it.
        result.budgets[client_id] = (amount, total)
    return result


def count_quarantined(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(UsageQuarantine)) or 0)


def list_quarantined(session: Session, *, limit: int, offset: int = 0) -> list[QuarantinedRow]:
    """The newest quarantined rows first (operator only: they hold every client's rows)."""
    rows = session.scalars(
        select(UsageQuarantine)
        .order_by(UsageQuarantine.quarantined_at.desc(), UsageQuarantine.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        QuarantinedRow(
            id=r.id,
            client_id=r.client_id,
            request_id=r.request_id,
            reason=r.reason,
            budget_applied=r.budget_applied,
            quarantined_at=r.quarantined_at,
            payload=r.payload,
        )
        for r in rows
    ]


def redrive_quarantined(session: Session, *, row_id: str) -> bool:
    """Write a quarantined row to the usage log (after its cause was fixed) and take it out
    of the quarantine, in the caller's transaction. A budget amount already counted at
    quarantine time is not counted again. False when there is no such row."""
    held = session.get(UsageQuarantine, row_id)
    if held is None:
        return False
    record = decode_record(held.payload)
    if held.budget_applied:
        record.budget_amount = Decimal(0)
    write_usage_batch(session, [record])
    session.execute(delete(UsageQuarantine).where(UsageQuarantine.id == row_id))
    return True
