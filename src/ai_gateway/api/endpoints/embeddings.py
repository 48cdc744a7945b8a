"""``POST /v1/embeddings`` in OpenAI's wire format.

``input`` is a string or a list of strings (token-id arrays are refused: not every
provider takes them); ``dimensions`` and ``encoding_format`` (``float`` or ``base64``, the
little-endian float32 bytes the OpenAI SDKs decode). Vectors travel the pipeline — and
the cache, exact per tenant — as floats; base64 is rendered here, so one cached answer
serves both encodings.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

import orjson

from ai_gateway.api.endpoints.base import CallContext, Codec, Parsed, Rendered, decode_json
from ai_gateway.errors import InvalidRequest
from ai_gateway.pipeline.outcome import CallResult
from ai_gateway.pipeline.validation import GatewayOptions
from ai_gateway.providers.base import ChatRequest

__all__ = ["MAX_INPUTS", "EmbeddingsCodec", "parse_embeddings_request"]

#: OpenAI's limit on inputs per request.
MAX_INPUTS = 2048
_MAX_DIMENSIONS = 8192
_KNOWN = frozenset({"model", "input", "dimensions", "encoding_format", "user", "fallback_models"})


def _bad(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param, code="invalid_value")


def _inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise _bad("input must be a string or a non-empty list of strings", "input")
    if len(value) > MAX_INPUTS:
        raise _bad(f"input may hold at most {MAX_INPUTS} strings", "input")
    for i, text in enumerate(value):
        if not isinstance(text, str):
            raise _bad(
                f"input[{i}] must be a string (token arrays are not supported)", f"input[{i}]"
            )
        if not text:
            raise _bad(f"input[{i}] must not be empty", f"input[{i}]")
    return value


def parse_embeddings_request(body: dict[str, Any]) -> tuple[ChatRequest, str, GatewayOptions]:
    """``(request, encoding_format, options)`` from a decoded body."""
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _bad("model is required and must be a non-empty string", "model")
    if "input" not in body:
        raise _bad("input is required", "input")
    texts = _inputs(body["input"])
    params: dict[str, Any] = {"input": texts}
    dimensions = body.get("dimensions")
    if dimensions is not None:
        if isinstance(dimensions, bool) or not isinstance(dimensions, int):
            raise _bad("dimensions must be an integer", "dimensions")
        if not 1 <= dimensions <= _MAX_DIMENSIONS:
            raise _bad(f"dimensions must be between 1 and {_MAX_DIMENSIONS}", "dimensions")
        params["dimensions"] = dimensions
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise _bad("encoding_format must be 'float' or 'base64'", "encoding_format")
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise _bad("user must be a string", "user")
    unknown = sorted(set(body) - _KNOWN)
    if unknown:
        raise _bad(f"unknown field(s): {', '.join(unknown)}", unknown[0])
    fallback = body.get("fallback_models")
    if fallback is not None and (
        not isinstance(fallback, list) or not all(isinstance(m, str) for m in fallback)
    ):
        raise _bad("fallback_models must be a list of model ids", "fallback_models")
    request = ChatRequest(model=model.strip(), messages=[], params=params, kind="embedding")
    return request, encoding, GatewayOptions(fallback)


def _base64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


class EmbeddingsCodec(Codec):
    path = "/v1/embeddings"
    endpoint = "embeddings"

    async def parse(self, ctx: CallContext, body: bytes) -> Parsed:
        request, encoding, options = parse_embeddings_request(decode_json(body))
        return Parsed(request, options, state=encoding)

    async def render(self, ctx: CallContext, parsed: Parsed, result: CallResult) -> Rendered:
        body = result.body
        data = body.get("data") or []
        if parsed.state == "base64":
            data = [{**item, "embedding": _base64(item["embedding"])} for item in data]
        answer = {
            "object": "list",
            "data": data,
            "model": result.model,
            "usage": {
                "prompt_tokens": result.usage.input_tokens,
                "total_tokens": result.usage.input_tokens,
            },
        }
        return Rendered(orjson.dumps(answer))
