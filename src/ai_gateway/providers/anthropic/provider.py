"""Anthropic Messages API: POST ``{base}/v1/messages`` with ``x-api-key``."""

from __future__ import annotations

import time

from ai_gateway.providers._http import post_json
from ai_gateway.providers._openai_compat import base_url, require_key
from ai_gateway.providers._stream import open_chunk_stream
from ai_gateway.providers.anthropic.caching import add_breakpoints
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
from ai_gateway.types import JSON

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

    def _body(
        self, request: ChatRequest, target: Target, upstream: Upstream, *, stream: bool
    ) -> JSON:
        """The Messages body, with a prompt-cache breakpoint when the config or the
        client asks for one (``cache_breakpoints``, default off)."""
        body = build_body(request, target.upstream_model, stream=stream)
        if upstream.options.get("cache_breakpoints"):
            add_breakpoints(body)
        return body

    async def complete(
        self, request: ChatRequest, target: Target, upstream: Upstream
    ) -> Completion:
        headers = self._headers(upstream)
        answer, telemetry = await post_json(
            self.http,
            self._url(upstream),
            self._body(request, target, upstream, stream=False),
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
        return await open_chunk_stream(
            self.http,
            self._url(upstream),
            self._body(request, target, upstream, stream=True),
            headers=self._headers(upstream),
            request=request,
            target=target,
            upstream=upstream,
            decoder=AnthropicEventDecoder(provider=self.name),
            provider=self.name,
        )
