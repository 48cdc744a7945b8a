"""The cluster the load test runs against: the production shape of ``tests/cluster/``
(three ``serve`` replicas behind nginx, on PostgreSQL and a Redis of its own), on a fresh
PostgreSQL database seeded with the load's tenants.

Seeding: one client per tenant on the enterprise plan (its default budget is generous
enough that no call of a run is refused, but every call reserves and settles) with one
API key each; the simulated chat model as the default, with the latency model of
:data:`LATENCY`; the response cache as shipped (on, per client, one hour). Every real
provider points at a refused loopback port, so nothing can leave the machine.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from tests.cluster.cluster import Cluster, PrivateRedis
from tests.harness import PROVIDER_KEYS

from ai_gateway.settings import Settings
from ai_gateway.storage import migrate
from ai_gateway.storage.api_keys import issue_key
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.shared_config import update_shared_config
from ai_gateway.vault import generate_master_key
from benchmarks.load.traffic import MODEL

__all__ = ["LATENCY", "LoadCluster", "load_cluster", "seed_tenants"]

#: Time to first token 150-450 ms, then 35 ms a word: the 8- to 40-word answers take
#: 0.4 to 1.9 s, streamed or not (see ``ai_gateway.providers.simulated.latency``).
LATENCY: dict[str, Any] = {"latency_ms": 300, "word_ms": 35, "jitter": 0.5}
_REFUSED = "http://127.0.0.1:9"


@dataclass
class LoadCluster:
    url: str
    replica_urls: list[str]
    keys: list[str]
    database_url: str
    #: The replicas' process ids (their usage-writer children are found from them).
    pids: list[int]


def seed_tenants(db: Database, tenants: int, latency: dict[str, Any]) -> list[str]:
    """One enterprise client and key per tenant; the simulated model as the default."""
    keys: list[str] = []
    with db.write() as s:
        update_shared_config(
            s,
            changes={
                "default_model": MODEL,
                "provider_options": {"simulated": latency},
                "cache_enabled": True,
            },
        )
        for i in range(tenants):
            client = create_client(s, name=f"loja-{i + 1:02d}", plan="enterprise")
            keys.append(issue_key(s, role="client", client_id=client.id, name="load").plain)
    return keys


@asynccontextmanager
async def load_cluster(
    workdir: Path,
    *,
    postgres_admin_url: str,
    tenants: int,
    replicas: int = 3,
    latency: dict[str, Any] | None = None,
) -> AsyncIterator[LoadCluster]:
    """A seeded cluster for the length of the block; its database is dropped after."""
    name = f"aigw_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    database_url = postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    redis = PrivateRedis(workdir)
    cluster: Cluster | None = None
    try:
        db = Database(database_url)
        try:
            migrate.upgrade(db)
            keys = seed_tenants(db, tenants, LATENCY if latency is None else latency)
        finally:
            db.dispose()
        await redis.start()
        settings = Settings(
            database_url=database_url,
            data_dir=workdir / "data",
            master_key=generate_master_key(),
            redis_url=redis.url,
            ptax_base_url=_REFUSED + "/odata",
            **{f"{p}_base_url": _REFUSED for p in PROVIDER_KEYS},
        )
        # The production flush interval (the shared helper's default is a test's 50 ms).
        cluster = Cluster(
            settings,
            workdir,
            replicas=replicas,
            env_extra={"AI_GATEWAY_USAGE_FLUSH_INTERVAL": "0.5"},
        )
        await cluster.start()
        pids = [proc.pid for proc in cluster.procs]
        yield LoadCluster(cluster.url, cluster.replica_urls, keys, database_url, pids)
    finally:
        if cluster is not None:
            await cluster.stop()
        await redis.stop()
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
