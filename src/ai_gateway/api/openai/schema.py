"""The OpenAPI description of ``POST /v1/chat/completions``.

The route itself is a raw ASGI handler outside FastAPI (for speed), so its request and
response schemas are declared here as pydantic models and merged into the document.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from ai_gateway.api.endpoints.schema import describe_codec_routes

__all__ = ["ChatCompletionRequest", "ChatCompletionResponse", "describe_chat_route"]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat request, plus the gateway's ``fallback_models``."""

    model_config = ConfigDict(extra="allow")
    model: str | None = Field(None, description="Registry id or alias; default: the config's")
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    seed: int | None = None
    fallback_models: list[str] | None = Field(
        None, description="Models to try, in order, when the first fails (retryable errors)"
    )


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


def describe_chat_route(api: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        schema = get_openapi(title=api.title, version=api.version, routes=api.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ChatCompletionRequest, ChatCompletionResponse, ErrorBody):
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
        api.openapi_schema = schema
        return schema

    api.openapi = openapi  # type: ignore[method-assign]
