"""``POST /v1/responses``: the official SDK unchanged (plain, streamed, function calls),
conversion for every provider, stored conversations behind the tenant wall, metering."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from openai import AsyncOpenAI, NotFoundError

from tests.api.endpoints.helpers import assert_priced, rows
from tests.fakes.fake_providers import Behaviour
from tests.harness import Harness

TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def sdk(h: Harness, key: str | None = None) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=h.url + "/v1", api_key=key or h.key, max_retries=0)


async def test_sdk_response_is_converted_metered_and_budgeted(harness: Harness) -> None:
    client = sdk(harness)
    response = await client.responses.create(
        model="openai/gpt-4o-mini",
        instructions="Be brief.",
        input="hello",
        max_output_tokens=64,
        temperature=0.3,
    )
    await client.close()
    assert response.object == "response" and response.status == "completed"
    assert response.output_text == "Fake openai answer to: hello"
    assert response.id.startswith("resp_")
    assert response.usage is not None and response.usage.input_tokens > 0
    sent = harness.fake.last_request("openai").body
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello"},
    ]
    assert (sent["max_tokens"], sent["temperature"]) == (64, 0.3)

    await harness.drain()
    [row] = rows(harness)
    assert (row.endpoint, row.status) == ("responses", "success")
    assert (row.input_tokens, row.output_tokens) == (
        response.usage.input_tokens,
        response.usage.output_tokens,
    )
    assert_priced(
        row,
        (Decimal(row.input_tokens) * Decimal("0.15") + Decimal(row.output_tokens) * Decimal("0.60"))
        / 1_000_000,
    )
    assert harness.budget_usage(harness.client.id) == row.cost_brl


async def test_sdk_stream_has_the_real_event_sequence(harness: Harness) -> None:
    client = sdk(harness)
    stream = await client.responses.create(
        model="google/gemini-2.0-flash", input="stream this", stream=True
    )
    events = [event async for event in stream]
    await client.close()
    types = [e.type for e in events]
    assert types[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert types[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "Fake google answer to: stream this"
    completed = events[-1].response
    assert completed.output_text == text and completed.usage is not None
    await harness.drain()
    [row] = rows(harness)
    assert (row.endpoint, row.is_stream, row.provider) == ("responses", True, "google")
    assert row.output_tokens == completed.usage.output_tokens > 0


async def test_sdk_stream_helper_and_function_call_round_trip(harness: Harness) -> None:
    harness.fake.enqueue("openai", Behaviour(tool_calls=[("get_weather", {"city": "Natal"})]))
    client = sdk(harness)
    async with client.responses.stream(
        model="openai/gpt-4o", input="weather in Natal?", tools=[TOOL]
    ) as stream:
        final = await stream.get_final_response()
    [call] = final.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert call.arguments == '{"city":"Natal"}'
    sent = harness.fake.last_request("openai").body
    assert sent["tools"][0]["function"]["name"] == "get_weather"

    # The tool's output goes back as an item, continuing the stored conversation.
    second = await client.responses.create(
        model="openai/gpt-4o",
        previous_response_id=final.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "31 °C"}],
        tools=[TOOL],
    )
    await client.close()
    assert second.status == "completed"
    messages = harness.fake.last_request("openai").body["messages"]
    assert messages[0] == {"role": "user", "content": "weather in Natal?"}
    assert messages[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert messages[2] == {"role": "tool", "tool_call_id": call.call_id, "content": "31 °C"}


async def test_text_format_and_image_input_convert(harness: Harness) -> None:
    client = sdk(harness)
    await client.responses.create(
        model="openai/gpt-4o",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "what is this?"},
                    {"type": "input_image", "image_url": "https://example.com/cat.png"},
                ],
            }
        ],
        text={
            "format": {
                "type": "json_schema",
                "name": "answer",
                "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                "strict": True,
            }
        },
    )
    await client.close()
    sent = harness.fake.last_request("openai").body
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
            "strict": True,
        },
    }
    assert sent["messages"][0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "https://example.com/cat.png"},
    }


async def test_stored_conversations_are_walled_per_client(harness: Harness) -> None:
    client = sdk(harness)
    first = await client.responses.create(model="simulated/demo-chat", input="remember: 42")
    follow = await client.responses.create(
        model="simulated/demo-chat", previous_response_id=first.id, input="what number?"
    )
    assert follow.previous_response_id == first.id
    again = await client.responses.retrieve(first.id)
    assert again.id == first.id and again.output_text == first.output_text

    _other, other_key = harness.new_client("responses-other")
    other = sdk(harness, other_key)
    with pytest.raises(NotFoundError):
        await other.responses.create(
            model="simulated/demo-chat", previous_response_id=first.id, input="steal"
        )
    with pytest.raises(NotFoundError):
        await other.responses.retrieve(first.id)
    with pytest.raises(NotFoundError):
        await other.responses.delete(first.id)
    await other.close()

    unstored = await client.responses.create(model="simulated/demo-chat", input="x", store=False)
    with pytest.raises(NotFoundError):
        await client.responses.retrieve(unstored.id)
    await client.responses.delete(first.id)
    with pytest.raises(NotFoundError):
        await client.responses.retrieve(first.id)
    await client.close()
    await harness.drain()
    assert {r.endpoint for r in rows(harness)} == {"responses"}
    assert len(rows(harness)) == 3  # the refused continuation made no call


async def test_expired_responses_cannot_be_continued(harness: Harness) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from ai_gateway.storage.tables import StoredResponse

    client = sdk(harness)
    first = await client.responses.create(model="simulated/demo-chat", input="old")
    with harness.db.write() as s:
        s.execute(
            update(StoredResponse).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    with pytest.raises(NotFoundError):
        await client.responses.create(
            model="simulated/demo-chat", previous_response_id=first.id, input="new"
        )
    await client.close()


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": "openai/gpt-4o"}, "input"),
        ({"model": "openai/gpt-4o", "input": []}, "input"),
        ({"model": "openai/gpt-4o", "input": [{"type": "computer_call"}]}, "input[0].type"),
        ({"model": "openai/gpt-4o", "input": "x", "max_output_tokens": 0}, "max_output_tokens"),
        ({"model": "openai/gpt-4o", "input": "x", "tools": [{"type": "web_search"}]}, "tools[0]"),
        (
            {"model": "openai/gpt-4o", "input": "x", "text": {"format": {"type": "xml"}}},
            "text.format",
        ),
        ({"model": "openai/gpt-4o", "input": "x", "store": "yes"}, "store"),
        ({"model": "openai/text-embedding-3-small", "input": "x"}, "model"),
    ],
)
async def test_bad_input_is_a_400_without_an_upstream_call(
    harness: Harness, body: dict[str, object], param: str
) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as http:
        response = await http.post("/v1/responses", json=body, headers=harness.headers())
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert harness.fake.requests == []


async def test_a_store_the_database_refuses_still_answers_and_says_so(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from ai_gateway.api.endpoints import responses as codec

    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT", {}, Exception("disk full"))

    monkeypatch.setattr(codec, "save_response", refuse)
    async with sdk(harness) as client:
        answer = await client.responses.create(model="simulated/demo-chat", input="keep this")
        with pytest.raises(NotFoundError):
            await client.responses.retrieve(answer.id)
    assert answer.status == "completed" and answer.output_text and answer.store is False
