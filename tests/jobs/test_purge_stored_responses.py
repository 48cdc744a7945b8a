from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ai_gateway.jobs import run_job
from ai_gateway.storage.db import Database
from ai_gateway.storage.stored_responses import save_response
from ai_gateway.storage.tables import StoredResponse
from tests.fakes.seeding import add_client
from tests.jobs.conftest import NOW


async def test_expired_responses_of_every_client_are_deleted(db: Database, make_ctx) -> None:
    a, b = add_client(db, "a"), add_client(db, "b")
    with db.write() as s:
        for client, response_id, age in (
            (a, "resp_old_a", 40),
            (b, "resp_new", 1),  # stored first: storing purges the client's expired rows
            (b, "resp_old_b", 31),
        ):
            save_response(
                s,
                client_id=client.id,
                response_id=response_id,
                model="simulated/demo-chat",
                conversation=[],
                body={},
                now=NOW - timedelta(days=age),
                retention=timedelta(days=30),
            )
    outcome = await run_job(make_ctx(), "purge-stored-responses")
    assert outcome.status == "ok" and outcome.result == {"deleted": 2}
    with db.session() as s:
        assert list(s.scalars(select(StoredResponse.id))) == ["resp_new"]
    again = await run_job(make_ctx(), "purge-stored-responses")
    assert again.result == {"deleted": 0}
