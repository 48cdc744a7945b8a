"""OpenAI wire format: passthrough, usage incl. cached tokens, tool calls, Groq quirks."""

from ai_gateway.providers._openai_compat import build_body, parse_usage
from ai_gateway.providers.base import Usage
from ai_gateway.providers.groq import GroqProvider
from ai_gateway.providers.openai import OpenAIProvider
from tests.providers.helpers import TARGETS, chat, drain, user


def test_body_passes_params_and_always_asks_stream_usage() -> None:
    request = chat(user("x"), temperature=0.2, stream_options={"include_usage": False}, seed=1)
    body = build_body(request, "gpt-4o", stream=True)
    assert body["model"] == "gpt-4o"
    assert body["temperature"] == 0.2 and body["seed"] == 1
    assert body["stream_options"] == {"include_usage": True}


def test_usage_reads_cached_tokens() -> None:
    usage = parse_usage(
        {"prompt_tokens": 10, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 8}}
    )
    assert (usage.input_tokens, usage.output_tokens, usage.cached_tokens) == (10, 3, 8)


def test_usage_reads_the_upstream_gateways_cache_writes() -> None:
    usage = parse_usage(
        {
            "prompt_tokens": 3000,
            "completion_tokens": 3,
            "prompt_tokens_details": {"cached_tokens": 2000},
            "cache_creation_input_tokens": 500,
            "cost": 0.0042,
        }
    )
    assert usage is not None
    assert (usage.input_tokens, usage.cached_tokens, usage.cache_write_tokens) == (3000, 2000, 500)
    assert parse_usage({"prompt_tokens": "x", "completion_tokens": -3}) == Usage()


async def test_openai_request_and_cached_usage(http, upstream_for, fake_providers) -> None:
    fake_providers.enqueue("openai", cached_tokens=5)
    completion = await OpenAIProvider(http).complete(
        chat(user("hi"), temperature=0.1), TARGETS["openai"], upstream_for("openai")
    )
    sent = fake_providers.last_request("openai")
    assert sent.path == "/openai/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test-key-123456"
    assert sent.body["model"] == "gpt-4o" and sent.body["temperature"] == 0.1
    assert completion.usage.cached_tokens == 5
    assert completion.telemetry.upstream_request_id == completion.telemetry.headers["x-request-id"]


async def test_tool_calls_and_length(http, upstream_for, fake_providers) -> None:
    fake_providers.enqueue("openai", tool_calls=[("f", {"a": 1})])
    completion = await OpenAIProvider(http).complete(
        chat(user("hi")), TARGETS["openai"], upstream_for("openai")
    )
    assert completion.finish_reason == "tool_calls"
    assert completion.body["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "f"
    fake_providers.enqueue("openai", finish="length")
    stream = await OpenAIProvider(http).stream(
        chat(user("hi")), TARGETS["openai"], upstream_for("openai")
    )
    await drain(stream)
    assert stream.finish_reason == "length"


async def test_groq_path_drops_unsupported_params(http, upstream_for, fake_providers) -> None:
    await GroqProvider(http).complete(
        chat(user("hi"), logprobs=True, n=1, temperature=0.3), TARGETS["groq"], upstream_for("groq")
    )
    sent = fake_providers.last_request("groq")
    assert sent.path == "/groq/openai/v1/chat/completions"
    assert "logprobs" not in sent.body and "n" not in sent.body
    assert sent.body["model"] == "llama-3.3-70b-versatile"
    assert sent.body["temperature"] == 0.3


def test_groq_x_groq_usage_is_read() -> None:
    from ai_gateway.providers._openai_compat import OpenAIChunkDecoder
    from ai_gateway.providers._stream import StreamState

    state = StreamState(model="groq/llama")
    usage = '{"prompt_tokens": 9, "completion_tokens": 2}'
    data = '{"id": "c", "choices": [], "x_groq": {"usage": ' + usage + "}}"
    OpenAIChunkDecoder(provider="groq").decode(None, data, state)
    assert (state.usage.input_tokens, state.usage.output_tokens) == (9, 2)
    assert state.output_seen
