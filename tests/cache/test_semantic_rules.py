"""Which requests the semantic cache may answer, their scope, and the literals a reused
answer must share; the demo embedder's vectors."""

from __future__ import annotations

import math
from typing import Any

import pytest

from ai_gateway.cache.semantic_rules import SemanticQuery, literals_of, semantic_query
from ai_gateway.providers.base import ChatRequest
from ai_gateway.providers.simulated.embedding import simulated_vector

SYSTEM = {"role": "system", "content": "Be brief."}


def _request(
    text: Any = "qual o preço?", *, messages: list[Any] | None = None, **params: Any
) -> ChatRequest:
    return ChatRequest(
        "openai/gpt-4o-mini", messages or [SYSTEM, {"role": "user", "content": text}], params
    )


def _query(request: ChatRequest, client: str = "c1") -> SemanticQuery:
    query = semantic_query(request, client)
    assert isinstance(query, SemanticQuery), query
    return query


def test_only_the_last_user_message_is_embedded_and_the_rest_is_the_scope() -> None:
    one = _query(_request("qual o preço?"))
    two = _query(_request("Qual o preço, por favor?"))
    assert one.text == "qual o preço?"
    assert one.scope_hash == two.scope_hash
    assert _query(_request("qual o preço?"), "c2").scope_hash != one.scope_hash
    other_system = _request(
        messages=[{"role": "system", "content": "x"}, {"role": "user", "content": "qual o preço?"}]
    )
    assert _query(other_system).scope_hash != one.scope_hash
    earlier = _request(
        messages=[
            SYSTEM,
            {"role": "user", "content": "oi"},
            {"role": "assistant", "content": "olá"},
            {"role": "user", "content": "qual o preço?"},
        ]
    )
    assert _query(earlier).scope_hash != one.scope_hash
    assert _query(_request(max_tokens=5)).scope_hash != one.scope_hash
    assert _query(_request(temperature=0)).scope_hash != one.scope_hash
    # What never changes the answer stays out of the scope.
    assert _query(_request(stream=True, user="u1", metadata={"a": 1})).scope_hash == one.scope_hash


def test_text_parts_are_joined() -> None:
    parts = [{"type": "text", "text": "qual o"}, {"type": "text", "text": "preço?"}]
    assert _query(_request(parts)).text == "qual o\npreço?"


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (_request(temperature=1.3), "temperature above 1.0"),
        (_request(top_p=0.5), "top_p below 1"),
        (_request(n=2), "n > 1"),
        (_request(tools=[{"type": "function"}]), "tools present"),
        (_request(tool_choice="auto"), "tools present"),
        (_request(functions=[{"name": "f"}]), "tools present"),
        (
            _request([{"type": "image_url", "image_url": {"url": "data:"}}]),
            "last message is not the user's text",
        ),
        (_request("   "), "last message is not the user's text"),
        (_request("x" * 4001), "question too long"),
        (
            _request(messages=[SYSTEM, {"role": "assistant", "content": "hi"}]),
            "last message is not the user's text",
        ),
        (ChatRequest("m", []), "last message is not the user's text"),
        (ChatRequest("m", [], {"input": ["a"]}, kind="embedding"), "embedding request"),
    ],
)
def test_what_is_never_answered_semantically(request_: ChatRequest, reason: str) -> None:
    assert semantic_query(request_, "c1") == reason


def test_default_sampling_is_eligible() -> None:
    for params in ({}, {"temperature": 1.0}, {"temperature": 0.2}, {"top_p": 1}, {"n": 1}):
        assert isinstance(semantic_query(_request(**params), "c1"), SemanticQuery)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What is the price of the iPhone 15?", {"iphone", "15"}),
        ("Is the store open on March 3?", {"march", "3"}),
        ("Can I buy it?", set()),
        ("Vocês entregam em Recife amanhã?", {"recife", "amanha"}),  # accents folded
        ("vcs entregam em Recife amanha", {"recife", "amanha"}),
        ("Tem horário às 14h? Obrigado", {"14h"}),  # "Obrigado" starts a sentence
        ("quanto custa a calabresa grande?", set()),
    ],
)
def test_literals(text: str, expected: set[str]) -> None:
    assert literals_of(text) == expected


def test_the_demo_embedder_is_a_deterministic_unit_vector() -> None:
    one = simulated_vector("m", "Qual o horário?", 64)
    assert one == simulated_vector("m", "qual o horario", 64)  # case, accents, punctuation
    assert math.isclose(sum(x * x for x in one), 1.0)
    assert simulated_vector("m", "...", 8) == [1.0] + [0.0] * 7
    assert simulated_vector("other", "Qual o horário?", 64) != one
