"""LIMIT_MAX fits every budget column exactly on both engines, with room above it for the
usage counter, which may pass the limit by the calls in flight."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from ai_gateway.rules.budget_rules import LIMIT_MAX
from ai_gateway.storage.budgets import effective_budget
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import ClientBudget, PlanBudget
from ai_gateway.storage.types import Money
from tests.fakes.seeding import add_client

COLUMNS = [
    ClientBudget.__table__.c.limit_value,
    ClientBudget.__table__.c.current_usage,
    PlanBudget.__table__.c.limit_value,
    PlanBudget.__table__.c.client_max,
]


def test_the_maximum_is_below_what_every_budget_column_holds() -> None:
    for column in COLUMNS:
        assert isinstance(column.type, Money)
        # 922,337,203.6854775807 on SQLite (a 64-bit count of 1e-10 units)
        assert column.type.max_value == Decimal("922337203.6854775807"), column
        assert column.type.max_value - LIMIT_MAX > 20_000_000, column


def test_the_maximum_and_the_columns_own_maximum_round_trip_exactly(db: Database) -> None:
    client = add_client(db)
    usage = ClientBudget.__table__.c.current_usage.type.max_value
    limit = LIMIT_MAX - Decimal("0.0000000001")
    with db.write() as s:
        s.execute(
            update(ClientBudget)
            .where(ClientBudget.client_id == client.id)
            .values(
                is_custom=True,
                budget_type="usd",
                period="monthly",
                limit_value=limit,
                alert_thresholds=[100],
                pause_at_limit=False,
                current_usage=usage,
            )
        )
    with db.session() as s:
        budget = effective_budget(s, client_id=client.id)
    assert (budget.limit_value, budget.current_usage) == (limit, usage)
