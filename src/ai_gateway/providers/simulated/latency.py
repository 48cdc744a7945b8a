"""How long the simulated provider takes: a model of a real LLM's timing.

A real chat upstream spends a roughly fixed time before its first token (queueing and
reading the prompt: a few hundred ms) and then a fairly steady time per generated token,
so a short answer comes back in ~0.3 s and a long one in ~2 s; a stream shows the first
token after that first wait and then one piece per step. The simulated provider reads
these ``Upstream.options`` (the shared config's ``provider_options.simulated``):

* ``latency_ms`` (default 0): time to the first token;
* ``word_ms`` (default 0): time per generated word, after the first token: a stream
  sends one word per step, a non-streamed answer waits for all of them;
* ``chunk_delay_ms``: the older name of ``word_ms`` for streams only (a non-streamed
  answer ignores it), kept for configurations that set it;
* ``jitter`` (0..1, default 0): the first-token time varies by up to this share either
  way, drawn from the request's digest, so the same request always waits the same time;
* ``models``: per-model overrides of the above, ``{model_id: {option: value}}``.

With ``latency_ms=300, word_ms=35, jitter=0.5`` the 8- to 40-word answers take 0.43 to
1.85 s, the spread of a small chat model's answers to WhatsApp questions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Timing", "timing_for"]


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds: before the first token, and per word after it."""

    first_token: float = 0.0
    per_word: float = 0.0

    def total(self, words: int) -> float:
        """A non-streamed answer of ``words`` words: all of it before any byte."""
        return self.first_token + self.per_word * max(0, words - 1)


def _number(options: Mapping[str, Any], name: str) -> float | None:
    value = options.get(name)
    if value is None:
        return None
    number = float(value)
    return number if number > 0 else 0.0


def timing_for(options: Mapping[str, Any], model_id: str, digest: bytes, *, stream: bool) -> Timing:
    """The timing of one call of ``model_id`` (its overrides over the defaults)."""
    merged = dict(options)
    per_model = options.get("models")
    if isinstance(per_model, Mapping) and isinstance(per_model.get(model_id), Mapping):
        merged.update(per_model[model_id])
    first = (_number(merged, "latency_ms") or 0.0) / 1000
    word = _number(merged, "word_ms")
    if word is None and stream:
        word = _number(merged, "chunk_delay_ms")
    jitter = min(1.0, _number(merged, "jitter") or 0.0)
    if jitter and first:
        # digest[1]/255 in [0, 1]: the same request, the same wait.
        first *= 1 - jitter + 2 * jitter * (digest[1] / 255)
    return Timing(first_token=first, per_word=(word or 0.0) / 1000)
