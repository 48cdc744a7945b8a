"""The small contract every provider adapter implements.

A provider turns one OpenAI-shaped :class:`ChatRequest` into one upstream call for one
:class:`Target` (a registry model) and returns an OpenAI-shaped answer. The pipeline never
looks inside a provider: it picks targets, calls :meth:`Provider.call` (which runs
:meth:`~Provider.complete`, :meth:`~Provider.embed` or :meth:`~Provider.transcribe` by the
request's ``kind``) or :meth:`Provider.stream`, and reads :class:`Usage` and
:class:`Telemetry` back. Every endpoint's codec builds the same :class:`ChatRequest`, so
one pipeline serves them all.

Failures leave a provider only as :class:`ProviderError`, whose ``retryable`` flag decides
whether the fallback chain moves on (timeouts, connection errors, 429, 5xx) or stops
(400, auth).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

import aiohttp

from ai_gateway.errors import InternalError
from ai_gateway.types import JSON

__all__ = [
    "AudioFile",
    "ChatRequest",
    "ChunkStream",
    "Completion",
    "Provider",
    "ProviderError",
    "Target",
    "Telemetry",
    "Timeouts",
    "Upstream",
    "Usage",
]


@dataclass(slots=True, frozen=True)
class AudioFile:
    """An uploaded audio file; ``duration_seconds`` is the gateway's own reading of it
    (what a transcription is billed by), never the caller's claim."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)
    duration_seconds: Decimal
    sha256: str


@dataclass(slots=True)
class ChatRequest:
    """A validated request in the pipeline's one internal shape.

    ``kind`` is the registry kind it needs: ``chat`` (``messages`` + OpenAI chat
    ``params``: temperature, max_tokens, stop, tools, response_format, ...), ``embedding``
    (``params["input"]``: a list of texts, ``params["dimensions"]``) or ``transcription``
    (``audio``, ``params``: language, prompt, response_format, temperature)."""

    model: str
    messages: list[JSON]
    params: JSON = field(default_factory=dict)
    stream: bool = False
    include_usage: bool = False
    kind: str = "chat"
    audio: AudioFile | None = None

    @property
    def audio_seconds(self) -> Decimal:
        return self.audio.duration_seconds if self.audio is not None else Decimal(0)


@dataclass(slots=True, frozen=True)
class Target:
    """One attempt: a registry model (``openai/gpt-4o``) and its name at the provider."""

    model_id: str
    provider: str
    upstream_model: str


@dataclass(slots=True, frozen=True)
class Timeouts:
    """Seconds. ``total`` bounds a whole non-streamed call; ``read`` is the idle gap allowed
    between bytes (so a long stream that keeps flowing is never cut by ``total``)."""

    connect: float = 5.0
    read: float = 60.0
    total: float = 120.0


@dataclass(slots=True)
class Upstream:
    """Where and how to reach a provider for one call: resolved per call from the shared
    config (cached) and the vault. ``options`` carries provider-specific settings: for the
    upstream gateway ``byok`` (provider -> key) and ``fallback_models``; for ``simulated``
    ``latency_ms``, ``word_ms``, ``jitter``, ``models`` and ``failure_rate``."""

    base_url: str
    api_key: str | None
    timeouts: Timeouts = field(default_factory=Timeouts)
    options: JSON = field(default_factory=dict)


@dataclass(slots=True)
class Usage:
    """Token counts in the OpenAI convention, whatever the provider's: ``input_tokens`` is
    the whole prompt and *includes* both ``cached_tokens`` (read from the provider's
    prompt cache, billed at the cached-input rate) and ``cache_write_tokens`` (written to
    it, billed at the cache-write rate); the two are disjoint. Adapters of providers that
    report them apart (Anthropic) add them in, so nothing is counted twice."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(slots=True)
class Telemetry:
    """What the upstream said about itself; every field is optional."""

    upstream_request_id: str | None = None
    generation_id: str | None = None
    upstream_provider: str | None = None
    upstream_cache: str | None = None
    upstream_cost: str | None = None
    routing_attempts: list[JSON] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: The upstream reported no usage and the counts are the gateway's estimate.
    usage_estimated: bool = False


@dataclass(slots=True)
class Completion:
    """A non-streamed answer: ``body`` is an OpenAI ``chat.completion`` object (an OpenAI
    embeddings ``list`` with float vectors for embeddings; ``{"text", "language",
    "segments"...}`` for transcriptions)."""

    body: JSON
    usage: Usage
    telemetry: Telemetry
    finish_reason: str | None = None


class ProviderError(InternalError):
    """An upstream failure, already classified.

    ``reason`` is one of ``timeout``, ``connection_error``, ``rate_limited``,
    ``server_error``, ``bad_request``, ``auth``, ``not_found``, ``stream_cut``.
    ``message`` never contains a key.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        retryable: bool,
        status: int | None = None,
        provider: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.retryable = retryable
        self.status = status
        self.provider = provider
        #: seconds the upstream asked us to wait (``Retry-After`` of a 429/503), if any
        self.retry_after = retry_after


class ChunkStream(ABC):
    """An open streamed answer. Iterating yields OpenAI ``chat.completion.chunk`` dicts;
    ``usage``, ``telemetry`` and ``finish_reason`` are complete once iteration ends (and
    hold what was seen so far if it was cut). ``aclose`` releases the connection and is
    safe to call twice."""

    usage: Usage
    telemetry: Telemetry
    finish_reason: str | None

    @abstractmethod
    def __aiter__(self) -> AsyncIterator[JSON]: ...

    @abstractmethod
    async def aclose(self) -> None: ...


class Provider(ABC):
    """One upstream API. Instances are created once at start-up with the shared pooled
    ``aiohttp`` session and live for the process."""

    name: ClassVar[str]
    supports_tools: ClassVar[bool] = True
    supports_vision: ClassVar[bool] = True

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    @abstractmethod
    async def complete(
        self, request: ChatRequest, target: Target, upstream: Upstream
    ) -> Completion:
        """One non-streamed call."""

    @abstractmethod
    async def stream(self, request: ChatRequest, target: Target, upstream: Upstream) -> ChunkStream:
        """Open a streamed call. Returns once the upstream accepted it (status 200 and
        headers read), so errors before the first byte raise here and can fall back."""

    async def embed(self, request: ChatRequest, target: Target, upstream: Upstream) -> Completion:
        """Embeddings of ``params["input"]``; providers without them keep this refusal."""
        raise self._unsupported("embeddings")

    async def transcribe(
        self, request: ChatRequest, target: Target, upstream: Upstream
    ) -> Completion:
        """The text of ``request.audio``; providers without it keep this refusal."""
        raise self._unsupported("audio transcriptions")

    async def call(self, request: ChatRequest, target: Target, upstream: Upstream) -> Completion:
        """One non-streamed call of the request's kind."""
        if request.kind == "embedding":
            return await self.embed(request, target, upstream)
        if request.kind == "transcription":
            return await self.transcribe(request, target, upstream)
        return await self.complete(request, target, upstream)

    def _unsupported(self, what: str) -> ProviderError:
        # Not retryable: the registry put a model on a provider that cannot serve it.
        return ProviderError(
            f"{self.name} does not serve {what}",
            reason="bad_request",
            retryable=False,
            provider=self.name,
        )
