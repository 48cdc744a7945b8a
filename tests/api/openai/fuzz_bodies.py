"""A seeded generator of hostile ``/v1/chat/completions`` bodies.

Each body starts as a valid request (every provider's model, tools, tool calls, parts,
streams) and is then broken: a random node anywhere in it replaced by a value of the
wrong type (object, list, number, boolean, null, a huge or odd string, JSON nested
hundreds of levels deep), keys added, or the bytes themselves damaged (invalid UTF-8,
truncation, NaN, numbers beyond 64 bits, duplicate keys). Deterministic for a seed, so
a failure replays.
"""

from __future__ import annotations

import random
import re
from typing import Any

import orjson

__all__ = ["MODELS", "generate"]

_DEEP = re.compile(rb'"__deep_\d+__"')

MODELS = [
    "openai/gpt-4o",
    "openai/gpt-4o-mini",
    "anthropic/claude-3-5-sonnet",
    "anthropic/claude-3-opus",
    "groq/llama-3.3-70b",
    "google/gemini-2.0-flash",
    "openai/gpt-9",
    "",
]
_KEYS = [
    "model",
    "messages",
    "role",
    "content",
    "type",
    "text",
    "image_url",
    "url",
    "tools",
    "function",
    "name",
    "arguments",
    "parameters",
    "tool_calls",
    "tool_call_id",
    "tool_choice",
    "response_format",
    "json_schema",
    "schema",
    "stream",
    "stream_options",
    "include_usage",
    "fallback_models",
    "max_tokens",
    "temperature",
    "stop",
    "n",
    "seed",
    "metadata",
    "logit_bias",
    "user",
    "top_p",
    "refusal",
    "input_audio",
    "file",
    "__proto__",
]
_ODD_STRINGS = [
    "",
    " ",
    "\x00",
    "\u0000nul",
    "é",
    "\ud7ff",
    "😀" * 50,
    "\u202e",
    "</script>",
    "%s%n",
    "' OR 1=1 --",
    "null",
    "[]",
    "{}",
    "NaN",
    "-0",
    "1e999",
    "data:,",
    "data:image/png;base64,",
    "\r\n\r\nHTTP/1.1 200 OK",
    "a" * 300,
    "user",
    "assistant",
    "tool",
    "text",
    "image_url",
]


def _valid(rng: random.Random) -> dict[str, Any]:
    model = rng.choice(MODELS[:6])
    messages: list[Any] = [{"role": "system", "content": "Be brief."}]
    messages.append(
        rng.choice(
            [
                {"role": "user", "content": "hello"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "look"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
                    ],
                },
            ]
        )
    )
    if rng.random() < 0.4:
        messages += [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": '{"q": "x"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"answer": 42}'},
        ]
    body: dict[str, Any] = {"model": model, "messages": messages}
    if rng.random() < 0.4:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": "lookup",
                    "description": "Find things",
                    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
                },
            }
        ]
        body["tool_choice"] = rng.choice(
            ["auto", "required", {"type": "function", "function": {"name": "lookup"}}]
        )
    if rng.random() < 0.3:
        body["response_format"] = {"type": "json_schema", "json_schema": {"schema": {}}}
    if rng.random() < 0.3:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    for name, value in (
        ("max_tokens", 64),
        ("temperature", 0.5),
        ("stop", ["\n"]),
        ("fallback_models", [rng.choice(MODELS[:6])]),
        ("metadata", {"k": "v"}),
        ("user", "u-1"),
    ):
        if rng.random() < 0.3:
            body[name] = value
    return body


def _deep(rng: random.Random, levels: int) -> Any:
    if levels > 200:
        # Beyond what orjson.dumps writes: a marker spliced into the bytes by _encode.
        return f"__deep_{levels}__"
    value: Any = rng.choice(["x", 1, None, True])
    for _ in range(levels):
        value = {rng.choice(_KEYS): value} if rng.random() < 0.5 else [value]
    return value


def _encode(body: Any) -> bytes:
    raw = orjson.dumps(body)
    for marker in set(_DEEP.findall(raw)):
        levels = int(marker[8:-3])
        raw = raw.replace(marker, b"[" * levels + b"1" + b"]" * levels)
    return raw


def _junk(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value, biased towards what breaks code that expects another type."""
    roll = rng.random()
    if roll < 0.12:
        return {}
    if roll < 0.22:
        return []
    if roll < 0.28:
        return [rng.choice(_ODD_STRINGS)]
    if roll < 0.34:
        return rng.choice([0, -1, 1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63)])
    if roll < 0.40:
        return rng.choice([0.5, -1e308, 1e308, 5e-324, -0.0])
    if roll < 0.46:
        return rng.choice([True, False])
    if roll < 0.52:
        return None
    if roll < 0.70:
        return rng.choice(_ODD_STRINGS)
    if roll < 0.74:
        return rng.choice("ab\u00e9\U0001f600\x01") * rng.choice([10_000, 200_000])
    if roll < 0.80:
        return _deep(rng, rng.choice([20, 70, 300, 900]))
    if depth < 3 and roll < 0.92:
        return {rng.choice(_KEYS): _junk(rng, depth + 1) for _ in range(rng.randint(1, 4))}
    if depth < 3:
        return [_junk(rng, depth + 1) for _ in range(rng.randint(1, 4))]
    return rng.choice(_ODD_STRINGS)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


def _mutate(rng: random.Random, body: Any) -> Any:
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        paths = _paths(body)
        path = rng.choice(paths[1:] or paths)
        if rng.random() < 0.15 and paths:
            target = rng.choice([p for p in paths if p == () or isinstance(p[-1], str)] or [()])
            node = body
            for step in target:
                node = node[step]
            if isinstance(node, dict):
                body = _replace(body, target, {**node, rng.choice(_KEYS): _junk(rng)})
                continue
        body = _replace(body, path, _junk(rng))
    return body


def _damage(rng: random.Random, raw: bytes) -> bytes:
    roll = rng.random()
    if roll < 0.2:
        at = rng.randrange(len(raw))
        return (
            raw[:at]
            + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80"])
            + raw[at:]
        )
    if roll < 0.35:
        return raw[: rng.randrange(len(raw))]
    if roll < 0.5:
        return raw.replace(b'"max_tokens":64', b'"max_tokens":NaN').replace(
            b'"messages":', b'"messages":1e400,"messages":', 1
        )
    if roll < 0.6:
        return raw.replace(b"{", b'{"n":123456789012345678901234567890,', 1)
    if roll < 0.7:
        return b"\xef\xbb\xbf" + raw
    if roll < 0.8:
        return b"[" * 5000 + b"]" * 5000
    if roll < 0.9:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    return raw.replace(b'"role":"user"', b'"role":"us\\ud800er"', 1)


def generate(seed: int, count: int) -> list[bytes]:
    """``count`` request bodies: about 15 % valid, 70 % mutated JSON, 15 % damaged bytes."""
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        body: Any = _valid(rng)
        roll = rng.random()
        if roll < 0.85:
            if roll >= 0.15:
                body = _mutate(rng, body)
            bodies.append(_encode(body))
        else:
            bodies.append(_damage(rng, _encode(body)))
    return bodies
