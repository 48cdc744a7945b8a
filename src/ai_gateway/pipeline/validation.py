"""Validate an OpenAI chat request body before anything else runs.

Hand-written rather than a pydantic model: it runs on every request, it must produce the
OpenAI-style message that names the bad field, and it copies nothing it does not need to.
Every rejection is an :class:`InvalidRequest` (400) — never a 500, never an upstream call.

The rules are tables (types, ranges, roles, part types, bounds), and the request's JSON
Schema for the OpenAPI document is written from the same tables
(:func:`chat_request_schema`): the chat request is defined once, and the document cannot
drift from what the gateway accepts.
"""

from __future__ import annotations

from typing import Any, cast

from ai_gateway.errors import InvalidRequest
from ai_gateway.pipeline.shapes import check_depth, check_message_fields, check_param_shape
from ai_gateway.providers.base import ChatRequest

__all__ = [
    "MAX_MODEL_CHARS",
    "MAX_OUTPUT_TOKENS",
    "GatewayOptions",
    "chat_request_schema",
    "parse_chat_request",
]

#: Above any model's real output limit; larger values are a client bug, not a request.
MAX_OUTPUT_TOKENS = 1_000_000
_MAX_MESSAGES = 10_000
#: The usage log's ``model_requested`` column: no registry id is longer, and a longer
#: name must be refused here, before it can reach a row.
MAX_MODEL_CHARS = 128
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_PART_TYPES = frozenset({"text", "image_url", "input_audio", "file", "refusal"})

# field -> (accepted types, description for the error)
_NUMBERS = (int, float)
_PARAM_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "temperature": (_NUMBERS, "a number"),
    "top_p": (_NUMBERS, "a number"),
    "presence_penalty": (_NUMBERS, "a number"),
    "frequency_penalty": (_NUMBERS, "a number"),
    "max_tokens": ((int,), "an integer"),
    "max_completion_tokens": ((int,), "an integer"),
    "n": ((int,), "an integer"),
    "seed": ((int,), "an integer"),
    "stop": ((str, list), "a string or a list of strings"),
    "tools": ((list,), "a list"),
    "tool_choice": ((str, dict), "a string or an object"),
    "response_format": ((dict,), "an object"),
    "logit_bias": ((dict,), "an object"),
    "logprobs": ((bool,), "a boolean"),
    "top_logprobs": ((int,), "an integer"),
    "parallel_tool_calls": ((bool,), "a boolean"),
    "user": ((str,), "a string"),
    "metadata": ((dict,), "an object"),
    "reasoning_effort": ((str,), "a string"),
    "modalities": ((list,), "a list"),
    "service_tier": ((str,), "a string"),
    "store": ((bool,), "a boolean"),
    "prediction": ((dict,), "an object"),
}
_RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0, 2),
    "top_p": (0, 1),
    "presence_penalty": (-2, 2),
    "frequency_penalty": (-2, 2),
    "max_tokens": (1, MAX_OUTPUT_TOKENS),
    "max_completion_tokens": (1, MAX_OUTPUT_TOKENS),
    "n": (1, 16),
    "top_logprobs": (0, 20),
}


class GatewayOptions:
    """Fields of the body meant for the gateway, not the provider."""

    __slots__ = ("fallback_models",)

    def __init__(self, fallback_models: list[str] | None) -> None:
        self.fallback_models = fallback_models


def _bad(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param, code="invalid_value")


def _one_of(value: Any, allowed: frozenset[str]) -> bool:
    """Membership that cannot raise: an object or a list is unhashable, so it is checked
    for being a string first (``{} in frozenset()`` is a TypeError, i.e. a 500)."""
    return isinstance(value, str) and value in allowed


def _shown(value: Any) -> str:
    """A client's value echoed in an error message, bounded (it may be megabytes)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_message(index: int, message: Any) -> None:
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        raise _bad(f"{where} must be an object", where)
    role = message.get("role")
    if not _one_of(role, _ROLES):
        raise _bad(
            f"{where}.role must be one of {', '.join(sorted(_ROLES))}, not {_shown(role)}",
            f"{where}.role",
        )
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise _bad(f"{where}.tool_call_id is required for role 'tool'", f"{where}.tool_call_id")
    check_message_fields(message, where)
    content = message.get("content")
    if content is None:
        if role == "assistant" and (message.get("tool_calls") or message.get("function_call")):
            return
        raise _bad(f"{where}.content is required for role '{role}'", f"{where}.content")
    if isinstance(content, str):
        return
    if not isinstance(content, list) or not content:
        raise _bad(
            f"{where}.content must be a string or a non-empty list of parts", f"{where}.content"
        )
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not _one_of(part.get("type"), _PART_TYPES):
            raise _bad(
                f"{where}.content[{j}] must be a part with a known type "
                f"({', '.join(sorted(_PART_TYPES))})",
                f"{where}.content[{j}]",
            )
        if part["type"] == "text" and not isinstance(part.get("text"), str):
            raise _bad(f"{where}.content[{j}].text must be a string", f"{where}.content[{j}]")
        if part["type"] == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else None
            if not isinstance(url, str) or not url:
                raise _bad(
                    f"{where}.content[{j}].image_url.url must be a string", f"{where}.content[{j}]"
                )


def _check_model_name(model: Any, param: str) -> None:
    if not isinstance(model, str) or not model.strip():
        raise _bad(f"{param} must be a non-empty string", param)
    if len(model) > MAX_MODEL_CHARS:
        raise _bad(f"{param} must be at most {MAX_MODEL_CHARS} characters", param)
    if not model.isprintable():
        raise _bad(f"{param} must not contain control characters", param)


def _check_param(name: str, value: Any) -> None:
    types, described = _PARAM_TYPES[name]
    if isinstance(value, bool) and bool not in types:
        raise _bad(f"{name} must be {described}", name)
    if not isinstance(value, types):
        raise _bad(f"{name} must be {described}", name)
    if name in _RANGES:
        low, high = _RANGES[name]
        number = cast(float, value)
        if not low <= number <= high:
            raise _bad(f"{name} must be between {low:g} and {high:g}", name)
    if (
        name == "stop"
        and isinstance(value, list)
        and (len(value) > 4 or not all(isinstance(s, str) for s in value))
    ):
        raise _bad("stop must be a string or a list of at most 4 strings", name)
    if name == "tools":
        tools = cast(list[Any], value)
        for i, tool in enumerate(tools):
            if (
                not isinstance(tool, dict)
                or tool.get("type") != "function"
                or not isinstance(tool.get("function"), dict)
                or not isinstance(tool["function"].get("name"), str)
            ):
                raise _bad(
                    f"tools[{i}] must be {{'type': 'function', 'function': {{'name': ...}}}}",
                    f"tools[{i}]",
                )


def parse_chat_request(body: Any) -> tuple[ChatRequest, GatewayOptions]:
    """Check ``body`` (a decoded JSON value) and split it into the provider request and the
    gateway's own options. Unknown top-level fields are passed through untouched."""
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object", code="invalid_json")
    check_depth(body)
    model = body.get("model")
    if model is not None:
        _check_model_name(model, "model")
    messages = body.get("messages")
    if messages is None:
        raise _bad("messages is required", "messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("messages must be a non-empty list", "messages")
    if len(messages) > _MAX_MESSAGES:
        raise _bad(f"messages may hold at most {_MAX_MESSAGES} entries", "messages")
    for index, message in enumerate(messages):
        _check_message(index, message)
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _bad("stream must be a boolean", "stream")
    stream_options = body.get("stream_options")
    if stream_options is not None and (
        not isinstance(stream_options, dict)
        or not isinstance(stream_options.get("include_usage", False), bool)
    ):
        raise _bad(
            "stream_options must be an object with a boolean include_usage", "stream_options"
        )
    fallback = body.get("fallback_models")
    if fallback is not None and (
        not isinstance(fallback, list) or not all(isinstance(m, str) for m in fallback)
    ):
        raise _bad("fallback_models must be a list of model ids", "fallback_models")
    for name in fallback or ():
        _check_model_name(name, "fallback_models")
    params: dict[str, Any] = {}
    for name, value in body.items():
        if name in ("model", "messages", "stream", "stream_options", "fallback_models"):
            continue
        if value is None:
            continue
        if name in _PARAM_TYPES:
            _check_param(name, value)
            check_param_shape(name, value)
        params[name] = value
    request = ChatRequest(
        model=(model or "").strip(),
        messages=messages,
        params=params,
        stream=stream,
        include_usage=bool(stream_options and stream_options.get("include_usage")),
    )
    return request, GatewayOptions(fallback)


_JSON_TYPES: dict[type, str] = {
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
    bool: "boolean",
}


def _param_schema(name: str) -> dict[str, Any]:
    types, described = _PARAM_TYPES[name]
    names = ["number"] if types == _NUMBERS else [_JSON_TYPES[t] for t in types]
    schema: dict[str, Any] = {"type": names[0] if len(names) == 1 else names}
    schema["description"] = f"{described[0].upper()}{described[1:]}"
    if name in _RANGES:
        schema["minimum"], schema["maximum"] = _RANGES[name]
    if name == "stop":
        schema = {"anyOf": [{"type": "string"}, _STOP_LIST], "description": schema["description"]}
    if name == "tools":
        schema["items"] = _TOOL
    return schema


_STOP_LIST = {"type": "array", "items": {"type": "string"}, "maxItems": 4}
_TOOL = {
    "type": "object",
    "required": ["type", "function"],
    "properties": {
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}},
        },
    },
}
_MODEL_NAME = {"type": "string", "minLength": 1, "maxLength": MAX_MODEL_CHARS}


def chat_request_schema() -> dict[str, Any]:
    """The JSON Schema of the body :func:`parse_chat_request` accepts, from its tables.

    It states the shape; a few checks stay in code only (a ``tool`` message needs a
    ``tool_call_id``, names are printable, nesting depth and sizes in ``shapes.py``).
    """
    part = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": sorted(_PART_TYPES)}},
    }
    message = {
        "type": "object",
        "required": ["role"],
        "properties": {
            "role": {"enum": sorted(_ROLES)},
            "content": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": part, "minItems": 1},
                    {"type": "null"},
                ]
            },
            "name": {"type": "string"},
            "tool_calls": {"type": "array"},
            "tool_call_id": {"type": "string"},
        },
    }
    properties: dict[str, Any] = {
        "model": {**_MODEL_NAME, "description": "Registry id or alias; default: the config's"},
        "messages": {"type": "array", "items": message, "minItems": 1, "maxItems": _MAX_MESSAGES},
        "stream": {"type": "boolean", "default": False},
        "stream_options": {
            "type": "object",
            "properties": {"include_usage": {"type": "boolean"}},
        },
        "fallback_models": {
            "type": "array",
            "items": _MODEL_NAME,
            "description": "The gateway's own: models to try, in order, when the first fails "
            "(retryable errors)",
        },
    }
    for name in _PARAM_TYPES:
        properties[name] = {"anyOf": [_param_schema(name), {"type": "null"}]}
    return {
        "title": "ChatCompletionRequest",
        "description": "OpenAI's chat request, plus the gateway's fallback_models; other "
        "fields are passed to the provider untouched.",
        "type": "object",
        "required": ["messages"],
        "properties": properties,
        "additionalProperties": True,
    }
