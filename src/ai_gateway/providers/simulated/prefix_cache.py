"""Prompt-prefix caching for the simulated provider, reported the way OpenAI reports it.

Real providers cache the prefix of a prompt they have just processed and bill the part a
later prompt shares with it at a discount (OpenAI: prompts of 1024 tokens or more,
matched in 128-token steps, ``prompt_tokens_details.cached_tokens``; entries live a few
minutes after their last use). A demo or a workload benchmark that ignores this
overstates what a chatbot with a long, stable system prompt pays, so the simulated
provider keeps the same kind of cache: a prefix is a run of whole messages (a hash chain
over them), its size the provider's token estimate of their text.

One instance per provider instance (no module state); bounded in entries, oldest use
evicted first.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson

from ai_gateway.providers._stream import estimate_tokens, prompt_chars

__all__ = ["BLOCK_TOKENS", "MIN_TOKENS", "PrefixCache"]

#: OpenAI caches prompts from 1024 tokens on, and hits grow in 128-token steps.
MIN_TOKENS = 1024
BLOCK_TOKENS = 128


class PrefixCache:
    def __init__(
        self,
        *,
        ttl_seconds: float = 300.0,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[bytes, float] = OrderedDict()

    def cached_tokens(self, model: str, messages: list[dict[str, Any]]) -> int:
        """How many prompt tokens of ``messages`` a previous call of ``model`` had already
        processed (0 below :data:`MIN_TOKENS`), then remember this prompt's prefixes."""
        now = self._clock()
        digest = hashlib.sha256(model.encode()).digest()
        chars = matched = 0
        prefixes: list[bytes] = []
        for message in messages:
            digest = hashlib.sha256(digest + orjson.dumps(message)).digest()
            chars += prompt_chars([message])
            tokens = estimate_tokens(chars)
            if tokens < MIN_TOKENS:
                continue
            seen = self._seen.get(digest)
            if seen is not None and now - seen <= self._ttl:
                matched = tokens
            prefixes.append(digest)
        for key in prefixes:
            self._seen[key] = now
            self._seen.move_to_end(key)
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)
        if matched < MIN_TOKENS:
            return 0
        return matched - matched % BLOCK_TOKENS
