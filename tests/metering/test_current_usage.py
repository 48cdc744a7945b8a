"""The current-usage view: the numbers the API, dashboard and CLI show."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from ai_gateway.metering.current_usage import current_usage
from ai_gateway.storage.budgets import BudgetSettings, set_client_budget
from ai_gateway.storage.db import Database
from tests.fakes.seeding import add_client, set_counters

JUNE = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)  # June 1st, 00:00 in São Paulo
JULY = datetime(2025, 7, 1, 3, 0, tzinfo=UTC)


def test_usage_limit_percentage_days_left_and_projection(db: Database) -> None:
    client = add_client(db)
    with db.write() as s:
        set_client_budget(
            s,
            client_id=client.id,
            settings=BudgetSettings("brl", Decimal(100), "monthly", (80, 100), True),
            actor="t",
            now=JUNE,
        )
    set_counters(db, client.id, current_usage=Decimal(25), period_start=JUNE, next_reset_at=JULY)
    ten_days_in = datetime(2025, 6, 11, 3, 0, tzinfo=UTC)
    with db.session() as s:
        view = current_usage(s, client_id=client.id, now=ten_days_in)
    assert (view.usage, view.limit, view.remaining) == (Decimal(25), Decimal(100), Decimal(75))
    assert view.percentage == Decimal("25.00")
    assert (view.period_start, view.period_end) == (JUNE, JULY)
    assert view.days_left == 20  # June 11th (local) to July 1st
    assert view.projected_usage == Decimal(75)  # 25 in 10 of 30 days
    assert view.projected_percentage == Decimal("75.00")
    assert (view.budget_type, view.period, view.is_custom) == ("brl", "monthly", True)
    assert view.alert_thresholds == [80, 100] and view.pause_at_limit


def test_over_the_limit_and_live_usage(db: Database) -> None:
    client = add_client(db, plan="free")  # 10 BRL a month
    set_counters(db, client.id, current_usage=Decimal(12), period_start=JUNE, next_reset_at=JULY)
    now = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
    with db.session() as s:
        view = current_usage(s, client_id=client.id, now=now, live_usage=Decimal(13))
    assert (view.usage, view.remaining, view.percentage) == (
        Decimal(13),
        Decimal(0),
        Decimal("130.00"),
    )
    assert view.days_left == 1


def test_an_ended_period_shows_the_new_empty_one(db: Database) -> None:
    client = add_client(db)
    set_counters(db, client.id, current_usage=Decimal(400), period_start=JUNE, next_reset_at=JULY)
    with db.session() as s:
        view = current_usage(s, client_id=client.id, now=datetime(2025, 7, 2, 12, tzinfo=UTC))
    assert view.usage == Decimal(0) and view.percentage == Decimal("0.00")
    assert view.period_start == JULY
