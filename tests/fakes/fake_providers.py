"""Fake upstreams on loopback that speak each provider's real wire format.

One ``aiohttp.web`` server mounts every provider under its own prefix, so real adapters
(and the whole gateway) can point their base URLs at it::

    openai    {url}/openai/v1            POST /chat/completions, /embeddings,
                                              /audio/transcriptions (multipart)
    groq      {url}/groq/openai/v1       POST /chat/completions, /audio/transcriptions
    gateway   {url}/gateway/v1           POST /chat/completions, /embeddings  (Vercel)
    anthropic {url}/anthropic            POST /v1/messages
    google    {url}/google               POST /v1beta/models/{model}:generateContent
                                              and :streamGenerateContent?alt=sse
                                              and :batchEmbedContents

Embeddings are ``[len(text), index, 0.25]`` padded with zeros to ``dimensions``; a
transcript is ``Fake <provider> transcript of <filename> (<bytes> bytes)``, with a
``duration`` (and OpenAI ``usage.seconds``) of 9999 that the gateway must not believe.

Answers are deterministic (``Fake <provider> answer to: <last user text>``), streamed
when asked, with usage. Every request is recorded (:attr:`FakeProviders.requests`) so a
test can assert what went upstream (keys, converted bodies). Behaviours are queued per
provider and used once each, in order; with an empty queue the answer is a success::

    fake.enqueue_failure("openai", status=429)
    fake.enqueue("anthropic", Behaviour(cut_after_chunks=3))
    fake.enqueue("google", hang=True)

A request without the provider's auth header gets that provider's 401.

Standalone, for benchmarks: ``python -m tests.fakes.fake_providers --port 8900`` serves
forever and answers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

__all__ = [
    "CLAIMED_SECONDS",
    "PROVIDER_PREFIXES",
    "Behaviour",
    "FakeProviders",
    "RecordedRequest",
    "answer_text",
    "fake_vector",
]

JSON = dict[str, Any]

PROVIDER_PREFIXES = {
    "openai": "/openai/v1",
    "groq": "/groq/openai/v1",
    "gateway": "/gateway/v1",
    "anthropic": "/anthropic",
    "google": "/google",
}


@dataclass
class Behaviour:
    """How the fake answers one request.

    ``status``: an error status answered in the provider's error format; ``delay``:
    seconds before answering; ``hang``: never answer (until the fake closes);
    ``cut_after_chunks``: drop the connection after that many stream events;
    ``chunk_delay``: seconds between stream events;
    ``text``/``tool_calls`` (``[(name, args)]``): the answer; ``finish``: OpenAI-level
    finish reason (``stop``, ``length``, ``tool_calls``); ``cached_tokens``: prompt tokens
    read from the provider's prompt cache and ``cache_write_tokens``: written to it, each
    reported in the provider's own fields and convention (OpenAI / Groq / the gateway:
    ``prompt_tokens_details.cached_tokens`` within ``prompt_tokens``, the gateway's
    writes as ``cache_creation_input_tokens``; Anthropic: ``cache_read_input_tokens`` /
    ``cache_creation_input_tokens`` outside ``input_tokens``; Gemini:
    ``cachedContentTokenCount`` within ``promptTokenCount``, no writes); ``prompt_tokens``:
    the prompt size to report (default: from the body's length); ``headers``: extra
    response headers; ``metadata``: for the gateway, ``providerMetadata.gateway`` to
    answer."""

    status: int = 200
    delay: float = 0.0
    hang: bool = False
    cut_after_chunks: int | None = None
    chunk_delay: float = 0.0
    text: str | None = None
    tool_calls: list[tuple[str, JSON]] | None = None
    finish: str | None = None
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    prompt_tokens: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    metadata: JSON | None = None


@dataclass
class RecordedRequest:
    provider: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: JSON


def _last_user_text(messages: list[JSON]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content") or message.get("parts")
            if isinstance(content, str):
                return content
            for part in content or []:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    return str(part["text"])
    return ""


def answer_text(provider: str, body: JSON) -> str:
    """The deterministic answer the fake gives ``provider`` for ``body``."""
    messages = body.get("messages") or body.get("contents") or []
    return f"Fake {provider} answer to: {_last_user_text(messages)[:40]}"


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


@dataclass
class _Answer:
    """What to say, independent of wire format."""

    id: str
    model: str
    text: str
    tool_calls: list[tuple[str, JSON]]
    finish: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    metadata: JSON | None
    provider: str = "openai"
    cache_write_tokens: int = 0


# ---------------------------------------------------------------- OpenAI / Groq / gateway


def _openai_usage(a: _Answer) -> JSON:
    usage: JSON = {
        "prompt_tokens": a.prompt_tokens,
        "completion_tokens": a.completion_tokens,
        "total_tokens": a.prompt_tokens + a.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": a.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }
    if a.provider == "gateway" and a.cache_write_tokens:
        usage["cache_creation_input_tokens"] = a.cache_write_tokens
    return usage


def _openai_calls(a: _Answer) -> list[JSON]:
    return [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": name, "arguments": orjson.dumps(args).decode()},
        }
        for i, (name, args) in enumerate(a.tool_calls)
    ]


def _openai_complete(a: _Answer) -> JSON:
    message: JSON = {"role": "assistant", "content": a.text or None}
    if a.tool_calls:
        message["tool_calls"] = _openai_calls(a)
    body = {
        "id": a.id,
        "object": "chat.completion",
        "created": 1700000000,
        "model": a.model,
        "choices": [{"index": 0, "message": message, "finish_reason": a.finish}],
        "usage": _openai_usage(a),
    }
    if a.metadata is not None:
        body["providerMetadata"] = {"gateway": a.metadata}
    return body


def _openai_events(a: _Answer, body: JSON) -> Iterator[bytes]:
    def chunk(delta: JSON, finish: str | None = None) -> JSON:
        return {
            "id": a.id,
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": a.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def event(data: JSON) -> bytes:
        return b"data: " + orjson.dumps(data) + b"\n\n"

    yield event(chunk({"role": "assistant", "content": ""}))
    for word in _words(a.text) if a.text else []:
        yield event(chunk({"content": word}))
    for i, call in enumerate(_openai_calls(a)):
        head = {**call, "index": i, "function": {"name": call["function"]["name"], "arguments": ""}}
        yield event(chunk({"tool_calls": [head]}))
        arguments = call["function"]["arguments"]
        yield event(chunk({"tool_calls": [{"index": i, "function": {"arguments": arguments}}]}))
    yield event(chunk({}, a.finish))
    if (body.get("stream_options") or {}).get("include_usage"):
        final: JSON = {**chunk({}), "choices": [], "usage": _openai_usage(a)}
        if a.metadata is not None:
            final["providerMetadata"] = {"gateway": a.metadata}
        yield event(final)
    yield b"data: [DONE]\n\n"


def _openai_error(status: int) -> JSON:
    kind = {401: "invalid_request_error", 429: "rate_limit_error"}.get(status, "server_error")
    return {"error": {"message": f"fake error {status}", "type": kind, "code": None}}


# ---------------------------------------------------------------- Anthropic

_ANTHROPIC_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def _anthropic_complete(a: _Answer) -> JSON:
    content: list[JSON] = [{"type": "text", "text": a.text}] if a.text else []
    content += [
        {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": args}
        for i, (name, args) in enumerate(a.tool_calls)
    ]
    return {
        "id": a.id,
        "type": "message",
        "role": "assistant",
        "model": a.model,
        "content": content,
        "stop_reason": _ANTHROPIC_STOP.get(a.finish, "end_turn"),
        "stop_sequence": None,
        "usage": {
            "input_tokens": a.prompt_tokens - a.cached_tokens - a.cache_write_tokens,
            "output_tokens": a.completion_tokens,
            "cache_read_input_tokens": a.cached_tokens,
            "cache_creation_input_tokens": a.cache_write_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": a.cache_write_tokens,
                "ephemeral_1h_input_tokens": 0,
            },
            "service_tier": "standard",
        },
    }


def _anthropic_events(a: _Answer, body: JSON) -> Iterator[bytes]:
    def event(name: str, data: JSON) -> bytes:
        return f"event: {name}\n".encode() + b"data: " + orjson.dumps(data) + b"\n\n"

    message = {**_anthropic_complete(a), "content": [], "stop_reason": None}
    message["usage"] = {**message["usage"], "output_tokens": 1}
    yield event("message_start", {"type": "message_start", "message": message})
    yield event("ping", {"type": "ping"})
    index = 0
    if a.text:
        start = {"type": "text", "text": ""}
        yield event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": start},
        )
        for word in _words(a.text):
            delta = {"type": "text_delta", "text": word}
            yield event(
                "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
            )
        yield event("content_block_stop", {"type": "content_block_stop", "index": 0})
        index = 1
    for i, (name, args) in enumerate(a.tool_calls, start=index):
        block = {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": {}}
        yield event(
            "content_block_start",
            {"type": "content_block_start", "index": i, "content_block": block},
        )
        raw = orjson.dumps(args).decode()
        for piece in (raw[: len(raw) // 2], raw[len(raw) // 2 :]):
            delta = {"type": "input_json_delta", "partial_json": piece}
            yield event(
                "content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta}
            )
        yield event("content_block_stop", {"type": "content_block_stop", "index": i})
    stop = {"stop_reason": _ANTHROPIC_STOP.get(a.finish, "end_turn"), "stop_sequence": None}
    usage = {"output_tokens": a.completion_tokens}
    yield event("message_delta", {"type": "message_delta", "delta": stop, "usage": usage})
    yield event("message_stop", {"type": "message_stop"})


def _anthropic_error(status: int) -> JSON:
    kind = {
        400: "invalid_request_error",
        401: "authentication_error",
        429: "rate_limit_error",
        529: "overloaded_error",
    }.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": f"fake error {status}"}}


# ---------------------------------------------------------------- Google

_GOOGLE_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP"}


def _google_usage(a: _Answer) -> JSON:
    usage = {
        "promptTokenCount": a.prompt_tokens,
        "candidatesTokenCount": a.completion_tokens,
        "totalTokenCount": a.prompt_tokens + a.completion_tokens,
    }
    if a.cached_tokens:
        usage["cachedContentTokenCount"] = a.cached_tokens
    return usage


def _google_parts(a: _Answer) -> list[JSON]:
    parts: list[JSON] = [{"text": a.text}] if a.text else []
    parts += [{"functionCall": {"name": n, "args": args}} for n, args in a.tool_calls]
    return parts


def _google_complete(a: _Answer) -> JSON:
    candidate = {
        "content": {"role": "model", "parts": _google_parts(a)},
        "finishReason": _GOOGLE_FINISH.get(a.finish, "STOP"),
        "index": 0,
    }
    return {
        "candidates": [candidate],
        "usageMetadata": _google_usage(a),
        "modelVersion": a.model,
        "responseId": a.id,
    }


def _google_events(a: _Answer, body: JSON) -> Iterator[bytes]:
    words = _words(a.text) if a.text else []
    for i, word in enumerate(words):
        partial = {
            "candidates": [{"content": {"role": "model", "parts": [{"text": word}]}, "index": 0}],
            "usageMetadata": {
                "promptTokenCount": a.prompt_tokens,
                "candidatesTokenCount": i,
                **({"cachedContentTokenCount": a.cached_tokens} if a.cached_tokens else {}),
            },
            "modelVersion": a.model,
            "responseId": a.id,
        }
        yield b"data: " + orjson.dumps(partial) + b"\r\n\r\n"
    last = _google_complete(a)
    last["candidates"][0]["content"]["parts"] = [
        {"functionCall": {"name": n, "args": args}} for n, args in a.tool_calls
    ] or [{"text": ""}]
    yield b"data: " + orjson.dumps(last) + b"\r\n\r\n"


def _google_error(status: int) -> JSON:
    state = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        429: "RESOURCE_EXHAUSTED",
    }.get(status, "INTERNAL")
    return {"error": {"code": status, "message": f"fake error {status}", "status": state}}


# ---------------------------------------------------------------- embeddings, audio

#: What the fake claims every audio file lasts: wrong on purpose.
CLAIMED_SECONDS = 9999.0


def fake_vector(text: str, index: int, dimensions: int | None) -> list[float]:
    vector = [float(len(text)), float(index), 0.25]
    size = dimensions or len(vector)
    return (vector + [0.0] * size)[:size]


def _openai_embeddings(body: JSON) -> JSON:
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    data = [
        {"object": "embedding", "index": i, "embedding": fake_vector(t, i, body.get("dimensions"))}
        for i, t in enumerate(texts)
    ]
    tokens = sum(len(t) // 4 + 1 for t in texts)
    return {
        "object": "list",
        "data": list(reversed(data)),  # in any order: the index says which is which
        "model": body["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _google_embeddings(body: JSON) -> JSON:
    embeddings = []
    for i, item in enumerate(body["requests"]):
        text = item["content"]["parts"][0]["text"]
        embeddings.append({"values": fake_vector(text, i, item.get("outputDimensionality"))})
    return {"embeddings": embeddings}


def _transcription(provider: str, fields: JSON) -> JSON:
    upload = fields["file"]
    text = f"Fake {provider} transcript of {upload['filename']} ({upload['size']} bytes)"
    answer: JSON = {"text": text}
    if fields.get("response_format") == "verbose_json":
        answer.update(
            task="transcribe",
            language=fields.get("language") or "portuguese",
            duration=CLAIMED_SECONDS,
            segments=[{"id": 0, "start": 0.0, "end": CLAIMED_SECONDS, "text": text}],
        )
    if provider == "openai":
        answer["usage"] = {"type": "duration", "seconds": CLAIMED_SECONDS}
    return answer


# ---------------------------------------------------------------- the server

_FORMATS = {
    "openai": (_openai_complete, _openai_events, _openai_error),
    "groq": (_openai_complete, _openai_events, _openai_error),
    "gateway": (_openai_complete, _openai_events, _openai_error),
    "anthropic": (_anthropic_complete, _anthropic_events, _anthropic_error),
    "google": (_google_complete, _google_events, _google_error),
}
_AUTH_HEADERS = {
    "openai": "authorization",
    "groq": "authorization",
    "gateway": "authorization",
    "anthropic": "x-api-key",
    "google": "x-goog-api-key",
}


class FakeProviders:
    """The fake upstream server. ``await start()``, point base URLs at
    :meth:`base_url`, ``await close()``. ``enqueue`` and ``requests`` drive and
    inspect it."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queues: dict[str, deque[Behaviour]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle

    def app(self) -> web.Application:
        app = web.Application()
        for provider, prefix in PROVIDER_PREFIXES.items():
            if provider == "anthropic":
                path = f"{prefix}/v1/messages"
            elif provider == "google":
                path = prefix + "/v1beta/models/{model_action}"
            else:
                path = f"{prefix}/chat/completions"
            app.router.add_post(path, self._handler(provider))
        for provider in ("openai", "gateway"):
            path = PROVIDER_PREFIXES[provider] + "/embeddings"
            app.router.add_post(path, self._handler(provider, "embeddings"))
        for provider in ("openai", "groq"):
            path = PROVIDER_PREFIXES[provider] + "/audio/transcriptions"
            app.router.add_post(path, self._handler(provider, "transcriptions"))
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner = web.AppRunner(self.app(), shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.url = f"http://{host}:{sockets[0].getsockname()[1]}"

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- the API for tests

    def base_url(self, provider: str) -> str:
        return self.url + PROVIDER_PREFIXES[provider]

    def enqueue(self, provider: str, behaviour: Behaviour | None = None, **fields: Any) -> None:
        """Queue one behaviour for the next request to ``provider``."""
        self._queues[provider].append(behaviour or Behaviour(**fields))

    def enqueue_failure(self, provider: str, status: int = 500, **fields: Any) -> None:
        self.enqueue(provider, Behaviour(status=status, **fields))

    def requests_for(self, provider: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.provider == provider]

    def last_request(self, provider: str) -> RecordedRequest:
        return self.requests_for(provider)[-1]

    def reset(self) -> None:
        self.requests.clear()
        self._queues.clear()

    # -- serving

    def _handler(self, provider: str, kind: str = "chat") -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._handle(provider, request, kind)

        return handle

    @staticmethod
    async def _read(request: web.Request, kind: str) -> JSON:
        if kind != "transcriptions":
            return orjson.loads(await request.read())  # type: ignore[no-any-return]
        fields: JSON = {}
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                fields[name] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "size": len(data),
                }
            else:
                fields[name] = value
        return fields

    async def _wait(self, seconds: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    async def _handle(
        self, provider: str, request: web.Request, kind: str = "chat"
    ) -> web.StreamResponse:
        body = await self._read(request, kind)
        self.requests.append(
            RecordedRequest(
                provider=provider,
                path=request.path,
                query=dict(request.query),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
            )
        )
        queue = self._queues[provider]
        behaviour = queue.popleft() if queue else Behaviour()
        if behaviour.hang:
            await self._wait(None)
        elif behaviour.delay:
            await self._wait(behaviour.delay)
        complete, events, error = _FORMATS[provider]
        headers = {**self._headers(provider, body), **behaviour.headers}
        status = behaviour.status
        if not request.headers.get(_AUTH_HEADERS[provider]):
            status = 401
        if status >= 400 or behaviour.hang:
            return web.Response(
                body=orjson.dumps(error(status if status >= 400 else 503)),
                status=status if status >= 400 else 503,
                content_type="application/json",
                headers=headers,
            )
        action = request.match_info.get("model_action", "")
        special: JSON | None = None
        if kind == "embeddings":
            special = _openai_embeddings(body)
        elif kind == "transcriptions":
            special = _transcription(provider, body)
        elif action.endswith(":batchEmbedContents"):
            special = _google_embeddings(body)
        if special is not None:
            return web.Response(
                body=orjson.dumps(special), content_type="application/json", headers=headers
            )
        answer = self._answer(provider, body, request, behaviour)
        if not (body.get("stream") or action.endswith(":streamGenerateContent")):
            return web.Response(
                body=orjson.dumps(complete(answer)),
                content_type="application/json",
                headers=headers,
            )
        response = web.StreamResponse(headers={**headers, "content-type": "text/event-stream"})
        await response.prepare(request)
        for sent, chunk in enumerate(events(answer, body)):
            if behaviour.cut_after_chunks is not None and sent >= behaviour.cut_after_chunks:
                assert request.transport is not None
                request.transport.abort()
                return response
            await response.write(chunk)
            if behaviour.chunk_delay:
                await asyncio.sleep(behaviour.chunk_delay)
        await response.write_eof()
        return response

    def _answer(
        self, provider: str, body: JSON, request: web.Request, behaviour: Behaviour
    ) -> _Answer:
        model = body.get("model") or request.match_info.get("model_action", "").split(":")[0]
        calls = behaviour.tool_calls or []
        text = behaviour.text if behaviour.text is not None else answer_text(provider, body)
        if calls and behaviour.text is None:
            text = ""
        messages = body.get("messages") or body.get("contents") or []
        metadata = behaviour.metadata
        if provider == "gateway" and metadata is None:
            metadata = {
                "routing": {
                    "finalProvider": str(model).split("/")[0],
                    "attempts": [{"provider": str(model).split("/")[0], "success": True}],
                },
                "cost": "0.00012",
            }
        return _Answer(
            id=f"fake-{provider}-{next(self._ids)}",
            model=str(model),
            text=text,
            tool_calls=calls,
            finish=behaviour.finish or ("tool_calls" if calls else "stop"),
            prompt_tokens=behaviour.prompt_tokens or max(1, len(orjson.dumps(messages)) // 4),
            completion_tokens=len(text.split()) + 5 * len(calls),
            cached_tokens=behaviour.cached_tokens,
            metadata=metadata,
            provider=provider,
            cache_write_tokens=behaviour.cache_write_tokens,
        )

    def _headers(self, provider: str, body: JSON) -> dict[str, str]:
        n = len(self.requests)
        if provider == "anthropic":
            return {"request-id": f"req_fake_{n}"}
        if provider == "google":
            return {}
        headers = {"x-request-id": f"req_fake_{n}"}
        if provider == "groq":
            headers["x-groq-id"] = f"groq_fake_{n}"
        if provider == "gateway":
            headers["x-vercel-id"] = f"gru1::fake-{n}"
            headers["x-vercel-cache"] = "MISS"
            headers["x-vercel-ai-provider"] = str(body.get("model", "")).split("/")[0]
        return headers


async def _serve(host: str, port: int) -> None:
    fake = FakeProviders()
    await fake.start(host, port)
    print(f"fake providers on {fake.url}", flush=True)
    for provider in PROVIDER_PREFIXES:
        print(f"  {provider:9} {fake.base_url(provider)}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the fake providers until killed.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()
