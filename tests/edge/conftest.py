from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from ai_gateway.edge.connections import ConnectionBoard
from ai_gateway.edge.protocol import board_of
from ai_gateway.storage.db import Database
from tests.fakes.fake_providers import FakeProviders
from tests.fakes.fixtures import fake_providers
from tests.harness import Harness, harness, harness_settings, seed, start_gateway

__all__ = ["EdgeGateway", "edge_gateway", "fake_providers", "harness"]


class EdgeGateway(Harness):
    """A harness that also exposes the server's connection board."""

    server: Any = None

    @property
    def board(self) -> ConnectionBoard:
        return board_of(self.server.server_state, self.server.config.edge)


@pytest_asyncio.fixture
async def edge_gateway(
    sqlite_url: str,
    tmp_path: Path,
    fake_providers: FakeProviders,
    settings_overrides: dict[str, Any],
) -> AsyncIterator[EdgeGateway]:
    settings = harness_settings(sqlite_url, tmp_path / "data", fake_providers, **settings_overrides)
    db = Database(sqlite_url)
    client, key, admin = seed(db, settings)
    app, server, task, port = await start_gateway(settings)
    gateway = EdgeGateway(
        f"http://127.0.0.1:{port}", app, settings, db, fake_providers, client, key, admin
    )
    gateway.server = server
    try:
        yield gateway
    finally:
        server.exit()
        await task
        db.dispose()
