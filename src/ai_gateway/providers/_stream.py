"""One :class:`ChunkStream` for every SSE upstream, plus the OpenAI chunk builders.

Each adapter only supplies an :class:`EventDecoder` that turns one upstream event into
zero or more OpenAI ``chat.completion.chunk`` dicts and records what it learns in a
:class:`StreamState`. This class owns the rest: reading, the usage chunk the caller did
not ask for, cut detection and the token estimate of an interrupted stream.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp

from ai_gateway.providers._http import (
    iter_sse,
    open_stream,
    telemetry_from_headers,
    translate_errors,
)
from ai_gateway.providers.base import (
    ChatRequest,
    ChunkStream,
    ProviderError,
    Target,
    Telemetry,
    Upstream,
    Usage,
)
from ai_gateway.types import JSON

__all__ = [
    "CHARS_PER_TOKEN",
    "EventDecoder",
    "HttpChunkStream",
    "StreamState",
    "completion_body",
    "estimate_tokens",
    "make_chunk",
    "open_chunk_stream",
    "prompt_chars",
    "usage_chunk",
    "usage_dict",
]


#: The usual rule of thumb for English and Portuguese text with BPE tokenizers.
CHARS_PER_TOKEN = 4


def estimate_tokens(chars: int) -> int:
    """Tokens for ``chars`` characters of text: an estimate, used only when the upstream
    never reported usage (a stream cut before its final usage event)."""
    return math.ceil(chars / CHARS_PER_TOKEN) if chars > 0 else 0


def prompt_chars(messages: list[JSON]) -> int:
    """Characters of text in OpenAI messages (string content and ``text`` parts)."""
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            total += len(content)
        elif isinstance(content, list):
            total += sum(len(p.get("text", "")) for p in content if isinstance(p, dict))
    return total


def usage_dict(usage: Usage) -> JSON:
    """A :class:`Usage` in the OpenAI ``usage`` shape."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
    }


def completion_body(
    completion_id: str,
    model: str,
    created: int,
    message: JSON,
    finish: str | None,
    usage: Usage,
) -> JSON:
    """One OpenAI ``chat.completion`` with a single choice (the shape every non-OpenAI
    adapter converts its answer into)."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage_dict(usage),
    }


def make_chunk(
    chunk_id: str, model: str, created: int, delta: JSON, finish_reason: str | None = None
) -> JSON:
    """One OpenAI ``chat.completion.chunk`` with a single choice."""
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def usage_chunk(chunk_id: str, model: str, created: int, usage: Usage) -> JSON:
    """The final chunk OpenAI sends with ``stream_options.include_usage``."""
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": usage_dict(usage),
    }


@dataclass(slots=True)
class StreamState:
    """What a decoder learned so far. ``complete`` means the upstream's end marker was
    seen (anything less is a cut); ``done`` means stop reading now."""

    model: str
    chunk_id: str = ""
    created: int = field(default_factory=lambda: int(time.time()))
    usage: Usage = field(default_factory=Usage)
    telemetry: Telemetry = field(default_factory=Telemetry)
    finish_reason: str | None = None
    input_seen: bool = False
    output_seen: bool = False
    text_chars: int = 0
    complete: bool = False
    done: bool = False


class EventDecoder(Protocol):
    """Turns one SSE event into OpenAI chunks; raises :class:`ProviderError` on an
    in-band error event."""

    def decode(self, event: str | None, data: str, state: StreamState) -> list[JSON]: ...


class HttpChunkStream(ChunkStream):
    """A streamed answer read from an open ``aiohttp`` response.

    A failure before the first chunk keeps its own classification (a timeout is still
    retryable, the caller has sent nothing yet); after it, any failure or an end without
    the upstream's end marker is ``stream_cut`` and not retryable. When the upstream
    never reported usage, :attr:`usage` holds an estimate (~4 characters per token) of
    the text received and of the prompt, so an interrupted stream is still metered.
    """

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        decoder: EventDecoder,
        state: StreamState,
        *,
        provider: str,
        include_usage: bool,
        prompt_chars: int,
        secret: str | None = None,
    ) -> None:
        self._response = response
        self._decoder = decoder
        self._state = state
        self._provider = provider
        self._include_usage = include_usage
        self._prompt_chars = prompt_chars
        self._secret = secret
        self.usage = state.usage
        self.telemetry = state.telemetry
        self.finish_reason = None

    def __aiter__(self) -> AsyncIterator[JSON]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[JSON]:
        sent = 0
        try:
            with translate_errors(self._provider, self._secret):
                async for event, data in iter_sse(self._response.content):
                    for chunk in self._decoder.decode(event, data, self._state):
                        self.finish_reason = self._state.finish_reason
                        if not chunk["choices"] and not self._include_usage:
                            continue
                        sent += 1
                        yield chunk
                    if self._state.done:
                        break
            if not self._state.complete:
                raise self._cut("the upstream closed the stream before its end")
        except ProviderError as exc:
            if sent == 0 or exc.reason == "stream_cut":
                raise
            raise self._cut(exc.message) from exc
        finally:
            self._settle_usage()
            await self.aclose()

    def _cut(self, why: str) -> ProviderError:
        return ProviderError(
            f"{self._provider} stream cut: {why}",
            reason="stream_cut",
            retryable=False,
            provider=self._provider,
        )

    def _settle_usage(self) -> None:
        state = self._state
        if not state.input_seen:
            state.usage.input_tokens = estimate_tokens(self._prompt_chars)
        if not state.output_seen:
            state.usage.output_tokens = max(
                state.usage.output_tokens, estimate_tokens(state.text_chars)
            )

    async def aclose(self) -> None:
        # A finished response goes back to the pool; a cut or abandoned one is closed so
        # its half-read connection is never reused.
        if self._state.complete:
            self._response.release()
        else:
            # Abandoned by our caller mid-way: meter what was received so far.
            self._settle_usage()
            self._response.close()


async def open_chunk_stream(
    http: aiohttp.ClientSession,
    url: str,
    body: JSON,
    *,
    headers: Mapping[str, str],
    request: ChatRequest,
    target: Target,
    upstream: Upstream,
    decoder: EventDecoder,
    provider: str,
) -> HttpChunkStream:
    """What every HTTP adapter's ``stream()`` does: open the upstream stream (an error
    status raises here, before the first byte) and wrap it with the adapter's decoder."""
    response = await open_stream(
        http,
        url,
        body,
        headers=headers,
        timeouts=upstream.timeouts,
        provider=provider,
        secret=upstream.api_key,
    )
    state = StreamState(model=target.model_id, telemetry=telemetry_from_headers(response.headers))
    return HttpChunkStream(
        response,
        decoder,
        state,
        provider=provider,
        include_usage=request.include_usage,
        prompt_chars=prompt_chars(request.messages),
        secret=upstream.api_key,
    )
