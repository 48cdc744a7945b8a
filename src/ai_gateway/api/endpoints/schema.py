"""OpenAPI entries for the codec routes (raw ASGI handlers, outside FastAPI's routing).

Each names its wire format and its error shape; the bodies are the providers' own
formats, documented by them, so the request schemas here are open objects.
"""

from __future__ import annotations

from typing import Any

__all__ = ["describe_codec_routes"]

# path -> (operation id, summary, request media type, error schema)
_ROUTES: dict[str, tuple[str, str, str, str]] = {
    "/v1/embeddings": (
        "embeddings",
        "Embeddings (OpenAI wire format; float or base64)",
        "application/json",
        "ErrorBody",
    ),
    "/v1/messages": (
        "messages",
        "Messages (Anthropic wire format; x-api-key or Bearer; Anthropic errors)",
        "application/json",
        "AnthropicErrorBody",
    ),
    "/v1/responses": (
        "responses",
        "Responses (OpenAI Responses API; store and previous_response_id)",
        "application/json",
        "ErrorBody",
    ),
    "/v1/audio/transcriptions": (
        "audio_transcriptions",
        "Audio transcription (OpenAI multipart format; billed per minute of audio)",
        "multipart/form-data",
        "ErrorBody",
    ),
}
_STATUSES = {
    "400": "Malformed or invalid request",
    "401": "Missing or invalid API key",
    "402": "Budget exhausted",
    "403": "Client paused, or an admin key",
    "404": "Unknown or inactive model, or unknown stored response",
    "413": "Body too large",
    "502": "Every provider in the fallback chain failed",
    "504": "Every provider timed out",
}


def describe_codec_routes(schema: dict[str, Any]) -> None:
    """Add the codec routes (and Anthropic's error shape) to ``schema`` in place."""
    schema["components"]["schemas"]["AnthropicErrorBody"] = {
        "type": "object",
        "properties": {
            "type": {"const": "error"},
            "error": {
                "type": "object",
                "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
                "required": ["type", "message"],
            },
        },
        "required": ["type", "error"],
    }
    for path, (operation_id, summary, media, error) in _ROUTES.items():
        errors = {
            status: {
                "description": text,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{error}"}}
                },
            }
            for status, text in _STATUSES.items()
        }
        schema["paths"][path] = {
            "post": {
                "tags": ["openai"],
                "summary": summary,
                "operationId": operation_id,
                "requestBody": {
                    "required": True,
                    "content": {media: {"schema": {"type": "object"}}},
                },
                "responses": {
                    "200": {
                        "description": "The answer, or a text/event-stream of events",
                        "content": {
                            "application/json": {"schema": {"type": "object"}},
                            "text/event-stream": {"schema": {"type": "string"}},
                        },
                    },
                    **errors,
                },
                "security": [{"bearer": []}],
            }
        }
