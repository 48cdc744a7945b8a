"""A whole gateway on loopback for end-to-end tests: a real uvicorn server in the test's
event loop, real databases, the fake providers as every upstream, and a client with a
key. Import the fixtures into a ``conftest.py``: ``from tests.harness import harness``.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest_asyncio
import uvicorn
from sqlalchemy import select

from ai_gateway.app import GatewayApp, create_app
from ai_gateway.edge.server import build_config
from ai_gateway.gateway import Gateway
from ai_gateway.settings import Settings
from ai_gateway.storage.api_keys import issue_key
from ai_gateway.storage.budgets import effective_budget
from ai_gateway.storage.clients import ClientInfo, create_client, update_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.secrets import set_secret
from ai_gateway.storage.shared_config import update_shared_config
from ai_gateway.storage.tables import AuditLog
from ai_gateway.vault import MasterKey, generate_master_key
from tests.conftest import bound_socket
from tests.fakes.fake_providers import FakeProviders

__all__ = ["Harness", "harness", "start_gateway"]

#: The shared provider keys the harness seals in the vault (what must go upstream).
PROVIDER_KEYS = {
    "openai": "sk-proj-SHAREDopenai0000000001",
    "anthropic": "sk-ant-SHAREDanthropic000002",
    "groq": "gsk_SHAREDgroq00000000000003",
    "google": "AIzaSHAREDgoogle0000000004",
    "gateway": "vck_SHAREDgateway000000005",
}


@dataclass
class Harness:
    url: str
    app: GatewayApp
    settings: Settings
    db: Database
    fake: FakeProviders
    client: ClientInfo
    key: str
    admin_key: str

    @property
    def gateway(self) -> Gateway:
        gateway: Gateway = self.app.api.state.gateway
        return gateway

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}", **extra}

    async def drain(self) -> None:
        """Wait until every usage row so far is in the database."""
        async with asyncio.timeout(10):
            await self.gateway.usage.drain()

    def new_client(self, name: str, plan: str = "pro", **changes: Any) -> tuple[ClientInfo, str]:
        with self.db.write() as s:
            client = create_client(s, name=name, plan=plan)
            if changes:
                client = update_client(s, client_id=client.id, changes=changes)
            key = issue_key(s, role="client", client_id=client.id)
        self.gateway.auth.invalidate()
        return client, key.plain

    def configure(self, **changes: Any) -> None:
        with self.db.write() as s:
            update_shared_config(s, changes=changes)
        self.gateway.config.invalidate()

    def audits(self, action: str) -> list[AuditLog]:
        """The audit rows of ``action``, oldest first."""
        with self.db.session() as s:
            query = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
            return list(s.scalars(query))

    def budget_usage(self, client_id: str) -> Decimal:
        with self.db.session() as s:
            return effective_budget(s, client_id=client_id).current_usage


def harness_settings(
    database_url: str, data_dir: Any, fake: FakeProviders, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "master_key": generate_master_key(),
        "ptax_base_url": "http://127.0.0.1:9/odata",  # refused at once: the 5.00 fallback
        "usage_flush_interval": 0.05,
        # A thread, not a child process per test: the process sink has tests of its own.
        "usage_writer_process": False,
        "scheduler_enabled": False,
        **{f"{p}_base_url": fake.base_url(p) for p in PROVIDER_KEYS},
    }
    values.update(overrides)
    return Settings(**values)


def seed(db: Database, settings: Settings) -> tuple[ClientInfo, str, str]:
    assert settings.master_key is not None
    master = MasterKey.from_base64(settings.master_key)
    with db.write() as s:
        for provider, key in PROVIDER_KEYS.items():
            set_secret(s, master=master, secret_id=provider, value=key)
        update_shared_config(s, changes={f"{p}_secret_id": p for p in PROVIDER_KEYS})
        client = create_client(s, name="acme", plan="enterprise")
        key = issue_key(s, role="client", client_id=client.id).plain
        admin = issue_key(s, role="admin").plain
    return client, key, admin


class PromptServer(uvicorn.Server):
    """uvicorn's server, stopped without its fixed waits: its main loop sleeps 0.1 s
    between looks at ``should_exit`` and its shutdown grants 0.1 s of grace even to no
    connection, and every test that starts a gateway paid both at teardown (~1,500 tests).
    Stop it with :meth:`exit` (from its own loop)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._exit = asyncio.Event()

    def exit(self) -> None:
        self.should_exit = True
        self._exit.set()

    async def main_loop(self) -> None:
        # on_tick(0) refreshes the Date header as uvicorn's does once a second.
        while not await self.on_tick(0):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit.wait(), timeout=1.0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's graceful shutdown when a connection is still open; with none, its
        fixed 0.1 s of grace has nothing to wait for."""
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)
            return
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()


async def start_gateway(
    settings: Settings,
) -> tuple[GatewayApp, PromptServer, asyncio.Task[None], int]:
    app = create_app(settings)
    # The server gets a socket already bound to a free port: no window in which another
    # process (or test) could take the port between choosing it and listening on it.
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    # The serve command's own server config: the edge protocol and its limits.
    config = build_config(
        app,
        settings,
        host="127.0.0.1",
        port=port,
        fd_limit=resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = PromptServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(15):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    return app, server, task, port


@pytest_asyncio.fixture
async def harness(
    database_url: str,
    tmp_path: Any,
    fake_providers: FakeProviders,
    settings_overrides: dict[str, Any],
) -> AsyncIterator[Harness]:
    settings = harness_settings(
        database_url, tmp_path / "data", fake_providers, **settings_overrides
    )
    db = Database(database_url)
    client, key, admin = seed(db, settings)
    app, server, task, port = await start_gateway(settings)
    try:
        yield Harness(
            f"http://127.0.0.1:{port}", app, settings, db, fake_providers, client, key, admin
        )
    finally:
        server.exit()
        await task
        db.dispose()
