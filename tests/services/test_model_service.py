"""``ModelService``, the one owner of registry changes: a refused model saves nothing, a
price change is kept in the price history, each change is audited and published; on
SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from ai_gateway.errors import Conflict, InvalidRequest
from ai_gateway.storage.tables import AiModel, AuditLog, ModelPriceHistory
from tests.harness import Harness

ACTOR = "admin-key:test"
VALUES = {
    "provider": "openai",
    "model_name": "gpt-svc",
    "display_name": "Svc",
    "input_price_per_1m": Decimal("1000.50"),
    "output_price_per_1m": Decimal("2"),
}


async def test_add_change_disable_enable(harness: Harness) -> None:
    published: list[str | None] = []
    harness.gateway.changes.subscribe("models", published.append)
    service = harness.gateway.model_service
    with pytest.raises(InvalidRequest) as caught:
        await service.add_model("acme/x", actor=ACTOR, values={**VALUES, "provider": "acme"})
    assert caught.value.code == "unknown_provider"
    with harness.db.session() as s:
        assert s.get(AiModel, "acme/x") is None

    model = await service.add_model("openai/gpt-svc", actor=ACTOR, values=VALUES)
    assert model.input_price_per_1m == Decimal("1000.50")
    with pytest.raises(Conflict):
        await service.add_model("openai/gpt-svc", actor=ACTOR, values=VALUES)
    changed = await service.change_model(
        "openai/gpt-svc", actor=ACTOR, changes={"output_price_per_1m": Decimal("3")}
    )
    assert changed.output_price_per_1m == Decimal("3")
    with pytest.raises(InvalidRequest) as caught:
        await service.change_model("openai/gpt-svc", actor=ACTOR, changes={"kind": None})
    assert caught.value.code == "field_required"
    assert not (await service.deactivate("openai/gpt-svc", actor=ACTOR)).is_active
    enabled = await service.change_model("openai/gpt-svc", actor=ACTOR, changes={"is_active": True})
    assert enabled.is_active

    with harness.db.session() as s:
        audits = s.scalars(
            select(AuditLog).where(AuditLog.target == "openai/gpt-svc").order_by(AuditLog.id)
        ).all()
        prices = s.scalars(
            select(ModelPriceHistory).where(ModelPriceHistory.model_id == "openai/gpt-svc")
        ).all()
    assert [a.action for a in audits] == [
        "model.create",
        "model.update",
        "model.deactivate",
        "model.update",
    ]
    assert {a.actor for a in audits} == {ACTOR}
    assert audits[0].details["input_price_per_1m"] == "1000.50"
    assert audits[1].details["repriced"] is True
    assert len(prices) == 2
    assert len(published) == 4
