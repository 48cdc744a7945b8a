"""``/api/alerts`` and the client webhook rule over HTTP: admin only, hostile input is a
4xx in the OpenAI error shape, a private webhook is refused with its code."""

from __future__ import annotations

import httpx

from tests.harness import Harness


async def test_alert_routes_refuse_tenants_and_bad_input(harness: Harness) -> None:
    h = harness
    other, other_key = h.new_client("globex", plan="pro")
    async with httpx.AsyncClient(base_url=h.url) as http:
        admin = h.headers(h.admin_key)
        for key in (h.key, other_key):
            for method, path, body in (
                ("GET", f"/api/alerts/settings?client_id={h.client.id}", None),
                ("PUT", "/api/alerts/webhook-secret", {"client_id": h.client.id}),
                ("POST", "/api/alerts/test", {"client_id": h.client.id}),
            ):
                r = await http.request(method, path, json=body, headers=h.headers(key))
                assert r.status_code == 403, (method, path)
                assert r.json()["error"]["type"] == "permission_error"
        bad = [
            ("PUT", "/api/alerts/webhook-secret", {"client_id": "x" * 65}, 400),
            ("PUT", "/api/alerts/webhook-secret", {"client_id": "../etc"}, 400),
            ("PUT", "/api/alerts/webhook-secret", {"secret": "y" * 513}, 400),
            ("PUT", "/api/alerts/webhook-secret", {"client_id": 5}, 400),
            ("POST", "/api/alerts/test", {"client_id": "nobody"}, 404),
            ("POST", "/api/alerts/test", {"extra": True}, 400),
            ("GET", "/api/alerts/settings?client_id=nobody", None, 404),
        ]
        for method, path, body, status in bad:
            r = await http.request(method, path, json=body, headers=admin)
            assert r.status_code == status, (path, body, r.text)
            assert set(r.json()["error"]) >= {"message", "type", "code"}

        r = await http.post("/api/alerts/test", json={}, headers=admin)
        assert r.status_code == 200
        assert r.json() == {"client_id": None, "code": "no_alert_contact", "data": [], "count": 0}

        for url in ("http://127.0.0.1:9/h", "http://192.168.1.10/h", "http://localhost/h"):
            r = await http.patch(
                f"/api/clients/{h.client.id}", json={"alert_webhook_url": url}, headers=admin
            )
            assert r.status_code == 400
            assert r.json()["error"]["code"] == "webhook_not_public"
            assert r.json()["error"]["param"] == "alert_webhook_url"
        r = await http.get(f"/api/clients/{h.client.id}", headers=admin)
        assert r.json()["alert_webhook_url"] is None
        # The other client's settings are the admin's to read, never the tenant's.
        r = await http.get(f"/api/alerts/settings?client_id={other.id}", headers=admin)
        assert r.status_code == 200 and r.json()["client_id"] == other.id
