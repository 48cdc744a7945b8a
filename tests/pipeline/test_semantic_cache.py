"""The semantic cache inside the call path: a reworded question reuses the answer of the
client that asked first and nobody else's, another product or date never does, tools and
high temperatures skip it, its entries outlive the process, purge empties it, and a
client that has not opted in never pays for an embedding."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ai_gateway.cache.semantic import SemanticCache
from ai_gateway.storage.tables import CachePerformance, SemanticCacheEntry, UsageLog
from tests.harness import Harness

MODEL = "openai/gpt-4o-mini"
SYSTEM = {"role": "system", "content": "You are the shop's assistant."}
QUESTION = "What is the price of the iPhone 15 in the São Paulo store?"
REWORDED = "what is the price of the iPhone 15 in the São Paulo store, please"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"semantic_cache_model": "simulated/demo-embed"}


def _body(question: str, **params: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [SYSTEM, {"role": "user", "content": question}],
        **params,
    }


async def _ask(h: Harness, question: str, key: str | None = None, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=h.url, timeout=30) as http:
        response = await http.post(
            "/v1/chat/completions", json=_body(question, **params), headers=h.headers(key)
        )
    assert response.status_code == 200, response.text
    await h.gateway.semantic_cache.drain()
    return response


def _kind(response: httpx.Response) -> str:
    if response.headers["x-ai-gateway-cache"] == "MISS":
        return "miss"
    return response.headers.get("x-ai-gateway-cache-match", "exact")


def _opt_in(h: Harness, key_client: str | None = None, **changes: Any) -> tuple[str, str]:
    client, key = h.new_client(key_client or "semantic-a", semantic_cache=True, **changes)
    return client.id, key


def _count(h: Harness, *where: Any) -> int:
    with h.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(UsageLog).where(*where)) or 0)


async def test_a_reworded_question_reuses_the_answer(harness: Harness) -> None:
    client_id, key = _opt_in(harness)
    first = await _ask(harness, QUESTION, key)
    second = await _ask(harness, REWORDED, key)
    assert (_kind(first), _kind(second)) == ("miss", "semantic")
    assert second.json()["choices"] == first.json()["choices"]
    assert len(harness.fake.requests_for("openai")) == 1
    again = await _ask(harness, REWORDED, key)
    assert _kind(again) == "exact"  # the exact cache comes first; its embedding is skipped

    await harness.drain()
    with harness.db.session() as s:
        chat = list(
            s.scalars(
                select(UsageLog)
                .where(UsageLog.client_id == client_id, UsageLog.endpoint == "chat.completions")
                .order_by(UsageLog.created_at)
            )
        )
        perf_row = s.scalars(
            select(CachePerformance).where(
                CachePerformance.client_id == client_id, CachePerformance.model_id == MODEL
            )
        ).one()
    assert [(r.cache_hit, r.cache_semantic) for r in chat] == [
        (False, False),
        (True, True),
        (True, False),
    ]
    semantic_hit = chat[1]
    assert semantic_hit.cost_usd == 0 and semantic_hit.saved_usd == chat[0].cost_usd > 0
    assert (perf_row.hits, perf_row.semantic_hits, perf_row.misses) == (2, 1, 1)
    # Each looked-up question was embedded once, as the client's own metered call.
    embeds = _count(harness, UsageLog.client_id == client_id, UsageLog.endpoint == "embeddings")
    assert embeds == 2


async def test_another_client_never_reuses_the_answer(harness: Harness) -> None:
    _a, key_a = _opt_in(harness, "semantic-a")
    _b, key_b = _opt_in(harness, "semantic-b")
    assert _kind(await _ask(harness, QUESTION, key_a)) == "miss"
    assert _kind(await _ask(harness, REWORDED, key_b)) == "miss"
    assert _kind(await _ask(harness, QUESTION, key_b)) == "semantic"  # its own entry
    assert len(harness.fake.requests_for("openai")) == 2


@pytest.mark.parametrize(
    "other",
    [
        "What is the price of the iPhone 14 in the São Paulo store?",
        "What is the price of the Galaxy S24 in the São Paulo store?",
        "What is the price of the iPhone 15 in the Rio store?",
    ],
)
async def test_another_product_or_place_is_not_a_hit(harness: Harness, other: str) -> None:
    _id, key = _opt_in(harness)
    await _ask(harness, QUESTION, key)
    assert _kind(await _ask(harness, other, key)) == "miss"


async def test_another_date_is_not_a_hit(harness: Harness) -> None:
    _id, key = _opt_in(harness)
    await _ask(harness, "Is the store open on March 3?", key)
    assert _kind(await _ask(harness, "is the store open on March 4?", key)) == "miss"
    assert _kind(await _ask(harness, "Is the store open tomorrow?", key)) == "miss"


async def test_another_system_prompt_or_context_is_another_scope(harness: Harness) -> None:
    _id, key = _opt_in(harness)
    await _ask(harness, QUESTION, key)
    async with httpx.AsyncClient(base_url=harness.url, timeout=30) as http:
        body = _body(REWORDED)
        body["messages"][0] = {"role": "system", "content": "You are a pirate."}
        response = await http.post("/v1/chat/completions", json=body, headers=harness.headers(key))
    assert _kind(response) == "miss"


@pytest.mark.parametrize(
    "params",
    [
        {"temperature": 1.3},
        {"top_p": 0.5},
        {
            "tools": [
                {
                    "type": "function",
                    "function": {"name": "price", "parameters": {"type": "object"}},
                }
            ]
        },
    ],
)
async def test_sampling_and_tools_skip_the_semantic_cache(
    harness: Harness, params: dict[str, Any]
) -> None:
    client_id, key = _opt_in(harness)
    harness.configure(cache_nondeterministic=True)  # the exact cache would take them
    await harness.gateway.config.get()
    await _ask(harness, QUESTION, key, **params)
    assert _kind(await _ask(harness, REWORDED, key, **params)) == "miss"
    await harness.drain()
    assert _count(harness, UsageLog.client_id == client_id, UsageLog.endpoint == "embeddings") == 0
    with harness.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SemanticCacheEntry)) == 0


async def test_no_store_bypasses_it(harness: Harness) -> None:
    _id, key = _opt_in(harness)
    await _ask(harness, QUESTION, key)
    async with httpx.AsyncClient(base_url=harness.url, timeout=30) as http:
        response = await http.post(
            "/v1/chat/completions",
            json=_body(REWORDED),
            headers=harness.headers(key, **{"Cache-Control": "no-store"}),
        )
    assert _kind(response) == "miss"


async def test_a_client_that_has_not_opted_in_pays_no_embedding(harness: Harness) -> None:
    await _ask(harness, QUESTION)
    assert _kind(await _ask(harness, REWORDED)) == "miss"
    await harness.drain()
    assert _count(harness, UsageLog.endpoint == "embeddings") == 0
    with harness.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SemanticCacheEntry)) == 0


async def test_the_clients_threshold_wins(harness: Harness) -> None:
    _id, key = _opt_in(harness, semantic_cache_threshold=1.0)
    await _ask(harness, QUESTION, key)
    assert _kind(await _ask(harness, REWORDED, key)) == "miss"


async def test_entries_are_loaded_from_the_database(harness: Harness) -> None:
    _id, key = _opt_in(harness)
    await _ask(harness, QUESTION, key)
    # A new process (or another replica) starts with an empty index.
    cache = harness.gateway.semantic_cache
    fresh = SemanticCache(harness.db, cache.settings, cache.embedder)
    harness.gateway.pipeline._semantic = fresh
    assert _kind(await _ask(harness, REWORDED, key)) == "semantic"


async def test_a_stream_is_served_from_the_semantic_cache(harness: Harness) -> None:
    _id, key = _opt_in(harness)
    await _ask(harness, QUESTION, key)
    async with (
        httpx.AsyncClient(base_url=harness.url, timeout=30) as http,
        http.stream(
            "POST",
            "/v1/chat/completions",
            json=_body(REWORDED, stream=True),
            headers=harness.headers(key),
        ) as response,
    ):
        text = (await response.aread()).decode()
    assert _kind(response) == "semantic"
    assert "data: [DONE]" in text


async def test_purge_empties_it(harness: Harness) -> None:
    client_id, key = _opt_in(harness)
    await _ask(harness, QUESTION, key)
    removed = await harness.gateway.semantic_cache.purge(client_id=client_id)
    assert removed == 1
    assert _kind(await _ask(harness, REWORDED, key)) == "miss"


async def test_in_global_scope_a_semantic_answer_is_not_shared(harness: Harness) -> None:
    harness.configure(cache_scope="global")
    await harness.gateway.config.get()
    _a, key_a = _opt_in(harness, "semantic-a")
    _b, key_b = _opt_in(harness, "semantic-b")
    await _ask(harness, QUESTION, key_a)
    assert _kind(await _ask(harness, REWORDED, key_a)) == "semantic"
    # The exact cache is shared in global scope, but A's semantic reuse was not stored
    # under the new wording's shared key, and B's own semantic lookup sees only B's.
    assert _kind(await _ask(harness, REWORDED, key_b)) == "miss"
    assert _kind(await _ask(harness, QUESTION, key_b)) == "exact"  # the admin's sharing
