"""``parse_chat_request``: every malformed body is an :class:`InvalidRequest`, whatever the
JSON types in it (an object or a list where a string belongs must not raise TypeError)."""

from __future__ import annotations

from typing import Any

import pytest

from ai_gateway.errors import InvalidRequest
from ai_gateway.pipeline.validation import parse_chat_request

USER = {"role": "user", "content": "hi"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": {}, "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": [], "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": ["user"], "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": [{"type": {}}]}]}, "messages[0].content[0]"),
        ({"messages": [{"role": "user", "content": [{"type": []}]}]}, "messages[0].content[0]"),
        (
            {"messages": [{"role": "user", "content": [{"type": ["text"]}]}]},
            "messages[0].content[0]",
        ),
        ({"messages": [USER], "tools": [{"type": {}, "function": {"name": "f"}}]}, "tools[0]"),
        ({"messages": [USER], "stop": [[]]}, "stop"),
        ({"messages": [USER], "stream_options": {"include_usage": {}}}, "stream_options"),
        ({"messages": [USER], "fallback_models": [{}]}, "fallback_models"),
        ({"messages": [USER], "max_tokens": 1.5}, "max_tokens"),
        ({"messages": [USER], "temperature": True}, "temperature"),
        ({"messages": [{"role": "tool", "content": "x", "tool_call_id": []}]}, None),
        ({"model": {}, "messages": [USER]}, "model"),
    ],
)
def test_wrong_types_are_a_400_naming_the_field(body: dict[str, Any], param: str | None) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_chat_request(body)
    assert caught.value.status == 400
    if param is not None:
        assert caught.value.param == param


def test_the_echoed_value_is_bounded() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_chat_request({"messages": [{"role": "x" * 100_000, "content": "x"}]})
    assert len(caught.value.message) < 300


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [USER, {"role": "assistant", "tool_calls": {}}]}, "messages[1].tool_calls"),
        (
            {"messages": [USER, {"role": "assistant", "tool_calls": [5]}]},
            "messages[1].tool_calls[0]",
        ),
        (
            {
                "messages": [
                    USER,
                    {
                        "role": "assistant",
                        "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{"}}],
                    },
                ]
            },
            "messages[1].tool_calls[0].function.arguments",
        ),
        ({"messages": [{"role": "user", "content": "x", "name": 5}]}, "messages[0].name"),
        (
            {"messages": [{"role": "system", "content": [{"type": "refusal", "text": 5}]}]},
            "messages[0].content[0].text",
        ),
        ({"messages": [USER], "tool_choice": {"function": []}}, "tool_choice"),
        ({"messages": [USER], "response_format": {"json_schema": []}}, "response_format"),
        (
            {
                "messages": [USER],
                "tools": [{"type": "function", "function": {"name": "f", "parameters": []}}],
            },
            "tools[0].function",
        ),
    ],
)
def test_fields_the_adapters_read_are_checked(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_chat_request(body)
    assert caught.value.param == param


def test_deep_nesting_is_refused_before_any_adapter_recurses() -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": deep}
    with pytest.raises(InvalidRequest, match="nested deeper"):
        parse_chat_request({"messages": [USER], "metadata": deep})
    parse_chat_request({"messages": [USER], "metadata": {"a": {"b": [1, {"c": "d"}]}}})
