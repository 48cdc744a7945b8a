"""OpenAI is the wire format itself: the shared base with OpenAI's address."""

from __future__ import annotations

from ai_gateway.providers._openai_compat import OpenAICompatProvider

__all__ = ["OpenAIProvider"]


class OpenAIProvider(OpenAICompatProvider):
    name = "openai"
    default_base_url = "https://api.openai.com/v1"
