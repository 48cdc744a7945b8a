"""Groq speaks the OpenAI format but answers 400 to a few of its params."""

from __future__ import annotations

from ai_gateway.providers._openai_compat import OpenAICompatProvider

__all__ = ["GroqProvider"]


class GroqProvider(OpenAICompatProvider):
    name = "groq"
    default_base_url = "https://api.groq.com/openai/v1"
    supports_vision = False
    # Documented by Groq as unsupported on chat completions; dropping them keeps a
    # request that works on OpenAI from failing here after a fallback.
    unsupported_params = frozenset({"logprobs", "top_logprobs", "logit_bias", "n"})
