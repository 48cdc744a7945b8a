"""The USD->BRL rate the request path reads: a memory read, never a fetch.

The holder starts from the last stored quote (or the 5.00 fallback) and a background task
refreshes it through :class:`ExchangeRateService`, whose own 24 h cache decides when the
Banco Central is actually asked. So a slow or absent PTAX source never delays a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal

from ai_gateway.metering.currency import (
    FALLBACK_RATE,
    ExchangeRateService,
    Quote,
    latest_stored_rate,
)
from ai_gateway.storage.db import Database

__all__ = ["RateHolder"]

log = logging.getLogger("ai_gateway.rates")

_REFRESH_SECONDS = 3600.0


class RateHolder:
    def __init__(self, service: ExchangeRateService, db: Database) -> None:
        self._service = service
        self._db = db
        self.quote = Quote(rate=FALLBACK_RATE, source="fallback", quoted_at=None)
        self._task: asyncio.Task[None] | None = None

    @property
    def rate(self) -> Decimal:
        return self.quote.rate

    async def start(self) -> None:
        stored = await self._db.run(latest_stored_rate, self._db)
        if stored is not None:
            self.quote = stored
        self._task = asyncio.create_task(self._refresh_forever(), name="exchange-rate")

    async def refresh(self) -> Quote:
        self.quote = await self._service.get_exchange_rate("USD", "BRL")
        return self.quote

    async def _refresh_forever(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # never let the refresher die; the rate just stays as it is
                log.exception("exchange rate refresh failed")
            await asyncio.sleep(_REFRESH_SECONDS)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
