"""Prompt-cache breakpoints for Anthropic, so a chatbot's long system prompt is billed at
the cache-read rate (0.1x input) instead of the full input rate on every message.

Anthropic caches only what a request marks with ``cache_control`` (OpenAI, Gemini and
Groq cache prefixes on their own). Its cache key is the prefix in the order tools ->
system -> messages, so one breakpoint on the last system block caches the tools and the
system prompt together; with tools and no system, the last tool carries it. A prefix
under the model's minimum is not cached (and the breakpoint is then harmless), so a
breakpoint is only added when the estimate reaches the minimum. A write costs 1.25x the
input price once, every read within 5 minutes 0.1x: worth it from the second message of
the same prefix on, which is why it is an opt-in (``cache_breakpoints``).
"""

from __future__ import annotations

import orjson

from ai_gateway.providers._stream import estimate_tokens
from ai_gateway.types import JSON

__all__ = ["MIN_CACHEABLE_TOKENS", "add_breakpoints", "min_cacheable_tokens"]


#: Minimum cacheable prefix per model family (Anthropic's prompt-caching docs); the
#: first matching prefix of the upstream model name wins, else 1024.
MIN_CACHEABLE_TOKENS: tuple[tuple[str, int], ...] = (
    ("claude-opus-4-5", 4096),
    ("claude-haiku-4-5", 4096),
    ("claude-3-haiku", 2048),
    ("claude-3-5-haiku", 2048),
    ("claude-sonnet-4-6", 2048),
)
_DEFAULT_MIN = 1024
_EPHEMERAL = {"type": "ephemeral"}


def min_cacheable_tokens(model: str) -> int:
    for prefix, tokens in MIN_CACHEABLE_TOKENS:
        if model.startswith(prefix):
            return tokens
    return _DEFAULT_MIN


def add_breakpoints(body: JSON) -> JSON:
    """``body`` (a Messages API body) with one ``cache_control`` breakpoint at the end of
    its stable prefix when that prefix is long enough to be cached; changed in place."""
    tools: list[JSON] = body.get("tools") or []
    system = body.get("system")
    chars = len(orjson.dumps(tools)) if tools else 0
    if isinstance(system, str):
        chars += len(system)
    if estimate_tokens(chars) < min_cacheable_tokens(str(body.get("model", ""))):
        return body
    if isinstance(system, str) and system:
        body["system"] = [{"type": "text", "text": system, "cache_control": dict(_EPHEMERAL)}]
    elif tools:
        tools[-1]["cache_control"] = dict(_EPHEMERAL)
    return body
