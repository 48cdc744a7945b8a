"""No usage row can poison the writer: a batch the database refuses is split until the
refused rows are alone; those go to the quarantine table with the database's reason, the
others land, and the budget still moves by every row's amount. The spool replay follows
the same rule, and every log line says which error happened, in either sink."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ai_gateway.metering.usage_sinks import BatchSink, ProcessSink, ThreadSink
from ai_gateway.metering.usage_writer import UsageWriter
from ai_gateway.storage.budgets import effective_budget
from ai_gateway.storage.clients import ClientInfo, create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import UsageLog, UsageQuarantine, new_id
from ai_gateway.storage.usage import UsageRecord, list_quarantined

#: A database nobody listens on (port 9 refuses at once): the writer's outage.
UNREACHABLE = "postgresql://nobody@127.0.0.1:9/none"
COST = Decimal("0.0012345000")


def _record(client_id: str, **fields: object) -> UsageRecord:
    row: dict[str, object] = {
        "id": new_id(),
        "client_id": client_id,
        "request_id": new_id(),
        "model_requested": "openai/gpt-4o",
        "model_used": "openai/gpt-4o",
        "provider": "openai",
        "route": "direct",
        "status": "success",
        "input_tokens": 10,
        "output_tokens": 5,
        "cost_usd": COST,
        "cost_brl": COST * 5,
        "exchange_rate": Decimal("5.00"),
        "created_at": datetime.now(UTC),
    }
    row.update(fields)
    return UsageRecord(row=row, budget_amount=COST * 5)


#: Rows each engine really refuses (no mock): what a bug or a hostile value could queue.
POISONS: dict[str, dict[str, object]] = {
    # the finding, on PostgreSQL (SQLite does not enforce VARCHAR lengths)
    "long_model": {"model_requested": "m" * 600},
    # PostgreSQL text cannot hold NUL bytes
    "nul_byte": {"error_message": "upstream said \x00 nothing"},
    # both engines: a value the Money type refuses (beyond NUMERIC(28, 10))
    "money_overflow": {"cost_usd": Decimal("1e20")},
    # both engines: NOT NULL
    "no_request_id": {"request_id": None},
}
_PG_ONLY = {"long_model", "nul_byte"}


@pytest.fixture
def client(db: Database) -> ClientInfo:
    with db.write() as s:
        return create_client(s, name="tenant", plan="pro")


def _poison(kind: str, database_url: str, client_id: str) -> UsageRecord:
    if kind in _PG_ONLY and database_url.startswith("sqlite"):
        pytest.skip("SQLite accepts this value")
    return _record(client_id, **POISONS[kind])


def _counts(db: Database, client_id: str) -> tuple[int, int, Decimal]:
    with db.session() as s:
        logged = s.scalar(select(func.count()).select_from(UsageLog)) or 0
        quarantined = s.scalar(select(func.count()).select_from(UsageQuarantine)) or 0
        usage = effective_budget(s, client_id=client_id).current_usage
    return logged, quarantined, usage


async def _write_all(writer: UsageWriter, records: list[UsageRecord]) -> None:
    writer.start()
    for record in records:
        writer.submit(record)
    try:
        async with asyncio.timeout(60):  # a shared CI machine can be slow
            await writer.drain()
    finally:
        await writer.stop()


@pytest.mark.parametrize("kind", sorted(POISONS))
async def test_a_refused_row_is_quarantined_and_the_batch_lands(
    db: Database, database_url: str, client: ClientInfo, tmp_path: Path, kind: str
) -> None:
    poison = _poison(kind, database_url, client.id)
    good = [_record(client.id) for _ in range(40)]
    writer = UsageWriter(ThreadSink(db), spool_dir=tmp_path, flush_interval=0.05)
    await _write_all(writer, [*good[:17], poison, *good[17:]])

    logged, quarantined, usage = _counts(db, client.id)
    assert (logged, quarantined) == (40, 1)
    # The quarantined call was real usage: the budget moves by it too (a tenant must not
    # get free calls by making its rows unwritable).
    assert usage == COST * 5 * 41
    assert writer.quarantined == 1 and writer.backlog == 0
    with db.session() as s:
        [held] = list_quarantined(s, limit=10)
    assert held.id == poison.id and held.client_id == client.id and held.budget_applied
    assert "Error" in held.reason  # the database's own words, with the exception type
    assert not (tmp_path / "usage-spool.jsonl").exists()


async def test_a_refused_budget_amount_is_quarantined_without_it(
    db: Database, client: ClientInfo, tmp_path: Path
) -> None:
    poison = _record(client.id)
    poison.budget_amount = Decimal("1e20")  # beyond the budget's NUMERIC(28, 10)
    writer = UsageWriter(ThreadSink(db), spool_dir=tmp_path, flush_interval=0.05)
    await _write_all(writer, [_record(client.id), poison, _record(client.id)])
    assert _counts(db, client.id) == (2, 1, COST * 5 * 2)
    with db.session() as s:
        [held] = list_quarantined(s, limit=10)
    assert not held.budget_applied and "budget not moved" in held.reason


async def test_many_refused_rows_among_many_good_ones(
    db: Database, client: ClientInfo, tmp_path: Path
) -> None:
    records = [
        _record(client.id, request_id=None) if i % 97 == 0 else _record(client.id)
        for i in range(600)
    ]
    bad = sum(1 for r in records if r.row["request_id"] is None)
    writer = UsageWriter(ThreadSink(db), spool_dir=tmp_path, flush_interval=0.05)
    await _write_all(writer, records)
    logged, quarantined, usage = _counts(db, client.id)
    assert (logged, quarantined) == (600 - bad, bad)
    assert usage == COST * 5 * 600


async def test_a_spooled_batch_with_a_refused_row_replays(
    db: Database, database_url: str, client: ClientInfo, tmp_path: Path
) -> None:
    # An outage: nothing can be written, so shutdown spools every row to disk ...
    down = Database(UNREACHABLE)
    records = [_record(client.id) for _ in range(30)]
    records.insert(11, _record(client.id, **POISONS["money_overflow"]))
    records.insert(20, _record(client.id, request_id=None))
    writer = UsageWriter(ThreadSink(down), spool_dir=tmp_path, flush_interval=0.05)
    writer.start()
    for record in records:
        writer.submit(record)
    await asyncio.sleep(0.2)
    await writer.stop()
    down.dispose()
    spool = tmp_path / "usage-spool.jsonl"
    assert len(spool.read_bytes().splitlines()) == 32

    # ... and after the restart the replay lands the good rows and holds the two others.
    again = UsageWriter(ThreadSink(db), spool_dir=tmp_path, flush_interval=0.05)
    await _write_all(again, [])
    logged, quarantined, usage = _counts(db, client.id)
    assert (logged, quarantined) == (30, 2)
    assert usage == COST * 5 * 32  # the refused rows' amounts are still billed
    assert not spool.exists() and not spool.with_suffix(".replaying").exists()
    # Replaying the same spool again (a crash before the unlink) changes nothing.
    third = UsageWriter(ThreadSink(db), spool_dir=tmp_path, flush_interval=0.05)
    third._spool_out(records)
    await _write_all(third, [])
    assert _counts(db, client.id) == (30, 2, usage)


@pytest.fixture
def usage_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.WARNING, logger="ai_gateway.usage")
    yield caplog


async def test_the_process_sink_logs_the_refusal_and_the_outage(
    db: Database,
    database_url: str,
    client: ClientInfo,
    tmp_path: Path,
    usage_log: pytest.LogCaptureFixture,
) -> None:
    sink: BatchSink = ProcessSink(database_url)
    writer = UsageWriter(sink, spool_dir=tmp_path, flush_interval=0.05)
    poison = _record(client.id, request_id=None)
    await _write_all(writer, [_record(client.id), poison, _record(client.id)])
    assert _counts(db, client.id)[:2] == (2, 1)
    messages = [r.getMessage() for r in usage_log.records]
    quarantine = [m for m in messages if "quarantine" in m]
    assert quarantine and "IntegrityError" in quarantine[0] and "request_id" in quarantine[0]

    usage_log.clear()
    down = UsageWriter(ProcessSink(UNREACHABLE), spool_dir=tmp_path / "down", flush_interval=0.05)
    down.start()
    down.submit(_record(client.id))
    for _ in range(200):
        if any("flush failed" in r.getMessage() for r in usage_log.records):
            break
        await asyncio.sleep(0.05)
    await down.stop()
    [failed, *_] = [r.getMessage() for r in usage_log.records if "flush failed" in r.getMessage()]
    assert "OperationalError" in failed and "127.0.0.1" in failed


async def test_the_gauges_show_the_rows_waiting_during_an_outage(
    client: ClientInfo, tmp_path: Path
) -> None:
    from prometheus_client import generate_latest

    from ai_gateway.metrics import GatewayMetrics

    down = Database(UNREACHABLE)
    writer = UsageWriter(
        ThreadSink(down), spool_dir=tmp_path, flush_interval=0.05, max_memory_rows=4
    )
    metrics = GatewayMetrics()
    metrics.watch_usage(backlog=lambda: writer.backlog, spooled=lambda: writer.spooled)
    writer.start()
    try:
        for _ in range(3):
            writer.submit(_record(client.id))
        await asyncio.sleep(0.3)  # flushes fail meanwhile
        text = generate_latest(metrics.registry).decode()
        assert "ai_gateway_usage_queue 3.0" in text and "ai_gateway_usage_spooled 0.0" in text
        for _ in range(5):  # past max_memory_rows: the oldest go to the spool file
            writer.submit(_record(client.id))
        writer.flush_soon()
        for _ in range(100):
            if writer.spooled:
                break
            await asyncio.sleep(0.05)
        text = generate_latest(metrics.registry).decode()
        queued, spooled = writer.backlog, writer.spooled
        assert queued + spooled == 8 and spooled > 0
        assert f"ai_gateway_usage_queue {queued}.0" in text
        assert f"ai_gateway_usage_spooled {spooled}.0" in text
    finally:
        await writer.stop()
        down.dispose()


def test_a_row_is_fitted_to_its_columns() -> None:
    from ai_gateway.storage.usage import fit_usage_row

    row = fit_usage_row(
        {
            "model_requested": "m" * 600,
            "upstream_request_id": "r" * 900,
            "conversation_id": "c\x00" * 300,
            "error_message": "bad \x00 byte " + "e" * 10_000,
            "input_tokens": 7,
        }
    )
    assert row["model_requested"] == "m" * 128
    assert row["upstream_request_id"] == "r" * 200
    assert row["conversation_id"] == "c" * 200
    assert "\x00" not in row["error_message"] and row["input_tokens"] == 7


async def test_a_row_that_cannot_be_quarantined_is_kept_not_lost(tmp_path: Path) -> None:
    from sqlalchemy import text

    from ai_gateway.storage import migrate

    db = Database(f"sqlite:///{tmp_path / 'broken.db'}")
    migrate.upgrade(db)
    with db.write() as s:
        client = create_client(s, name="tenant", plan="pro")
        s.execute(text("DROP TABLE gateway_usage_quarantine"))  # a half-migrated database
    writer = UsageWriter(ThreadSink(db), spool_dir=tmp_path, flush_interval=0.05)
    writer.start()
    poison = _record(client.id, request_id=None)
    for record in (_record(client.id), poison, _record(client.id)):
        writer.submit(record)
    await asyncio.sleep(0.5)
    try:
        with db.session() as s:
            # the half before the refused row landed; the refused row and what follows it
            # wait (idempotent retries), however long the database stays broken
            assert s.scalar(select(func.count()).select_from(UsageLog)) == 1
        assert writer.backlog == 3 and writer.quarantined == 0  # retried, never dropped
    finally:
        await writer.stop()
        db.dispose()
    spooled = (tmp_path / "usage-spool.jsonl").read_bytes().splitlines()
    assert len(spooled) == 3 and poison.id.encode() in b"".join(spooled)


def test_a_worker_process_sets_up_its_own_log_lines(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    settings_factory: object,  # for its clean AI_GATEWAY_* environment
) -> None:
    """``serve --workers N`` runs the app factory in fresh processes: it must set up the
    JSON log lines there, or a flush warning prints without its fields."""
    import json

    from ai_gateway.app import create_app_from_env

    monkeypatch.setenv("AI_GATEWAY_DATA_DIR", str(tmp_path))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        root.handlers[:] = []
        create_app_from_env()
        logging.getLogger("ai_gateway.usage").warning(
            "usage flush failed (%s); %d rows kept for retry",
            "DataError: too long",
            3,
            extra={"error": "DataError: too long"},
        )
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert line["error"] == "DataError: too long" and "DataError" in line["msg"]
