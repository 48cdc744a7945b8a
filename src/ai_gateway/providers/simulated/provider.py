"""A provider with no network, for demos, tests and load tests.

The answer is a function of the messages and the model: the same request always gets
the same text, and token counts come from text length (~4 characters per token), so a
demo's costs and a benchmark's numbers are reproducible. ``Upstream.options``:

* ``latency_ms``, ``word_ms``, ``jitter``, ``models`` (all optional): how long an answer
  takes, time to first token plus a time per word, per model if wished
  (:mod:`.latency`); none set, the answer is immediate;
* ``failure_rate`` (0..1, default 0): share of calls that fail with a retryable
  ``server_error``, drawn from a generator seeded by the request and a per-instance call
  counter, so a fresh instance fails the same calls every run;
* ``prompt_cache`` (default true): report prompt-prefix cache reads like OpenAI
  (:mod:`.prefix_cache`): a prompt of 1024 tokens or more that starts with the messages
  of a recent call has that part as ``cached_tokens``.

Embeddings are unit vectors drawn from a generator seeded by the model and the text (256
dimensions unless ``dimensions`` says otherwise); a transcription is words drawn from the
file's digest, about two per second of audio, so both are the same on every run too.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson

from ai_gateway.providers._openai_compat.embeddings import embeddings_list
from ai_gateway.providers._stream import estimate_tokens, make_chunk, prompt_chars, usage_chunk
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
from ai_gateway.providers.simulated.embedding import simulated_vector
from ai_gateway.providers.simulated.latency import Timing, timing_for
from ai_gateway.providers.simulated.prefix_cache import PrefixCache
from ai_gateway.types import JSON

__all__ = ["DEFAULT_DIMENSIONS", "SimulatedProvider", "simulated_answer", "simulated_vector"]

#: The length of a simulated embedding when the caller sets no ``dimensions``.
DEFAULT_DIMENSIONS = 256


_WORDS = [
    "the",
    "gateway",
    "answers",
    "every",
    "client",
    "with",
    "one",
    "shared",
    "set",
    "of",
    "keys",
    "while",
    "budgets",
    "cache",
    "and",
    "fallbacks",
    "keep",
    "each",
    "call",
    "fast",
    "cheap",
    "and",
    "measured",
    "so",
    "operators",
    "sleep",
    "well",
    "and",
    "bots",
    "reply",
    "in",
    "time",
    "sempre",
    "com",
    "custo",
    "exato",
    "em",
    "reais",
    "e",
    "dolares",
]


def _digest(request: ChatRequest, target: Target) -> bytes:
    parts: list[Any] = [target.model_id, request.messages]
    if request.kind != "chat":  # chat digests stay what they always were
        parts += [request.params.get("input"), request.audio.sha256 if request.audio else None]
    return hashlib.sha256(orjson.dumps(parts)).digest()


def simulated_answer(request: ChatRequest, target: Target) -> tuple[list[str], str]:
    """``(words, finish_reason)``: 8 to 40 words chosen by the request's hash, cut to
    ``max_tokens`` (then ``length``) when the caller set one."""
    digest = _digest(request, target)
    rng = random.Random(digest)
    words = [rng.choice(_WORDS) for _ in range(8 + digest[0] % 33)]
    words[0] = words[0].capitalize()
    words[-1] += "."
    limit = request.params.get("max_completion_tokens") or request.params.get("max_tokens")
    if limit and estimate_tokens(len(" ".join(words))) > int(limit):
        while len(words) > 1 and estimate_tokens(len(" ".join(words))) > int(limit):
            words.pop()
        return words, "length"
    return words, "stop"


class SimulatedProvider(Provider):
    name = "simulated"
    supports_vision = False
    supports_tools = False

    def __init__(self, http: Any) -> None:
        super().__init__(http)
        self._calls = 0
        self.prefix_cache = PrefixCache()

    async def _prepare(
        self, request: ChatRequest, target: Target, upstream: Upstream, *, stream: bool = False
    ) -> tuple[list[str], str, Usage, Telemetry, Timing]:
        self._calls += 1
        digest = _digest(request, target)
        # A probability in [0, 1] (how often the simulated upstream fails), not money.
        failure_probability = float(upstream.options.get("failure_rate") or 0.0)
        timing = timing_for(upstream.options, target.model_id, digest, stream=stream)
        if timing.first_token > 0:
            await asyncio.sleep(timing.first_token)
        if (
            failure_probability > 0
            and random.Random(digest + self._calls.to_bytes(8, "big")).random()
            < failure_probability
        ):
            raise ProviderError(
                "simulated upstream failure",
                reason="server_error",
                retryable=True,
                status=500,
                provider=self.name,
            )
        words, finish = simulated_answer(request, target)
        input_tokens = max(1, estimate_tokens(prompt_chars(request.messages)))
        cached = 0
        if upstream.options.get("prompt_cache", True):
            cached = self.prefix_cache.cached_tokens(target.model_id, request.messages)
        usage = Usage(
            input_tokens=input_tokens,
            output_tokens=estimate_tokens(len(" ".join(words))),
            cached_tokens=min(cached, input_tokens),
        )
        telemetry = Telemetry(
            upstream_request_id=f"sim-req-{digest.hex()[:16]}",
            generation_id=f"sim-{digest.hex()[:24]}",
            upstream_provider=self.name,
        )
        return words, finish, usage, telemetry, timing

    async def complete(
        self, request: ChatRequest, target: Target, upstream: Upstream
    ) -> Completion:
        words, finish, usage, telemetry, timing = await self._prepare(request, target, upstream)
        if timing.per_word > 0:  # the whole answer is generated before it is sent
            await asyncio.sleep(timing.total(len(words)) - timing.first_token)
        body = {
            "id": telemetry.generation_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": target.model_id,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": " ".join(words)},
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": usage.input_tokens,
                "completion_tokens": usage.output_tokens,
                "total_tokens": usage.input_tokens + usage.output_tokens,
                "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
            },
        }
        return Completion(body=body, usage=usage, telemetry=telemetry, finish_reason=finish)

    async def embed(self, request: ChatRequest, target: Target, upstream: Upstream) -> Completion:
        await self._prepare(request, target, upstream)
        texts: list[str] = request.params["input"]
        dimensions = int(request.params.get("dimensions") or DEFAULT_DIMENSIONS)
        usage = Usage(input_tokens=sum(max(1, estimate_tokens(len(t))) for t in texts))
        body = embeddings_list(
            [simulated_vector(target.model_id, t, dimensions) for t in texts],
            model_id=target.model_id,
            usage=usage,
        )
        return Completion(body=body, usage=usage, telemetry=self._telemetry(request, target))

    async def transcribe(
        self, request: ChatRequest, target: Target, upstream: Upstream
    ) -> Completion:
        await self._prepare(request, target, upstream)
        assert request.audio is not None
        seconds = float(request.audio.duration_seconds)
        rng = random.Random(request.audio.sha256)
        words = [rng.choice(_WORDS) for _ in range(max(1, round(seconds * 2)))]
        words[0] = words[0].capitalize()
        text = " ".join(words) + "."
        language = request.params.get("language") or "pt"
        body: JSON = {
            "text": text,
            "language": language,
            "duration": seconds,
            "segments": [{"id": 0, "start": 0.0, "end": seconds, "text": text}],
        }
        return Completion(body=body, usage=Usage(), telemetry=self._telemetry(request, target))

    def _telemetry(self, request: ChatRequest, target: Target) -> Telemetry:
        digest = _digest(request, target).hex()
        return Telemetry(
            upstream_request_id=f"sim-req-{digest[:16]}",
            generation_id=f"sim-{digest[:24]}",
            upstream_provider=self.name,
        )

    async def stream(self, request: ChatRequest, target: Target, upstream: Upstream) -> ChunkStream:
        words, finish, usage, telemetry, timing = await self._prepare(
            request, target, upstream, stream=True
        )
        return _SimulatedStream(
            words,
            finish,
            usage,
            telemetry,
            model=target.model_id,
            include_usage=request.include_usage,
            delay=timing.per_word,
        )


class _SimulatedStream(ChunkStream):
    """Word by word, one every ``delay`` seconds; usage is final from the start since it is
    known up front."""

    def __init__(
        self,
        words: list[str],
        finish: str,
        usage: Usage,
        telemetry: Telemetry,
        *,
        model: str,
        include_usage: bool,
        delay: float,
    ) -> None:
        self._words = words
        self._finish = finish
        self._model = model
        self._include_usage = include_usage
        self._delay = delay
        self._closed = False
        self.usage = usage
        self.telemetry = telemetry
        self.finish_reason = None

    def __aiter__(self) -> AsyncIterator[JSON]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[JSON]:
        chunk_id, created = self.telemetry.generation_id or "", int(time.time())
        yield make_chunk(chunk_id, self._model, created, {"role": "assistant", "content": ""})
        for i, word in enumerate(self._words):
            if self._closed:
                return
            if self._delay and i:  # the first word comes with the first token
                await asyncio.sleep(self._delay)
            text = word if i == 0 else " " + word
            yield make_chunk(chunk_id, self._model, created, {"content": text})
        self.finish_reason = self._finish
        yield make_chunk(chunk_id, self._model, created, {}, self._finish)
        if self._include_usage:
            yield usage_chunk(chunk_id, self._model, created, self.usage)

    async def aclose(self) -> None:
        self._closed = True
