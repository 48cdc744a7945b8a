from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from ai_gateway.jobs import run_job
from ai_gateway.storage.db import Database
from ai_gateway.storage.secrets import set_secret
from ai_gateway.storage.shared_config import get_shared_config, update_shared_config
from ai_gateway.storage.tables import AiModel, ModelPriceHistory
from ai_gateway.vault import MasterKey
from tests.fakes.vercel_models import FakeModelsEndpoint, model


@pytest.fixture(autouse=True)
def restore_registry(db: Database) -> Iterator[None]:
    """The PostgreSQL test database keeps its seed tables between tests: put prices back."""
    saved = prices(db)
    with db.session() as s:
        last = s.scalar(select(func.max(ModelPriceHistory.id)))
    yield
    with db.write() as s:
        for model_id, (i, o, c) in saved.items():
            s.execute(
                update(AiModel)
                .where(AiModel.id == model_id)
                .values(input_price_per_1m=i, output_price_per_1m=o, cached_input_price_per_1m=c)
            )
        s.execute(delete(ModelPriceHistory).where(ModelPriceHistory.id > (last or 0)))


@pytest.fixture
async def upstream() -> AsyncIterator[FakeModelsEndpoint]:
    server = FakeModelsEndpoint()
    await server.start()
    yield server
    await server.close()


def prices(db: Database) -> dict[str, tuple[Any, Any, Any]]:
    with db.session() as s:
        return {
            m.id: (m.input_price_per_1m, m.output_price_per_1m, m.cached_input_price_per_1m)
            for m in s.scalars(select(AiModel))
        }


def history(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(ModelPriceHistory)) or 0)


def version(db: Database) -> int:
    with db.session() as s:
        return get_shared_config(s).version


GOOD = {
    "object": "list",
    "data": [
        model(
            "openai/gpt-4o-mini",
            input="0.0000002",
            output="0.0000008",
            input_cache_read="0.0000001",
            input_cache_write="0.00000025",
        ),
        model("openai/gpt-4o", input="0.0000025", output="0.00001", input_cache_read="0.00000125"),
        model("groq/llama-3.3-70b", input="0.00000059", output="0.00000079"),
        model("xai/grok-4", input="0.000003", output="0.000015"),  # not in our registry
        {"id": "openai/text-embedding-3-small", "object": "model", "type": "embedding"},
    ],
}


async def test_prices_follow_the_upstream_with_history(
    db: Database, master: MasterKey, upstream: FakeModelsEndpoint, make_ctx
) -> None:
    with db.write() as s:
        set_secret(s, master=master, secret_id="gateway", value="vck_SHAREDgateway1234")
        update_shared_config(s, changes={"gateway_secret_id": "gateway"})
    upstream.body = GOOD
    before, v0, h0 = prices(db), version(db), history(db)

    outcome = await run_job(make_ctx(gateway_base_url=upstream.base_url), "sync-model-pricing")

    assert outcome.status == "ok", outcome.result
    assert outcome.result["changed"] == ["openai/gpt-4o-mini"]
    assert outcome.result["models_matched"] == 3
    after = prices(db)
    assert after["openai/gpt-4o-mini"] == (Decimal("0.2"), Decimal("0.8"), Decimal("0.1"))
    assert after["openai/gpt-4o"] == before["openai/gpt-4o"]  # same price: untouched
    assert after["groq/llama-3.3-70b"] == before["groq/llama-3.3-70b"]
    assert history(db) == h0 + 1
    assert version(db) == v0 + 1
    assert upstream.authorizations == ["Bearer vck_SHAREDgateway1234"]

    again = await run_job(make_ctx(gateway_base_url=upstream.base_url), "sync-model-pricing")
    assert again.result["changed"] == [] and history(db) == h0 + 1 and version(db) == v0 + 1


GARBAGE: list[tuple[int, Any]] = [
    (500, {"error": "down"}),
    (200, b"<html>not json</html>"),
    (200, {"object": "list"}),
    (200, {"data": []}),
    (200, {"data": [model("openai/gpt-4o-mini", input="0.0000002", output="free")]}),
    (200, {"data": [model("openai/gpt-4o-mini", input="-0.0000002", output="0.1")]}),
    (200, {"data": [model("openai/gpt-4o-mini", input="0.0000002", output="1")]}),  # 1 USD/token
    (200, {"data": [model("openai/gpt-4o-mini", input=True, output="0.0000008")]}),
    (200, {"data": [model("openai/gpt-4o-mini", output="0.0000008")]}),
    (200, {"data": [*GOOD["data"], {"object": "model"}]}),
]


@pytest.mark.parametrize(("status", "body"), GARBAGE)
async def test_a_failed_or_garbage_sync_changes_nothing(
    db: Database, upstream: FakeModelsEndpoint, make_ctx, status: int, body: Any
) -> None:
    upstream.status, upstream.body = status, body
    before, v0, h0 = prices(db), version(db), history(db)
    outcome = await run_job(make_ctx(gateway_base_url=upstream.base_url), "sync-model-pricing")
    assert outcome.status == "failed"
    assert prices(db) == before and history(db) == h0 and version(db) == v0
