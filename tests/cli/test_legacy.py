"""``ai-gateway import-legacy-usage``: CSV and JSON lines, idempotent re-runs, bad rows
reported by line and never fatal, budgets untouched."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from ai_gateway.storage.budgets import effective_budget
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import UsageLog
from tests.cli.conftest import RunCli

HEADER = (
    "client,created_at,model,input_tokens,output_tokens,cost_usd,conversation_id,latency_ms,status"
)
CSV = (
    HEADER
    + """
acme,2025-01-10T12:00:00Z,openai/gpt-4o-mini,1000,500,,whatsapp:5511999,850,success
acme,2025-01-10T12:01:00,gpt-4o,2000,100,0.0123,whatsapp:5511999,900,success
{client_id},1736510520,groq/llama-3.3-70b,300,40,,,120,error
"""
)


def _client(run_cli: RunCli) -> str:
    doc = run_cli("clients", "create", "--name", "acme", "--plan", "pro", "--json").json()
    return str(doc["client"]["id"])


def _rows(db: Database) -> list[UsageLog]:
    with db.session() as s:
        return list(s.scalars(select(UsageLog).order_by(UsageLog.created_at)))


def test_csv_import_prices_from_the_registry_and_is_idempotent(
    run_cli: RunCli, db: Database, tmp_path: Path
) -> None:
    client_id = _client(run_cli)
    source = tmp_path / "usage.csv"
    source.write_text(CSV.format(client_id=client_id))
    first = run_cli("import-legacy-usage", str(source), "--json")
    assert first.exit_code == 0, first.stderr
    assert first.json() == {"imported": 3, "skipped": 0, "rejected": 0, "rejections": []}
    assert "importing" in first.stderr  # the progress bar goes to stderr

    rows = _rows(db)
    assert [r.route for r in rows] == ["legacy"] * 3
    priced, given, errored = rows
    # 1000 x 0.15 + 500 x 0.60 per 1M tokens, at the 5.00 fallback rate
    assert priced.cost_usd == Decimal("0.00045") and priced.exchange_rate == Decimal("5.00")
    assert priced.cost_brl == Decimal("0.00225")
    assert priced.conversation_id == "whatsapp:5511999" and priced.latency_ms == 850
    assert given.model_used == "openai/gpt-4o" and given.cost_usd == Decimal("0.0123")
    assert errored.status == "error" and errored.provider == "groq"
    with db.session() as s:
        assert effective_budget(s, client_id=client_id).current_usage == 0

    again = run_cli("import-legacy-usage", str(source))
    assert again.exit_code == 0
    assert "0 imported, 3 skipped (already there), 0 rejected" in again.stdout
    assert len(_rows(db)) == 3


def test_jsonl_with_bad_rows_reports_lines_and_keeps_going(
    run_cli: RunCli, db: Database, tmp_path: Path
) -> None:
    _client(run_cli)
    good = {
        "id": "L-1",
        "client": "acme",
        "created_at": "2025-02-01T00:00:00+00:00",
        "model": "anthropic/claude-3-5-sonnet",
        "input_tokens": 10,
        "output_tokens": 20,
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "id": "L-2", "client": "nobody"}),
        json.dumps({**good, "id": "L-3", "input_tokens": -4}),
        "",
        json.dumps({**good, "id": "L-4", "model": "mystery/model"}),
        json.dumps({**good, "id": "L-5", "created_at": "yesterday"}),
        json.dumps({**good, "id": "L-6", "model": "mystery/model", "cost_usd": "0.5"}),
        json.dumps(good),  # the same legacy id again: one row
    ]
    source = tmp_path / "usage.jsonl"
    source.write_text("\n".join(lines) + "\n")
    result = run_cli("import-legacy-usage", str(source), "--json")
    assert result.exit_code == 0, result.stderr
    doc = result.json()
    assert (doc["imported"], doc["skipped"], doc["rejected"]) == (2, 1, 5)
    reasons = {r["line"]: r["reason"] for r in doc["rejections"]}
    assert reasons[2] == "not valid JSON"
    assert reasons[3] == "unknown client 'nobody'"
    assert "input_tokens '-4'" in reasons[4]
    assert "no registry price and no cost_usd" in reasons[6]
    assert "created_at 'yesterday'" in reasons[7]
    assert sorted(r.request_id for r in _rows(db)) == ["legacy-L-1", "legacy-L-6"]

    rerun = run_cli("import-legacy-usage", str(source), "--json").json()
    assert (rerun["imported"], rerun["skipped"], rerun["rejected"]) == (0, 3, 5)


def test_help_documents_the_columns(run_cli: RunCli) -> None:
    out = run_cli("import-legacy-usage", "--help").stdout
    for column in ("client", "created_at", "input_tokens", "cost_usd", "conversation_id"):
        assert column in out
