"""The running gateway: every long-lived part, built once at start-up and closed once.

The HTTP app, ``call_ai`` and the jobs all reach the database, the providers and the
caches through one :class:`Gateway`, never through module globals.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ai_gateway.bootstrap import master_key_for, open_database
from ai_gateway.metrics import GatewayMetrics
from ai_gateway.settings import Settings
from ai_gateway.storage.db import Database
from ai_gateway.vault import MasterKey

__all__ = ["Gateway"]

log = logging.getLogger("ai_gateway")


class Gateway:
    def __init__(self, settings: Settings, db: Database, master: MasterKey | None) -> None:
        self.settings = settings
        self.db = db
        self.master = master
        self.metrics = GatewayMetrics()

    @classmethod
    @asynccontextmanager
    async def running(cls, settings: Settings) -> AsyncIterator[Gateway]:
        db = await _to_thread_open(settings)
        gateway = cls(settings, db, master_key_for(settings, db))
        await gateway.start()
        try:
            yield gateway
        finally:
            await gateway.stop()

    async def start(self) -> None:
        log.info("gateway started", extra={"database": self.db.dialect})

    async def stop(self) -> None:
        self.db.dispose()
        log.info("gateway stopped")


async def _to_thread_open(settings: Settings) -> Database:
    import asyncio

    return await asyncio.to_thread(open_database, settings)
