"""The rate-limit headers and the 429 as the official ``openai`` SDK reads them."""

from __future__ import annotations

import openai
import pytest

from tests.api.client import call
from tests.harness import Harness

MESSAGES = [{"role": "user", "content": "hello there"}]


async def test_the_sdk_reads_the_headers_and_raises_rate_limit_error(harness: Harness) -> None:
    h = harness
    limits = {"rpm": 3, "tpm": 100_000}
    status, _ = await call(h, "PUT", f"/api/clients/{h.client.id}/limits", admin=True, json=limits)
    assert status == 200
    sdk = openai.AsyncOpenAI(base_url=f"{h.url}/v1", api_key=h.key, max_retries=0)
    try:
        raw = await sdk.chat.completions.with_raw_response.create(
            model="openai/gpt-4o-mini",
            messages=MESSAGES,
            max_tokens=50,  # type: ignore[arg-type]
        )
        completion = raw.parse()
        assert completion.choices[0].message.content
        assert raw.headers["x-ratelimit-limit-requests"] == "3"
        assert raw.headers["x-ratelimit-remaining-requests"] == "2"
        assert raw.headers["x-ratelimit-reset-requests"] == "20s"
        assert raw.headers["x-ratelimit-limit-tokens"] == "100000"
        assert 100_000 - 70 < int(raw.headers["x-ratelimit-remaining-tokens"]) <= 100_000 - 50
        assert raw.headers["x-ratelimit-reset-tokens"].endswith("ms")

        async with sdk.chat.completions.with_streaming_response.create(
            model="openai/gpt-4o-mini",
            messages=MESSAGES,  # type: ignore[arg-type]
            stream=True,
            max_tokens=10,
        ) as streamed:
            assert streamed.headers["x-ratelimit-remaining-requests"] == "1"
            chunks = [chunk async for chunk in await streamed.parse()]
        assert chunks and chunks[0].object == "chat.completion.chunk"

        await sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]
        with pytest.raises(openai.RateLimitError) as caught:
            await sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]
    finally:
        await sdk.close()
    error = caught.value
    assert error.status_code == 429 and error.code == "rate_limit_exceeded"
    assert error.type == "rate_limit_error"
    assert int(error.response.headers["retry-after"]) >= 1
    assert error.response.headers["x-ratelimit-remaining-requests"] == "0"
