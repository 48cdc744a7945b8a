"""The OpenAPI description of ``POST /v1/chat/completions``.

The route itself is a raw ASGI handler outside FastAPI (for speed), so its schemas are
merged into the document here: the request's from the validation rules
(``pipeline/validation.py``, the one definition of the chat request), the answer's and the
error's from the pydantic models below.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from ai_gateway.api.endpoints.schema import describe_codec_routes
from ai_gateway.pipeline.validation import chat_request_schema

__all__ = ["ChatCompletionResponse", "describe_chat_route"]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: dict[str, int] | None = None


class Choice(BaseModel):
    index: int
    message: dict[str, Any]
    finish_reason: str | None


class ChatCompletionResponse(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: Usage | None = None


class ErrorDetail(BaseModel):
    message: str
    type: str
    code: str | None = None
    param: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


_ERRORS = {
    "400": "Malformed or invalid request",
    "401": "Missing or invalid API key",
    "402": "Budget exhausted",
    "403": "Client paused, or an admin key",
    "404": "Unknown or inactive model",
    "413": "Body too large",
    "502": "Every provider in the fallback chain failed",
    "504": "Every provider timed out",
}


def describe_chat_route(schema: dict[str, Any]) -> None:
    """Add ``POST /v1/chat/completions`` and its schemas to the OpenAPI ``schema``."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    # The request's schema comes from the validation rules themselves.
    components["ChatCompletionRequest"] = chat_request_schema()
    for model in (ChatCompletionResponse, ErrorBody):
        definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(definition.pop("$defs", {}))
        components[model.__name__] = definition

    def ref(name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}"}

    responses: dict[str, Any] = {
        "200": {
            "description": "A chat completion, or a text/event-stream of chunks",
            "content": {
                "application/json": {"schema": ref("ChatCompletionResponse")},
                "text/event-stream": {"schema": {"type": "string"}},
            },
        },
    }
    for status, text in _ERRORS.items():
        responses[status] = {
            "description": text,
            "content": {"application/json": {"schema": ref("ErrorBody")}},
        }
    schema["paths"]["/v1/chat/completions"] = {
        "post": {
            "tags": ["openai"],
            "summary": "Chat completion (OpenAI wire format)",
            "operationId": "chat_completions",
            "parameters": [
                {
                    "name": "X-Conversation-Id",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                },
                {
                    "name": "Cache-Control",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                },
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("ChatCompletionRequest")}},
            },
            "responses": responses,
            "security": [{"bearer": []}],
        }
    }
    describe_codec_routes(schema)
    schema["components"].setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
    }
