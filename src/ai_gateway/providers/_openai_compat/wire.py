"""The OpenAI chat-completions wire format: request body, answer and stream chunks.

OpenAI, Groq and the upstream gateway all speak it, so the only work here is what the
gateway adds on top: the model name of the target, usage always requested on streams
(a stream must be metered even when the client did not ask for usage), ``model`` in
every output set to the registry id, and usage read into :class:`Usage`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import orjson

from ai_gateway.providers._stream import StreamState
from ai_gateway.providers.base import ChatRequest, Completion, ProviderError, Telemetry, Usage
from ai_gateway.types import JSON

__all__ = ["OpenAIChunkDecoder", "build_body", "parse_completion", "parse_usage"]

BodyTelemetry = Callable[[JSON, Telemetry], None]

# Fields the adapter owns: never copied from the caller's params.
_OWNED = frozenset({"model", "messages", "stream", "stream_options"})


def build_body(
    request: ChatRequest, model: str, *, stream: bool, drop: Collection[str] = ()
) -> JSON:
    """The upstream body: the caller's params minus those the upstream rejects."""
    body: JSON = {"model": model, "messages": request.messages}
    body.update(
        (key, value)
        for key, value in request.params.items()
        if key not in _OWNED and key not in drop and value is not None
    )
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def parse_usage(data: Any) -> Usage | None:
    """``usage`` as :class:`Usage`. Prompt-cache reads are
    ``prompt_tokens_details.cached_tokens`` (OpenAI, Groq, the upstream gateway), a part
    of ``prompt_tokens``; the upstream gateway reports Anthropic-style cache writes as a
    top-level ``cache_creation_input_tokens``, also within ``prompt_tokens``. Neither
    provider of this format charges extra for a write except through that gateway."""
    if not isinstance(data, dict):
        return None
    details = data.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    return Usage(
        input_tokens=_count(data.get("prompt_tokens")),
        output_tokens=_count(data.get("completion_tokens")),
        cached_tokens=_count(details.get("cached_tokens")),
        cache_write_tokens=_count(data.get("cache_creation_input_tokens")),
    )


def _count(value: Any) -> int:
    """A token count; anything that is not a non-negative whole number counts as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(int(value), 0)


def parse_completion(
    body: JSON, telemetry: Telemetry, *, model_id: str, provider: str
) -> Completion:
    """A ``chat.completion`` answer as :class:`Completion`."""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ProviderError(
            f"{provider} answered without choices",
            reason="server_error",
            retryable=True,
            status=200,
            provider=provider,
        )
    body["model"] = model_id
    if isinstance(body.get("id"), str):
        telemetry.generation_id = body["id"]
    return Completion(
        body=body,
        usage=parse_usage(body.get("usage")) or Usage(),
        telemetry=telemetry,
        finish_reason=choices[0].get("finish_reason"),
    )


class OpenAIChunkDecoder:
    """``data: {chunk}`` events until ``data: [DONE]``. Groq once sent usage only in
    ``x_groq.usage``; it is read there too."""

    def __init__(self, *, provider: str, on_body: BodyTelemetry | None = None) -> None:
        self._provider = provider
        self._on_body = on_body

    def decode(self, event: str | None, data: str, state: StreamState) -> list[JSON]:
        if data.strip() == "[DONE]":
            state.complete = state.done = True
            return []
        chunk = orjson.loads(data)
        if not isinstance(chunk, dict):
            return []
        if "error" in chunk:
            error = chunk["error"]
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise ProviderError(
                f"{self._provider} stream error: {message}",
                reason="server_error",
                retryable=True,
                provider=self._provider,
            )
        chunk["model"] = state.model
        if isinstance(chunk.get("id"), str):
            state.chunk_id = state.telemetry.generation_id = chunk["id"]
        if self._on_body is not None:
            self._on_body(chunk, state.telemetry)
        x_groq = chunk.get("x_groq")
        usage = parse_usage(chunk.get("usage")) or (
            parse_usage(x_groq.get("usage")) if isinstance(x_groq, dict) else None
        )
        if usage is not None:
            state.usage.input_tokens = usage.input_tokens
            state.usage.output_tokens = usage.output_tokens
            state.usage.cached_tokens = usage.cached_tokens
            state.usage.cache_write_tokens = usage.cache_write_tokens
            state.input_seen = state.output_seen = True
        for choice in chunk.get("choices") or []:
            self._read_choice(choice, state)
        return [chunk]

    @staticmethod
    def _read_choice(choice: JSON, state: StreamState) -> None:
        if choice.get("finish_reason"):
            state.finish_reason = choice["finish_reason"]
        delta = choice.get("delta") or {}
        state.text_chars += len(delta.get("content") or "")
        for call in delta.get("tool_calls") or []:
            state.text_chars += len((call.get("function") or {}).get("arguments") or "")
