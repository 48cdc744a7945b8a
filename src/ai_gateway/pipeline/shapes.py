"""Shape checks of the chat request fields the provider adapters read into.

The adapters (Anthropic, Gemini, the cache key) walk tool calls, tool definitions,
``tool_choice`` and ``response_format`` with ``.get`` and ``orjson``; a list where an
object belongs, a number where a name belongs or JSON nested a thousand levels deep would
raise ``AttributeError``/``TypeError``/``RecursionError`` there, i.e. a 500 after the
budget was reserved. These checks refuse such bodies first, as a 400 naming the field.
"""

from __future__ import annotations

from typing import Any

import orjson

from ai_gateway.errors import InvalidRequest

__all__ = ["MAX_DEPTH", "check_depth", "check_message_fields", "check_param_shape"]

#: Deeper JSON is refused: ``orjson.dumps`` stops at 254 levels and the schema walk of the
#: Gemini adapter recurses, so depth must be bounded long before either.
MAX_DEPTH = 64


def _bad(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param, code="invalid_value")


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit``; walks containers only (strings are leaves),
    so a normal body costs a few dozen steps."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise InvalidRequest(
                f"the body is nested deeper than {limit} levels", code="invalid_value"
            )
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))


def _optional_str(owner: dict[str, Any], key: str, where: str) -> None:
    if key in owner and owner[key] is not None and not isinstance(owner[key], str):
        raise _bad(f"{where}.{key} must be a string", f"{where}.{key}")


def _function_call(call: Any, where: str) -> None:
    """``{"name": str, "arguments": "<JSON text>"}``: the adapters parse the arguments."""
    if not isinstance(call, dict):
        raise _bad(f"{where} must be an object", where)
    _optional_str(call, "name", where)
    arguments = call.get("arguments")
    if arguments is None:
        return
    if not isinstance(arguments, str):
        raise _bad(f"{where}.arguments must be a string of JSON", f"{where}.arguments")
    try:
        orjson.loads(arguments)
    except orjson.JSONDecodeError:
        raise _bad(f"{where}.arguments must be valid JSON", f"{where}.arguments") from None


def check_message_fields(message: dict[str, Any], where: str) -> None:
    """The optional fields of one message, beside ``role`` and ``content``."""
    _optional_str(message, "name", where)
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        if not isinstance(tool_calls, list):
            raise _bad(f"{where}.tool_calls must be a list", f"{where}.tool_calls")
        for i, call in enumerate(tool_calls):
            place = f"{where}.tool_calls[{i}]"
            if not isinstance(call, dict):
                raise _bad(f"{place} must be an object", place)
            _optional_str(call, "id", place)
            _optional_str(call, "type", place)
            _function_call(call.get("function") or {}, f"{place}.function")
    if message.get("function_call") is not None:
        _function_call(message["function_call"], f"{where}.function_call")
    content = message.get("content")
    if isinstance(content, list):
        for j, part in enumerate(content):
            if not isinstance(part, dict):
                continue  # refused by the caller's part check
            # Every adapter joins the ``text`` of parts of any type.
            _optional_str(part, "text", f"{where}.content[{j}]")
            _optional_str(part, "refusal", f"{where}.content[{j}]")


def _function_definition(tool: dict[str, Any], where: str) -> None:
    function = tool["function"]
    _optional_str(function, "description", f"{where}.function")
    parameters = function.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise _bad(f"{where}.function.parameters must be an object", f"{where}.function")


def check_param_shape(name: str, value: Any) -> None:
    """Inner shapes of ``tools``, ``tool_choice`` and ``response_format``."""
    if name == "tools":
        for i, tool in enumerate(value):
            _function_definition(tool, f"tools[{i}]")
    elif name == "tool_choice" and isinstance(value, dict):
        function = value.get("function")
        if function is not None and (
            not isinstance(function, dict) or not isinstance(function.get("name"), str)
        ):
            raise _bad("tool_choice.function must be {'name': ...}", "tool_choice")
    elif name == "response_format":
        _optional_str(value, "type", "response_format")
        schema = value.get("json_schema")
        if schema is not None and not isinstance(schema, dict):
            raise _bad("response_format.json_schema must be an object", "response_format")
