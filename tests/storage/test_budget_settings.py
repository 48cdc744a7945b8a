"""Setting budgets: validated before anything is written, audited, unpausing when the
limit moves above the usage, and recomputed from the log when the unit or period moves."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ai_gateway.errors import InvalidRequest, NotFound
from ai_gateway.storage.budgets import (
    BudgetSettings,
    clear_client_budget,
    effective_budget,
    get_plan,
    reset_client_period,
    set_client_budget,
    set_paused,
    set_plan_budget,
)
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import AuditLog, ClientBudget
from tests.fakes.seeding import add_client, add_usage, set_counters

NOW = datetime(2025, 6, 11, 3, 0, tzinfo=UTC)  # June 11th, 00:00 in São Paulo
JUNE = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)
JULY = datetime(2025, 7, 1, 3, 0, tzinfo=UTC)


def audits(db: Database, action: str | None = None) -> int:
    query = select(func.count()).select_from(AuditLog)
    if action:
        query = query.where(AuditLog.action == action)
    with db.session() as s:
        return int(s.scalar(query) or 0)


def brl(limit: str, **kw: object) -> BudgetSettings:
    return BudgetSettings(budget_type="brl", limit=Decimal(limit), period="monthly", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("settings", "param"),
    [
        (BudgetSettings("brl", Decimal(-1), "monthly"), "limit"),
        (BudgetSettings("brl", Decimal(0), "monthly"), "limit"),
        (BudgetSettings("eur", Decimal(10), "monthly"), "budget_type"),
        (BudgetSettings("brl", Decimal(10), "yearly"), "period"),
        (BudgetSettings("brl", Decimal(10), "monthly", (0, 50)), "alert_thresholds"),
        (BudgetSettings("brl", Decimal(10), "monthly", (80, 101)), "alert_thresholds"),
        (BudgetSettings("brl", Decimal(10), "monthly", (90, 80)), "alert_thresholds"),
        (BudgetSettings("tokens", Decimal("10.5"), "daily"), "limit"),
    ],
)
def test_invalid_settings_write_nothing(db: Database, settings: BudgetSettings, param: str) -> None:
    client = add_client(db)
    with pytest.raises(InvalidRequest) as raised, db.write() as s:
        set_client_budget(s, client_id=client.id, settings=settings, actor="t")
    assert raised.value.param == param
    with pytest.raises(InvalidRequest), db.write() as s:
        set_plan_budget(s, plan="pro", settings=settings, actor="t")
    with db.session() as s:
        assert s.get(ClientBudget, client.id).is_custom is False  # type: ignore[union-attr]
        assert get_plan(s, "pro").limit_value == Decimal(500)
    assert audits(db) == 0


def test_own_budget_then_back_to_the_plan(db: Database) -> None:
    client = add_client(db, plan="basic")
    with db.write() as s:
        own = set_client_budget(
            s,
            client_id=client.id,
            settings=brl("250.50", alert_thresholds=(50, 100), pause_at_limit=False),
            actor="admin:x",
            now=NOW,
        )
    assert (own.is_custom, own.limit_value, own.alert_thresholds) == (
        True,
        Decimal("250.50"),
        [50, 100],
    )
    assert own.pause_at_limit is False
    with db.write() as s:
        back = clear_client_budget(s, client_id=client.id, actor="admin:x", now=NOW)
    assert (back.is_custom, back.limit_value, back.pause_at_limit) == (False, Decimal(100), True)
    assert back.alert_thresholds == [80, 90, 100]
    assert audits(db, "budget.set") == 1 and audits(db, "budget.clear") == 1


def test_plan_default_applies_to_followers_only(db: Database) -> None:
    follower = add_client(db, "follower", plan="pro")
    custom = add_client(db, "custom", plan="pro")
    with db.write() as s:
        set_client_budget(s, client_id=custom.id, settings=brl("7"), actor="t", now=NOW)
        plan = set_plan_budget(
            s, plan="pro", settings=brl("900", pause_at_limit=True), actor="t", now=NOW
        )
    assert (plan.limit_value, plan.pause_at_limit) == (Decimal(900), True)
    with db.session() as s:
        assert effective_budget(s, client_id=follower.id).limit_value == Decimal(900)
        assert effective_budget(s, client_id=custom.id).limit_value == Decimal(7)
    with pytest.raises(NotFound), db.write() as s:
        set_plan_budget(s, plan="gold", settings=brl("1"), actor="t")
    assert audits(db, "plan_budget.set") == 1
    with db.write() as s:  # PostgreSQL keeps plan rows between tests: the seed's values back
        set_plan_budget(s, plan="pro", settings=brl("500"), actor="t", now=NOW)


def test_raising_the_limit_above_usage_unpauses(db: Database) -> None:
    client = add_client(db)
    with db.write() as s:
        set_client_budget(s, client_id=client.id, settings=brl("40"), actor="t", now=NOW)
    set_counters(db, client.id, current_usage=Decimal(50), is_paused=True)
    with db.write() as s:
        still = set_client_budget(s, client_id=client.id, settings=brl("45"), actor="t", now=NOW)
    assert still.is_paused
    with db.write() as s:
        lifted = set_client_budget(s, client_id=client.id, settings=brl("100"), actor="t", now=NOW)
    assert not lifted.is_paused and lifted.current_usage == Decimal(50)
    assert audits(db, "budget.unpause") == 1


def test_a_new_unit_recomputes_usage_from_the_log(db: Database) -> None:
    client = add_client(db)
    set_counters(db, client.id, current_usage=Decimal(3), period_start=JUNE, next_reset_at=JULY)
    add_usage(db, client.id, datetime(2025, 6, 5, tzinfo=UTC), count=3, tokens=1000)
    add_usage(db, client.id, datetime(2025, 5, 20, tzinfo=UTC), count=2, tokens=1000)  # May
    with db.write() as s:
        tokens = set_client_budget(
            s,
            client_id=client.id,
            settings=BudgetSettings("tokens", Decimal(100_000), "monthly"),
            actor="t",
            now=NOW,
        )
    assert tokens.current_usage == Decimal(3000)
    assert (tokens.period_start, tokens.next_reset_at) == (JUNE, JULY)
    with db.write() as s:
        usd = set_client_budget(
            s,
            client_id=client.id,
            settings=BudgetSettings("usd", Decimal(10), "monthly"),
            actor="t",
            now=NOW,
        )
    assert usd.current_usage == Decimal("0.03")


def test_pause_and_reset_are_audited_once(db: Database) -> None:
    client = add_client(db)
    set_counters(db, client.id, current_usage=Decimal(10), period_start=JUNE, next_reset_at=JULY)
    with db.write() as s:
        assert set_paused(s, client_id=client.id, paused=True, actor="t", reason="limit")
        assert not set_paused(s, client_id=client.id, paused=True, actor="t", reason="limit")
    with db.write() as s:
        assert (
            reset_client_period(s, client_id=client.id, actor="t", now=NOW, only_if_due=True)
            is None
        )
        fresh = reset_client_period(s, client_id=client.id, actor="t", now=NOW)
    assert fresh is not None
    assert (fresh.current_usage, fresh.is_paused, fresh.period_start) == (Decimal(0), False, JUNE)
    assert audits(db, "budget.pause") == 1 and audits(db, "budget.reset") == 1
