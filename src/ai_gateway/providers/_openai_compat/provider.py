"""The base of every OpenAI-compatible adapter: POST ``{base}/chat/completions``,
``{base}/embeddings`` and ``{base}/audio/transcriptions`` (multipart).

A subclass sets ``name`` and ``default_base_url`` and, when it must, overrides a hook:
``unsupported_params`` (declarative: dropped from the body), :meth:`model_name`,
:meth:`extra_body` and :meth:`read_body_telemetry`.
"""

from __future__ import annotations

from typing import ClassVar

from ai_gateway.providers._http import post_form, post_json
from ai_gateway.providers._openai_compat.embeddings import (
    embeddings_body,
    parse_embeddings,
    transcription_form,
)
from ai_gateway.providers._openai_compat.wire import (
    OpenAIChunkDecoder,
    build_body,
    parse_completion,
)
from ai_gateway.providers._stream import open_chunk_stream
from ai_gateway.providers.base import (
    ChatRequest,
    ChunkStream,
    Completion,
    Provider,
    ProviderError,
    Target,
    Telemetry,
    Upstream,
    Usage,
)
from ai_gateway.types import JSON

__all__ = ["OpenAICompatProvider", "base_url", "require_key"]


def require_key(provider: str, upstream: Upstream) -> str:
    """The key, or an error that says how to set it (not retryable: no key is no key)."""
    if not upstream.api_key:
        raise ProviderError(
            f"no API key configured for {provider}; set it with "
            f"`ai-gateway secrets set {provider}`",
            reason="auth",
            retryable=False,
            provider=provider,
        )
    return upstream.api_key


def base_url(upstream: Upstream, default: str) -> str:
    return (upstream.base_url or default).rstrip("/")


class OpenAICompatProvider(Provider):
    default_base_url: ClassVar[str]
    #: Params the upstream rejects with a 400; dropped rather than failing the call.
    unsupported_params: ClassVar[frozenset[str]] = frozenset()

    def model_name(self, target: Target) -> str:
        """The ``model`` sent upstream."""
        return target.upstream_model

    def extra_body(self, upstream: Upstream) -> JSON:
        """Fields added to every body (the upstream gateway's ``providerOptions``)."""
        return {}

    def read_body_telemetry(self, body: JSON, telemetry: Telemetry) -> None:
        """Telemetry carried in the answer body or in a stream chunk (none by default)."""

    def _request(
        self, request: ChatRequest, target: Target, upstream: Upstream, *, stream: bool
    ) -> tuple[str, JSON, dict[str, str]]:
        key = require_key(self.name, upstream)
        body = build_body(
            request, self.model_name(target), stream=stream, drop=self.unsupported_params
        )
        body.update(self.extra_body(upstream))
        url = base_url(upstream, self.default_base_url) + "/chat/completions"
        return url, body, {"authorization": f"Bearer {key}"}

    async def complete(
        self, request: ChatRequest, target: Target, upstream: Upstream
    ) -> Completion:
        url, body, headers = self._request(request, target, upstream, stream=False)
        answer, telemetry = await post_json(
            self.http,
            url,
            body,
            headers=headers,
            timeouts=upstream.timeouts,
            provider=self.name,
            secret=upstream.api_key,
        )
        completion = parse_completion(
            answer, telemetry, model_id=target.model_id, provider=self.name
        )
        self.read_body_telemetry(answer, telemetry)
        return completion

    async def stream(self, request: ChatRequest, target: Target, upstream: Upstream) -> ChunkStream:
        url, body, headers = self._request(request, target, upstream, stream=True)
        return await open_chunk_stream(
            self.http,
            url,
            body,
            headers=headers,
            request=request,
            target=target,
            upstream=upstream,
            decoder=OpenAIChunkDecoder(provider=self.name, on_body=self.read_body_telemetry),
            provider=self.name,
        )

    async def embed(self, request: ChatRequest, target: Target, upstream: Upstream) -> Completion:
        key = require_key(self.name, upstream)
        body = embeddings_body(request, self.model_name(target))
        body.update(self.extra_body(upstream))
        answer, telemetry = await post_json(
            self.http,
            base_url(upstream, self.default_base_url) + "/embeddings",
            body,
            headers={"authorization": f"Bearer {key}"},
            timeouts=upstream.timeouts,
            provider=self.name,
            secret=upstream.api_key,
        )
        return parse_embeddings(
            answer,
            telemetry,
            model_id=target.model_id,
            provider=self.name,
            expected=len(request.params["input"]),
        )

    async def transcribe(
        self, request: ChatRequest, target: Target, upstream: Upstream
    ) -> Completion:
        key = require_key(self.name, upstream)
        answer, telemetry = await post_form(
            self.http,
            base_url(upstream, self.default_base_url) + "/audio/transcriptions",
            transcription_form(request, self.model_name(target)),
            headers={"authorization": f"Bearer {key}"},
            timeouts=upstream.timeouts,
            provider=self.name,
            secret=upstream.api_key,
        )
        if not isinstance(answer.get("text"), str):
            raise ProviderError(
                f"{self.name} answered a transcription without text",
                reason="server_error",
                retryable=True,
                status=200,
                provider=self.name,
            )
        usage_data = answer.get("usage")
        usage = Usage()
        if isinstance(usage_data, dict) and usage_data.get("type") == "tokens":
            usage = Usage(
                input_tokens=int(usage_data.get("input_tokens") or 0),
                output_tokens=int(usage_data.get("output_tokens") or 0),
            )
        return Completion(body=answer, usage=usage, telemetry=telemetry)
