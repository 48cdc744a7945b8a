"""The OpenAI embeddings and audio-transcriptions wire formats (OpenAI, Groq, the upstream
gateway): request bodies and answers, normalised to the gateway's internal shapes.

Embeddings always go upstream as ``encoding_format: float``; the endpoint's codec renders
base64 when the caller asked for it, so every provider (Gemini has no base64) and the
cache hold one shape.
"""

from __future__ import annotations

import aiohttp

from ai_gateway.providers.base import ChatRequest, Completion, ProviderError, Telemetry, Usage
from ai_gateway.types import JSON

__all__ = ["embeddings_body", "embeddings_list", "parse_embeddings", "transcription_form"]


def embeddings_body(request: ChatRequest, model: str) -> JSON:
    body: JSON = {"model": model, "input": request.params["input"], "encoding_format": "float"}
    if request.params.get("dimensions") is not None:
        body["dimensions"] = request.params["dimensions"]
    if request.params.get("user"):
        body["user"] = request.params["user"]
    return body


def embeddings_list(vectors: list[list[float]], *, model_id: str, usage: Usage) -> JSON:
    """The OpenAI ``list`` of embeddings, the internal answer of every provider."""
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": vector}
            for i, vector in enumerate(vectors)
        ],
        "model": model_id,
        "usage": {"prompt_tokens": usage.input_tokens, "total_tokens": usage.input_tokens},
    }


def _bad_answer(provider: str, what: str) -> ProviderError:
    return ProviderError(
        f"{provider} answered {what}",
        reason="server_error",
        retryable=True,
        status=200,
        provider=provider,
    )


def parse_embeddings(
    body: JSON, telemetry: Telemetry, *, model_id: str, provider: str, expected: int
) -> Completion:
    data = body.get("data")
    if not isinstance(data, list) or len(data) != expected:
        raise _bad_answer(provider, f"{len(data) if isinstance(data, list) else 'no'} embeddings")
    ordered = sorted(data, key=lambda item: int(item.get("index", 0)))
    vectors: list[list[float]] = []
    for item in ordered:
        vector = item.get("embedding")
        if not isinstance(vector, list):
            raise _bad_answer(provider, "an embedding that is not a list of floats")
        vectors.append([float(x) for x in vector])
    usage_data = body.get("usage") or {}
    usage = Usage(input_tokens=int(usage_data.get("prompt_tokens") or 0))
    return Completion(
        body=embeddings_list(vectors, model_id=model_id, usage=usage),
        usage=usage,
        telemetry=telemetry,
    )


def transcription_form(request: ChatRequest, model: str) -> aiohttp.FormData:
    """The multipart form of ``POST /audio/transcriptions``. ``json`` is asked for unless
    the caller wants segments (``verbose_json``); the codec renders text itself."""
    audio = request.audio
    assert audio is not None
    form = aiohttp.FormData()
    form.add_field("file", audio.data, filename=audio.filename, content_type=audio.content_type)
    form.add_field("model", model)
    verbose = request.params.get("response_format") == "verbose_json"
    form.add_field("response_format", "verbose_json" if verbose else "json")
    for name in ("language", "prompt", "temperature"):
        value = request.params.get(name)
        if value is not None:
            form.add_field(name, str(value))
    return form
