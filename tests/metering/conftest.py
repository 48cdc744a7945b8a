from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from tests.fakes.ptax import FakePtax


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    # 23:00 on Thursday 2025-06-05 in Brasília.
    return FakeClock(datetime(2025, 6, 6, 2, 0, tzinfo=UTC))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def ptax() -> AsyncIterator[FakePtax]:
    server = FakePtax()
    await server.start()
    yield server
    await server.close()
