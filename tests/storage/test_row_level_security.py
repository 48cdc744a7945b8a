"""PostgreSQL row-level security: a session scoped to client A neither reads nor writes
client B's rows, even with queries that forget their WHERE."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import ProgrammingError

from ai_gateway.storage.clients import create_client
from ai_gateway.storage.db import Database
from ai_gateway.storage.tables import (
    ApiKey,
    CacheDailyTotal,
    Client,
    ClientBudget,
    UsageDailyConversation,
    UsageDailyEndpoint,
    UsageLog,
)
from tests.api.usage_rows import usage_row, write_rows

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_db: Database) -> Database:
    return pg_db


def _usage(client_id: str, request_id: str) -> UsageLog:
    return UsageLog(
        client_id=client_id,
        request_id=request_id,
        model_requested="m",
        route="direct",
        status="success",
        exchange_rate=Decimal(5),
    )


def test_tenant_session_sees_only_its_rows(pg: Database) -> None:
    with pg.write() as s:
        a = create_client(s, name="tenant-a", plan="free")
        b = create_client(s, name="tenant-b", plan="free")
        s.add_all([_usage(a.id, "a1"), _usage(a.id, "a2"), _usage(b.id, "b1")])
    with pg.tenant_session(a.id) as s:
        # No WHERE at all: the policy is the only filter.
        assert set(s.scalars(select(UsageLog.request_id))) == {"a1", "a2"}
        assert list(s.scalars(select(Client.id))) == [a.id]
        assert s.scalar(select(func.count()).select_from(ClientBudget)) == 1
        # An UPDATE without WHERE touches only A's rows.
        s.execute(update(ClientBudget).values(current_usage=Decimal(7)))
    with pg.session() as s:
        usage = dict(s.execute(select(ClientBudget.client_id, ClientBudget.current_usage)).all())
    assert usage[a.id] == Decimal(7)
    assert usage[b.id] == Decimal(0)


def test_tenant_session_cannot_write_another_clients_rows(pg: Database) -> None:
    with pg.write() as s:
        a = create_client(s, name="writer-a", plan="free")
        b = create_client(s, name="writer-b", plan="free")
    with pytest.raises(ProgrammingError, match="row-level security"), pg.tenant_session(a.id) as s:
        s.add(_usage(b.id, "forged"))
        s.flush()
    with pg.tenant_session(a.id) as s:
        assert s.execute(text("DELETE FROM gateway_usage_logs")).rowcount == 0  # type: ignore[attr-defined]
        assert s.scalars(select(ApiKey.id).where(ApiKey.client_id == b.id)).all() == []


def test_admin_flag_sees_everything(pg: Database) -> None:
    with pg.write() as s:
        create_client(s, name="adm-a", plan="free")
        create_client(s, name="adm-b", plan="free")
    with pg.tenant_session("nobody") as s:
        assert s.scalar(select(func.count()).select_from(Client)) == 0
        s.execute(text("SELECT set_config('ai_gateway.is_admin', 'on', true)"))
        assert s.scalar(select(func.count()).select_from(Client)) == 2


def test_tenant_session_reads_only_its_endpoint_rollup(pg: Database) -> None:
    """The per-endpoint roll-up (0015) is a tenant table: the client's analytics read it
    through its own session, and see no other client's lines."""
    with pg.write() as s:
        a = create_client(s, name="endpoints-a", plan="free")
        b = create_client(s, name="endpoints-b", plan="free")
    write_rows(pg, [usage_row(a.id, endpoint="embeddings"), usage_row(b.id), usage_row(b.id)])
    with pg.tenant_session(a.id) as s:
        seen = s.execute(select(UsageDailyEndpoint.client_id, UsageDailyEndpoint.requests)).all()
    assert [tuple(row) for row in seen] == [(a.id, 1)]


def test_tenant_session_reads_only_its_conversation_rollup(pg: Database) -> None:
    """The per-conversation roll-up (0017) is a tenant table like the endpoint one; the
    every-client cache roll-up is not granted to the tenant role at all."""
    with pg.write() as s:
        a = create_client(s, name="conversations-a", plan="free")
        b = create_client(s, name="conversations-b", plan="free")
    write_rows(
        pg,
        [
            usage_row(a.id, conversation_id="same"),
            usage_row(b.id, conversation_id="same"),
            usage_row(b.id, conversation_id="other"),
        ],
    )
    with pg.tenant_session(a.id) as s:
        seen = s.execute(
            select(UsageDailyConversation.client_id, UsageDailyConversation.requests)
        ).all()
    assert [tuple(row) for row in seen] == [(a.id, 1)]
    with pytest.raises(ProgrammingError, match="permission denied"), pg.tenant_session(a.id) as s:
        s.execute(select(func.count()).select_from(CacheDailyTotal)).all()
