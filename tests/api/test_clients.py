"""``/api/clients`` and ``/api/keys``: tenants and keys, audited, and the caches that
hold them forget at once (a pause or a revoke applies to the very next request)."""

from __future__ import annotations

from sqlalchemy import select

from ai_gateway.storage.tables import AuditLog, Client
from tests.api.client import call
from tests.harness import Harness

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


async def test_client_and_key_lifecycle(harness: Harness) -> None:
    h = harness
    status, client = await call(
        h,
        "POST",
        "/api/clients",
        admin=True,
        json={"name": "initech", "plan": "basic", "contact_email": "it@initech.example"},
    )
    assert status == 201 and client["plan"] == "basic"
    status, issued = await call(h, "POST", f"/api/clients/{client['id']}/keys", admin=True)
    assert status == 201 and issued["key"].startswith("aigw_")
    key = issued["key"]
    status, listed = await call(h, "GET", f"/api/clients/{client['id']}/keys", admin=True)
    assert status == 200 and listed["count"] == 1 and key not in str(listed)

    assert (await call(h, "POST", "/v1/chat/completions", key=key, json=CHAT))[0] == 200
    status, paused = await call(
        h,
        "PATCH",
        f"/api/clients/{client['id']}",
        admin=True,
        json={"status": "paused", "fallback_chain": ["groq/llama-3.3-70b"]},
    )
    assert status == 200 and paused["status"] == "paused"
    status, error = await call(h, "POST", "/v1/chat/completions", key=key, json=CHAT)
    assert status == 403 and error["error"]["code"] == "client_paused"
    await call(h, "PATCH", f"/api/clients/{client['id']}", admin=True, json={"status": "active"})
    assert (await call(h, "POST", "/v1/chat/completions", key=key, json=CHAT))[0] == 200

    status, revoked = await call(h, "DELETE", f"/api/keys/{issued['id']}", admin=True)
    assert status == 200 and revoked["revoked_at"]
    assert (await call(h, "POST", "/v1/chat/completions", key=key, json=CHAT))[0] == 401

    status, clients = await call(h, "GET", "/api/clients?limit=1000", admin=True)
    assert status == 200 and {c["name"] for c in clients["data"]} == {"acme", "initech"}
    with h.db.session() as s:
        actions = list(s.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions == [
        "client.create",
        "key.issue",
        "client.update",
        "client.update",
        "key.revoke",
    ]


async def test_rollout_sets_the_share_of_clients(harness: Harness) -> None:
    h = harness
    for name in ("b", "c", "d"):
        h.new_client(name)
    status, result = await call(h, "POST", "/api/clients/rollout", admin=True, json={"percent": 50})
    assert status == 200 and (result["enabled"], result["total"]) == (2, 4)
    with h.db.session() as s:
        flags = list(s.scalars(select(Client.use_ai_gateway).order_by(Client.created_at)))
    assert flags == [True, True, False, False]
    for percent in (-1, 101, "half", None):
        status, _ = await call(
            h, "POST", "/api/clients/rollout", admin=True, json={"percent": percent}
        )
        assert status == 400


async def test_bad_client_input_is_a_4xx(harness: Harness) -> None:
    h = harness
    cid = h.client.id
    cases = [
        ("POST", "/api/clients", {"name": "", "plan": "pro"}, 400),
        ("POST", "/api/clients", {"name": "x", "plan": "platinum"}, 400),
        ("POST", "/api/clients", {"name": "x", "timezone": "Mars/Olympus"}, 400),
        ("POST", "/api/clients", {"name": "acme"}, 409),
        ("PATCH", f"/api/clients/{cid}", {"status": "deleted"}, 400),
        ("PATCH", f"/api/clients/{cid}", {"alert_webhook_url": "file:///etc/passwd"}, 400),
        ("PATCH", f"/api/clients/{cid}", {"fallback_chain": ["nope/nope"]}, 400),
        ("PATCH", f"/api/clients/{cid}", {"use_ai_gateway": "maybe"}, 400),
        ("PATCH", f"/api/clients/{cid}", {"plan": None}, 400),
        ("PATCH", f"/api/clients/{cid}", {}, 400),
        ("PATCH", "/api/clients/nope", {"plan": "pro"}, 404),
        ("GET", "/api/clients/nope", None, 404),
        ("GET", "/api/clients/1%27%20OR%20%271%27=%271", None, 400),
        ("POST", "/api/clients/nope/keys", {}, 404),
        ("DELETE", "/api/keys/nope", None, 404),
        ("GET", "/api/clients?limit=-5", None, 400),
        ("GET", "/api/clients?offset=-1", None, 400),
        ("GET", "/api/clients?limit=abc", None, 400),
    ]
    for method, path, body, expected in cases:
        status, error = await call(h, method, path, admin=True, json=body)
        assert status == expected, (method, path, body, error)
    status, page = await call(h, "GET", "/api/clients?limit=100000", admin=True)
    assert status == 200 and page["count"] == len(page["data"]) == 1  # capped, not refused
