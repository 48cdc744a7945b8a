"""Gemini API: POST ``{base}/v1beta/models/{model}:generateContent`` (and
``:streamGenerateContent?alt=sse``, ``:batchEmbedContents``) with the key in
``x-goog-api-key``, never in the URL, so it cannot leak into access logs.

``batchEmbedContents`` answers no token count; the input tokens billed are then the
gateway's estimate from the text (the same ~4 characters per token the streams use when an
upstream never reports usage), and the usage row says so in its telemetry."""

from __future__ import annotations

import time
from urllib.parse import quote

from ai_gateway.providers._http import post_json
from ai_gateway.providers._openai_compat import base_url, require_key
from ai_gateway.providers._openai_compat.embeddings import embeddings_list
from ai_gateway.providers._stream import estimate_tokens, open_chunk_stream
from ai_gateway.providers.base import (
    ChatRequest,
    ChunkStream,
    Completion,
    Provider,
    ProviderError,
    Target,
    Upstream,
    Usage,
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

    async def embed(self, request: ChatRequest, target: Target, upstream: Upstream) -> Completion:
        texts: list[str] = request.params["input"]
        name = "models/" + target.upstream_model.removeprefix("models/")
        item: dict[str, object] = {"model": name}
        if request.params.get("dimensions") is not None:
            item["outputDimensionality"] = request.params["dimensions"]
        answer, telemetry = await post_json(
            self.http,
            self._url(upstream, target, "batchEmbedContents"),
            {"requests": [{**item, "content": {"parts": [{"text": t}]}} for t in texts]},
            headers={"x-goog-api-key": require_key(self.name, upstream)},
            timeouts=upstream.timeouts,
            provider=self.name,
            secret=upstream.api_key,
        )
        embeddings = answer.get("embeddings")
        if not isinstance(embeddings, list) or len(embeddings) != len(texts):
            raise ProviderError(
                f"{self.name} answered {len(embeddings or [])} embeddings for {len(texts)} texts",
                reason="server_error",
                retryable=True,
                status=200,
                provider=self.name,
            )
        vectors = [[float(x) for x in (e.get("values") or [])] for e in embeddings]
        reported = (answer.get("usageMetadata") or {}).get("promptTokenCount")
        telemetry.usage_estimated = reported is None
        tokens = (
            int(reported) if reported is not None else sum(estimate_tokens(len(t)) for t in texts)
        )
        usage = Usage(input_tokens=tokens)
        body = embeddings_list(vectors, model_id=target.model_id, usage=usage)
        return Completion(body=body, usage=usage, telemetry=telemetry)
