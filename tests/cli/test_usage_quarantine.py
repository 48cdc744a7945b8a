"""``ai-gateway usage quarantine list|replay``: the operator sees the refused rows with
the reason and, once the cause is fixed, writes them to the log without billing twice."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from ai_gateway.storage.budgets import effective_budget
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import UsageLog, new_id
from ai_gateway.storage.usage import UsageRecord, quarantine_usage
from tests.cli.conftest import RunCli


def _record(client_id: str, **fields: object) -> UsageRecord:
    row: dict[str, object] = {
        "id": new_id(),
        "client_id": client_id,
        "request_id": new_id(),
        "model_requested": "openai/gpt-4o",
        "route": "direct",
        "status": "success",
        "cost_usd": Decimal("0.01"),
        "cost_brl": Decimal("0.05"),
        "exchange_rate": Decimal("5"),
        "created_at": datetime.now(UTC),
    }
    row.update(fields)
    return UsageRecord(row=row, budget_amount=Decimal("0.05"))


def test_list_and_replay(run_cli: RunCli, database_url: str) -> None:
    doc = run_cli("clients", "create", "--name", "acme", "--plan", "pro", "--json").json()
    client_id = str(doc["client"]["id"])
    fixed, broken = _record(client_id), _record(client_id, request_id=None)
    db = Database(database_url)
    try:
        with db.write() as s:
            quarantine_usage(s, [fixed], reason="DataError: value too long", apply_budget=True)
            quarantine_usage(s, [broken], reason="IntegrityError: NOT NULL", apply_budget=True)
        listed = run_cli("usage", "quarantine", "list", "--json")
        assert listed.exit_code == 0
        body = listed.json()
        assert body["count"] == 2
        assert {d["reason"] for d in body["data"]} == {
            "DataError: value too long",
            "IntegrityError: NOT NULL",
        }
        assert "2 row(s) in quarantine" in run_cli("usage", "quarantine", "list").stdout

        replayed = run_cli("usage", "quarantine", "replay", "--json").json()
        assert (replayed["replayed"], replayed["still_refused"]) == (1, 1)
        assert "IntegrityError" in replayed["errors"][broken.id]
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(UsageLog)) == 1
            # counted once, when it was quarantined
            assert effective_budget(s, client_id=client_id).current_usage == Decimal("0.10")
        assert run_cli("usage", "quarantine", "list", "--json").json()["count"] == 1
    finally:
        db.dispose()
