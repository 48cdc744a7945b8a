"""Fixtures for provider tests: the fake upstreams and a pooled HTTP session."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from ai_gateway.providers import Timeouts, Upstream
from tests.fakes.fake_providers import FakeProviders
from tests.fakes.fixtures import fake_providers

__all__ = ["fake_providers"]


@pytest_asyncio.fixture
async def http(fake_providers: FakeProviders) -> AsyncIterator[aiohttp.ClientSession]:
    # Depends on the fake so it is closed before the server stops.
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def upstream_for(fake_providers: FakeProviders) -> Callable[..., Upstream]:
    """``upstream_for("openai", read=0.3, byok={...})``: an Upstream aimed at the fake."""

    def make(
        provider: str, *, api_key: str = "sk-test-key-123456", read: float = 5.0, **options: Any
    ) -> Upstream:
        return Upstream(
            base_url=fake_providers.base_url(provider),
            api_key=api_key,
            timeouts=Timeouts(connect=2.0, read=read, total=10.0),
            options=options,
        )

    return make
