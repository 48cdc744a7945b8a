"""``/api/ai-gateway/cache/semantic``: admins list and purge the semantic cache's entries;
client keys never reach them; bad filters are a 400, an unknown entry a 404. The cache
API and the analytics report exact and semantic hits apart."""

from __future__ import annotations

import httpx
import pytest

from tests.harness import Harness

URL = "/api/ai-gateway/cache/semantic"
QUESTION = "What is the price of the iPhone 15 in the São Paulo store?"
REWORDED = "what is the price of the iPhone 15 in the São Paulo store, please"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"semantic_cache_model": "simulated/demo-embed"}


async def _seed(h: Harness) -> tuple[str, str]:
    client, key = h.new_client("semantic-api", semantic_cache=True)
    async with httpx.AsyncClient(base_url=h.url, timeout=30) as http:
        for question in (QUESTION, REWORDED):
            body = {
                "model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": question}],
            }
            response = await http.post("/v1/chat/completions", json=body, headers=h.headers(key))
            assert response.status_code == 200
            await h.gateway.semantic_cache.drain()
    await h.drain()
    return client.id, key


async def test_admin_lists_and_purges_entries(harness: Harness) -> None:
    client_id, key = await _seed(harness)
    admin = harness.headers(harness.admin_key)
    async with httpx.AsyncClient(base_url=harness.url, timeout=30) as http:
        listed = (await http.get(URL, headers=admin)).json()
        assert listed["count"] == 1
        [entry] = listed["data"]
        assert (entry["client_id"], entry["query"], entry["hits"]) == (client_id, QUESTION, 1)
        assert entry["embed_model"] == "simulated/demo-embed"
        assert "entry" not in entry and "vector" not in entry  # never the answer or vector
        assert float(entry["saved_usd"]) == float(entry["cost_usd"]) > 0
        other = await http.get(URL, params={"client_id": harness.client.id}, headers=admin)
        assert other.json()["count"] == 0

        stats = (
            await http.get("/api/ai-gateway/cache", params={"client_id": client_id}, headers=admin)
        ).json()["savings"]
        [chat] = [m for m in stats["by_model"] if m["model_id"] == "openai/gpt-4o-mini"]
        assert (chat["hits"], chat["exact_hits"], chat["semantic_hits"]) == (1, 0, 1)
        assert chat["semantic_hit_rate"] == 0.5
        analytics = (await http.get("/api/analytics/gateway", headers=harness.headers(key))).json()[
            "cache"
        ]
        assert analytics["semantic_hits"] == 1

        gone = await http.delete(URL, params={"entry_id": entry["id"]}, headers=admin)
        assert gone.json() == {"deleted": 1}
        again = await http.delete(URL, params={"entry_id": entry["id"]}, headers=admin)
        assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
        assert (await http.get(URL, headers=admin)).json()["count"] == 0


async def test_purge_a_client_or_all(harness: Harness) -> None:
    client_id, _key = await _seed(harness)
    admin = harness.headers(harness.admin_key)
    async with httpx.AsyncClient(base_url=harness.url, timeout=30) as http:
        someone = await http.delete(URL, params={"client_id": harness.client.id}, headers=admin)
        assert someone.json() == {"deleted": 0}
        mine = await http.delete(URL, params={"client_id": client_id}, headers=admin)
        assert mine.json() == {"deleted": 1}
        assert (await http.delete(URL, params={"all": "true"}, headers=admin)).json() == {
            "deleted": 0
        }


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"all": "true", "client_id": "x"},
        {"all": "true", "entry_id": "x"},
        {"entry_id": "x" * 65},
        {"all": "maybe"},
    ],
)
async def test_bad_purges_are_400(harness: Harness, params: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=harness.url, timeout=30) as http:
        response = await http.delete(URL, params=params, headers=harness.headers(harness.admin_key))
    assert response.status_code == 400, response.text
    assert "error" in response.json()


async def test_a_client_key_is_refused_even_for_itself(harness: Harness) -> None:
    client_id, key = await _seed(harness)
    async with httpx.AsyncClient(base_url=harness.url, timeout=30) as http:
        for method in ("GET", "DELETE"):
            response = await http.request(
                method, URL, params={"client_id": client_id}, headers=harness.headers(key)
            )
            assert response.status_code == 403
        listed = await http.get(URL, headers=harness.headers(harness.admin_key))
    assert listed.json()["count"] == 1  # nothing was purged


async def test_the_opt_in_is_a_client_setting(harness: Harness) -> None:
    admin = harness.headers(harness.admin_key)
    path = f"/api/clients/{harness.client.id}"
    async with httpx.AsyncClient(base_url=harness.url, timeout=30) as http:
        changed = await http.patch(
            path, json={"semantic_cache": True, "semantic_cache_threshold": 0.95}, headers=admin
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["semantic_cache"], changed.json()["semantic_cache_threshold"]) == (
            True,
            0.95,
        )
        for bad in (
            {"semantic_cache": None},
            {"semantic_cache_threshold": 2},
            {"semantic_cache": "x"},
        ):
            response = await http.patch(path, json=bad, headers=admin)
            assert response.status_code == 400, (bad, response.text)
        cleared = await http.patch(path, json={"semantic_cache_threshold": None}, headers=admin)
        assert cleared.json()["semantic_cache_threshold"] is None
