"""Behaviour every HTTP adapter shares, run against the fake upstream for each one:
both modes, errors classified, streams cut, telemetry from headers."""

import aiohttp
import pytest

from ai_gateway.providers import PROVIDERS, ProviderError, Timeouts, Upstream, create_providers
from tests.fakes.fake_providers import FakeProviders, answer_text
from tests.providers.helpers import TARGETS, chat, drain, streamed_text, user

HTTP_PROVIDERS = ["openai", "groq", "anthropic", "google", "gateway"]


@pytest.fixture(params=HTTP_PROVIDERS)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_registry_lists_every_provider() -> None:
    assert set(PROVIDERS) == {"openai", "groq", "anthropic", "google", "gateway", "simulated"}


async def test_create_providers_shares_the_session(http: aiohttp.ClientSession) -> None:
    providers = create_providers(http)
    assert all(p.http is http for p in providers.values())
    assert {n: p.name for n, p in providers.items()} == {n: n for n in providers}


async def test_complete(name, http, upstream_for, fake_providers: FakeProviders) -> None:
    provider = PROVIDERS[name](http)
    completion = await provider.complete(
        chat(user("hello there")), TARGETS[name], upstream_for(name)
    )
    message = completion.body["choices"][0]["message"]
    assert message["content"] == answer_text(name, fake_providers.last_request(name).body)
    assert completion.body["model"] == TARGETS[name].model_id
    assert completion.body["object"] == "chat.completion"
    assert completion.finish_reason == "stop"
    assert completion.usage.input_tokens > 0
    assert completion.usage.output_tokens == 6
    assert completion.telemetry.generation_id == completion.body["id"]


async def test_stream(name, http, upstream_for, fake_providers: FakeProviders) -> None:
    provider = PROVIDERS[name](http)
    stream = await provider.stream(chat(user("hello there")), TARGETS[name], upstream_for(name))
    chunks = await drain(stream)
    assert streamed_text(chunks) == answer_text(name, fake_providers.last_request(name).body)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all(c["model"] == TARGETS[name].model_id for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 6
    assert stream.finish_reason == "stop"
    assert stream.usage.output_tokens == 6
    assert stream.usage.input_tokens > 0
    await stream.aclose()  # twice is safe


async def test_stream_without_include_usage_still_meters(name, http, upstream_for) -> None:
    provider = PROVIDERS[name](http)
    request = chat(user("hi"), include_usage=False)
    stream = await provider.stream(request, TARGETS[name], upstream_for(name))
    chunks = await drain(stream)
    assert all(c["choices"] for c in chunks)
    assert stream.usage.output_tokens == 5


@pytest.mark.parametrize(
    ("status", "reason", "retryable"),
    [
        (429, "rate_limited", True),
        (500, "server_error", True),
        (503, "server_error", True),
        (400, "bad_request", False),
        (422, "bad_request", False),
        (401, "auth", False),
        (403, "auth", False),
        (404, "not_found", False),
    ],
)
async def test_error_status_is_classified(
    name, http, upstream_for, fake_providers, status, reason, retryable
) -> None:
    provider = PROVIDERS[name](http)
    fake_providers.enqueue_failure(name, status=status)
    with pytest.raises(ProviderError) as caught:
        await provider.complete(chat(user("hi")), TARGETS[name], upstream_for(name))
    error = caught.value
    assert (error.reason, error.retryable, error.status, error.provider) == (
        reason,
        retryable,
        status,
        name,
    )
    assert f"fake error {status}" in error.message


async def test_stream_error_raises_before_returning(name, http, upstream_for, fake_providers):
    fake_providers.enqueue_failure(name, status=429)
    with pytest.raises(ProviderError) as caught:
        await PROVIDERS[name](http).stream(chat(user("hi")), TARGETS[name], upstream_for(name))
    assert caught.value.reason == "rate_limited"
    assert caught.value.retryable


async def test_hang_times_out_as_retryable(name, http, upstream_for, fake_providers) -> None:
    fake_providers.enqueue(name, hang=True)
    with pytest.raises(ProviderError) as caught:
        await PROVIDERS[name](http).complete(
            chat(user("hi")), TARGETS[name], upstream_for(name, read=0.2)
        )
    assert (caught.value.reason, caught.value.retryable) == ("timeout", True)


async def test_stream_hang_times_out_before_returning(name, http, upstream_for, fake_providers):
    fake_providers.enqueue(name, hang=True)
    with pytest.raises(ProviderError) as caught:
        await PROVIDERS[name](http).stream(
            chat(user("hi")), TARGETS[name], upstream_for(name, read=0.2)
        )
    assert caught.value.reason == "timeout"


async def test_total_timeout_bounds_a_slow_answer(name, http, fake_providers) -> None:
    fake_providers.enqueue(name, delay=2.0)
    upstream = Upstream(
        base_url=fake_providers.base_url(name),
        api_key="k",
        timeouts=Timeouts(connect=1.0, read=5.0, total=0.3),
    )
    with pytest.raises(ProviderError) as caught:
        await PROVIDERS[name](http).complete(chat(user("hi")), TARGETS[name], upstream)
    assert caught.value.reason == "timeout"


async def test_connection_refused(name, http, unused_tcp_port: int) -> None:
    upstream = Upstream(base_url=f"http://127.0.0.1:{unused_tcp_port}", api_key="k")
    with pytest.raises(ProviderError) as caught:
        await PROVIDERS[name](http).complete(chat(user("hi")), TARGETS[name], upstream)
    assert (caught.value.reason, caught.value.retryable) == ("connection_error", True)


async def test_stream_cut_midway(name, http, upstream_for, fake_providers) -> None:
    fake_providers.enqueue(name, cut_after_chunks=4, text="one two three four five six seven")
    stream = await PROVIDERS[name](http).stream(chat(user("hi")), TARGETS[name], upstream_for(name))
    received = []
    with pytest.raises(ProviderError) as caught:
        async for chunk in stream:
            received.append(chunk)
    assert (caught.value.reason, caught.value.retryable) == ("stream_cut", False)
    assert received, "some chunks arrived before the cut"
    text = streamed_text(received)
    assert text and "seven" not in text
    # What was seen is metered: at least the text received, estimated at ~4 chars/token.
    assert stream.usage.output_tokens >= len(text) // 4
    assert stream.usage.input_tokens > 0
    assert stream.finish_reason is None


async def test_slow_stream_is_not_cut_by_total(name, http, fake_providers) -> None:
    fake_providers.enqueue(name, delay=0.4)
    upstream = Upstream(
        base_url=fake_providers.base_url(name),
        api_key="k",
        timeouts=Timeouts(connect=1.0, read=2.0, total=0.1),
    )
    stream = await PROVIDERS[name](http).stream(chat(user("hi")), TARGETS[name], upstream)
    assert streamed_text(await drain(stream)).startswith("Fake")


async def test_missing_key_is_an_auth_error(name, http, fake_providers) -> None:
    upstream = Upstream(base_url=fake_providers.base_url(name), api_key=None)
    with pytest.raises(ProviderError) as caught:
        await PROVIDERS[name](http).complete(chat(user("hi")), TARGETS[name], upstream)
    assert caught.value.reason == "auth"
    assert "secrets set" in caught.value.message
    assert fake_providers.requests == []
