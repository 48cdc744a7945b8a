"""Canonical keys, scope isolation and the cacheability policy."""

from __future__ import annotations

import orjson
import pytest

from ai_gateway.cache.keys import (
    CachePolicy,
    cache_key,
    canonical_payload,
    not_cacheable_reason,
    scope_prefix,
)
from ai_gateway.providers.base import ChatRequest
from tests.cache._helpers import request


def _key(req: ChatRequest, client: str = "acme", scope: str = "client") -> str:
    return cache_key(req, scope=scope, client_id=client)  # type: ignore[arg-type]


def _from_wire(raw: str) -> ChatRequest:
    """Parse a request body the way the API would: model, messages, the rest as params."""
    body = orjson.loads(raw)
    return ChatRequest(
        model=body.pop("model"),
        messages=body.pop("messages"),
        stream=bool(body.pop("stream", False)),
        params=body,
    )


def test_key_order_and_whitespace_do_not_matter() -> None:
    a = _from_wire(
        '{"model":"m","messages":[{"role":"user","content":"hi"}],'
        '"temperature":0,"response_format":{"type":"json_object","x":1}}'
    )
    b = _from_wire(
        """{
          "response_format": {"x": 1, "type": "json_object"},
          "temperature": 0.0,
          "messages": [ {"content": "hi", "role": "user"} ],
          "model": "m"
        }"""
    )
    assert _key(a) == _key(b)


def test_key_shape() -> None:
    key = _key(request())
    prefix, digest = key.rsplit(":", 1)
    assert prefix == "client:acme"
    assert len(digest) == 64
    int(digest, 16)


def test_canonical_payload_is_sorted_compact_json() -> None:
    payload = canonical_payload(request(temperature=0.2, max_tokens=5))
    assert b" " not in payload.replace(b"Say hello", b"")
    assert payload == orjson.dumps(orjson.loads(payload), option=orjson.OPT_SORT_KEYS)


@pytest.mark.parametrize(
    "params",
    [
        {"temperature": 0.3},
        {"top_p": 0.5},
        {"max_tokens": 10},
        {"max_completion_tokens": 10},
        {"stop": ["\n"]},
        {"tools": [{"type": "function", "function": {"name": "f"}}]},
        {"tool_choice": "none"},
        {"response_format": {"type": "json_object"}},
        {"seed": 7},
        {"n": 2},
        {"presence_penalty": 0.5},
        {"frequency_penalty": 0.5},
        {"logit_bias": {"50256": -100}},
        {"some_future_param": True},
    ],
)
def test_every_answer_changing_param_changes_the_key(params: dict) -> None:
    assert _key(request(**params)) != _key(request())


def test_model_and_messages_change_the_key() -> None:
    base = request()
    other_model = ChatRequest(model="openai/gpt-4o", messages=base.messages)
    other_text = ChatRequest(model=base.model, messages=[{"role": "user", "content": "Say hi"}])
    assert len({_key(base), _key(other_model), _key(other_text)}) == 3


def test_content_whitespace_is_part_of_the_question() -> None:
    spaced = ChatRequest(model="m", messages=[{"role": "user", "content": "hi "}])
    plain = ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}])
    assert _key(spaced) != _key(plain)


@pytest.mark.parametrize(
    "params",
    [
        {"stream": True},
        {"stream_options": {"include_usage": True}},
        {"user": "end-user-42"},
        {"metadata": {"trace": "x"}},
        {"temperature": None},
    ],
)
def test_transport_and_attribution_fields_do_not_change_the_key(params: dict) -> None:
    assert _key(request(**params)) == _key(request())


def test_stream_flag_does_not_change_the_key() -> None:
    streamed = request()
    streamed.stream = True
    streamed.include_usage = True
    assert _key(streamed) == _key(request())


def test_client_scope_isolates_clients() -> None:
    assert _key(request(), "client-a") != _key(request(), "client-b")
    assert _key(request(), "client-a").startswith("client:client-a:")


def test_global_scope_is_shared() -> None:
    a = _key(request(), "client-a", scope="global")
    b = _key(request(), "client-b", scope="global")
    assert a == b
    assert a.startswith("global:")


def test_client_scope_needs_a_client() -> None:
    with pytest.raises(ValueError):
        scope_prefix("client", "")


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, None),
        ({"temperature": 0}, None),
        ({"temperature": 1.0}, None),
        ({"temperature": 1.2}, "temperature 1.2 above 1.0"),
        ({"n": 1}, None),
        ({"n": 3}, "n > 1"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools present"),
        ({"tools": []}, None),
    ],
)
def test_default_policy(params: dict, reason: str | None) -> None:
    assert not_cacheable_reason(request(**params), CachePolicy()) == reason


def test_lower_threshold_makes_default_temperature_uncacheable() -> None:
    policy = CachePolicy(temperature_threshold=0.0)
    assert not_cacheable_reason(request(), policy) is not None
    assert not_cacheable_reason(request(temperature=0), policy) is None


def test_admin_may_allow_nondeterministic_requests() -> None:
    policy = CachePolicy(allow_nondeterministic=True)
    wild = request(temperature=2, n=4, tools=[{"type": "function", "function": {"name": "f"}}])
    assert not_cacheable_reason(wild, policy) is None


def test_key_is_stable_across_releases() -> None:
    """A changed key format silently empties every deployed cache: change it on purpose."""
    req = request(temperature=0, max_tokens=5)
    assert canonical_payload(req) == (
        b'{"messages":[{"content":"Say hello","role":"user"}],'
        b'"model":"openai/gpt-4o-mini","params":{"max_tokens":5,"temperature":0}}'
    )
    assert _key(req) == (
        "client:acme:1e4c7e6a5ea7b38585ad34f4f7e040794bac45bbb1ecd5d6f3a391aa6f245f77"
    )
