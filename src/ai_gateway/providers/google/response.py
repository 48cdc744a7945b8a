"""Gemini answers -> OpenAI ``chat.completion`` and chunks.

Gemini gives tool calls no id (older models) so one is made up from the position; its
stream has no end marker, so the stream is complete once a ``finishReason`` was seen.
``promptTokenCount`` already includes ``cachedContentTokenCount`` (implicit and explicit
context caching), as OpenAI does; Gemini bills no per-request cache write (an explicit
cache's storage is billed by the hour, outside any call);
thinking tokens are billed as output, so they are added to the output count.
"""

from __future__ import annotations

from typing import Any

import orjson

from ai_gateway.providers._stream import StreamState, completion_body, make_chunk, usage_chunk
from ai_gateway.providers.base import ProviderError, Usage
from ai_gateway.types import JSON

__all__ = ["FINISH_REASONS", "GeminiChunkDecoder", "parse_response", "parse_usage"]


FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
}


def parse_usage(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    return Usage(
        input_tokens=int(data.get("promptTokenCount") or 0),
        output_tokens=int(data.get("candidatesTokenCount") or 0)
        + int(data.get("thoughtsTokenCount") or 0),
        cached_tokens=int(data.get("cachedContentTokenCount") or 0),
    )


def _candidate(data: JSON, provider: str) -> JSON:
    candidates = data.get("candidates") or []
    if not candidates:
        feedback = data.get("promptFeedback") or {}
        if feedback.get("blockReason"):
            return {"finishReason": "SAFETY", "content": {"parts": []}}
        raise ProviderError(
            f"{provider} answered without candidates",
            reason="server_error",
            retryable=True,
            status=200,
            provider=provider,
        )
    return candidates[0]  # type: ignore[no-any-return]


def _split_parts(parts: list[JSON], first_index: int) -> tuple[str, list[JSON]]:
    text: list[str] = []
    calls: list[JSON] = []
    for part in parts:
        if "text" in part and not part.get("thought"):
            text.append(part["text"])
        elif "functionCall" in part:
            call = part["functionCall"]
            index = first_index + len(calls)
            calls.append(
                {
                    "index": index,
                    "id": call.get("id") or f"call_{index}",
                    "type": "function",
                    "function": {
                        "name": call.get("name", ""),
                        "arguments": orjson.dumps(call.get("args") or {}).decode(),
                    },
                }
            )
    return "".join(text), calls


def _finish(reason: Any, has_calls: bool) -> str | None:
    if not reason:
        return None
    if has_calls and reason == "STOP":
        return "tool_calls"
    return FINISH_REASONS.get(str(reason), "stop")


def parse_response(
    data: JSON, *, model_id: str, created: int, provider: str
) -> tuple[JSON, Usage, str | None]:
    """``(chat.completion body, usage, finish_reason)``."""
    candidate = _candidate(data, provider)
    text, calls = _split_parts((candidate.get("content") or {}).get("parts") or [], 0)
    message: JSON = {"role": "assistant", "content": text if text or not calls else None}
    if calls:
        message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in calls]
    finish = _finish(candidate.get("finishReason"), bool(calls))
    usage = parse_usage(data.get("usageMetadata")) or Usage()
    body = completion_body(data.get("responseId") or "", model_id, created, message, finish, usage)
    return body, usage, finish


class GeminiChunkDecoder:
    """Each ``data:`` event is a whole ``GenerateContentResponse`` with the new text;
    ``usageMetadata`` is cumulative, so the last one wins."""

    def __init__(self, *, provider: str) -> None:
        self._provider = provider
        self._calls = 0
        self._started = False

    def decode(self, event: str | None, data: str, state: StreamState) -> list[JSON]:
        payload = orjson.loads(data)
        if "error" in payload:
            error = payload["error"] or {}
            raise ProviderError(
                f"{self._provider} stream error: {error.get('message', 'unknown')}",
                reason="server_error",
                retryable=True,
                provider=self._provider,
            )
        if not state.chunk_id:
            state.chunk_id = state.telemetry.generation_id = payload.get("responseId") or ""
        usage = parse_usage(payload.get("usageMetadata"))
        if usage is not None:
            state.usage.input_tokens = usage.input_tokens
            state.usage.cached_tokens = usage.cached_tokens
            state.usage.output_tokens = usage.output_tokens
            state.input_seen = True
        candidate = _candidate(payload, self._provider)
        parts = (candidate.get("content") or {}).get("parts") or []
        text, calls = _split_parts(parts, self._calls)
        self._calls += len(calls)
        state.text_chars += len(text) + sum(len(c["function"]["arguments"]) for c in calls)
        delta: JSON = {}
        if not self._started:
            delta["role"] = "assistant"
            self._started = True
        if text:
            delta["content"] = text
        if calls:
            delta["tool_calls"] = calls
        finish = _finish(candidate.get("finishReason"), self._calls > 0)
        chunks = [make_chunk(state.chunk_id, state.model, state.created, delta, finish)]
        if finish:
            state.finish_reason = finish
            # Counts before the finish are partial; a cut stream estimates instead.
            state.output_seen = usage is not None
            state.complete = True
            chunks.append(usage_chunk(state.chunk_id, state.model, state.created, state.usage))
        return chunks
