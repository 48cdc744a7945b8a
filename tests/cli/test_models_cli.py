"""``ai-gateway models add|set|disable``: validated like the REST API, audited, priced
with history, and seen by a running gateway through the config version."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import AuditLog, ModelPriceHistory, SharedGatewayConfig
from tests.cli.conftest import RunCli


def _version(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(SharedGatewayConfig.version)) or 0)


def test_add_set_disable_are_audited_and_keep_price_history(run_cli: RunCli, db: Database) -> None:
    before = _version(db)
    added = run_cli(
        "models", "add", "openai/gpt-test", "--input-price", "1.25", "--output-price", "5",
        "--capability", "chat", "--capability", "vision", "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    doc = added.json()
    assert doc["provider"] == "openai" and doc["model_name"] == "gpt-test"
    assert Decimal(doc["input_price_per_1m"]) == Decimal("1.25") and doc["is_active"]
    assert doc["capabilities"] == ["chat", "vision"]

    changed = run_cli("models", "set", "openai/gpt-test", "--output-price", "6.5", "--json")
    assert changed.exit_code == 0, changed.stderr
    assert Decimal(changed.json()["output_price_per_1m"]) == Decimal("6.5")

    disabled = run_cli("models", "disable", "openai/gpt-test", "--json")
    assert disabled.exit_code == 0 and disabled.json()["is_active"] is False
    listed = run_cli("models", "list", "--json").json()
    assert "openai/gpt-test" not in [m["id"] for m in listed]
    assert run_cli("models", "set", "openai/gpt-test", "--active", "--json").json()["is_active"]

    with db.session() as s:
        actions = list(
            s.scalars(
                select(AuditLog.action)
                .where(AuditLog.target == "openai/gpt-test")
                .order_by(AuditLog.id)
            )
        )
        prices = list(
            s.scalars(
                select(ModelPriceHistory.output_price_per_1m)
                .where(ModelPriceHistory.model_id == "openai/gpt-test")
                .order_by(ModelPriceHistory.id)
            )
        )
    assert actions == ["model.create", "model.update", "model.deactivate", "model.update"]
    assert prices == [Decimal(5), Decimal("6.5")]
    assert _version(db) == before + 4  # every write reloads the running gateways


def test_bad_input_is_refused_with_the_api_rules(run_cli: RunCli, db: Database) -> None:
    cases = [
        (("models", "add", "nope"), "id"),
        (("models", "add", "acme/x", "--input-price", "1"), "unknown provider 'acme'"),
        (("models", "add", "openai/x", "--input-price", "-1"), "--input-price"),
        (("models", "add", "openai/x", "--output-price", "abc"), "--output-price"),
        (("models", "add", "openai/gpt-4o"), "exists already"),
        (("models", "set", "openai/unknown", "--input-price", "1"), "no model"),
        (("models", "disable", "openai/unknown"), "no model"),
    ]
    before = _version(db)
    for args, words in cases:
        result = run_cli(*args)
        assert result.exit_code != 0, args
        assert words in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
    assert run_cli("models", "set", "openai/gpt-4o").exit_code == 2  # nothing to change
    assert _version(db) == before


def test_simulated_model_is_seeded_active_and_can_be_disabled(run_cli: RunCli) -> None:
    models = {m["id"]: m for m in run_cli("models", "list", "--json").json()}
    assert models["simulated/demo-chat"]["provider"] == "simulated"
    assert run_cli("models", "disable", "simulated/demo-chat").exit_code == 0
    assert "simulated/demo-chat" not in run_cli("models", "list").stdout
