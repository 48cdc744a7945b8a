"""``/api/ai-gateway/config``: masked keys, validated changes that apply at once, the
vault, the audit trail, and the provider test."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ai_gateway.storage.secrets import get_secret
from ai_gateway.storage.tables import AuditLog
from tests.api.client import call
from tests.harness import PROVIDER_KEYS, Harness


@pytest.mark.usefixtures("restore_shared_state")
async def test_read_masks_keys_and_update_applies_at_once(harness: Harness) -> None:
    h = harness
    status, config = await call(h, "GET", "/api/ai-gateway/config", admin=True)
    assert status == 200
    for name, key in PROVIDER_KEYS.items():
        assert config["provider_keys"][name].endswith(key[-4:])
        assert key not in str(config)
    assert isinstance(config["total_timeout_s"], str)

    new_key = "sk-proj-ROTATEDopenai000000099"
    status, updated = await call(
        h,
        "PUT",
        "/api/ai-gateway/config",
        admin=True,
        json={
            "cache_ttl_seconds": 120,
            "cache_scope": "global",
            "default_model": "groq/llama-3.3-70b",
            "fallback_chain": ["openai/gpt-4o"],
            "total_timeout_s": "30.5",
            "max_retries": 2,
            "base_urls": {"openai": h.fake.base_url("openai")},
            "admin_alert_email": "ops@example.com",
            "provider_keys": {"openai": new_key},
        },
    )
    assert status == 200, updated
    assert updated["version"] == config["version"] + 1
    assert updated["total_timeout_s"] == "30.500"
    assert updated["provider_keys"]["openai"].endswith("0099")
    assert new_key not in str(updated)
    # The cache reloaded at once: the next call uses the new key and default model.
    snapshot = h.gateway.config.current
    assert snapshot.keys["openai"] == new_key
    assert snapshot.default_model == "groq/llama-3.3-70b"
    assert snapshot.cache.default_ttl_seconds == 120 and h.gateway.cache.settings.scope == "global"
    with h.db.session() as s:
        assert get_secret(s, master=h.gateway.master, secret_id="openai") == new_key  # type: ignore[arg-type]
        [audit] = s.scalars(select(AuditLog).where(AuditLog.action == "config.update")).all()
    assert audit.actor.startswith("admin-key:")
    assert audit.details["provider_keys_set"] == ["openai"]
    assert new_key not in str(audit.details)


@pytest.mark.usefixtures("restore_shared_state")
async def test_bad_config_is_refused_and_changes_nothing(harness: Harness) -> None:
    h = harness
    _, before = await call(h, "GET", "/api/ai-gateway/config", admin=True)
    bad = [
        {"default_model": "openai/no-such-model"},
        {"fallback_chain": ["openai/gpt-4o", "nope/x"]},
        {"cache_scope": "everyone"},
        {"cache_ttl_seconds": -1},
        {"connect_timeout_s": "0"},
        {"read_timeout_s": "abc"},
        {"max_retries": 6},
        {"base_urls": {"openai": "ftp://example.com"}},
        {"base_urls": {"mistral": "https://example.com"}},
        {"admin_alert_webhook": "javascript:alert(1)"},
        {"admin_alert_email": "not-an-email"},
        {"provider_keys": {"openai": "short"}},
        # A key the HTTP client cannot put in a header would make every call a 500.
        {"provider_keys": {"openai": "sk-abc\ndef-ghijkl"}},
        {"provider_keys": {"openai": "sk-abc def-ghijkl"}},
        {"default_model": "'; DROP TABLE clients; --"},
        {"unknown_field": 1},
        {"default_model": None},
        {},
    ]
    for body in bad:
        status, error = await call(h, "PUT", "/api/ai-gateway/config", admin=True, json=body)
        assert status == 400, (body, error)
    status, _ = await call(h, "PUT", "/api/ai-gateway/config", admin=True, content=b"{not json")
    assert status == 400
    _, after = await call(h, "GET", "/api/ai-gateway/config", admin=True)
    assert after == before


@pytest.mark.usefixtures("restore_shared_state")
async def test_provider_test_reports_each_provider(harness: Harness) -> None:
    h = harness
    h.fake.enqueue_failure("anthropic", status=401)
    status, report = await call(h, "POST", "/api/ai-gateway/config/test", admin=True)
    assert status == 200
    results = {r["provider"]: r for r in report["data"]}
    assert set(results) == set(PROVIDER_KEYS)
    assert results["openai"]["ok"] and results["openai"]["latency_ms"] >= 0
    assert results["anthropic"]["ok"] is False and results["anthropic"]["error"]
    assert h.fake.last_request("groq").headers["authorization"] == f"Bearer {PROVIDER_KEYS['groq']}"
