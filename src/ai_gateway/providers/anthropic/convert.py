"""OpenAI chat request -> Anthropic Messages request.

Anthropic differs in shape, not in meaning: system prompts are one top-level ``system``,
roles must alternate (consecutive same-role messages are merged), content is a list of
blocks, tool calls are ``tool_use`` blocks and their results ``tool_result`` blocks in a
user message, and ``max_tokens`` is required. Params map declaratively (:data:`PARAMS`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from ai_gateway.providers.base import ChatRequest
from ai_gateway.types import JSON

__all__ = ["DEFAULT_MAX_TOKENS", "PARAMS", "build_body", "convert_messages", "image_block"]


#: Anthropic requires ``max_tokens``; used when the caller sent neither OpenAI field.
DEFAULT_MAX_TOKENS = 4096


def _stop(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _temperature(value: Any) -> float:
    # OpenAI allows 0..2, Anthropic 0..1: clamp rather than fail a fallback with a 400.
    return min(float(value), 1.0)


#: OpenAI param -> (Anthropic field, value transform).
PARAMS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "max_tokens": ("max_tokens", int),
    "max_completion_tokens": ("max_tokens", int),
    "temperature": ("temperature", _temperature),
    "top_p": ("top_p", float),
    "top_k": ("top_k", int),
    "stop": ("stop_sequences", _stop),
}


def image_block(url: str) -> JSON:
    """A ``data:`` URL becomes a base64 source, anything else a url source."""
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = header.removeprefix("data:").split(";")[0] or "image/png"
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    return {"type": "image", "source": {"type": "url", "url": url}}


def _content_blocks(content: Any) -> list[JSON]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[JSON] = []
    for part in content:
        if part.get("type") == "text" and part.get("text"):
            blocks.append({"type": "text", "text": part["text"]})
        elif part.get("type") == "image_url":
            image = part["image_url"]
            blocks.append(image_block(image["url"] if isinstance(image, dict) else image))
    return blocks


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [] if isinstance(p, dict))


def _tool_use(call: JSON) -> JSON:
    function = call.get("function") or {}
    arguments = function.get("arguments") or "{}"
    return {
        "type": "tool_use",
        "id": call.get("id", ""),
        "name": function.get("name", ""),
        "input": orjson.loads(arguments) if isinstance(arguments, str) else arguments,
    }


def _message(message: JSON) -> tuple[str, list[JSON]]:
    role = message.get("role")
    if role == "tool":
        result = {
            "type": "tool_result",
            "tool_use_id": message.get("tool_call_id", ""),
            "content": _text(message.get("content")),
        }
        return "user", [result]
    blocks = _content_blocks(message.get("content"))
    if role == "assistant":
        blocks += [_tool_use(call) for call in message.get("tool_calls") or []]
        return "assistant", blocks
    return "user", blocks


def convert_messages(messages: list[JSON]) -> tuple[str | None, list[JSON]]:
    """``(system, messages)``: system texts joined, same-role neighbours merged."""
    system: list[str] = []
    out: list[JSON] = []
    for message in messages:
        if message.get("role") in ("system", "developer"):
            system.append(_text(message.get("content")))
            continue
        role, blocks = _message(message)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return ("\n\n".join(system) or None), out


def _tools(tools: list[JSON]) -> list[JSON]:
    converted = []
    for tool in tools:
        function = tool.get("function") or {}
        entry: JSON = {
            "name": function.get("name", ""),
            "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
        }
        if function.get("description"):
            entry["description"] = function["description"]
        converted.append(entry)
    return converted


def _tool_choice(choice: Any, parallel: Any) -> JSON | None:
    if choice is None and parallel is None:
        return None
    if isinstance(choice, dict):
        mapped: JSON = {"type": "tool", "name": choice.get("function", {}).get("name", "")}
    else:
        mapped = {"type": {"required": "any", "none": "none"}.get(str(choice), "auto")}
    if parallel is False and mapped["type"] != "none":
        mapped["disable_parallel_tool_use"] = True
    return mapped


def build_body(request: ChatRequest, model: str, *, stream: bool) -> JSON:
    """The Messages API body for ``request``."""
    system, messages = convert_messages(request.messages)
    body: JSON = {"model": model, "messages": messages, "max_tokens": DEFAULT_MAX_TOKENS}
    if system:
        body["system"] = system
    for name, (field, transform) in PARAMS.items():
        value = request.params.get(name)
        if value is not None:
            body[field] = transform(value)
    params = request.params
    if params.get("tools"):
        body["tools"] = _tools(params["tools"])
        choice = _tool_choice(params.get("tool_choice"), params.get("parallel_tool_calls"))
        if choice is not None:
            body["tool_choice"] = choice
    if isinstance(params.get("user"), str):
        body["metadata"] = {"user_id": params["user"]}
    if stream:
        body["stream"] = True
    return body
