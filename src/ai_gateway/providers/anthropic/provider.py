"""Anthropic Messages API: POST ``{base}/v1/messages`` with ``x-api-key``."""

from __future__ import annotations

import time

from ai_gateway.providers._http import open_stream, post_json, telemetry_from_headers
from ai_gateway.providers._openai_compat import base_url, require_key
from ai_gateway.providers._stream import HttpChunkStream, StreamState, prompt_chars
from ai_gateway.providers.anthropic.convert import build_body
from ai_gateway.providers.anthropic.response import AnthropicEventDecoder, parse_message
from ai_gateway.providers.base import (
    ChatRequest,
    ChunkStream,
    Completion,
    Provider,
    Target,
    Upstream,
)

__all__ = ["ANTHROPIC_VERSION", "AnthropicProvider"]

ANTHROPIC_VERSION = "2023-06-01"


class AnthropicProvider(Provider):
    name = "anthropic"
    default_base_url = "https://api.anthropic.com"

    def _headers(self, upstream: Upstream) -> dict[str, str]:
        return {
            "x-api-key": require_key(self.name, upstream),
            "anthropic-version": ANTHROPIC_VERSION,
        }

    def _url(self, upstream: Upstream) -> str:
        return base_url(upstream, self.default_base_url) + "/v1/messages"

    async def complete(
        self, request: ChatRequest, target: Target, upstream: Upstream
    ) -> Completion:
        headers = self._headers(upstream)
        answer, telemetry = await post_json(
            self.http,
            self._url(upstream),
            build_body(request, target.upstream_model, stream=False),
            headers=headers,
            timeouts=upstream.timeouts,
            provider=self.name,
            secret=upstream.api_key,
        )
        body, usage, finish = parse_message(
            answer, model_id=target.model_id, created=int(time.time())
        )
        telemetry.generation_id = body["id"] or None
        return Completion(body=body, usage=usage, telemetry=telemetry, finish_reason=finish)

    async def stream(self, request: ChatRequest, target: Target, upstream: Upstream) -> ChunkStream:
        headers = self._headers(upstream)
        response = await open_stream(
            self.http,
            self._url(upstream),
            build_body(request, target.upstream_model, stream=True),
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
            AnthropicEventDecoder(provider=self.name),
            state,
            provider=self.name,
            include_usage=request.include_usage,
            prompt_chars=prompt_chars(request.messages),
            secret=upstream.api_key,
        )
