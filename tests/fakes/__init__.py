"""Fakes that speak real wire formats on loopback, for the whole test suite.

``fake_providers`` is a pytest fixture: import it into a ``conftest.py``
(``from tests.fakes import fake_providers``) to get a started :class:`FakeProviders`.
"""

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.fakes.fake_providers import Behaviour, FakeProviders, RecordedRequest, answer_text

__all__ = ["Behaviour", "FakeProviders", "RecordedRequest", "answer_text", "fake_providers"]


@pytest_asyncio.fixture
async def fake_providers() -> AsyncIterator[FakeProviders]:
    """A started fake upstream server, closed after the test."""
    fake = FakeProviders()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
