"""Gemini API: POST ``{base}/v1beta/models/{model}:generateContent`` (and
``:streamGenerateContent?alt=sse``) with the key in ``x-goog-api-key``, never in the URL,
so it cannot leak into access logs."""

from __future__ import annotations

import time
from urllib.parse import quote

from ai_gateway.providers._http import open_stream, post_json, telemetry_from_headers
from ai_gateway.providers._openai_compat import base_url, require_key
from ai_gateway.providers._stream import HttpChunkStream, StreamState, prompt_chars
from ai_gateway.providers.base import (
    ChatRequest,
    ChunkStream,
    Completion,
    Provider,
    Target,
    Upstream,
)
from ai_gateway.providers.google.convert import build_body
from ai_gateway.providers.google.response import GeminiChunkDecoder, parse_response

__all__ = ["GoogleProvider"]


class GoogleProvider(Provider):
    name = "google"
    default_base_url = "https://generativelanguage.googleapis.com"

    def _url(self, upstream: Upstream, target: Target, method: str) -> str:
        model = quote(target.upstream_model.removeprefix("models/"), safe="-._")
        return f"{base_url(upstream, self.default_base_url)}/v1beta/models/{model}:{method}"

    async def complete(
        self, request: ChatRequest, target: Target, upstream: Upstream
    ) -> Completion:
        headers = {"x-goog-api-key": require_key(self.name, upstream)}
        answer, telemetry = await post_json(
            self.http,
            self._url(upstream, target, "generateContent"),
            build_body(request),
            headers=headers,
            timeouts=upstream.timeouts,
            provider=self.name,
            secret=upstream.api_key,
        )
        body, usage, finish = parse_response(
            answer, model_id=target.model_id, created=int(time.time()), provider=self.name
        )
        telemetry.generation_id = body["id"] or None
        return Completion(body=body, usage=usage, telemetry=telemetry, finish_reason=finish)

    async def stream(self, request: ChatRequest, target: Target, upstream: Upstream) -> ChunkStream:
        headers = {"x-goog-api-key": require_key(self.name, upstream)}
        response = await open_stream(
            self.http,
            self._url(upstream, target, "streamGenerateContent") + "?alt=sse",
            build_body(request),
            headers=headers,
            timeouts=upstream.timeouts,
            provider=self.name,
            secret=upstream.api_key,
        )
        state = StreamState(
            model=target.model_id, telemetry=telemetry_from_headers(response.headers)
        )
        return HttpChunkStream(
            response,
            GeminiChunkDecoder(provider=self.name),
            state,
            provider=self.name,
            include_usage=request.include_usage,
            prompt_chars=prompt_chars(request.messages),
            secret=upstream.api_key,
        )
