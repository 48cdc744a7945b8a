from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, select

from ai_gateway.storage.tables import AiModel, ModelPriceHistory, SharedGatewayConfig
from tests.fakes.fixtures import fake_providers
from tests.harness import Harness, harness

__all__ = ["fake_providers", "harness", "restore_shared_state"]


@pytest.fixture
def restore_shared_state(harness: Harness) -> Iterator[None]:
    """Put the registry and the config row back as they were: the PostgreSQL test database
    is shared by the session, and only tenant tables are emptied between tests."""
    columns = [c.key for c in SharedGatewayConfig.__table__.columns if c.key != "id"]
    with harness.db.session() as s:
        row = s.get(SharedGatewayConfig, 1)
        assert row is not None
        config: dict[str, Any] = {c: getattr(row, c) for c in columns}
        models = set(s.scalars(select(AiModel.id)))
    yield
    with harness.db.write() as s:
        added = set(s.scalars(select(AiModel.id))) - models
        if added:
            s.execute(delete(ModelPriceHistory).where(ModelPriceHistory.model_id.in_(added)))
            s.execute(delete(AiModel).where(AiModel.id.in_(added)))
        row = s.get(SharedGatewayConfig, 1)
        assert row is not None
        for column, value in config.items():
            setattr(row, column, value)
        row.version += 1
