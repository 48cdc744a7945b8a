"""``/api/ai-gateway/models``: filtered reads, validated writes, price history, and the
config snapshot following every change at once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ai_gateway.storage.models_registry import price_history
from tests.api.client import call
from tests.harness import Harness

NEW = {
    "id": "openai/gpt-test",
    "provider": "openai",
    "model_name": "gpt-test",
    "display_name": "GPT Test",
    "input_price_per_1m": "1.25",
    "output_price_per_1m": "5",
    "capabilities": ["chat", "vision"],
}


@pytest.mark.usefixtures("restore_shared_state")
async def test_models_lifecycle_keeps_price_history(harness: Harness) -> None:
    h = harness
    status, vision = await call(h, "GET", "/api/ai-gateway/models?capability=vision")
    assert status == 200
    ids = [m["id"] for m in vision["data"]]
    assert "groq/llama-3.3-70b" not in ids and "openai/gpt-4o" in ids
    _, every = await call(h, "GET", "/api/ai-gateway/models")
    keys = [(m["provider"], m["model_name"]) for m in every["data"]]
    # The seed's six, simulated/demo-chat (0012, kept by 0011), and 0011's embedding,
    # transcription and other simulated models.
    assert keys == sorted(keys) and every["count"] == 16
    assert {m["kind"] for m in every["data"]} == {"chat", "embedding", "transcription"}

    status, created = await call(h, "POST", "/api/ai-gateway/models", admin=True, json=NEW)
    assert status == 201 and Decimal(created["input_price_per_1m"]) == Decimal("1.25")
    assert h.gateway.config.current.resolve_model("openai/gpt-test") is not None
    status, _ = await call(h, "POST", "/api/ai-gateway/models", admin=True, json=NEW)
    assert status == 409

    status, changed = await call(
        h,
        "PUT",
        "/api/ai-gateway/models/openai/gpt-test",
        admin=True,
        json={"output_price_per_1m": "6.5"},
    )
    assert status == 200 and Decimal(changed["output_price_per_1m"]) == Decimal("6.5")
    await call(
        h,
        "PUT",
        "/api/ai-gateway/models/openai/gpt-test",
        admin=True,
        json={"display_name": "Renamed"},
    )  # not a price change: no history row
    with h.db.session() as s:
        history = price_history(s, model_id="openai/gpt-test")
    assert [r.output_price_per_1m for r in history] == [Decimal(5), Decimal("6.5")]

    status, gone = await call(h, "DELETE", "/api/ai-gateway/models/openai/gpt-test", admin=True)
    assert status == 200 and gone["is_active"] is False
    _, after = await call(h, "GET", "/api/ai-gateway/models")
    assert "openai/gpt-test" not in [m["id"] for m in after["data"]]
    _, with_inactive = await call(
        h, "GET", "/api/ai-gateway/models?include_inactive=true", admin=True
    )
    assert "openai/gpt-test" in [m["id"] for m in with_inactive["data"]]
    assert not h.gateway.config.current.models["openai/gpt-test"].is_active
    with h.db.session() as s:
        assert len(price_history(s, model_id="openai/gpt-test")) == 2


@pytest.mark.usefixtures("restore_shared_state")
async def test_bad_model_input_is_a_400(harness: Harness) -> None:
    h = harness
    bad = [
        {**NEW, "input_price_per_1m": "-1"},
        {**NEW, "input_price_per_1m": "free"},
        {**NEW, "capabilities": ["telepathy"]},
        {**NEW, "provider": "mistral"},
        {**NEW, "id": "no-slash"},
        {**NEW, "id": "openai/x'; DROP TABLE ai_models_registry;--"},
        {**NEW, "context_window": 0},
        {**NEW, "extra": True},
    ]
    for body in bad:
        status, error = await call(h, "POST", "/api/ai-gateway/models", admin=True, json=body)
        assert status == 400, (body, error)
    status, _ = await call(
        h, "PUT", "/api/ai-gateway/models/openai/nope", admin=True, json={"display_name": "x"}
    )
    assert status == 404
    status, _ = await call(h, "DELETE", "/api/ai-gateway/models/openai/nope", admin=True)
    assert status == 404
    status, _ = await call(h, "GET", "/api/ai-gateway/models?capability=telepathy")
    assert status == 400
    status, _ = await call(h, "GET", "/api/ai-gateway/models?include_inactive=true")
    assert status == 400
