"""Anthropic Messages answers -> OpenAI ``chat.completion`` and chunks.

``input_tokens`` from Anthropic *excludes* the prompt tokens read from its prompt cache
(``cache_read_input_tokens``) and those written to it (``cache_creation_input_tokens``);
:class:`Usage` follows OpenAI (the prompt includes them), so both are added in once and
also reported apart as ``cached_tokens`` / ``cache_write_tokens``. Pricing then bills
each part at its own rate and none twice. A stream reports them in ``message_start``;
newer API versions repeat cumulative counts in ``message_delta``, which then win.
"""

from __future__ import annotations

from typing import Any

import orjson

from ai_gateway.providers._stream import StreamState, completion_body, make_chunk, usage_chunk
from ai_gateway.providers.base import ProviderError, Usage
from ai_gateway.types import JSON

__all__ = ["FINISH_REASONS", "AnthropicEventDecoder", "parse_message", "parse_usage"]


FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

# Error event types that mean "try elsewhere" rather than "your request is wrong".
_RETRYABLE_ERRORS = {
    "overloaded_error": "server_error",
    "api_error": "server_error",
    "rate_limit_error": "rate_limited",
}


_PROMPT_FIELDS = {"input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"}


def parse_usage(data: Any) -> Usage:
    data = data if isinstance(data, dict) else {}
    cached = int(data.get("cache_read_input_tokens") or 0)
    written = int(data.get("cache_creation_input_tokens") or 0)
    return Usage(
        input_tokens=int(data.get("input_tokens") or 0) + cached + written,
        output_tokens=int(data.get("output_tokens") or 0),
        cached_tokens=cached,
        cache_write_tokens=written,
    )


def _finish(stop_reason: Any) -> str | None:
    return FINISH_REASONS.get(stop_reason, "stop") if stop_reason else None


def parse_message(data: JSON, *, model_id: str, created: int) -> tuple[JSON, Usage, str | None]:
    """``(chat.completion body, usage, finish_reason)``."""
    text: list[str] = []
    tool_calls: list[JSON] = []
    for block in data.get("content") or []:
        if block.get("type") == "text":
            text.append(block.get("text", ""))
        elif block.get("type") == "tool_use":
            tool_calls.append(
                {
                    "id": block.get("id", ""),
                    "type": "function",
                    "function": {
                        "name": block.get("name", ""),
                        "arguments": orjson.dumps(block.get("input") or {}).decode(),
                    },
                }
            )
    message: JSON = {
        "role": "assistant",
        "content": "".join(text) if text or not tool_calls else None,
    }
    if tool_calls:
        message["tool_calls"] = tool_calls
    usage = parse_usage(data.get("usage"))
    finish = _finish(data.get("stop_reason"))
    body = completion_body(data.get("id", ""), model_id, created, message, finish, usage)
    return body, usage, finish


class AnthropicEventDecoder:
    """``message_start`` .. ``message_stop`` events -> OpenAI chunks. Tool-use blocks
    become ``tool_calls`` deltas indexed in the order they start."""

    def __init__(self, *, provider: str) -> None:
        self._provider = provider
        self._tool_index: dict[int, int] = {}

    def decode(self, event: str | None, data: str, state: StreamState) -> list[JSON]:
        payload = orjson.loads(data)
        kind = payload.get("type", event)
        handler = getattr(self, f"_on_{kind}", None)
        return handler(payload, state) if handler is not None else []

    def _chunk(self, state: StreamState, delta: JSON, finish: str | None = None) -> JSON:
        return make_chunk(state.chunk_id, state.model, state.created, delta, finish)

    def _on_message_start(self, payload: JSON, state: StreamState) -> list[JSON]:
        message = payload.get("message") or {}
        state.chunk_id = state.telemetry.generation_id = message.get("id", "")
        usage = parse_usage(message.get("usage"))
        state.usage.input_tokens = usage.input_tokens
        state.usage.cached_tokens = usage.cached_tokens
        state.usage.cache_write_tokens = usage.cache_write_tokens
        state.usage.output_tokens = usage.output_tokens
        state.input_seen = True
        return [self._chunk(state, {"role": "assistant", "content": ""})]

    def _on_content_block_start(self, payload: JSON, state: StreamState) -> list[JSON]:
        block = payload.get("content_block") or {}
        if block.get("type") != "tool_use":
            text = block.get("text") or ""
            state.text_chars += len(text)
            return [self._chunk(state, {"content": text})] if text else []
        index = self._tool_index.setdefault(payload.get("index", 0), len(self._tool_index))
        call = {
            "index": index,
            "id": block.get("id", ""),
            "type": "function",
            "function": {"name": block.get("name", ""), "arguments": ""},
        }
        return [self._chunk(state, {"tool_calls": [call]})]

    def _on_content_block_delta(self, payload: JSON, state: StreamState) -> list[JSON]:
        delta = payload.get("delta") or {}
        if delta.get("type") == "text_delta":
            state.text_chars += len(delta.get("text", ""))
            return [self._chunk(state, {"content": delta.get("text", "")})]
        if delta.get("type") == "input_json_delta":
            partial = delta.get("partial_json", "")
            state.text_chars += len(partial)
            index = self._tool_index.get(payload.get("index", 0), 0)
            call = {"index": index, "function": {"arguments": partial}}
            return [self._chunk(state, {"tool_calls": [call]})]
        return []

    def _on_message_delta(self, payload: JSON, state: StreamState) -> list[JSON]:
        usage = payload.get("usage") or {}
        if _PROMPT_FIELDS & usage.keys():
            prompt = parse_usage(usage)
            state.usage.input_tokens = prompt.input_tokens
            state.usage.cached_tokens = prompt.cached_tokens
            state.usage.cache_write_tokens = prompt.cache_write_tokens
            state.input_seen = True
        if "output_tokens" in usage:
            state.usage.output_tokens = int(usage["output_tokens"])
            state.output_seen = True
        stop_reason = (payload.get("delta") or {}).get("stop_reason")
        if not stop_reason:
            return []
        state.finish_reason = _finish(stop_reason)
        return [self._chunk(state, {}, state.finish_reason)]

    def _on_message_stop(self, payload: JSON, state: StreamState) -> list[JSON]:
        state.complete = state.done = True
        return [usage_chunk(state.chunk_id, state.model, state.created, state.usage)]

    def _on_error(self, payload: JSON, state: StreamState) -> list[JSON]:
        error = payload.get("error") or {}
        reason = _RETRYABLE_ERRORS.get(error.get("type", ""), "bad_request")
        raise ProviderError(
            f"{self._provider} stream error: {error.get('message', 'unknown')}",
            reason=reason,
            retryable=reason != "bad_request",
            provider=self._provider,
        )
