"""The seed's budget functions are atomic: no increment is lost under concurrency, from
several threads and from two OS processes at once, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from ai_gateway.storage.budgets import (
    effective_budget,
    increment_budget_usage,
    is_budget_exceeded,
    reset_budget_usage,
)
from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database

STEP = Decimal("0.0012345678")


def _increment_many(url: str, client_id: str, count: int) -> None:
    database = Database(url)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:

            def one(_: int) -> None:
                with database.write() as s:
                    increment_budget_usage(s, client_id=client_id, amount=STEP)

            list(pool.map(one, range(count)))
    finally:
        database.dispose()


def test_thousand_concurrent_increments_from_threads_and_two_processes(
    db: Database, database_url: str
) -> None:
    with db.write() as s:
        client = create_client(s, name="busy", plan="pro")
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_increment_many, args=(database_url, client.id, 300)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    _increment_many(database_url, client.id, 400)
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    with db.session() as s:
        usage = effective_budget(s, client_id=client.id).current_usage
    assert usage == STEP * 1000


def test_exceeded_and_reset(db: Database) -> None:
    with db.write() as s:
        client = create_client(s, name="small", plan="free")  # 10 BRL monthly
        assert not is_budget_exceeded(s, client_id=client.id)
        assert increment_budget_usage(s, client_id=client.id, amount=Decimal("9.99")) == Decimal(
            "9.99"
        )
        assert not is_budget_exceeded(s, client_id=client.id)
        increment_budget_usage(s, client_id=client.id, amount=Decimal("0.01"))
        assert is_budget_exceeded(s, client_id=client.id)
        reset_budget_usage(s, client_id=client.id)
        assert not is_budget_exceeded(s, client_id=client.id)
        assert effective_budget(s, client_id=client.id).current_usage == 0
