"""Gemini: conversion, generationConfig, tools, finish reasons, cached usage, URL and key."""

from ai_gateway.providers.google import GoogleProvider
from ai_gateway.providers.google.convert import build_body
from tests.providers.helpers import TARGETS, chat, drain, user

TARGET = TARGETS["google"]
TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "parameters": {
            "type": "object",
            "properties": {"q": {"type": "string"}},
            "additionalProperties": False,
        },
    },
}


def test_system_roles_parts() -> None:
    body = build_body(
        chat(
            {"role": "system", "content": "Be brief."},
            user("hi"),
            {"role": "assistant", "content": "hello"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "see"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}},
                    {"type": "image_url", "image_url": {"url": "https://x.test/a.jpg"}},
                ],
            },
        )
    )
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][2]["parts"] == [
        {"text": "see"},
        {"inlineData": {"mimeType": "image/png", "data": "AAA"}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://x.test/a.jpg"}},
    ]


def test_generation_config_and_json_mode() -> None:
    body = build_body(
        chat(
            user("x"),
            max_tokens=10,
            temperature=0.5,
            top_p=0.8,
            stop=["a", "b"],
            response_format={"type": "json_object"},
        )
    )
    assert body["generationConfig"] == {
        "maxOutputTokens": 10,
        "temperature": 0.5,
        "topP": 0.8,
        "stopSequences": ["a", "b"],
        "responseMimeType": "application/json",
    }


def test_tools_calls_and_responses() -> None:
    body = build_body(
        chat(
            user("find cats"),
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": '{"q": "cats"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": '{"hits": 3}'},
            {"role": "tool", "tool_call_id": "c1", "content": "plain"},
            tools=[TOOL],
            tool_choice="required",
        )
    )
    declaration = body["tools"][0]["functionDeclarations"][0]
    assert declaration["name"] == "lookup"
    assert "additionalProperties" not in declaration["parameters"]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert body["contents"][1] == {
        "role": "model",
        "parts": [{"functionCall": {"name": "lookup", "args": {"q": "cats"}}}],
    }
    assert body["contents"][2]["parts"] == [
        {"functionResponse": {"name": "lookup", "response": {"hits": 3}}},
        {"functionResponse": {"name": "lookup", "response": {"result": "plain"}}},
    ]


async def test_url_key_header_and_cached_usage(http, upstream_for, fake_providers) -> None:
    fake_providers.enqueue("google", cached_tokens=4, finish="length")
    completion = await GoogleProvider(http).complete(
        chat(user("hi")), TARGET, upstream_for("google")
    )
    sent = fake_providers.last_request("google")
    assert sent.path == "/google/v1beta/models/gemini-2.0-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == "sk-test-key-123456"
    assert "key" not in sent.query
    assert completion.usage.cached_tokens == 4
    assert completion.finish_reason == "length"


async def test_stream_uses_sse_endpoint(http, upstream_for, fake_providers) -> None:
    stream = await GoogleProvider(http).stream(chat(user("hi")), TARGET, upstream_for("google"))
    await drain(stream)
    sent = fake_providers.last_request("google")
    assert sent.path.endswith(":streamGenerateContent")
    assert sent.query == {"alt": "sse"}


async def test_function_call_answer(http, upstream_for, fake_providers) -> None:
    fake_providers.enqueue("google", tool_calls=[("lookup", {"q": "cats"})])
    completion = await GoogleProvider(http).complete(
        chat(user("hi"), tools=[TOOL]), TARGET, upstream_for("google")
    )
    assert completion.finish_reason == "tool_calls"
    call = completion.body["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "lookup", "arguments": '{"q":"cats"}'}
