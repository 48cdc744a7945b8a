"""``purge-request-bodies``: stored prompts and answers past their retention are deleted,
every client's, and a second run deletes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ai_gateway.jobs import run_job
from ai_gateway.storage.db import Database
from ai_gateway.storage.request_bodies import save_bodies
from ai_gateway.storage.tables import RequestBody, new_id
from tests.fakes.seeding import add_client
from tests.jobs.conftest import NOW


def _row(client_id: str, days_ago: int) -> dict[str, Any]:
    return {"id": new_id(), "client_id": client_id, "created_at": NOW - timedelta(days=days_ago)}


async def test_expired_bodies_of_every_client_are_deleted(db: Database, make_ctx) -> None:
    a, b = add_client(db, "a"), add_client(db, "b")
    kept = _row(b.id, 1)
    body = {"request": {"messages": []}, "response": None, "retention_days": 7}
    with db.write() as s:
        save_bodies(s, [(_row(a.id, 8), body), (kept, body), (_row(b.id, 30), body)])
    outcome = await run_job(make_ctx(), "purge-request-bodies")
    assert outcome.status == "ok" and outcome.result == {"deleted": 2}
    with db.session() as s:
        assert list(s.scalars(select(RequestBody.usage_id))) == [kept["id"]]
    again = await run_job(make_ctx(), "purge-request-bodies")
    assert again.result == {"deleted": 0}
