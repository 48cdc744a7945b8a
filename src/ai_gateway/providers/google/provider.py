"""Gemini API: POST ``{base}/v1beta/models/{model}:generateContent`` (and
``:streamGenerateContent?alt=sse``) with the key in ``x-goog-api-key``, never in the URL,
so it cannot leak into access logs."""

from __future__ import annotations

import time
from urllib.parse import quote

from ai_gateway.providers._http import post_json
from ai_gateway.providers._openai_compat import base_url, require_key
from ai_gateway.providers._stream import open_chunk_stream
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
        return await open_chunk_stream(
            self.http,
            self._url(upstream, target, "streamGenerateContent") + "?alt=sse",
            build_body(request),
            headers={"x-goog-api-key": require_key(self.name, upstream)},
            request=request,
            target=target,
            upstream=upstream,
            decoder=GeminiChunkDecoder(provider=self.name),
            provider=self.name,
        )
