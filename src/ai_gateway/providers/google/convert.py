"""OpenAI chat request -> Gemini ``generateContent`` request.

Gemini names things differently: system prompts go to ``systemInstruction``, the
assistant is ``model``, content is ``parts`` (``text``, ``inlineData`` for ``data:``
URLs, ``fileData`` for links), tool calls are ``functionCall`` parts and their results
``functionResponse`` parts, which carry the function *name* rather than a call id (so the
name is looked up from the assistant message that made the call).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from typing import Any

import orjson

from ai_gateway.providers.base import ChatRequest
from ai_gateway.types import JSON

__all__ = ["GENERATION_CONFIG", "build_body", "convert_messages"]


def _stop(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


#: OpenAI param -> (``generationConfig`` field, value transform).
GENERATION_CONFIG: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "max_tokens": ("maxOutputTokens", int),
    "max_completion_tokens": ("maxOutputTokens", int),
    "temperature": ("temperature", float),
    "top_p": ("topP", float),
    "top_k": ("topK", int),
    "stop": ("stopSequences", _stop),
    "seed": ("seed", int),
    "presence_penalty": ("presencePenalty", float),
    "frequency_penalty": ("frequencyPenalty", float),
    "n": ("candidateCount", int),
}

# JSON Schema keywords Gemini's OpenAPI-subset ``parameters`` rejects with a 400.
_SCHEMA_DROP = frozenset({"$schema", "additionalProperties", "strict", "$id"})


def _schema(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _schema(v) for k, v in value.items() if k not in _SCHEMA_DROP}
    if isinstance(value, list):
        return [_schema(v) for v in value]
    return value


def _image_part(url: str) -> JSON:
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        mime = header.removeprefix("data:").split(";")[0] or "image/png"
        return {"inlineData": {"mimeType": mime, "data": data}}
    mime = mimetypes.guess_type(url.split("?")[0])[0] or "image/jpeg"
    return {"fileData": {"mimeType": mime, "fileUri": url}}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [] if isinstance(p, dict))


def _parts(content: Any) -> list[JSON]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts: list[JSON] = []
    for part in content or []:
        if part.get("type") == "text" and part.get("text"):
            parts.append({"text": part["text"]})
        elif part.get("type") == "image_url":
            image = part["image_url"]
            parts.append(_image_part(image["url"] if isinstance(image, dict) else image))
    return parts


def _function_call(call: JSON) -> JSON:
    function = call.get("function") or {}
    arguments = function.get("arguments") or "{}"
    args = orjson.loads(arguments) if isinstance(arguments, str) else arguments
    return {"functionCall": {"name": function.get("name", ""), "args": args}}


def _function_response(message: JSON, names: dict[str, str]) -> JSON:
    text = _text(message.get("content"))
    try:
        result = orjson.loads(text)
    except orjson.JSONDecodeError:
        result = text
    call_id = message.get("tool_call_id", "")
    response = result if isinstance(result, dict) else {"result": result}
    return {"functionResponse": {"name": names.get(call_id, call_id), "response": response}}


def convert_messages(messages: list[JSON]) -> tuple[JSON | None, list[JSON]]:
    """``(systemInstruction, contents)`` with same-role neighbours merged."""
    system: list[str] = []
    contents: list[JSON] = []
    names: dict[str, str] = {}
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(_text(message.get("content")))
            continue
        if role == "tool":
            gemini_role, parts = "user", [_function_response(message, names)]
        elif role == "assistant":
            calls = message.get("tool_calls") or []
            names.update(
                {c.get("id", ""): (c.get("function") or {}).get("name", "") for c in calls}
            )
            gemini_role = "model"
            parts = _parts(message.get("content")) + [_function_call(c) for c in calls]
        else:
            gemini_role, parts = "user", _parts(message.get("content"))
        if not parts:
            continue
        if contents and contents[-1]["role"] == gemini_role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": gemini_role, "parts": parts})
    instruction = {"parts": [{"text": "\n\n".join(system)}]} if system else None
    return instruction, contents


def _tool_config(choice: Any) -> JSON | None:
    if choice is None:
        return None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name", "")
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}
    mode = {"required": "ANY", "none": "NONE"}.get(str(choice), "AUTO")
    return {"functionCallingConfig": {"mode": mode}}


def _generation_config(params: JSON) -> JSON:
    config: JSON = {}
    for name, (field, transform) in GENERATION_CONFIG.items():
        if params.get(name) is not None:
            config[field] = transform(params[name])
    response_format = params.get("response_format") or {}
    if response_format.get("type") in ("json_object", "json_schema"):
        config["responseMimeType"] = "application/json"
        schema = (response_format.get("json_schema") or {}).get("schema")
        if schema:
            config["responseJsonSchema"] = schema
    return config


def build_body(request: ChatRequest) -> JSON:
    """The ``generateContent`` body for ``request`` (the model is in the URL)."""
    system, contents = convert_messages(request.messages)
    body: JSON = {"contents": contents}
    if system:
        body["systemInstruction"] = system
    params = request.params
    if params.get("tools"):
        declarations = []
        for tool in params["tools"]:
            function = tool.get("function") or {}
            declaration: JSON = {"name": function.get("name", "")}
            if function.get("description"):
                declaration["description"] = function["description"]
            if function.get("parameters"):
                declaration["parameters"] = _schema(function["parameters"])
            declarations.append(declaration)
        body["tools"] = [{"functionDeclarations": declarations}]
        tool_config = _tool_config(params.get("tool_choice"))
        if tool_config:
            body["toolConfig"] = tool_config
    config = _generation_config(params)
    if config:
        body["generationConfig"] = config
    return body
