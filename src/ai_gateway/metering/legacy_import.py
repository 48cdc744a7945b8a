"""Importing historical usage of the legacy (pre-gateway) path into ``gateway_usage_logs``.

The source is CSV (with a header row) or JSON lines, one usage row per line::

    column           required  meaning
    client           yes       client id or name (also accepted: client_id, client_name)
    created_at       yes       ISO 8601 (no offset = UTC) or Unix seconds
    model            yes       registry id (openai/gpt-4o), alias, or bare name (gpt-4o)
    input_tokens     yes       prompt tokens (integer >= 0)
    output_tokens    yes       completion tokens (integer >= 0)
    cached_tokens    no        cached prompt tokens, included in input_tokens (default 0)
    cost_usd         no        what the call cost; else priced from the registry
    cost_brl         no        else cost_usd x exchange_rate
    exchange_rate    no        USD->BRL; else the latest stored quote, else 5.00
    conversation_id  no
    latency_ms       no        integer (default 0)
    status           no        success (default) or error
    id               no        the legacy row's own id: the idempotency key when present

Every imported row gets ``route = 'legacy'`` and a deterministic id (a hash of the source
row's key: its ``id`` column, else its content and its occurrence among identical rows),
and is inserted with ``ON CONFLICT (id) DO NOTHING`` — a second run adds nothing. Imported
rows never move a current budget: they are history, already paid for. A bad row is
rejected with its line number and reason and never stops the run.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import orjson

from ai_gateway.errors import NotFound
from ai_gateway.metering.currency import FALLBACK_RATE
from ai_gateway.metering.pricing import ModelPrice, compute_cost, quantize_money, to_brl
from ai_gateway.storage.clients import get_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.exchange_rates import latest_exchange_rate
from ai_gateway.storage.models_registry import ModelInfo, list_models
from ai_gateway.storage.usage import UsageRecord, write_usage_batch

__all__ = [
    "COLUMNS_HELP",
    "ImportSummary",
    "LegacyImporter",
    "RejectedRow",
    "SourceRow",
    "read_source_rows",
]

COLUMNS_HELP = (
    "Columns: client (id or name), created_at (ISO 8601 or Unix seconds), model, "
    "input_tokens, output_tokens; optional: cached_tokens, cost_usd (else priced from the "
    "registry), cost_brl, exchange_rate (else the latest stored quote, else 5.00), "
    "conversation_id, latency_ms, status (success|error), id (the legacy row id)."
)
_BATCH = 500
_STATUSES = ("success", "error")


@dataclass(frozen=True, slots=True)
class SourceRow:
    line: int
    data: dict[str, Any] | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int
    reason: str


@dataclass(slots=True)
class ImportSummary:
    imported: int = 0
    skipped: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


class _Rejected(ValueError):
    pass


def read_source_rows(path: Path) -> Iterator[SourceRow]:
    """Rows of a CSV (header first) or JSON-lines file (``.jsonl``/``.ndjson``, or any file
    whose first non-blank character is ``{``), with their line numbers."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        head = handle.read(4096)
        handle.seek(0)
        is_json = path.suffix.lower() in (".jsonl", ".ndjson", ".json") or head.lstrip()[:1] == "{"
        yield from (_json_rows(handle) if is_json else _csv_rows(handle))


def _json_rows(handle: io.TextIOBase | Any) -> Iterator[SourceRow]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError:
            yield SourceRow(number, None, "not valid JSON")
            continue
        if not isinstance(data, dict):
            yield SourceRow(number, None, "not a JSON object")
            continue
        yield SourceRow(number, data)


def _csv_rows(handle: io.TextIOBase | Any) -> Iterator[SourceRow]:
    reader = csv.DictReader(handle)
    for data in reader:
        line = reader.line_num
        if None in data:
            yield SourceRow(line, None, "more fields than the header has")
            continue
        yield SourceRow(line, {k.strip(): v for k, v in data.items() if k is not None})


def _text(data: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = data.get(name)
        if value is not None and str(value).strip() != "":
            return str(value).strip()
    return None


def _int(data: dict[str, Any], name: str, *, required: bool) -> int:
    raw = _text(data, name)
    if raw is None:
        if required:
            raise _Rejected(f"{name} is missing")
        return 0
    try:
        value = int(Decimal(raw))
    except (InvalidOperation, ValueError) as exc:
        raise _Rejected(f"{name} '{raw}' is not a number") from exc
    if value < 0 or Decimal(raw) != value:
        raise _Rejected(f"{name} '{raw}' must be a whole number >= 0")
    return value


def _decimal(data: dict[str, Any], name: str) -> Decimal | None:
    raw = _text(data, name)
    if raw is None:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise _Rejected(f"{name} '{raw}' is not a number") from exc
    if not value.is_finite() or value < 0:
        raise _Rejected(f"{name} '{raw}' must be >= 0")
    return value


def _timestamp(data: dict[str, Any]) -> datetime:
    raw = _text(data, "created_at", "timestamp")
    if raw is None:
        raise _Rejected("created_at is missing")
    try:
        if raw.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(raw), UTC)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError) as exc:
        raise _Rejected(f"created_at '{raw}' is not ISO 8601 or Unix seconds") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _row_id(created_at: datetime, key: str) -> str:
    """Like ``new_id`` (time first, so the log's B-tree stays append-mostly) but derived
    from the source row, so the same row always gets the same id."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return f"{int(created_at.timestamp() * 1000) & 0xFFFFFFFFFFFF:012x}{digest}"


class LegacyImporter:
    """Turns source rows into usage rows and writes them in batches."""

    def __init__(self, db: Database) -> None:
        self._db = db
        with db.session() as session:
            self._models = list_models(session, active_only=False)
            stored = latest_exchange_rate(session, base="USD", quote="BRL")
        self._rate = stored.rate if stored is not None else FALLBACK_RATE
        self._clients: dict[str, str | None] = {}
        self._seen: Counter[str] = Counter()

    def run(
        self, rows: Iterable[SourceRow], *, progress: Callable[[int], None] | None = None
    ) -> ImportSummary:
        summary = ImportSummary()
        batch: list[UsageRecord] = []
        for source in rows:
            try:
                batch.append(self._convert(source))
            except _Rejected as exc:
                summary.rejected.append(RejectedRow(source.line, str(exc)))
            if len(batch) >= _BATCH:
                self._write(batch, summary)
                batch = []
            if progress is not None:
                progress(1)
        self._write(batch, summary)
        return summary

    def _write(self, batch: list[UsageRecord], summary: ImportSummary) -> None:
        if not batch:
            return
        with self._db.write() as session:
            # budget_amount stays 0: history never moves a current budget.
            result = write_usage_batch(session, batch)
        summary.imported += result.inserted
        summary.skipped += result.duplicates

    def _client_id(self, ref: str) -> str:
        if ref not in self._clients:
            try:
                with self._db.session() as session:
                    self._clients[ref] = get_client(session, ref).id
            except NotFound:
                self._clients[ref] = None
        client_id = self._clients[ref]
        if client_id is None:
            raise _Rejected(f"unknown client '{ref}'")
        return client_id

    def _model(self, name: str) -> ModelInfo | None:
        for model in self._models:
            if name in (model.id, model.model_name, *model.aliases):
                return model
        return None

    def _convert(self, source: SourceRow) -> UsageRecord:
        if source.data is None:
            raise _Rejected(source.problem or "unreadable row")
        data = source.data
        client_ref = _text(data, "client", "client_id", "client_name")
        if client_ref is None:
            raise _Rejected("client is missing")
        client_id = self._client_id(client_ref)
        created_at = _timestamp(data)
        model_name = _text(data, "model", "model_used")
        if model_name is None:
            raise _Rejected("model is missing")
        input_tokens = _int(data, "input_tokens", required=True)
        output_tokens = _int(data, "output_tokens", required=True)
        cached_tokens = _int(data, "cached_tokens", required=False)
        if cached_tokens > input_tokens:
            raise _Rejected("cached_tokens exceeds input_tokens")
        status = (_text(data, "status") or "success").lower()
        if status not in _STATUSES:
            raise _Rejected(f"status '{status}' is not success or error")
        model = self._model(model_name)
        cost_usd = _decimal(data, "cost_usd")
        price = None
        if model is not None:
            price = ModelPrice(
                model.input_price_per_1m, model.output_price_per_1m, model.cached_input_price_per_1m
            )
        if cost_usd is None:
            if price is None or not price.is_priced:
                raise _Rejected(f"model '{model_name}' has no registry price and no cost_usd")
            cost_usd = compute_cost(
                price,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cached_tokens=cached_tokens,
            ).usd
        cost_usd = quantize_money(cost_usd)
        rate = _decimal(data, "exchange_rate") or self._rate
        cost_brl = _decimal(data, "cost_brl")
        cost_brl = quantize_money(cost_brl) if cost_brl is not None else to_brl(cost_usd, rate)

        legacy_id = _text(data, "id", "legacy_id")
        content = "|".join(
            str(v)
            for v in (
                client_id,
                created_at.isoformat(),
                model_name,
                input_tokens,
                output_tokens,
                cached_tokens,
                _text(data, "conversation_id"),
                status,
            )
        )
        if legacy_id is not None:
            key = f"legacy-id:{legacy_id}"
        else:
            self._seen[content] += 1
            key = f"legacy-row:{content}#{self._seen[content]}"
        row_id = _row_id(created_at, key)
        model_id = model.id if model is not None else model_name
        row: dict[str, Any] = {
            "id": row_id,
            "client_id": client_id,
            "conversation_id": _text(data, "conversation_id"),
            "request_id": f"legacy-{legacy_id or row_id}"[:64],
            "model_requested": model_id,
            "model_used": model_id,
            "provider": model.provider if model is not None else None,
            "route": "legacy",
            "is_stream": False,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cached_tokens": cached_tokens,
            "cost_usd": cost_usd,
            "cost_brl": cost_brl,
            "exchange_rate": rate,
            "input_price_per_1m": price.input_per_1m if price else None,
            "output_price_per_1m": price.output_per_1m if price else None,
            "cached_input_price_per_1m": price.cached_input_per_1m if price else None,
            "unpriced": False,
            "latency_ms": _int(data, "latency_ms", required=False),
            "cache_hit": False,
            "saved_usd": Decimal(0),
            "saved_brl": Decimal(0),
            "fallback_attempts": 0,
            "status": status,
            "created_at": created_at,
        }
        return UsageRecord(row=row, budget_amount=Decimal(0), cache_lookup=False)
