"""The one boundary between ``aiohttp`` and the provider contract.

Every adapter sends its request through :func:`post_json` (non-streamed) or
:func:`open_stream` (streamed), so foreign errors (``aiohttp`` exceptions, asyncio
timeouts, upstream error statuses) become :class:`ProviderError` here and nowhere else.
Error messages are redacted: upstreams echo fragments of keys in auth errors, and a
message may end up in a usage log or in a client's error body.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import orjson

from ai_gateway.providers.base import ProviderError, Telemetry, Timeouts
from ai_gateway.types import JSON

__all__ = [
    "TELEMETRY_HEADERS",
    "classify_status",
    "client_timeout",
    "iter_sse",
    "open_stream",
    "post_form",
    "post_json",
    "redact",
    "retry_after_seconds",
    "telemetry_from_headers",
    "translate_errors",
]


#: Response headers worth keeping for the usage log, lower-case.
TELEMETRY_HEADERS = (
    "x-request-id",
    "request-id",
    "openai-request-id",
    "x-groq-id",
    "x-vercel-id",
    "x-vercel-cache",
    "x-vercel-ai-provider",
    "anthropic-organization-id",
    "openai-processing-ms",
    "retry-after",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
)
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "openai-request-id", "x-vercel-id")

# Key shapes of the providers we talk to (OpenAI/Anthropic ``sk-``, Groq ``gsk_``,
# Vercel ``vck_``, Google ``AIza``): masked even when the upstream only echoes a part.
_KEY_PATTERN = re.compile(r"(sk-|gsk_|vck_|AIza)[A-Za-z0-9_\-*.]{4,}")
_MAX_MESSAGE = 500

# (reason, retryable) per status; anything else in 4xx is a bad request, in 5xx a
# server error. 408/409 are retryable because the same request may succeed next time.
_STATUS_REASONS: dict[int, tuple[str, bool]] = {
    400: ("bad_request", False),
    401: ("auth", False),
    403: ("auth", False),
    404: ("not_found", False),
    408: ("timeout", True),
    409: ("server_error", True),
    413: ("bad_request", False),
    422: ("bad_request", False),
    429: ("rate_limited", True),
}


def redact(text: str, secret: str | None = None) -> str:
    """Mask anything that looks like a key, and ``secret`` itself, in ``text``."""
    if secret:
        text = text.replace(secret, "***")
    return _KEY_PATTERN.sub(lambda m: m.group(1) + "***", text)[:_MAX_MESSAGE]


def classify_status(status: int) -> tuple[str, bool]:
    """``(reason, retryable)`` for an upstream HTTP error status."""
    if status in _STATUS_REASONS:
        return _STATUS_REASONS[status]
    if status >= 500:
        return "server_error", True
    return "bad_request", False


def client_timeout(timeouts: Timeouts, *, stream: bool) -> aiohttp.ClientTimeout:
    """A stream is bounded only by connect and idle-read time: a long answer that keeps
    flowing must never be cut by ``total``."""
    return aiohttp.ClientTimeout(
        total=None if stream else timeouts.total,
        sock_connect=timeouts.connect,
        sock_read=timeouts.read,
    )


def telemetry_from_headers(headers: Mapping[str, str]) -> Telemetry:
    """Keep the headers of :data:`TELEMETRY_HEADERS` and pick the request id."""
    kept = {name: headers[name] for name in TELEMETRY_HEADERS if name in headers}
    request_id = next((kept[h] for h in _REQUEST_ID_HEADERS if h in kept), None)
    return Telemetry(
        upstream_request_id=request_id,
        upstream_provider=kept.get("x-vercel-ai-provider"),
        upstream_cache=kept.get("x-vercel-cache"),
        headers=kept,
    )


def _error_message(body: bytes) -> str:
    """The upstream's own words: ``error.message`` in every wire format we speak."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace").strip()
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return body.decode("utf-8", "replace").strip()


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds from ``retry-after-ms`` (OpenAI) or ``Retry-After`` (seconds or an HTTP
    date); ``None`` when absent or unreadable. Negative waits become 0."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        with contextlib.suppress(ValueError):
            return _finite_wait(float(raw_ms) / 1000)
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return _finite_wait(float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return _finite_wait(when.timestamp() - (time.time() if now is None else now))


def _finite_wait(seconds: float) -> float | None:
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def status_error(
    status: int,
    body: bytes,
    *,
    provider: str,
    secret: str | None,
    headers: Mapping[str, str] | None = None,
) -> ProviderError:
    """The :class:`ProviderError` for an upstream error answer."""
    reason, retryable = classify_status(status)
    message = _error_message(body)
    # Gemini answers a bad key with 400 INVALID_ARGUMENT; it is an auth problem all the same.
    if status == 400 and b"API_KEY_INVALID" in body:
        reason, retryable = "auth", False
    return ProviderError(
        redact(f"{provider} answered {status}: {message}", secret),
        reason=reason,
        retryable=retryable,
        status=status,
        provider=provider,
        retry_after=retry_after_seconds(headers) if headers is not None else None,
    )


@contextmanager
def translate_errors(provider: str, secret: str | None = None) -> Iterator[None]:
    """Turn ``aiohttp``/asyncio failures into classified :class:`ProviderError`."""
    try:
        yield
    except ProviderError:
        raise
    except TimeoutError as exc:
        raise ProviderError(
            f"{provider} timed out", reason="timeout", retryable=True, provider=provider
        ) from exc
    except aiohttp.ClientConnectionError as exc:
        raise ProviderError(
            redact(f"{provider} connection failed: {exc}", secret),
            reason="connection_error",
            retryable=True,
            provider=provider,
        ) from exc
    except aiohttp.ClientError as exc:
        raise ProviderError(
            redact(f"{provider} request failed: {exc}", secret),
            reason="connection_error",
            retryable=True,
            provider=provider,
        ) from exc


async def post_json(
    http: aiohttp.ClientSession,
    url: str,
    body: JSON,
    *,
    headers: Mapping[str, str],
    timeouts: Timeouts,
    provider: str,
    secret: str | None,
) -> tuple[JSON, Telemetry]:
    """POST ``body`` and return the decoded JSON answer and its header telemetry."""
    return await _post(
        http,
        url,
        orjson.dumps(body),
        headers={"content-type": "application/json", **headers},
        timeouts=timeouts,
        provider=provider,
        secret=secret,
    )


async def post_form(
    http: aiohttp.ClientSession,
    url: str,
    form: aiohttp.FormData,
    *,
    headers: Mapping[str, str],
    timeouts: Timeouts,
    provider: str,
    secret: str | None,
) -> tuple[JSON, Telemetry]:
    """POST a multipart form (audio uploads) and return the decoded JSON answer."""
    return await _post(
        http, url, form, headers=headers, timeouts=timeouts, provider=provider, secret=secret
    )


async def _post(
    http: aiohttp.ClientSession,
    url: str,
    data: Any,
    *,
    headers: Mapping[str, str],
    timeouts: Timeouts,
    provider: str,
    secret: str | None,
) -> tuple[JSON, Telemetry]:
    with translate_errors(provider, secret):
        async with http.post(
            url, data=data, headers=dict(headers), timeout=client_timeout(timeouts, stream=False)
        ) as response:
            raw = await response.read()
            if response.status >= 400:
                raise status_error(
                    response.status,
                    raw,
                    provider=provider,
                    secret=secret,
                    headers=response.headers,
                )
            telemetry = telemetry_from_headers(response.headers)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProviderError(
            f"{provider} answered a body that is not JSON",
            reason="server_error",
            retryable=True,
            status=200,
            provider=provider,
        ) from exc
    if not isinstance(data, dict):
        raise ProviderError(
            f"{provider} answered a JSON body that is not an object",
            reason="server_error",
            retryable=True,
            status=200,
            provider=provider,
        )
    return data, telemetry


async def open_stream(
    http: aiohttp.ClientSession,
    url: str,
    body: JSON,
    *,
    headers: Mapping[str, str],
    timeouts: Timeouts,
    provider: str,
    secret: str | None,
) -> aiohttp.ClientResponse:
    """POST ``body`` and return the open response once the status is known to be good;
    an error status raises here, before the caller has sent a byte to its client."""
    with translate_errors(provider, secret):
        response = await http.post(
            url,
            data=orjson.dumps(body),
            headers={"content-type": "application/json", "accept": "text/event-stream", **headers},
            timeout=client_timeout(timeouts, stream=True),
        )
        if response.status >= 400:
            try:
                raw = await response.read()
            finally:
                response.release()
            raise status_error(
                response.status, raw, provider=provider, secret=secret, headers=response.headers
            )
    return response


async def iter_sse(content: aiohttp.StreamReader) -> AsyncIterator[tuple[str | None, str]]:
    """Server-sent events as ``(event, data)``; multi-line data is joined with ``\\n``.

    Comments (``: ping``) are skipped. A last event without its blank line is still
    delivered, because some upstreams close right after the final ``data:`` line."""
    event: str | None = None
    data: list[str] = []
    async for raw_line in content:
        line = raw_line.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = None, []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
    if data:
        yield event, "\n".join(data)
