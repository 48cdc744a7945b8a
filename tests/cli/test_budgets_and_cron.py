"""``budgets set|show|reset`` and ``cron run``/``cron list`` through the real CLI."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import AuditLog
from tests.cli.conftest import RunCli
from tests.fakes.seeding import set_counters


def audit_count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(AuditLog)) or 0)


def test_set_show_and_reset_a_client_budget(run_cli: RunCli, db: Database) -> None:
    client = run_cli("clients", "create", "--name", "acme", "--plan", "pro", "--json").json()
    cid = client["client"]["id"]
    result = run_cli(
        "budgets",
        "set",
        "--client",
        "acme",
        "--type",
        "usd",
        "--limit",
        "12.50",
        "--period",
        "weekly",
        "--thresholds",
        "50,100",
        "--pause",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    view = result.json()
    assert (view["budget_type"], view["period"]) == ("usd", "weekly")
    assert Decimal(view["limit"]) == Decimal("12.50")
    assert view["alert_thresholds"] == [50, 100] and view["pause_at_limit"] is True

    set_counters(db, cid, current_usage=Decimal("5"), is_paused=True)
    shown = run_cli("budgets", "show", "--client", cid, "--json").json()
    assert [Decimal(shown[k]) for k in ("usage", "remaining", "percentage")] == [
        5,
        Decimal("7.5"),
        40,
    ]
    assert shown["is_paused"] is True and 1 <= shown["days_left"] <= 7

    reset = run_cli("budgets", "reset", "--client", "acme", "--json").json()
    assert Decimal(reset["usage"]) == 0 and reset["is_paused"] is False
    assert "usage" in run_cli("budgets", "show", "--client", "acme").stdout

    cleared = run_cli("budgets", "set", "--client", "acme", "--clear", "--json").json()
    assert (cleared["is_custom"], cleared["budget_type"]) == (False, "brl")
    assert Decimal(cleared["limit"]) == 500


def test_set_a_plan_default(run_cli: RunCli) -> None:
    result = run_cli(
        "budgets",
        "set",
        "--plan",
        "basic",
        "--type",
        "tokens",
        "--limit",
        "100000",
        "--period",
        "daily",
        "--no-pause",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert Decimal(result.json()["limit_value"]) == 100000
    assert result.json()["pause_at_limit"] is False
    # put the seed back (PostgreSQL keeps plan rows between tests)
    run_cli(
        "budgets",
        "set",
        "--plan",
        "basic",
        "--type",
        "brl",
        "--limit",
        "100",
        "--period",
        "monthly",
        "--pause",
    )


def test_bad_budgets_are_one_line_errors_and_write_nothing(run_cli: RunCli, db: Database) -> None:
    run_cli("clients", "create", "--name", "acme", "--plan", "pro")
    before = audit_count(db)
    base = ("budgets", "set", "--client", "acme", "--type", "brl", "--period", "monthly")
    for args, words in (
        ((*base, "--limit", "-5"), "greater than 0"),
        ((*base, "--limit", "abc"), "not a number"),
        ((*base, "--limit", "5", "--thresholds", "90,80"), "ascending"),
        ((*base, "--limit", "5", "--thresholds", "80,120"), "from 1 to 100"),
        (
            (
                "budgets",
                "set",
                "--plan",
                "gold",
                "--type",
                "brl",
                "--limit",
                "5",
                "--period",
                "daily",
            ),
            "no plan",
        ),
        (("budgets", "show", "--client", "nobody"), "no client"),
    ):
        result = run_cli(*args)
        assert result.exit_code == 1, args
        assert words in result.stderr and result.stderr.count("\n") == 1
    assert audit_count(db) == before
    shown = run_cli("budgets", "show", "--client", "acme", "--json").json()
    assert shown["is_custom"] is False


def test_cron_run_and_list(run_cli: RunCli) -> None:
    listed = run_cli("cron", "list", "--json").json()
    assert [j["job"] for j in listed] == [
        "sync-model-pricing",
        "check-gateway-alerts",
        "check-budget-alerts",
        "reset-budget-periods",
        "purge-stored-responses",
        "prune-usage-logs",
        "purge-request-bodies",
    ]
    result = run_cli("cron", "run", "check-budget-alerts", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["status"] == "ok"
    assert result.json()["result"] == {"clients_checked": 0, "alerts_sent": 0, "paused": []}
    unknown = run_cli("cron", "run", "nope")
    assert unknown.exit_code == 1 and "no job 'nope'" in unknown.stderr
    failed = run_cli(
        "cron",
        "run",
        "sync-model-pricing",
        env={"AI_GATEWAY_GATEWAY_BASE_URL": "http://127.0.0.1:9/v1"},
    )
    assert failed.exit_code == 1
    assert "fetching the models list failed" in failed.stderr and failed.stderr.count("\n") == 1


def test_webhook_secrets_are_sealed_per_client(run_cli: RunCli) -> None:
    cid = run_cli("clients", "create", "--name", "acme", "--plan", "pro", "--json").json()
    result = run_cli("secrets", "set-webhook", "acme", "--json", input="whsec-abcdefgh1234")
    assert result.exit_code == 0, result.stderr
    assert result.json()["id"] == f"webhook:{cid['client']['id']}"
    assert "whsec-abcdefgh1234" not in result.stdout
    admin = run_cli("secrets", "set-webhook", "admin", "--json", input="whsec-admin000001")
    assert admin.json()["id"] == "webhook:admin"


def test_models_sync_pricing_runs_the_pricing_job(run_cli: RunCli) -> None:
    failed = run_cli(
        "models", "sync-pricing", env={"AI_GATEWAY_GATEWAY_BASE_URL": "http://127.0.0.1:9/v1"}
    )
    assert failed.exit_code == 1
    assert "job 'sync-model-pricing' failed" in failed.stderr
