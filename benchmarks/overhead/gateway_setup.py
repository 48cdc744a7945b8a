"""A fresh gateway for the benchmark: a data folder, a seeded database, ``ai-gateway serve``.

Seeding follows ``tests/harness.py``: the openai provider key sealed in the vault, one
client on the enterprise plan (a BRL 5,000 monthly budget: generous enough that no call of
a run is refused, but budgets are enforced and every call reserves and settles), and its
API key. Every other upstream points at a refused loopback port, so nothing can reach the
internet, not even a fallback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import text

from ai_gateway.bootstrap import open_database
from ai_gateway.settings import PROVIDER_BASE_URL_ENV, Settings
from ai_gateway.storage import migrate
from ai_gateway.storage.api_keys import issue_key
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.secrets import set_secret
from ai_gateway.storage.shared_config import update_shared_config
from ai_gateway.vault import MasterKey, generate_master_key

__all__ = ["BenchGateway", "Seeded", "free_port", "seed_gateway"]

#: Port 9 (discard) on loopback is refused at once: no call leaves the machine.
_REFUSED = "http://127.0.0.1:9"
_OPENAI_KEY = "sk-proj-BENCHopenai000000000001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Seeded:
    """What the runner needs to reach and inspect the gateway."""

    env: dict[str, str]
    database_url: str
    key: str
    client_id: str
    drop_database: tuple[str, str] | None = None  # (admin url, name) for PostgreSQL

    def usage_rows(self) -> dict[str, int]:
        """Usage rows by status (the whole table: one client, one benchmark)."""
        db = Database(self.database_url)
        try:
            with db.engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT status, count(*) FROM gateway_usage_logs GROUP BY status")
                ).all()
        finally:
            db.dispose()
        return {str(status): int(count) for status, count in rows}

    def cleanup(self) -> None:
        if self.drop_database is not None:
            admin_url, name = self.drop_database
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _fresh_postgres(admin_url: str) -> tuple[str, str]:
    name = f"aigw_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    sqlalchemy_url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    return sqlalchemy_url, name


def seed_gateway(data_dir: Path, upstream_url: str, postgres_admin_url: str | None) -> Seeded:
    master = generate_master_key()
    drop: tuple[str, str] | None = None
    database_url: str | None = None
    if postgres_admin_url:
        database_url, name = _fresh_postgres(postgres_admin_url)
        drop = (postgres_admin_url, name)
        db = Database(database_url)
        migrate.upgrade(db)
        db.dispose()
    settings = Settings(data_dir=data_dir, database_url=database_url, master_key=master)
    db = open_database(settings)
    try:
        with db.write() as s:
            set_secret(
                s, master=MasterKey.from_base64(master), secret_id="openai", value=_OPENAI_KEY
            )
            update_shared_config(s, changes={"openai_secret_id": "openai"})
            client = create_client(s, name="bench", plan="enterprise")
            key = issue_key(s, role="client", client_id=client.id).plain
    finally:
        db.dispose()
    env = {
        "AI_GATEWAY_DATA_DIR": str(data_dir),
        "AI_GATEWAY_MASTER_KEY": master,
        "AI_GATEWAY_PTAX_BASE_URL": _REFUSED + "/odata",
        **{name: _REFUSED for name in PROVIDER_BASE_URL_ENV.values()},
        "AI_GATEWAY_OPENAI_BASE_URL": upstream_url + "/v1",
    }
    if database_url:
        env["AI_GATEWAY_DATABASE_URL"] = database_url
    return Seeded(env, settings.effective_database_url, key, client.id, drop)


@dataclass
class BenchGateway:
    """``ai-gateway serve --workers N`` as a subprocess (its log goes to a file)."""

    seeded: Seeded
    workers: int
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [
            sys.executable,
            "-c",
            "from ai_gateway.cli.main import main; main()",
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        env = {**os.environ, **self.seeded.env}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the gateway did not become ready; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # uvicorn: graceful, flushes every usage row
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
