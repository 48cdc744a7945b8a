"""Anthropic's Messages API <-> the pipeline's OpenAI-shaped chat request and answer.

The conversion every provider is served through on ``/v1/messages`` (an Anthropic model
is converted back by its own adapter): ``system`` becomes a system message, text and
image blocks become content parts, ``tool_use`` blocks become assistant ``tool_calls``
and ``tool_result`` blocks become ``tool`` messages, in the order OpenAI needs them
(right after the call). Mapping of parameters is data, not branches (``_PARAMS``).
"""

from __future__ import annotations

from typing import Any

import orjson

from ai_gateway.errors import InvalidRequest
from ai_gateway.pipeline.validation import MAX_OUTPUT_TOKENS
from ai_gateway.providers.base import ChatRequest, Usage
from ai_gateway.types import JSON

__all__ = ["STOP_REASONS", "anthropic_usage", "parse_messages_request", "render_message"]


#: OpenAI finish_reason -> Anthropic stop_reason.
STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
# Anthropic name -> (OpenAI name, accepted types, described, low, high)
_PARAMS: dict[str, tuple[str, tuple[type, ...], str, float, float]] = {
    "max_tokens": ("max_tokens", (int,), "an integer", 1, MAX_OUTPUT_TOKENS),
    "temperature": ("temperature", (int, float), "a number", 0, 1),
    "top_p": ("top_p", (int, float), "a number", 0, 1),
}
# Other top-level fields (metadata, top_k, thinking, service_tier, cache_control, ...)
# are accepted and not forwarded: a converted call has nothing to honour them with, and
# the API grows new ones that a client's SDK may send.


def _bad(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param, code="invalid_value")


def _text_of(value: Any, where: str) -> str:
    """A string, or a list of text blocks joined (``system``, ``tool_result.content``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for i, block in enumerate(value):
            if not isinstance(block, dict) or block.get("type") != "text":
                raise _bad(f"{where}[{i}] must be a text block", f"{where}[{i}]")
            if not isinstance(block.get("text"), str):
                raise _bad(f"{where}[{i}].text must be a string", f"{where}[{i}]")
            texts.append(block["text"])
        return "\n".join(texts)
    raise _bad(f"{where} must be a string or a list of text blocks", where)


def _image_part(block: JSON, where: str) -> JSON:
    source = block.get("source")
    if not isinstance(source, dict):
        raise _bad(f"{where}.source must be an object", f"{where}.source")
    if source.get("type") == "base64":
        media, data = source.get("media_type"), source.get("data")
        if not isinstance(media, str) or not isinstance(data, str) or not data:
            raise _bad(f"{where}.source needs media_type and data", f"{where}.source")
        return {"type": "image_url", "image_url": {"url": f"data:{media};base64,{data}"}}
    if source.get("type") == "url" and isinstance(source.get("url"), str):
        return {"type": "image_url", "image_url": {"url": source["url"]}}
    raise _bad(f"{where}.source.type must be 'base64' or 'url'", f"{where}.source")


def _convert_message(index: int, message: Any) -> list[JSON]:
    """One Anthropic message as one or more OpenAI messages."""
    where = f"messages[{index}]"
    if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
        raise _bad(f"{where}.role must be 'user' or 'assistant'", f"{where}.role")
    role, content = message["role"], message.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if not isinstance(content, list) or not content:
        raise _bad(f"{where}.content must be a string or a non-empty list", f"{where}.content")
    parts: list[JSON] = []
    calls: list[JSON] = []
    results: list[JSON] = []
    for j, block in enumerate(content):
        at = f"{where}.content[{j}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block.get("text"), str):
            parts.append({"type": "text", "text": block["text"]})
        elif kind == "image" and role == "user":
            parts.append(_image_part(block, at))
        elif kind == "tool_use" and role == "assistant":
            if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
                raise _bad(f"{at} needs an id and a name", at)
            arguments = orjson.dumps(block.get("input") or {}).decode()
            calls.append(
                {
                    "id": block["id"],
                    "type": "function",
                    "function": {"name": block["name"], "arguments": arguments},
                }
            )
        elif kind == "tool_result" and role == "user":
            if not isinstance(block.get("tool_use_id"), str):
                raise _bad(f"{at}.tool_use_id is required", at)
            text = _text_of(block.get("content", ""), f"{at}.content")
            if block.get("is_error"):
                text = f"[error] {text}"
            results.append({"role": "tool", "tool_call_id": block["tool_use_id"], "content": text})
        else:
            raise _bad(f"{at} is not a block this role can send (type {kind!r})", at)
    if role == "assistant":
        text = "".join(p["text"] for p in parts)
        out: JSON = {"role": "assistant", "content": text or None}
        if calls:
            out["tool_calls"] = calls
        elif not text:
            raise _bad(f"{where} has no text and no tool_use", f"{where}.content")
        return [out]
    return results + ([{"role": "user", "content": parts}] if parts else [])


def _tools(value: Any) -> list[JSON]:
    if not isinstance(value, list):
        raise _bad("tools must be a list", "tools")
    tools = []
    for i, tool in enumerate(value):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise _bad(f"tools[{i}] must be an object with a name", f"tools[{i}]")
        if tool.get("type") not in (None, "custom"):
            raise _bad(f"tools[{i}]: server tools ({tool['type']}) are not supported", "tools")
        function: JSON = {"name": tool["name"], "parameters": tool.get("input_schema") or {}}
        if isinstance(tool.get("description"), str):
            function["description"] = tool["description"]
        tools.append({"type": "function", "function": function})
    return tools


def _tool_choice(value: Any) -> Any:
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "tool" and isinstance(value.get("name"), str):
        return {"type": "function", "function": {"name": value["name"]}}
    choices = {"auto": "auto", "any": "required", "none": "none"}
    if kind not in choices:
        raise _bad("tool_choice.type must be auto, any, tool (with a name) or none", "tool_choice")
    return choices[kind]


def _params(body: JSON) -> JSON:
    params: JSON = {}
    for name, (openai_name, types, described, low, high) in _PARAMS.items():
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, types):
            raise _bad(f"{name} must be {described}", name)
        if not low <= value <= high:
            raise _bad(f"{name} must be between {low:g} and {high:g}", name)
        params[openai_name] = value
    stops = body.get("stop_sequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
            raise _bad("stop_sequences must be a list of non-empty strings", "stop_sequences")
        if len(stops) > 4:
            raise _bad("stop_sequences may hold at most 4 strings here", "stop_sequences")
        if stops:
            params["stop"] = stops
    if body.get("tools"):
        params["tools"] = _tools(body["tools"])
    if body.get("tool_choice") is not None:
        params["tool_choice"] = _tool_choice(body["tool_choice"])
    return params


def parse_messages_request(body: JSON) -> tuple[ChatRequest, list[str] | None]:
    """``(request, fallback_models)`` from an Anthropic Messages body."""
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _bad("model is required and must be a non-empty string", "model")
    if body.get("max_tokens") is None:
        raise _bad("max_tokens is required", "max_tokens")
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise _bad("messages must be a non-empty list", "messages")
    messages: list[JSON] = []
    if body.get("system") is not None:
        system = _text_of(body["system"], "system")
        if system:
            messages.append({"role": "system", "content": system})
    for index, message in enumerate(raw):
        messages += _convert_message(index, message)
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _bad("stream must be a boolean", "stream")
    fallback = body.get("fallback_models")
    if fallback is not None and (
        not isinstance(fallback, list) or not all(isinstance(m, str) for m in fallback)
    ):
        raise _bad("fallback_models must be a list of model ids", "fallback_models")
    request = ChatRequest(
        model=model.strip(),
        messages=messages,
        params=_params(body),
        stream=stream,
        include_usage=True,  # the final message_delta carries usage
    )
    return request, fallback


def anthropic_usage(usage: Usage) -> JSON:
    """Anthropic counts cache reads apart from ``input_tokens``; OpenAI includes them."""
    cached = min(usage.cached_tokens, usage.input_tokens)
    return {
        "input_tokens": usage.input_tokens - cached,
        "output_tokens": usage.output_tokens,
        "cache_read_input_tokens": cached,
        "cache_creation_input_tokens": 0,
    }


def _arguments(raw: Any) -> JSON:
    try:
        value = orjson.loads(raw or "{}")
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def render_message(body: JSON, *, message_id: str, model: str, usage: Usage) -> JSON:
    """A ``chat.completion`` as an Anthropic ``message``."""
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    content: list[JSON] = []
    if isinstance(message.get("content"), str) and message["content"]:
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{len(content)}",
                "name": function.get("name", ""),
                "input": _arguments(function.get("arguments")),
            }
        )
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": STOP_REASONS.get(choice.get("finish_reason") or "stop", "end_turn"),
        "stop_sequence": None,
        "usage": anthropic_usage(usage),
    }
