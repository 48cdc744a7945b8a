"""Every change path of the budget and rate-limit services, and the client routes that go
through the budget service, publishes on the change bus: the kind, and the client where
there is one (so every replica drops what it holds, not only the process that wrote)."""

from __future__ import annotations

from ai_gateway.changes import CHANGE_KINDS
from ai_gateway.storage.budgets import PlanCeiling
from tests.api.client import call
from tests.harness import Harness

BRL = {"budget_type": "brl", "period": "monthly", "alert_thresholds": [80, 100]}


def _record(h: Harness) -> list[tuple[str, str | None]]:
    seen: list[tuple[str, str | None]] = []
    for kind in CHANGE_KINDS:
        h.gateway.changes.subscribe(kind, lambda cid, kind=kind: seen.append((kind, cid)))  # type: ignore[misc]
    return seen


async def test_budget_writes_publish_budgets(harness: Harness) -> None:
    h = harness
    seen = _record(h)
    status, body = await call(h, "POST", "/api/budget/config", json=BRL | {"limit": "100"})
    assert status == 200, body
    assert ("budgets", h.client.id) in seen

    seen.clear()
    status, body = await call(h, "DELETE", "/api/budget/config")
    assert status == 200, body
    assert ("budgets", h.client.id) in seen

    seen.clear()
    await h.gateway.budget_service.reset_period(h.client.id, actor="test")
    assert ("budgets", h.client.id) in seen  # (a version poll may add a full invalidation)

    seen.clear()
    await h.gateway.budget_service.set_plan("enterprise", actor="test", ceiling=PlanCeiling(None))
    assert ("budgets", None) in seen  # (a version poll may add a full invalidation)


async def test_rate_limit_writes_publish_limits(harness: Harness) -> None:
    h = harness
    seen = _record(h)
    path = f"/api/clients/{h.client.id}/limits"
    status, body = await call(h, "PUT", path, admin=True, json={"rpm": 60})
    assert status == 200, body
    assert ("limits", h.client.id) in seen  # (a version poll may add a full invalidation)
    assert (await h.gateway.config.get()).rate_limits.clients[h.client.id].rpm == 60


async def test_client_changes_publish_clients(harness: Harness) -> None:
    h = harness
    seen = _record(h)
    path = f"/api/clients/{h.client.id}"
    status, body = await call(h, "PATCH", path, admin=True, json={"timezone": "UTC"})
    assert status == 200, body
    assert ("clients", h.client.id) in seen  # (a version poll may add a full invalidation)


async def test_operator_changes_publish(harness: Harness) -> None:
    """What the operator's pages do, over the REST routes they call."""
    h = harness
    seen = _record(h)
    key = h.admin_key
    status, body = await call(
        h, "POST", "/api/clients", key=key, json={"name": "pub", "plan": "pro"}
    )
    assert status == 201, body
    assert ("clients", body["id"]) in seen
    client = body["id"]

    seen.clear()
    status, body = await call(h, "POST", f"/api/clients/{client}/keys", key=key, json={})
    assert status == 201, body
    assert ("keys", client) in seen
    seen.clear()
    status, _ = await call(h, "DELETE", f"/api/keys/{body['id']}", key=key)
    assert status == 200 and ("keys", client) in seen

    seen.clear()
    status, _ = await call(
        h, "PUT", "/api/alerts/webhook-secret", key=key, json={"client_id": client}
    )
    assert status == 200 and ("clients", client) in seen
    seen.clear()
    model = {"id": "openai/pub", "provider": "openai", "model_name": "pub", "display_name": "P"}
    status, _ = await call(h, "POST", "/api/ai-gateway/models", key=key, json=model)
    assert status == 201 and ("models", None) in seen
