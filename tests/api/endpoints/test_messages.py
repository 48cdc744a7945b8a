"""``POST /v1/messages``: Anthropic's SDK unchanged (plain, streamed, tool use), served for
OpenAI, Anthropic and simulated models by conversion; Anthropic's error shape; metering."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from anthropic import AsyncAnthropic

from tests.api.endpoints.helpers import assert_priced, rows
from tests.fakes.fake_providers import Behaviour
from tests.harness import PROVIDER_KEYS, Harness

WEATHER = {
    "name": "get_weather",
    "description": "Weather of a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def sdk(h: Harness, key: str | None = None) -> AsyncAnthropic:
    return AsyncAnthropic(base_url=h.url, api_key=key or h.key, max_retries=0)


async def test_sdk_message_on_an_openai_model_is_converted_and_metered(harness: Harness) -> None:
    client = sdk(harness)
    message = await client.messages.create(
        model="openai/gpt-4o-mini",
        max_tokens=100,
        system="Be brief.",
        messages=[{"role": "user", "content": "hello"}],
        stop_sequences=["###"],
        extra_body={"temperature": 0.2},  # the API still takes it; this SDK has no argument
    )
    await client.close()
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].type == "text"
    assert message.content[0].text == "Fake openai answer to: hello"
    assert message.stop_reason == "end_turn"
    assert message.model == "openai/gpt-4o-mini"
    sent = harness.fake.last_request("openai")
    assert sent.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello"},
    ]
    assert (sent.body["stop"], sent.body["max_tokens"], sent.body["temperature"]) == (
        ["###"],
        100,
        0.2,
    )
    assert sent.headers["authorization"] == f"Bearer {PROVIDER_KEYS['openai']}"

    await harness.drain()
    [row] = rows(harness)
    assert (row.endpoint, row.status, row.model_used) == (
        "messages",
        "success",
        "openai/gpt-4o-mini",
    )
    assert message.usage.input_tokens == row.input_tokens - row.cached_tokens
    assert message.usage.output_tokens == row.output_tokens
    assert_priced(
        row,
        (Decimal(row.input_tokens) * Decimal("0.15") + Decimal(row.output_tokens) * Decimal("0.60"))
        / 1_000_000,
    )
    assert harness.budget_usage(harness.client.id) == row.cost_brl


async def test_sdk_stream_on_an_anthropic_model_has_the_event_sequence(harness: Harness) -> None:
    client = sdk(harness)
    stream = await client.messages.create(
        model="anthropic/claude-3-5-sonnet",
        max_tokens=50,
        messages=[{"role": "user", "content": "stream please"}],
        stream=True,
    )
    types, text = [], ""
    async for event in stream:
        types.append(event.type)
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            text += event.delta.text
        if event.type == "message_delta":
            final_usage = event.usage
    await client.close()
    assert types[0] == "message_start" and types[1] == "content_block_start"
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert text == "Fake anthropic answer to: stream please"
    sent = harness.fake.last_request("anthropic")
    assert sent.headers["x-api-key"] == PROVIDER_KEYS["anthropic"]

    await harness.drain()
    [row] = rows(harness)
    assert (row.endpoint, row.is_stream, row.status) == ("messages", True, "success")
    assert final_usage.output_tokens == row.output_tokens > 0
    assert_priced(
        row,
        (
            Decimal(row.input_tokens) * Decimal("3.00")
            + Decimal(row.output_tokens) * Decimal("15.00")
        )
        / 1_000_000,
    )


async def test_sdk_message_stream_helper_accumulates_tool_use(harness: Harness) -> None:
    harness.fake.enqueue("openai", Behaviour(tool_calls=[("get_weather", {"city": "Recife"})]))
    client = sdk(harness)
    async with client.messages.stream(
        model="openai/gpt-4o",
        max_tokens=100,
        tools=[WEATHER],
        messages=[{"role": "user", "content": "weather in Recife?"}],
    ) as stream:
        final = await stream.get_final_message()
    await client.close()
    [block] = final.content
    assert block.type == "tool_use" and block.name == "get_weather"
    assert block.input == {"city": "Recife"}
    assert final.stop_reason == "tool_use"
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0  # from message_delta
    sent = harness.fake.last_request("openai")
    assert sent.body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": WEATHER["input_schema"],
                "description": "Weather of a city",
            },
        }
    ]


async def test_tool_results_and_images_convert_for_the_provider(harness: Harness) -> None:
    client = sdk(harness)
    message = await client.messages.create(
        model="openai/gpt-4o",
        max_tokens=100,
        tools=[WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Let me check."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {"city": "Natal"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "31 °C"},
                    {"type": "text", "text": "and this photo?"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"},
                    },
                ],
            },
        ],
    )
    await client.close()
    assert message.content[0].type == "text"
    sent = harness.fake.last_request("openai").body
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert sent["messages"][1] == {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [
            {
                "id": "toolu_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Natal"}'},
            }
        ],
    }
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "31 °C"}
    assert sent["messages"][3]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw0K"},
    }


async def test_simulated_model_and_bearer_auth_with_anthropic_version(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        response = await http.post(
            "/v1/messages",
            json={
                "model": "simulated/demo-chat",
                "max_tokens": 20,
                "messages": [{"role": "user", "content": "oi"}],
            },
            headers={**harness.headers(), "anthropic-version": "2023-06-01"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["content"][0]["type"] == "text" and body["content"][0]["text"]
    assert harness.fake.requests == []


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        (
            {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "x"}]},
            400,
            "invalid_request_error",
        ),
        ({"model": "openai/gpt-4o", "max_tokens": 5, "messages": []}, 400, "invalid_request_error"),
        (
            {
                "model": "openai/gpt-4o",
                "max_tokens": 5,
                "messages": [{"role": "system", "content": "x"}],
            },
            400,
            "invalid_request_error",
        ),
        (
            {
                "model": "openai/gpt-4o",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": [{"type": "video"}]}],
            },
            400,
            "invalid_request_error",
        ),
        (
            {
                "model": "openai/gpt-4o",
                "max_tokens": 5,
                "temperature": 3,
                "messages": [{"role": "user", "content": "x"}],
            },
            400,
            "invalid_request_error",
        ),
        (
            {"model": "nope/none", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
            404,
            "not_found_error",
        ),
    ],
)
async def test_bad_input_gets_anthropics_error_shape_and_no_call(
    harness: Harness, body: dict[str, object], status: int, kind: str
) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        response = await http.post("/v1/messages", json=body, headers={"x-api-key": harness.key})
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["type"] == "error" and payload["error"]["type"] == kind
    assert set(payload["error"]) == {"type", "message"}
    assert harness.fake.requests == []


async def test_a_wrong_key_is_an_anthropic_authentication_error(harness: Harness) -> None:
    client = sdk(harness, key="not-a-key")
    from anthropic import AuthenticationError

    with pytest.raises(AuthenticationError) as caught:
        await client.messages.create(
            model="openai/gpt-4o", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    await client.close()
    assert caught.value.status_code == 401
    assert caught.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
