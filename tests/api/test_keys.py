"""``DELETE /api/keys/{id}``: a revoked key stops working on the very next request."""

from __future__ import annotations

from sqlalchemy import select

from ai_gateway.storage.api_keys import issue_key
from ai_gateway.storage.tables import ApiKey, AuditLog
from tests.api.client import call
from tests.harness import Harness


async def test_revoke_applies_at_once_and_is_audited(harness: Harness) -> None:
    h = harness
    with h.db.write() as s:
        issued = issue_key(s, role="client", client_id=h.client.id, name="temp")
    assert (await call(h, "GET", "/api/ai-gateway/models", key=issued.plain))[0] == 200
    status, revoked = await call(h, "DELETE", f"/api/keys/{issued.info.id}", admin=True)
    assert status == 200 and revoked["revoked_at"] and issued.plain not in str(revoked)
    # Cached as valid a moment ago; the revoke cleared the authenticator at once.
    status, error = await call(h, "GET", "/api/ai-gateway/models", key=issued.plain)
    assert status == 401 and error["error"]["type"] == "authentication_error"
    status, again = await call(h, "DELETE", f"/api/keys/{issued.info.id}", admin=True)
    assert status == 200 and again["revoked_at"] == revoked["revoked_at"]  # idempotent
    with h.db.session() as s:
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "key.revoke")).all()
    assert len(audits) == 2  # every revoke asked for is on record, even a repeated one
    for audit in audits:
        assert audit.client_id == h.client.id and audit.actor.startswith("admin-key:")
        assert audit.details["key_id"] == issued.info.id


async def test_bad_revokes(harness: Harness) -> None:
    h = harness
    with h.db.session() as s:
        admin_key_id = s.scalar(select(ApiKey.id).where(ApiKey.role == "admin"))
    status, error = await call(h, "DELETE", f"/api/keys/{admin_key_id}", admin=True)
    assert status == 400 and "itself" in error["error"]["message"]
    for path, expected in (
        ("/api/keys/no-such-key", 404),
        ("/api/keys/%27%3B%20DROP%20TABLE%20api_keys%3B--", 400),
        ("/api/keys/" + "k" * 100, 400),
    ):
        status, error = await call(h, "DELETE", path, admin=True)
        assert status == expected, (path, error)
    status, _ = await call(h, "DELETE", f"/api/keys/{h.client.id}", key=h.key)
    assert status == 403
