"""Streams and the cache: replay a stored answer as chunks, and assemble chunks into one.

The cache stores exactly one shape, the OpenAI ``chat.completion`` body, whatever the
request that produced it. :func:`completion_to_chunks` lets a streaming request be served
from an entry made by a non-streamed one, and :class:`StreamAccumulator` turns a streamed
answer back into a body so it can be stored.

A replay keeps the shape of the original: the accumulator records where each content
delta ended (:meth:`StreamAccumulator.pieces`), the entry stores those lengths, and
:func:`completion_to_chunks` cuts the text at the same places. An entry made by a
non-streamed call has no boundaries; its text is cut into short word-aligned pieces, so a
client that renders deltas sees text arrive the way a live stream brings it, not in one
jump.

Every stored body carries the upstream's ``usage`` whatever its first client asked to
see (:func:`with_usage`): the providers always ask the upstream for usage, so a later
request that wants ``stream_options.include_usage`` (or a non-streamed answer, which
always has ``usage``) gets real counts, never ``null``.

A stream that was cut (client gone, upstream died, no ``finish_reason``) holds a partial
answer; storing it would serve that truncation to every later caller, so the accumulator
says :attr:`StreamAccumulator.complete` only when the caller marked a normal end *and*
every choice carried a ``finish_reason``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ai_gateway.providers._stream import usage_dict
from ai_gateway.providers.base import Usage
from ai_gateway.types import JSON

__all__ = [
    "DEFAULT_CHUNK_CHARS",
    "Pieces",
    "StreamAccumulator",
    "completion_to_chunks",
    "split_pieces",
    "split_text",
    "with_usage",
]

#: Content delta lengths per choice index, in the order the upstream sent them.
Pieces = Mapping[int, Sequence[int]]

#: Live streams bring a token or two per chunk (~4 characters each); 16-character
#: word-aligned pieces look the same to a client that renders deltas, at a quarter of
#: the chunk count. Only used when the original boundaries are not known.
DEFAULT_CHUNK_CHARS = 16


def with_usage(body: JSON, usage: Usage) -> JSON:
    """``body`` with a ``usage`` object: its own when it has one, else built from
    ``usage`` (the counts the upstream reported, kept beside the body). Never mutates
    ``body``; returns it unchanged when nothing is missing."""
    if isinstance(body.get("usage"), dict):
        return body
    return {**body, "usage": usage_dict(usage)}


def split_pieces(text: str, lengths: Sequence[int]) -> list[str] | None:
    """``text`` cut at the recorded delta ``lengths``; ``None`` when they do not add up
    to the text (an entry from an older version, or a body edited since)."""
    if not lengths or sum(lengths) != len(text) or min(lengths) <= 0:
        return None
    pieces, start = [], 0
    for length in lengths:
        pieces.append(text[start : start + length])
        start += length
    return pieces


def split_text(text: str, size: int = DEFAULT_CHUNK_CHARS) -> list[str]:
    """Pieces of about ``size`` characters, cut after whitespace where one is near, so
    words are not torn. ``"".join`` of the result is ``text``."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
            if cut > start:
                end = cut + 1
        pieces.append(text[start:end])
        start = end
    return pieces


def completion_to_chunks(
    body: JSON,
    *,
    include_usage: bool = False,
    chunk_chars: int = DEFAULT_CHUNK_CHARS,
    pieces: Pieces | None = None,
) -> list[JSON]:
    """The ``chat.completion.chunk`` dicts a live stream of ``body`` would have sent: per
    choice a role chunk, content pieces (cut at ``pieces`` when given and consistent,
    else by :func:`split_text`), one chunk with all tool calls, a final chunk with
    ``finish_reason``; then, when ``include_usage``, a usage chunk with ``choices: []``
    (and ``usage: null`` on every other chunk, as OpenAI does)."""
    head: JSON = {
        "id": body.get("id", ""),
        "object": "chat.completion.chunk",
        "created": body.get("created", 0),
        "model": body.get("model", ""),
    }
    if body.get("system_fingerprint") is not None:
        head["system_fingerprint"] = body["system_fingerprint"]

    def chunk(index: int, delta: JSON, finish_reason: str | None = None) -> JSON:
        out: JSON = dict(head)
        out["choices"] = [
            {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        ]
        if include_usage:
            out["usage"] = None
        return out

    chunks: list[JSON] = []
    for choice in body.get("choices", []):
        index = choice.get("index", 0)
        message = choice.get("message") or {}
        content = message.get("content")
        role_delta = {
            "role": message.get("role", "assistant"),
            "content": "" if isinstance(content, str) else None,
        }
        chunks.append(chunk(index, role_delta))
        if isinstance(content, str):
            recorded = split_pieces(content, (pieces or {}).get(index) or ())
            texts = recorded if recorded is not None else split_text(content, chunk_chars)
            chunks.extend(chunk(index, {"content": piece}) for piece in texts)
        if message.get("refusal"):
            chunks.append(chunk(index, {"refusal": message["refusal"]}))
        tool_calls = message.get("tool_calls")
        if tool_calls:
            deltas = [{"index": i, **copy.deepcopy(call)} for i, call in enumerate(tool_calls)]
            chunks.append(chunk(index, {"tool_calls": deltas}))
        chunks.append(chunk(index, {}, choice.get("finish_reason") or "stop"))
    if include_usage:
        usage_chunk: JSON = dict(head)
        usage_chunk["choices"] = []
        usage_chunk["usage"] = copy.deepcopy(body.get("usage"))
        chunks.append(usage_chunk)
    return chunks


@dataclass(slots=True)
class _Choice:
    role: str = "assistant"
    content: str | None = None
    refusal: str | None = None
    tool_calls: dict[int, JSON] = field(default_factory=dict)
    finish_reason: str | None = None
    pieces: list[int] = field(default_factory=list)

    def message(self) -> JSON:
        message: JSON = {"role": self.role, "content": self.content}
        if self.refusal is not None:
            message["refusal"] = self.refusal
        if self.tool_calls:
            message["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        return message


class StreamAccumulator:
    """Feed every chunk to :meth:`add`, call :meth:`mark_ended` when the upstream stream
    finished normally, then read :meth:`body` if :attr:`complete`."""

    def __init__(self) -> None:
        self._head: JSON = {}
        self._choices: dict[int, _Choice] = {}
        self._ended = False
        self.usage: JSON | None = None

    def add(self, chunk: JSON) -> None:
        if not self._head:
            self._head = {k: chunk[k] for k in ("id", "created", "model") if k in chunk}
            if chunk.get("system_fingerprint") is not None:
                self._head["system_fingerprint"] = chunk["system_fingerprint"]
        if chunk.get("usage") is not None:
            self.usage = copy.deepcopy(chunk["usage"])
        for raw in chunk.get("choices") or []:
            choice = self._choices.setdefault(int(raw.get("index", 0)), _Choice())
            _merge_delta(choice, raw.get("delta") or {})
            if raw.get("finish_reason") is not None:
                choice.finish_reason = raw["finish_reason"]

    def pieces(self) -> dict[int, list[int]]:
        """The length of every non-empty content delta, per choice: what a replay needs to
        cut the stored text where the upstream did."""
        return {index: list(c.pieces) for index, c in sorted(self._choices.items()) if c.pieces}

    def mark_ended(self) -> None:
        """The upstream stream ended normally (not cut, not cancelled)."""
        self._ended = True

    @property
    def complete(self) -> bool:
        return (
            self._ended
            and bool(self._choices)
            and all(choice.finish_reason is not None for choice in self._choices.values())
        )

    def body(self) -> JSON:
        """The ``chat.completion`` these chunks add up to (also for an incomplete stream,
        for logging; only store it when :attr:`complete`)."""
        body: JSON = {
            "id": self._head.get("id", ""),
            "object": "chat.completion",
            "created": self._head.get("created", 0),
            "model": self._head.get("model", ""),
            "choices": [
                {
                    "index": index,
                    "message": choice.message(),
                    "logprobs": None,
                    "finish_reason": choice.finish_reason,
                }
                for index, choice in sorted(self._choices.items())
            ],
        }
        if "system_fingerprint" in self._head:
            body["system_fingerprint"] = self._head["system_fingerprint"]
        if self.usage is not None:
            body["usage"] = copy.deepcopy(self.usage)
        return body


def _merge_delta(choice: _Choice, delta: JSON) -> None:
    if delta.get("role"):
        choice.role = delta["role"]
    if delta.get("content") is not None:
        choice.content = (choice.content or "") + delta["content"]
        if delta["content"]:
            choice.pieces.append(len(delta["content"]))
    if delta.get("refusal") is not None:
        choice.refusal = (choice.refusal or "") + delta["refusal"]
    for call in delta.get("tool_calls") or []:
        _merge_tool_call(choice.tool_calls, call)


def _merge_tool_call(calls: dict[int, JSON], delta: JSON) -> None:
    """Tool calls stream by ``index``: ``id``/``type``/``name`` arrive once (first delta),
    ``arguments`` arrive in fragments that concatenate."""
    index = int(delta.get("index", len(calls)))
    call = calls.setdefault(
        index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
    )
    if delta.get("id"):
        call["id"] = delta["id"]
    if delta.get("type"):
        call["type"] = delta["type"]
    function = delta.get("function") or {}
    if function.get("name"):
        call["function"]["name"] += function["name"]
    if function.get("arguments"):
        call["function"]["arguments"] += function["arguments"]
