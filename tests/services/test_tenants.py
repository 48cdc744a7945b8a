"""``TenantService``, the one owner of clients and keys: validation before any write (a
bad value saves nothing and audits nothing), one audit row per change naming the admin
key, a publish on the change bus after each commit, and a clear key that is never stored
or audited. On SQLite and PostgreSQL (the ``harness`` runs on both)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from ai_gateway.errors import Conflict, GatewayError, InvalidRequest
from ai_gateway.storage.tables import ApiKey, AuditLog, Client
from tests.harness import Harness

ACTOR = "admin-key:test"


def _published(harness: Harness, kind: Any) -> list[str | None]:
    seen: list[str | None] = []
    harness.gateway.changes.subscribe(kind, seen.append)
    return seen


def _clients(harness: Harness) -> int:
    with harness.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Client)) or 0)


async def test_a_client_is_created_audited_and_published(harness: Harness) -> None:
    published = _published(harness, "clients")
    client = await harness.gateway.tenants.create_client(
        actor=ACTOR, name="  initech ", plan="basic", timezone="America/Manaus"
    )
    assert (client.name, client.plan, client.timezone) == ("initech", "basic", "America/Manaus")
    (audit,) = harness.audits("client.create")
    assert audit.actor == ACTOR and audit.client_id == client.id
    assert audit.details == {"plan": "basic", "timezone": "America/Manaus"}
    assert published == [client.id]


@pytest.mark.parametrize(
    ("values", "error", "code"),
    [
        ({"name": "acme"}, Conflict, "name_taken"),  # the harness's own client
        ({"name": "x", "plan": "platinum"}, InvalidRequest, "unknown_plan"),
        ({"name": "x", "timezone": "Mars/Olympus"}, InvalidRequest, "unknown_timezone"),
        ({"name": "   "}, InvalidRequest, "field_required"),
    ],
)
async def test_a_bad_client_saves_nothing(
    harness: Harness, values: dict[str, Any], error: type[GatewayError], code: str
) -> None:
    before = _clients(harness)
    with pytest.raises(error) as caught:
        await harness.gateway.tenants.create_client(actor=ACTOR, **values)
    assert caught.value.code == code
    assert _clients(harness) == before
    assert harness.audits("client.create") == []


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://127.0.0.1:8080/hook", "webhook_not_public"),
        ("http://[::1]/hook", "webhook_not_public"),
        ("https://10.1.2.3/hook", "webhook_not_public"),
        ("https://169.254.169.254/latest/meta-data", "webhook_not_public"),
        ("https://localhost/hook", "webhook_not_public"),
        ("https://printer.local/hook", "webhook_not_public"),
        ("ftp://93.184.215.14/hook", "invalid_webhook_url"),
        ("https://user:pw@93.184.215.14/hook", "invalid_webhook_url"),
        ("https://93.184.215.14/" + "a" * 2100, "invalid_webhook_url"),
        ("https://93.184.215.14:99999/hook", "invalid_webhook_url"),
    ],
)
async def test_a_client_webhook_to_a_private_address_is_refused(
    harness: Harness, url: str, code: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await harness.gateway.tenants.update_client(
            harness.client.id, actor=ACTOR, changes={"alert_webhook_url": url}
        )
    assert (caught.value.code, caught.value.param) == (code, "alert_webhook_url")
    assert (await harness.gateway.tenants.get_client(harness.client.id)).alert_webhook_url is None
    assert harness.audits("client.update") == []


async def test_contacts_timezone_and_plan_change_with_one_audit_row(harness: Harness) -> None:
    published = _published(harness, "clients")
    changes = {
        "contact_email": "ops@acme.example",
        "alert_webhook_url": "https://93.184.215.14/hooks/acme",
        "timezone": "Europe/Lisbon",
        "plan": "basic",
    }
    client = await harness.gateway.tenants.update_client(
        harness.client.id, actor=ACTOR, changes=changes
    )
    assert client.contact_email == "ops@acme.example"
    assert client.alert_webhook_url == "https://93.184.215.14/hooks/acme"
    assert (client.timezone, client.plan) == ("Europe/Lisbon", "basic")
    (audit,) = harness.audits("client.update")
    assert audit.actor == ACTOR and audit.details == changes
    assert harness.client.id in published
    # Empty clears an optional contact; a required field cannot be cleared.
    cleared = await harness.gateway.tenants.update_client(
        harness.client.id, actor=ACTOR, changes={"contact_email": "", "alert_webhook_url": ""}
    )
    assert (cleared.contact_email, cleared.alert_webhook_url) == (None, None)
    with pytest.raises(InvalidRequest) as caught:
        await harness.gateway.tenants.update_client(
            harness.client.id, actor=ACTOR, changes={"timezone": None}
        )
    assert caught.value.code == "field_required"


async def test_a_key_is_shown_once_audited_without_it_and_revoked(harness: Harness) -> None:
    published = _published(harness, "keys")
    tenants = harness.gateway.tenants
    info, plain = await tenants.issue_key(harness.client.id, actor=ACTOR, name="bot")
    assert plain.startswith(info.prefix) and info.client_id == harness.client.id
    with harness.db.session() as s:
        row = s.get(ApiKey, info.id)
        assert row is not None and plain not in (row.key_hash, row.prefix)
        audits = s.scalars(select(AuditLog)).all()
        everything = " ".join(str(a.details) + (a.target or "") for a in audits)
    assert plain not in everything
    (issued,) = harness.audits("key.issue")
    assert issued.details == {"key_id": info.id} and issued.target == info.prefix
    assert [k.id for k in await tenants.list_keys(harness.client.id)][-1] == info.id

    revoked = await tenants.revoke_key(info.id, actor=ACTOR, own_key_id="someone-else")
    assert revoked.revoked_at is not None
    assert harness.audits("key.revoke")[0].actor == ACTOR
    assert published == [harness.client.id, harness.client.id]
    with pytest.raises(InvalidRequest) as caught:
        await tenants.revoke_key("k1", actor=ACTOR, own_key_id="k1")
    assert caught.value.code == "cannot_revoke_self"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"allow_private_webhooks": False}
