"""A job context on a real database (SQLite and PostgreSQL), a fixed clock, a real SMTP
sink for the operator's alerts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ai_gateway.jobs import JobContext
from ai_gateway.metering.alerting import Alerter
from ai_gateway.settings import Settings
from ai_gateway.storage.db import Database
from ai_gateway.vault import MasterKey, generate_master_key
from tests.fakes.alert_sinks import SmtpSink, smtp
from tests.fakes.seeding import restore_shared_config

#: Friday 2025-06-06 14:10 UTC
NOW = datetime(2025, 6, 6, 14, 10, tzinfo=UTC)

__all__ = ["smtp"]


@pytest.fixture(autouse=True)
def _clean_config(db: Database) -> Iterator[None]:
    yield
    restore_shared_config(db)


@pytest.fixture
def master() -> MasterKey:
    return MasterKey.from_base64(generate_master_key())


@pytest.fixture
async def make_ctx(
    db: Database, smtp: SmtpSink, master: MasterKey, tmp_path: Path
) -> AsyncIterator[Callable[..., JobContext]]:
    async with aiohttp.ClientSession() as http:
        alerters: list[Alerter] = []

        def build(now: datetime = NOW, **settings: Any) -> JobContext:
            config = Settings(
                data_dir=tmp_path,
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                scheduler_enabled=False,
                **settings,
            )
            alerter = Alerter(db=db, settings=config, master=master, http=http)
            alerters.append(alerter)
            return JobContext(
                db=db,
                settings=config,
                master=master,
                http=http,
                alerter=alerter,
                clock=lambda: now,
            )

        yield build
        for alerter in alerters:
            await alerter.close()
