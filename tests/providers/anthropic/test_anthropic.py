"""Anthropic: message conversion, params, tools, stop reasons, cached usage, streaming."""

import orjson
import pytest

from ai_gateway.providers import ProviderError
from ai_gateway.providers._stream import StreamState
from ai_gateway.providers.anthropic import ANTHROPIC_VERSION, AnthropicProvider
from ai_gateway.providers.anthropic.caching import add_breakpoints, min_cacheable_tokens
from ai_gateway.providers.anthropic.convert import DEFAULT_MAX_TOKENS, build_body
from ai_gateway.providers.anthropic.response import AnthropicEventDecoder, parse_usage
from tests.providers.helpers import TARGETS, chat, drain, user


def system(text: str) -> dict[str, str]:
    return {"role": "system", "content": text}


TARGET = TARGETS["anthropic"]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def test_system_and_merging_and_images() -> None:
    request = chat(
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": "Speak Portuguese."},
        user("first"),
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,QUJD"}},
                {"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}},
            ],
        },
        {"role": "assistant", "content": "a cat"},
    )
    body = build_body(request, "claude", stream=False)
    assert body["system"] == "Be brief.\n\nSpeak Portuguese."
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    blocks = body["messages"][0]["content"]
    assert blocks[0] == {"type": "text", "text": "first"}
    assert blocks[2] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/jpeg", "data": "QUJD"},
    }
    assert blocks[3] == {
        "type": "image",
        "source": {"type": "url", "url": "https://x.test/cat.png"},
    }
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS


def test_params_map_declaratively() -> None:
    body = build_body(
        chat(user("x"), max_completion_tokens=50, stop="END", temperature=1.7, top_p=0.9),
        "claude",
        stream=True,
    )
    assert body["max_tokens"] == 50
    assert body["stop_sequences"] == ["END"]
    assert body["temperature"] == 1.0  # clamped to Anthropic's range
    assert body["top_p"] == 0.9
    assert body["stream"] is True


def test_tools_calls_and_results() -> None:
    request = chat(
        user("weather in Recife?"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Recife"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "31C"},
        user("and tomorrow?"),
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "weather"}},
        parallel_tool_calls=False,
    )
    body = build_body(request, "claude", stream=False)
    assert body["tools"] == [
        {
            "name": "weather",
            "description": "Weather in a city",
            "input_schema": WEATHER_TOOL["function"]["parameters"],
        }
    ]
    assert body["tool_choice"] == {
        "type": "tool",
        "name": "weather",
        "disable_parallel_tool_use": True,
    }
    assistant, results = body["messages"][1], body["messages"][2]
    assert assistant["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Recife"}}
    ]
    assert results["role"] == "user"
    assert results["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "31C"},
        {"type": "text", "text": "and tomorrow?"},
    ]


def test_tool_choice_strings() -> None:
    for choice, expected in [("auto", "auto"), ("required", "any"), ("none", "none")]:
        body = build_body(
            chat(user("x"), tools=[WEATHER_TOOL], tool_choice=choice), "c", stream=False
        )
        assert body["tool_choice"] == {"type": expected}


async def test_headers_and_path(http, upstream_for, fake_providers) -> None:
    await AnthropicProvider(http).complete(chat(user("hi")), TARGET, upstream_for("anthropic"))
    sent = fake_providers.last_request("anthropic")
    assert sent.path == "/anthropic/v1/messages"
    assert sent.headers["x-api-key"] == "sk-test-key-123456"
    assert sent.headers["anthropic-version"] == ANTHROPIC_VERSION
    assert sent.body["model"] == TARGET.upstream_model


async def test_tool_use_answer(http, upstream_for, fake_providers) -> None:
    fake_providers.enqueue("anthropic", tool_calls=[("weather", {"city": "Recife"})])
    completion = await AnthropicProvider(http).complete(
        chat(user("hi"), tools=[WEATHER_TOOL]), TARGET, upstream_for("anthropic")
    )
    message = completion.body["choices"][0]["message"]
    assert completion.finish_reason == "tool_calls"
    assert message["content"] is None
    assert message["tool_calls"][0]["function"] == {
        "name": "weather",
        "arguments": '{"city":"Recife"}',
    }


async def test_max_tokens_and_cached_usage(http, upstream_for, fake_providers) -> None:
    fake_providers.enqueue("anthropic", finish="length", cached_tokens=7)
    completion = await AnthropicProvider(http).complete(
        chat(user("hi")), TARGET, upstream_for("anthropic")
    )
    assert completion.finish_reason == "length"
    assert completion.usage.cached_tokens == 7
    # input_tokens follows OpenAI: cached prompt tokens are included.
    prompt = fake_providers.last_request("anthropic").body
    assert completion.usage.input_tokens >= 7
    assert completion.body["usage"]["prompt_tokens_details"]["cached_tokens"] == 7
    assert prompt["messages"]


async def test_stream_tool_calls(http, upstream_for, fake_providers) -> None:
    fake_providers.enqueue("anthropic", text="Checking.", tool_calls=[("weather", {"city": "Rio"})])
    stream = await AnthropicProvider(http).stream(
        chat(user("hi"), tools=[WEATHER_TOOL]), TARGET, upstream_for("anthropic")
    )
    chunks = await drain(stream)
    calls = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if c["choices"] and "tool_calls" in c["choices"][0]["delta"]
    ]
    assert calls[0]["id"] == "toolu_1" and calls[0]["function"]["name"] == "weather"
    assert {c["index"] for c in calls} == {0}
    assert "".join(c["function"]["arguments"] for c in calls) == '{"city":"Rio"}'
    assert stream.finish_reason == "tool_calls"


def test_overloaded_error_event_is_retryable() -> None:
    decoder = AnthropicEventDecoder(provider="anthropic")
    event = '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}'
    with pytest.raises(ProviderError) as caught:
        decoder.decode("error", event, StreamState(model="m"))
    assert caught.value.retryable and caught.value.reason == "server_error"


def test_usage_adds_cache_reads_and_writes_into_the_prompt_once() -> None:
    usage = parse_usage(
        {
            "input_tokens": 50,
            "output_tokens": 9,
            "cache_read_input_tokens": 2000,
            "cache_creation_input_tokens": 1200,
        }
    )
    assert (usage.input_tokens, usage.cached_tokens, usage.cache_write_tokens) == (3250, 2000, 1200)
    assert usage.output_tokens == 9


def test_cumulative_usage_in_message_delta_wins() -> None:
    decoder = AnthropicEventDecoder(provider="anthropic")
    state = StreamState(model="anthropic/claude-3-5-sonnet")
    start = {
        "type": "message_start",
        "message": {"id": "msg_1", "usage": {"input_tokens": 10, "output_tokens": 1}},
    }
    decoder.decode("message_start", orjson.dumps(start).decode(), state)
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {
            "input_tokens": 10,
            "cache_read_input_tokens": 1500,
            "cache_creation_input_tokens": 300,
            "output_tokens": 42,
        },
    }
    decoder.decode("message_delta", orjson.dumps(delta).decode(), state)
    usage = state.usage
    assert (usage.input_tokens, usage.cached_tokens, usage.cache_write_tokens) == (1810, 1500, 300)
    assert usage.output_tokens == 42


LONG_SYSTEM = "Você atende clientes da loja pelo WhatsApp, com educação. " * 80  # ~1200 tokens


def test_breakpoint_marks_a_long_system_prompt_only() -> None:
    body = build_body(
        chat(system(LONG_SYSTEM), user("oi")), "claude-3-5-sonnet-20241022", stream=False
    )
    add_breakpoints(body)
    assert body["system"] == [
        {"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}
    ]
    short = build_body(chat(system("Seja breve."), user("oi")), "claude-3-5-sonnet", stream=False)
    assert add_breakpoints(short)["system"] == "Seja breve."
    # Haiku needs 2048 tokens: the same prompt is too short there.
    haiku = build_body(
        chat(system(LONG_SYSTEM), user("oi")), "claude-3-5-haiku-latest", stream=False
    )
    assert add_breakpoints(haiku)["system"] == LONG_SYSTEM
    assert min_cacheable_tokens("claude-3-opus-20240229") == 1024


def test_breakpoint_goes_on_the_last_tool_without_a_system_prompt() -> None:
    tools = [
        {"type": "function", "function": {"name": f"tool_{i}", "description": "x" * 1500}}
        for i in range(3)
    ]
    body = build_body(chat(user("oi"), tools=tools), "claude-3-5-sonnet", stream=False)
    add_breakpoints(body)
    assert "cache_control" not in body["tools"][0]
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
