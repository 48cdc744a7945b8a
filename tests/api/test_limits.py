"""``/api/clients/{id}/limits``, ``/api/plans/{plan}/limits`` and
``/api/providers/{provider}/limits``: set, read back, audited, bounded; and enforced on
the next call, with OpenAI's 429 and headers."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from ai_gateway.ratelimit.rules import MAX_LIMIT
from ai_gateway.storage.tables import AuditLog
from tests.api.client import call
from tests.harness import Harness

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


async def _chat(h: Harness, key: str | None = None, **body: object) -> httpx.Response:
    async with httpx.AsyncClient(base_url=h.url, timeout=30) as http:
        return await http.post(
            "/v1/chat/completions", json={**CHAT, **body}, headers=h.headers(key)
        )


async def test_a_client_follows_its_plan_until_it_has_its_own(harness: Harness) -> None:
    h, path = harness, f"/api/clients/{harness.client.id}/limits"
    status, view = await call(h, "GET", path, admin=True)
    unlimited = {"rpm": None, "tpm": None, "concurrency": None}
    assert status == 200 and view["effective"] == unlimited and view["plan"] == "enterprise"
    status, plan = await call(
        h, "PUT", "/api/plans/enterprise/limits", admin=True, json={"rpm": 600, "tpm": 90000}
    )
    assert status == 200 and plan == {"plan": "enterprise", **unlimited, "rpm": 600, "tpm": 90000}
    status, view = await call(h, "PUT", path, admin=True, json={"rpm": 60, "concurrency": 4})
    assert status == 200
    assert view["own"] == {"rpm": 60, "tpm": None, "concurrency": 4}
    assert view["plan_limits"] == {"rpm": 600, "tpm": 90000, "concurrency": None}
    assert view["effective"] == {"rpm": 60, "tpm": 90000, "concurrency": 4}
    assert (await call(h, "GET", path, admin=True))[1] == view
    status, view = await call(h, "PUT", path, admin=True, json={})
    assert view["own"] == unlimited and view["effective"]["rpm"] == 600
    with h.db.session() as s:
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.action.like("rate_%"))))
    assert actions == ["rate_limits.plan", "rate_limits.client", "rate_limits.client"]


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"tpm": MAX_LIMIT + 1}, "tpm", str(MAX_LIMIT)),
        ({"rpm": 10**30}, "rpm", str(MAX_LIMIT)),
        ({"rpm": 1e30}, "rpm", str(MAX_LIMIT)),
        ({"concurrency": 0}, "concurrency", "at least 1"),
        ({"rpm": -3}, "rpm", "at least 1"),
    ],
)
async def test_bad_limits_are_a_400_naming_the_field(
    harness: Harness, body: dict[str, object], param: str, words: str
) -> None:
    for path in (f"/api/clients/{harness.client.id}/limits", "/api/plans/pro/limits"):
        status, error = await call(harness, "PUT", path, admin=True, json=body)
        assert status == 400, (path, error)
        assert error["error"]["param"] == param and words in error["error"]["message"]


async def test_unknown_targets(harness: Harness) -> None:
    assert (await call(harness, "GET", "/api/clients/nobody/limits", admin=True))[0] == 404
    assert (await call(harness, "PUT", "/api/plans/gold/limits", admin=True, json={}))[0] == 404
    status, error = await call(harness, "GET", "/api/providers/nope/limits", admin=True)
    assert status == 400 and error["error"]["param"] == "provider"
    assert (await call(harness, "PUT", "/api/plans/pro/limits", admin=True, json={"rps": 1}))[
        0
    ] == 400


async def test_over_the_rpm_limit_is_openais_429(harness: Harness) -> None:
    h = harness
    await call(h, "PUT", f"/api/clients/{h.client.id}/limits", admin=True, json={"rpm": 2})
    first, second = await _chat(h), await _chat(h)
    upstream = len(h.fake.requests_for("openai"))
    third = await _chat(h)
    assert first.status_code == second.status_code == 200
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert second.headers["x-ratelimit-remaining-requests"] == "0"
    assert second.headers["x-ratelimit-reset-requests"].endswith("s")
    assert "x-ratelimit-limit-tokens" not in first.headers  # no TPM limit, no token headers
    assert third.status_code == 429
    error = third.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and error["type"] == "rate_limit_error"
    assert "requests per minute" in error["message"]
    assert 1 <= int(third.headers["retry-after"]) <= 30
    assert third.headers["x-ratelimit-remaining-requests"] == "0"
    # Refused before any provider call.
    assert len(h.fake.requests_for("openai")) == upstream


async def test_tpm_headers_on_a_streamed_answer(harness: Harness) -> None:
    h = harness
    await call(h, "PUT", "/api/plans/enterprise/limits", admin=True, json={"tpm": 1000})
    h.fake.enqueue("openai", chunk_delay=0.2)  # keeps the stream (and its estimate) open
    async with (
        httpx.AsyncClient(base_url=h.url, timeout=30) as http,
        http.stream(
            "POST",
            "/v1/chat/completions",
            json={**CHAT, "stream": True, "max_tokens": 600},
            headers=h.headers(),
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit-tokens"] == "1000"
        # Admitted on the estimate: the prompt (a few tokens) plus the 600 of max_tokens.
        remaining = int(response.headers["x-ratelimit-remaining-tokens"])
        assert 380 < remaining <= 400
        assert response.headers["x-ratelimit-reset-tokens"].endswith("s")
        refused = await _chat(h, max_tokens=600)
        body = await response.aread()
    assert b"[DONE]" in body
    assert refused.status_code == 429
    assert "tokens per minute" in refused.json()["error"]["message"]
    assert refused.headers["x-ratelimit-limit-tokens"] == "1000"
    # The stream is over: its estimate was swapped for the few tokens it used.
    assert (await _chat(h, max_tokens=600)).status_code == 200


@pytest.mark.usefixtures("restore_shared_state")
async def test_a_provider_ceiling_refuses_past_the_key(harness: Harness) -> None:
    h = harness
    status, ceiling = await call(
        h, "PUT", "/api/providers/openai/limits", admin=True, json={"rpm": 2}
    )
    assert status == 200 and ceiling == {"provider": "openai", "rpm": 2, "tpm": None}
    assert [(await _chat(h)).status_code for _ in range(2)] == [200, 200]
    refused = await _chat(h)
    assert refused.status_code == 429
    assert "shared openai key" in refused.json()["error"]["message"]
    assert int(refused.headers["retry-after"]) >= 1
    # Another provider's key is not affected.
    assert (await _chat(h, model="groq/llama-3.3-70b")).status_code == 200


async def test_call_ai_is_limited_too(harness: Harness) -> None:
    from ai_gateway.errors import RateLimited

    h = harness
    await call(h, "PUT", f"/api/clients/{h.client.id}/limits", admin=True, json={"rpm": 1})
    messages = [{"role": "user", "content": "from the library"}]
    result = await h.gateway.call_ai(h.client.id, messages, model="openai/gpt-4o-mini")
    assert result.headers()["x-ratelimit-remaining-requests"] == "0"
    with pytest.raises(RateLimited) as caught:
        await h.gateway.call_ai(h.client.id, messages, model="openai/gpt-4o-mini")
    assert caught.value.code == "rate_limit_exceeded"
    assert int(caught.value.headers["retry-after"]) >= 1
