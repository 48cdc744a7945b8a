"""pytest fixtures for the fakes: import them into a ``conftest.py``
(``from tests.fakes.fixtures import fake_providers``)."""

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.fakes.fake_graph import FakeGraph
from tests.fakes.fake_providers import FakeProviders

__all__ = ["fake_graph", "fake_providers"]


@pytest_asyncio.fixture
async def fake_providers() -> AsyncIterator[FakeProviders]:
    """A started :class:`FakeProviders` on 127.0.0.1 (random port), closed after the test."""
    fake = FakeProviders()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest_asyncio.fixture
async def fake_graph() -> AsyncIterator[FakeGraph]:
    """A started :class:`FakeGraph` (the WhatsApp Graph API) on 127.0.0.1."""
    graph = FakeGraph()
    await graph.start()
    try:
        yield graph
    finally:
        await graph.close()
