import importlib

import pytest

MODULES = [
    "ai_gateway.metering",
    "ai_gateway.metering.pricing",
    "ai_gateway.metering.currency",
    "ai_gateway.rules.periods",
    "ai_gateway.rules.budget_rules",
    "ai_gateway.rules.budget_state",
    "ai_gateway.rules.money",
    "ai_gateway.services.budgets",
    "ai_gateway.metering.alerts",
    "ai_gateway.metering.alerts.base",
    "ai_gateway.metering.alerts.email",
    "ai_gateway.metering.alerts.webhook",
    "ai_gateway.storage.exchange_rates",
]


@pytest.mark.parametrize("name", MODULES)
def test_the_public_surface_is_declared_and_real(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} says what it is for"
    exported = module.__all__
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n))
    for member in exported:
        assert hasattr(module, member), f"{name}.{member}"
        assert not member.startswith("_")
