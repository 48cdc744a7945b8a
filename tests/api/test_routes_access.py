"""Every route of the OpenAPI document, walked with four callers: an admin key, the
client's own key, another client's key, and no key. The table below must name every
route: a route it does not know fails the test, so a new route cannot ship without
saying who may call it. Responses to the other client must not contain a single value
of the first client's rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ai_gateway.storage.api_keys import issue_key
from ai_gateway.storage.models_registry import create_model
from ai_gateway.storage.stored_responses import save_response
from tests.api.usage_rows import usage_row, write_rows
from tests.harness import Harness

ADMIN, OWN, OTHER, ANON = "admin", "own", "other", "anon"


@dataclass(frozen=True)
class Case:
    """Expected status per caller; ``path`` and ``query`` use {client}, {key}, {model},
    {conversation} placeholders for the first client's resources."""

    admin: int
    own: int
    other: int
    anon: int = 401
    path: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None


def admin_only(ok: int = 200, **kw: Any) -> Case:
    return Case(admin=ok, own=403, other=403, **kw)


def tenant(**kw: Any) -> Case:
    """A client-scoped read naming the first client: the other client is refused."""
    return Case(admin=200, own=200, other=403, query={"client_id": "{client}", **kw})


PUBLIC = Case(admin=200, own=200, other=200, anon=200)

ROUTES: dict[tuple[str, str], Case] = {
    # Health is public on purpose: probes and Prometheus carry no key.
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/v1/models"): Case(admin=200, own=200, other=200),
    ("POST", "/v1/chat/completions"): Case(
        admin=403,
        own=200,
        other=200,
        body={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    ),
    ("POST", "/v1/embeddings"): Case(
        admin=403, own=200, other=200, body={"model": "simulated/demo-embed", "input": "hi"}
    ),
    ("POST", "/v1/messages"): Case(
        admin=403,
        own=200,
        other=200,
        body={
            "model": "openai/gpt-4o-mini",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "hi"}],
        },
    ),
    ("POST", "/v1/responses"): Case(
        admin=403,
        own=200,
        other=200,
        body={"model": "openai/gpt-4o-mini", "input": "hi", "store": False},
    ),
    # JSON is not the multipart this route takes: a 400 for every client, not a 500.
    ("POST", "/v1/audio/transcriptions"): Case(
        admin=403, own=400, other=400, body={"model": "openai/whisper-1"}
    ),
    # Stored responses are the storing client's alone: others (admins too) see a 404.
    ("GET", "/v1/responses/{response_id}"): Case(
        admin=404, own=200, other=404, path="/v1/responses/{response}"
    ),
    ("DELETE", "/v1/responses/{response_id}"): Case(
        admin=404, own=200, other=404, path="/v1/responses/{doomed}"
    ),
    ("GET", "/api/ai-gateway/usage-quarantine"): admin_only(),
    ("GET", "/api/ai-gateway/config"): admin_only(),
    ("PUT", "/api/ai-gateway/config"): admin_only(body={"cache_ttl_seconds": 600}),
    ("POST", "/api/ai-gateway/config/test"): admin_only(),
    ("GET", "/api/ai-gateway/models"): Case(admin=200, own=200, other=200),
    ("POST", "/api/ai-gateway/models"): admin_only(
        201,
        body={
            "id": "openai/gpt-walk",
            "provider": "openai",
            "model_name": "gpt-walk",
            "display_name": "Walk",
            "input_price_per_1m": "1.5",
            "output_price_per_1m": "2",
        },
    ),
    ("PUT", "/api/ai-gateway/models/{model_id}"): admin_only(
        path="/api/ai-gateway/models/{model}", body={"output_price_per_1m": "3"}
    ),
    ("DELETE", "/api/ai-gateway/models/{model_id}"): admin_only(
        path="/api/ai-gateway/models/{model}"
    ),
    ("GET", "/api/ai-gateway/metrics"): admin_only(),
    ("GET", "/api/ai-gateway/cache"): tenant(),
    ("DELETE", "/api/ai-gateway/cache"): tenant(),
    ("GET", "/api/analytics/gateway"): tenant(),
    ("GET", "/api/analytics/gateway/fallbacks"): tenant(),
    ("GET", "/api/analytics/gateway/conversations"): tenant(),
    ("GET", "/api/analytics/gateway/conversations.csv"): tenant(),
    ("GET", "/api/analytics/gateway/conversations/{conversation_id}"): Case(
        admin=200,
        own=200,
        other=403,
        path="/api/analytics/gateway/conversations/{conversation}",
        query={"client_id": "{client}"},
    ),
    ("GET", "/api/billing/summary"): tenant(),
    ("GET", "/api/requests"): tenant(),
    # Another client's call reads as "not found", never "forbidden": ids cannot be probed.
    ("GET", "/api/requests/{request_id}"): Case(
        admin=200, own=200, other=404, path="/api/requests/{usage}"
    ),
    ("GET", "/api/clients"): admin_only(),
    ("POST", "/api/clients"): admin_only(201, body={"name": "walker-{who}", "plan": "pro"}),
    ("POST", "/api/clients/rollout"): admin_only(body={"percent": 0}),
    ("GET", "/api/rollout/health"): admin_only(),
    ("GET", "/api/clients/{client_id}"): admin_only(path="/api/clients/{client}"),
    ("PATCH", "/api/clients/{client_id}"): admin_only(
        path="/api/clients/{client}", body={"contact_email": "ops@acme.example"}
    ),
    ("GET", "/api/clients/{client_id}/keys"): admin_only(path="/api/clients/{client}/keys"),
    ("POST", "/api/clients/{client_id}/keys"): admin_only(
        201, path="/api/clients/{client}/keys", body={"name": "walker"}
    ),
    ("DELETE", "/api/keys/{key_id}"): admin_only(path="/api/keys/{key}"),
    ("GET", "/api/clients/{client_id}/limits"): admin_only(path="/api/clients/{client}/limits"),
    ("PUT", "/api/clients/{client_id}/limits"): admin_only(
        path="/api/clients/{client}/limits", body={"rpm": 1000}
    ),
    ("GET", "/api/plans/{plan}/limits"): admin_only(path="/api/plans/pro/limits"),
    ("PUT", "/api/plans/{plan}/limits"): admin_only(path="/api/plans/pro/limits", body={}),
    ("GET", "/api/providers/{provider}/limits"): admin_only(path="/api/providers/openai/limits"),
    ("PUT", "/api/providers/{provider}/limits"): admin_only(
        path="/api/providers/openai/limits", body={}
    ),
    ("GET", "/api/alerts/settings"): admin_only(query={"client_id": "{client}"}),
    ("PUT", "/api/alerts/webhook-secret"): admin_only(body={"client_id": "{client}"}),
    ("POST", "/api/alerts/test"): admin_only(body={"client_id": "{client}"}),
    ("GET", "/api/budget/config"): tenant(),
    ("POST", "/api/budget/config"): Case(
        admin=200,
        own=200,
        other=403,
        query={"client_id": "{client}"},
        body={"budget_type": "brl", "limit": "100", "period": "monthly"},
    ),
    ("DELETE", "/api/budget/config"): tenant(),
    ("GET", "/api/budget/current-usage"): tenant(),
    # Not key-authenticated: cron takes its own secret, the webhook Meta's signature; the
    # harness configures neither, so every caller is refused.
    ("POST", "/api/cron/{job}"): Case(
        admin=403, own=403, other=403, anon=403, path="/api/cron/reset-budgets"
    ),
    ("GET", "/webhooks/whatsapp"): Case(admin=403, own=403, other=403, anon=403),
    ("POST", "/webhooks/whatsapp"): Case(admin=403, own=403, other=403, anon=403),
    # The semantic cache holds clients' questions and answers: admins only.
    ("GET", "/api/ai-gateway/cache/semantic"): admin_only(query={"client_id": "{client}"}),
    ("DELETE", "/api/ai-gateway/cache/semantic"): admin_only(query={"client_id": "{client}"}),
}


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }


def _fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def _body(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _body(v, values) for k, v in value.items()}
    return _fill(value, values) if isinstance(value, str) else value


@pytest.mark.usefixtures("restore_shared_state")
async def test_every_route_has_a_wall(harness: Harness) -> None:
    h = harness
    other, other_key = h.new_client("globex", plan="pro")
    with h.db.write() as s:
        spare_key = issue_key(s, role="client", client_id=h.client.id, name="spare").info.id
        create_model(
            s,
            model_id="openai/gpt-walked",
            values={"provider": "openai", "model_name": "gpt-walked", "display_name": "W"},
        )
    first_call = usage_row(h.client.id, conversation_id="acme-secret-conversation")
    write_rows(
        h.db,
        [
            first_call,
            usage_row(h.client.id, conversation_id="acme-secret-conversation", latency_ms=300),
            usage_row(other.id, conversation_id="globex-conversation"),
        ],
    )
    with h.db.write() as s:
        for response_id in ("resp_walk_read", "resp_walk_gone"):
            save_response(
                s,
                client_id=h.client.id,
                response_id=response_id,
                model="openai/gpt-4o-mini",
                conversation=[{"role": "user", "content": "acme-secret-conversation"}],
                body={"id": response_id, "object": "response", "client": h.client.id},
                now=datetime.now(UTC),
                retention=timedelta(days=1),
            )
    values = {
        "response": "resp_walk_read",
        "doomed": "resp_walk_gone",
        "client": h.client.id,
        "key": spare_key,
        "model": "openai/gpt-walked",
        "conversation": "acme-secret-conversation",
        "usage": first_call["id"],
    }
    foreign = (h.client.id, "acme-secret-conversation", '"acme"')
    keys = {ADMIN: h.admin_key, OWN: h.key, OTHER: other_key, ANON: None}

    async with httpx.AsyncClient(base_url=h.url, timeout=30) as http:
        document = (await http.get("/openapi.json")).json()
        documented = _operations(document)
        assert documented - set(ROUTES) == set(), "routes missing from ROUTES: add them"
        assert set(ROUTES) - documented == set(), "ROUTES names routes that do not exist"

        failures = []
        # Admin last: its calls change things (revoke the spare key, deactivate a model).
        for who in (ANON, OTHER, OWN, ADMIN):
            values["who"] = who
            for (method, route), case in sorted(ROUTES.items()):
                path = _fill(case.path or route, values)
                query = {k: _fill(v, values) for k, v in case.query.items()}
                headers = {"Authorization": f"Bearer {keys[who]}"} if keys[who] else {}
                response = await http.request(
                    method, path, params=query, json=_body(case.body, values), headers=headers
                )
                expected = getattr(case, who)
                if response.status_code != expected:
                    failures.append(f"{who} {method} {path}: {response.status_code} != {expected}")
                if response.status_code >= 400 and route == "/v1/messages":
                    # Anthropic's error shape on Anthropic's route (its SDKs read it).
                    assert response.json()["type"] == "error", (method, path)
                    assert set(response.json()["error"]) == {"type", "message"}, (method, path)
                elif response.status_code >= 400:
                    error = response.json()["error"]
                    assert set(error) == {"message", "type", "code", "param"}, (method, path)
                if who == OTHER:
                    leaked = [v for v in foreign if v in response.text]
                    if leaked:
                        failures.append(f"{who} {method} {path} leaked {leaked}")
                if who == OWN and route.startswith("/api/"):
                    assert other.id not in response.text, (method, path)
        assert failures == []


async def test_openapi_documents_errors_in_the_error_shape(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        document = (await http.get("/openapi.json")).json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
            for status in ("400", "401", "403", "404"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, path
            ok = operation["responses"].get("200") or operation["responses"].get("201")
            assert ok and ok["content"], (method, path)  # a documented success body
            if method in ("post", "put", "patch") and "requestBody" in operation:
                assert operation["requestBody"]["content"]["application/json"]["schema"]
