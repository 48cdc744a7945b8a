"""``POST /v1/messages``: Anthropic's Messages API, for every provider.

The client key comes as ``x-api-key`` (what Anthropic's SDKs send) or as a Bearer token;
``anthropic-version`` is accepted and not needed. Errors use Anthropic's shape,
``{"type": "error", "error": {"type", "message"}}``, on this route — the SDKs read it.
A stream is Anthropic's event sequence: ``message_start``, per block
``content_block_start`` / ``content_block_delta`` / ``content_block_stop``, then
``message_delta`` (stop reason and usage) and ``message_stop``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import orjson

from ai_gateway.api.endpoints.anthropic_wire import (
    STOP_REASONS,
    anthropic_usage,
    parse_messages_request,
    render_message,
)
from ai_gateway.api.endpoints.base import CallContext, Codec, Parsed, Rendered, decode_json
from ai_gateway.errors import AuthenticationFailed, GatewayError
from ai_gateway.pipeline.outcome import CallResult
from ai_gateway.pipeline.validation import GatewayOptions
from ai_gateway.providers.base import Usage
from ai_gateway.services.auth import bearer_token
from ai_gateway.types import JSON

if TYPE_CHECKING:
    from ai_gateway.pipeline.run import StreamCall

__all__ = ["MessagesCodec", "anthropic_error_type"]


# status -> Anthropic's error type (its documented set)
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def anthropic_error_type(status: int) -> str:
    return _ERROR_TYPES.get(status, "api_error")


def _event(name: str, data: JSON) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class MessagesCodec(Codec):
    path = "/v1/messages"
    endpoint = "messages"

    def credentials(self, headers: dict[str, str]) -> str:
        key = headers.get("x-api-key", "").strip()
        if key:
            return key
        if headers.get("authorization"):
            return bearer_token(headers["authorization"])
        raise AuthenticationFailed("missing API key; send 'x-api-key: <key>'")

    async def parse(self, ctx: CallContext, body: bytes) -> Parsed:
        request, fallback = parse_messages_request(decode_json(body))
        return Parsed(request, GatewayOptions(fallback))

    async def render(self, ctx: CallContext, parsed: Parsed, result: CallResult) -> Rendered:
        message = render_message(
            result.body,
            message_id=f"msg_{result.request_id}",
            model=result.model,
            usage=result.usage,
        )
        return Rendered(orjson.dumps(message))

    def error_body(self, exc: GatewayError) -> bytes:
        return orjson.dumps(
            {
                "type": "error",
                "error": {"type": anthropic_error_type(exc.status), "message": exc.message},
            }
        )

    def stream(self, ctx: CallContext, parsed: Parsed, call: StreamCall) -> AsyncIterator[bytes]:
        return _MessageEvents(call).events()


class _MessageEvents:
    """OpenAI chunks in, Anthropic events out; one open content block at a time."""

    def __init__(self, call: StreamCall) -> None:
        self._call = call
        self._index = -1
        self._open: str | None = None  # "text" or the OpenAI index of the tool call
        self._finish: str | None = None
        self._usage = Usage()

    def _start(self, key: str, block: JSON) -> list[bytes]:
        out = self._stop()
        self._index += 1
        self._open = key
        out.append(
            _event(
                "content_block_start",
                {"type": "content_block_start", "index": self._index, "content_block": block},
            )
        )
        return out

    def _stop(self) -> list[bytes]:
        if self._open is None:
            return []
        self._open = None
        return [_event("content_block_stop", {"type": "content_block_stop", "index": self._index})]

    def _delta(self, delta: JSON) -> bytes:
        return _event(
            "content_block_delta",
            {"type": "content_block_delta", "index": self._index, "delta": delta},
        )

    def _translate(self, chunk: JSON) -> list[bytes]:
        out: list[bytes] = []
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            details = usage.get("prompt_tokens_details") or {}
            self._usage = Usage(
                int(usage.get("prompt_tokens") or 0),
                int(usage.get("completion_tokens") or 0),
                int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0,
            )
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                if self._open != "text":
                    out += self._start("text", {"type": "text", "text": ""})
                out.append(self._delta({"type": "text_delta", "text": delta["content"]}))
            for tool in delta.get("tool_calls") or []:
                key = f"tool:{tool.get('index', 0)}"
                function = tool.get("function") or {}
                if self._open != key:
                    block: JSON = {
                        "type": "tool_use",
                        "id": tool.get("id") or f"toolu_{self._index + 1}",
                        "name": function.get("name") or "",
                        "input": {},
                    }
                    out += self._start(key, block)
                if function.get("arguments"):
                    out.append(
                        self._delta(
                            {"type": "input_json_delta", "partial_json": function["arguments"]}
                        )
                    )
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
        return out

    async def events(self) -> AsyncIterator[bytes]:
        call = self._call
        chunks = call.__aiter__()
        try:
            message: JSON = {
                "id": f"msg_{call.request_id}",
                "type": "message",
                "role": "assistant",
                "model": call.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 0, "output_tokens": 0},
            }
            yield _event("message_start", {"type": "message_start", "message": message})
            async for chunk in chunks:
                if "error" in chunk:
                    error = {"type": "api_error", "message": chunk["error"]["message"]}
                    yield _event("error", {"type": "error", "error": error})
                    return
                for event in self._translate(chunk):
                    yield event
            for event in self._stop():
                yield event
            stop = STOP_REASONS.get(self._finish or "stop", "end_turn")
            yield _event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": anthropic_usage(self._usage),
                },
            )
            yield _event("message_stop", {"type": "message_stop"})
        finally:
            await chunks.aclose()
