"""The chat request is defined once: the OpenAPI document's request schema is written
from the validation tables, and a body is valid for one exactly when it is for the other
(beyond the few rules the schema says stay in code)."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from ai_gateway.errors import InvalidRequest
from ai_gateway.pipeline.validation import (
    _PARAM_TYPES,
    _RANGES,
    chat_request_schema,
    parse_chat_request,
)

USER = [{"role": "user", "content": "olá"}]


def _accepted(body: Any) -> bool:
    try:
        parse_chat_request(body)
    except InvalidRequest:
        return False
    return True


BODIES: list[Any] = [
    {"messages": USER},
    {"model": "openai/gpt-4o-mini", "messages": USER, "stream": True},
    {"messages": USER, "stream": "yes"},
    {"messages": []},
    {"model": ""},
    {"model": "x" * 129, "messages": USER},
    {"messages": [{"role": "wizard", "content": "hi"}]},
    {"messages": [{"role": "user", "content": []}]},
    {"messages": [{"role": "user", "content": [{"type": "video"}]}]},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
    {"messages": USER, "stream_options": {"include_usage": "sim"}},
    {"messages": USER, "stream_options": {"include_usage": True}},
    {"messages": USER, "fallback_models": ["groq/llama-3.1-8b-instant"]},
    {"messages": USER, "fallback_models": "groq/llama"},
    {"messages": USER, "fallback_models": [""]},
    {"messages": USER, "stop": ["a", "b", "c", "d", "e"]},
    {"messages": USER, "stop": "fim"},
    {"messages": USER, "tools": [{"type": "function", "function": {"name": "f"}}]},
    {"messages": USER, "tools": [{"type": "function"}]},
    {"messages": USER, "temperature": None},
    {"messages": USER, "unknown_field": {"kept": True}},
    ["not", "an", "object"],
]
# Each typed parameter: a value of the wrong type, and each end of its range and past it.
for _name, (_types, _) in _PARAM_TYPES.items():
    BODIES.append({"messages": USER, _name: {"wrong": "type"} if dict not in _types else 7})
for _name, (_low, _high) in _RANGES.items():
    for _value in (_low, _high, _low - 1, _high + 1):
        BODIES.append({"messages": USER, _name: _value})


@pytest.mark.parametrize("body", BODIES, ids=[str(i) for i in range(len(BODIES))])
def test_the_schema_and_the_validation_agree(body: Any) -> None:
    validator = jsonschema_rs.validator_for(chat_request_schema())
    assert validator.is_valid(body) == _accepted(body), body


def test_every_typed_parameter_is_documented() -> None:
    properties = chat_request_schema()["properties"]
    assert set(_PARAM_TYPES) | {"model", "messages", "stream", "fallback_models"} <= set(properties)
    temperature = properties["temperature"]["anyOf"][0]
    assert (temperature["minimum"], temperature["maximum"]) == _RANGES["temperature"]


def test_the_openapi_document_serves_the_same_schema() -> None:
    from ai_gateway.app import create_app
    from ai_gateway.settings import Settings

    app = create_app(Settings())
    document = app.api.openapi()
    assert document["components"]["schemas"]["ChatCompletionRequest"] == chat_request_schema()
