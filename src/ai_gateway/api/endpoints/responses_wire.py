"""OpenAI's Responses API <-> the pipeline's chat request and answer.

``input`` (a string or items: messages with ``input_text`` / ``input_image`` /
``output_text`` parts, ``function_call`` and ``function_call_output``) becomes chat
messages; ``instructions`` a system message (not carried into the stored conversation,
as OpenAI does); ``text.format`` becomes ``response_format``; function ``tools`` become
chat tools. The answer's text and tool calls become ``message`` and ``function_call``
output items.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ai_gateway.errors import InvalidRequest
from ai_gateway.pipeline.validation import MAX_OUTPUT_TOKENS
from ai_gateway.providers.base import ChatRequest, Usage
from ai_gateway.types import JSON

__all__ = [
    "ResponsesCall",
    "assistant_message",
    "function_call_item",
    "message_item",
    "new_id",
    "parse_responses_request",
    "response_object",
    "responses_usage",
]


_ROLES = frozenset({"user", "assistant", "system", "developer"})
# Items an agent replays that carry nothing a converted call can use.
_SKIPPED_ITEMS = frozenset({"reasoning", "item_reference"})


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _bad(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param, code="invalid_value")


@dataclass(slots=True)
class ResponsesCall:
    """What the codec keeps between parsing and rendering a call."""

    response_id: str
    created_at: int
    conversation: list[JSON]  # previous turns + this input, without the instructions
    echo: JSON  # request fields the response object repeats
    store: bool
    previous_response_id: str | None
    fallback_models: list[str] | None = None
    messages: list[JSON] = field(default_factory=list)


def _part(part: Any, where: str) -> JSON:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind in ("input_text", "output_text", "text") and isinstance(part.get("text"), str):
        return {"type": "text", "text": part["text"]}
    if kind == "input_image":
        url = part.get("image_url")
        if not isinstance(url, str) or not url:
            raise _bad(f"{where}.image_url must be a URL or a data URL", where)
        image: JSON = {"url": url}
        if part.get("detail") in ("low", "high", "auto"):
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    raise _bad(f"{where} must be an input_text or input_image part (not {kind!r})", where)


def _message(item: JSON, where: str) -> JSON:
    role = item.get("role")
    if role not in _ROLES:
        raise _bad(f"{where}.role must be one of {', '.join(sorted(_ROLES))}", f"{where}.role")
    content = item.get("content")
    if isinstance(content, str):
        return {"role": role, "content": content}
    if not isinstance(content, list) or not content:
        raise _bad(f"{where}.content must be a string or a list of parts", f"{where}.content")
    parts = [_part(p, f"{where}.content[{j}]") for j, p in enumerate(content)]
    if role != "user":  # only user turns may carry images
        if any(p["type"] != "text" for p in parts):
            raise _bad(f"{where}: only user messages may hold images", f"{where}.content")
        return {"role": role, "content": "".join(p["text"] for p in parts)}
    return {"role": role, "content": parts}


def _items(value: Any) -> list[JSON]:
    if isinstance(value, str):
        if not value:
            raise _bad("input must not be empty", "input")
        return [{"role": "user", "content": value}]
    if not isinstance(value, list) or not value:
        raise _bad("input must be a string or a non-empty list of items", "input")
    messages: list[JSON] = []
    for i, item in enumerate(value):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise _bad(f"{where} must be an object", where)
        kind = item.get("type", "message")
        if kind == "message":
            messages.append(_message(item, where))
        elif kind == "function_call":
            if not all(isinstance(item.get(k), str) for k in ("call_id", "name", "arguments")):
                raise _bad(f"{where} needs call_id, name and arguments strings", where)
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            }
            last = messages[-1] if messages else None
            if last and last["role"] == "assistant" and last.get("tool_calls") is not None:
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            if not isinstance(item.get("call_id"), str) or not isinstance(output, str):
                raise _bad(f"{where} needs a call_id and an output string", where)
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": output})
        elif kind not in _SKIPPED_ITEMS:
            raise _bad(f"{where}.type {kind!r} is not supported here", f"{where}.type")
    if not messages:
        raise _bad("input holds no message", "input")
    return messages


def _tools(value: Any) -> list[JSON]:
    if not isinstance(value, list):
        raise _bad("tools must be a list", "tools")
    tools = []
    for i, tool in enumerate(value):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise _bad(f"tools[{i}]: only function tools are supported", f"tools[{i}]")
        if not isinstance(tool.get("name"), str):
            raise _bad(f"tools[{i}].name must be a string", f"tools[{i}]")
        function = {
            k: tool[k] for k in ("name", "description", "parameters", "strict") if k in tool
        }
        tools.append({"type": "function", "function": function})
    return tools


def _tool_choice(value: Any) -> Any:
    if value in ("auto", "none", "required"):
        return value
    if isinstance(value, dict) and value.get("type") == "function" and value.get("name"):
        return {"type": "function", "function": {"name": value["name"]}}
    raise _bad("tool_choice must be auto, none, required or a function", "tool_choice")


def _format(text: Any) -> JSON | None:
    if text is None:
        return None
    if not isinstance(text, dict):
        raise _bad("text must be an object", "text")
    fmt = text.get("format")
    if fmt is None or (isinstance(fmt, dict) and fmt.get("type") == "text"):
        return None
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        return {"type": "json_object"}
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        if not isinstance(fmt.get("name"), str) or not isinstance(fmt.get("schema"), dict):
            raise _bad("text.format json_schema needs a name and a schema", "text.format")
        keys = ("name", "schema", "strict", "description")
        return {"type": "json_schema", "json_schema": {k: fmt[k] for k in keys if k in fmt}}
    raise _bad("text.format.type must be text, json_object or json_schema", "text.format")


def _number(body: JSON, name: str, low: float, high: float, *, integer: bool = False) -> Any:
    value = body.get(name)
    if value is None:
        return None
    types: tuple[type, ...] = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, types):
        raise _bad(f"{name} must be {'an integer' if integer else 'a number'}", name)
    if not low <= value <= high:
        raise _bad(f"{name} must be between {low:g} and {high:g}", name)
    return value


def _flag(body: JSON, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise _bad(f"{name} must be a boolean", name)
    return value


def parse_responses_request(body: JSON) -> tuple[ChatRequest, ResponsesCall]:
    """Validate a Responses body; the request's messages still lack the stored
    conversation of ``previous_response_id`` (the codec prepends it)."""
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _bad("model is required and must be a non-empty string", "model")
    if "input" not in body:
        raise _bad("input is required", "input")
    conversation = _items(body["input"])
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise _bad("instructions must be a string", "instructions")
    previous = body.get("previous_response_id")
    if previous is not None and (not isinstance(previous, str) or not previous):
        raise _bad("previous_response_id must be a response id", "previous_response_id")
    params: JSON = {}
    for name, chat_name, low, high, integer in (
        ("max_output_tokens", "max_tokens", 1, MAX_OUTPUT_TOKENS, True),
        ("temperature", "temperature", 0, 2, False),
        ("top_p", "top_p", 0, 1, False),
    ):
        value = _number(body, name, low, high, integer=integer)
        if value is not None:
            params[chat_name] = value
    if body.get("tools"):
        params["tools"] = _tools(body["tools"])
    if body.get("tool_choice") is not None:
        params["tool_choice"] = _tool_choice(body["tool_choice"])
    if "parallel_tool_calls" in body and params.get("tools"):
        params["parallel_tool_calls"] = _flag(body, "parallel_tool_calls", True)
    response_format = _format(body.get("text"))
    if response_format is not None:
        params["response_format"] = response_format
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise _bad("metadata must be an object", "metadata")
    fallback = body.get("fallback_models")
    if fallback is not None and (
        not isinstance(fallback, list) or not all(isinstance(m, str) for m in fallback)
    ):
        raise _bad("fallback_models must be a list of model ids", "fallback_models")
    call = ResponsesCall(
        response_id=new_id("resp"),
        created_at=int(time.time()),
        conversation=conversation,
        echo={
            "instructions": instructions,
            "max_output_tokens": body.get("max_output_tokens"),
            "temperature": body.get("temperature", 1.0),
            "top_p": body.get("top_p", 1.0),
            "tools": body.get("tools") or [],
            "tool_choice": body.get("tool_choice", "auto"),
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "text": {"format": (body.get("text") or {}).get("format") or {"type": "text"}},
            "metadata": metadata or {},
            "user": body.get("user"),
        },
        store=_flag(body, "store", True),
        previous_response_id=previous,
        fallback_models=fallback,
    )
    request = ChatRequest(
        model=model.strip(),
        messages=[],  # set by the codec: instructions + stored turns + this input
        params=params,
        stream=_flag(body, "stream", False),
        include_usage=True,
    )
    return request, call


def responses_usage(usage: Usage) -> JSON:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def message_item(item_id: str, text: str, status: str = "completed") -> JSON:
    content = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content if status == "completed" else [],
    }


def function_call_item(
    item_id: str, call_id: str, name: str, arguments: str, status: str = "completed"
) -> JSON:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def assistant_message(text: str, calls: list[tuple[str, str, str]]) -> JSON:
    """The answer as a chat message, for the stored conversation."""
    message: JSON = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
            for cid, name, args in calls
        ]
    return message


def response_object(
    call: ResponsesCall,
    *,
    model: str,
    status: str,
    output: list[JSON],
    usage: Usage | None,
) -> JSON:
    return {
        "id": call.response_id,
        "object": "response",
        "created_at": call.created_at,
        "status": status,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "model": model,
        "output": output,
        "previous_response_id": call.previous_response_id,
        "reasoning": {"effort": None, "summary": None},
        "store": call.store,
        "truncation": "disabled",
        "usage": responses_usage(usage) if usage is not None else None,
        **call.echo,
    }
