"""``budgets set --plan PLAN --client-max N`` and what it refuses, through the real CLI."""

from __future__ import annotations

from decimal import Decimal

from tests.cli.conftest import RunCli


def test_a_plan_ceiling_is_set_shown_and_enforced(run_cli: RunCli) -> None:
    run_cli("clients", "create", "--name", "acme", "--plan", "pro", "--json")
    result = run_cli("budgets", "set", "--plan", "pro", "--client-max", "800", "--json")
    assert result.exit_code == 0, result.stderr
    assert Decimal(result.json()["client_max"]) == 800
    shown = run_cli("budgets", "show", "--plan", "pro", "--json").json()
    assert Decimal(shown["client_max"]) == 800 and shown["budget_type"] == "brl"
    client_view = run_cli("budgets", "show", "--client", "acme", "--json").json()
    assert Decimal(client_view["plan_client_max"]) == 800
    assert "client_max" in run_cli("budgets", "show", "--plan", "pro").stdout

    above = run_cli(
        "budgets",
        "set",
        "--client",
        "acme",
        "--type",
        "brl",
        "--limit",
        "801",
        "--period",
        "monthly",
    )
    assert above.exit_code != 0
    assert "budget_above_plan_ceiling" in above.stderr or "800 brl" in above.stderr
    at = run_cli(
        "budgets",
        "set",
        "--client",
        "acme",
        "--type",
        "brl",
        "--limit",
        "800",
        "--period",
        "monthly",
        "--json",
    )
    assert at.exit_code == 0, at.stderr and Decimal(at.json()["limit"]) == 800

    cleared = run_cli("budgets", "set", "--plan", "pro", "--client-max", "none", "--json")
    assert cleared.exit_code == 0 and cleared.json()["client_max"] is None


def test_a_plan_budget_and_its_ceiling_at_once(run_cli: RunCli) -> None:
    both = run_cli(
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
        "--client-max",
        "500000",
        "--json",
    )
    assert both.exit_code == 0, both.stderr
    assert (Decimal(both.json()["limit_value"]), Decimal(both.json()["client_max"])) == (
        100000,
        500000,
    )
    # The ceiling is in the plan's unit: changing the unit asks for a new one.
    moved = run_cli(
        "budgets",
        "set",
        "--plan",
        "basic",
        "--type",
        "brl",
        "--limit",
        "100",
        "--period",
        "daily",
    )
    assert moved.exit_code != 0 and "client_max" in moved.stderr
    too_big = run_cli("budgets", "set", "--plan", "basic", "--client-max", "1e30")
    assert too_big.exit_code != 0 and "900000000" in too_big.stderr
