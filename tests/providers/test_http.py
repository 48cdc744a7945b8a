"""The aiohttp boundary: classification, redaction, SSE parsing, timeouts."""

import aiohttp
import pytest

from ai_gateway.providers._http import (
    classify_status,
    client_timeout,
    iter_sse,
    redact,
    status_error,
    telemetry_from_headers,
)
from ai_gateway.providers.base import Timeouts


def test_redact_masks_keys_and_the_secret() -> None:
    text = "Incorrect API key provided: sk-proj-abcd1234efgh and gsk_zzzz9999 and mykey-XYZ"
    out = redact(text, "mykey-XYZ")
    assert "abcd1234" not in out and "zzzz9999" not in out and "mykey-XYZ" not in out
    assert "sk-***" in out


def test_status_error_uses_upstream_message_without_key() -> None:
    body = b'{"error": {"message": "Incorrect API key provided: sk-live-0123456789abc"}}'
    error = status_error(401, body, provider="openai", secret="sk-live-0123456789abc")
    assert error.reason == "auth" and not error.retryable
    assert "0123456789" not in error.message and "Incorrect API key" in error.message


def test_gemini_invalid_key_400_is_auth() -> None:
    body = b'{"error": {"code": 400, "details": [{"reason": "API_KEY_INVALID"}]}}'
    assert status_error(400, body, provider="google", secret=None).reason == "auth"


@pytest.mark.parametrize(
    ("status", "expected"),
    [(529, ("server_error", True)), (418, ("bad_request", False)), (408, ("timeout", True))],
)
def test_classify_other_statuses(status: int, expected: tuple[str, bool]) -> None:
    assert classify_status(status) == expected


def test_stream_timeout_has_no_total() -> None:
    timeouts = Timeouts(connect=1, read=2, total=3)
    assert client_timeout(timeouts, stream=True) == aiohttp.ClientTimeout(
        total=None, sock_connect=1, sock_read=2
    )
    assert client_timeout(timeouts, stream=False).total == 3


def test_telemetry_headers() -> None:
    telemetry = telemetry_from_headers(
        {
            "request-id": "req_1",
            "x-vercel-cache": "HIT",
            "set-cookie": "no",
            "x-vercel-ai-provider": "anthropic",
        }
    )
    assert telemetry.upstream_request_id == "req_1"
    assert telemetry.upstream_cache == "HIT"
    assert telemetry.upstream_provider == "anthropic"
    assert "set-cookie" not in telemetry.headers


async def test_iter_sse_parses_events_comments_and_multiline() -> None:
    reader = aiohttp.StreamReader(_Protocol(), 2**16, loop=__import__("asyncio").get_running_loop())
    reader.feed_data(b": ping\n\nevent: a\ndata: 1\ndata: 2\n\ndata: x\r\n\r\ndata: last")
    reader.feed_eof()
    events = [e async for e in iter_sse(reader)]
    assert events == [("a", "1\n2"), (None, "x"), (None, "last")]


class _Protocol:
    _reading_paused = False

    def pause_reading(self, **kwargs: object) -> None: ...

    def resume_reading(self, **kwargs: object) -> None: ...
