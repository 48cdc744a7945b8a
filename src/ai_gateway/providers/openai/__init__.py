"""OpenAI chat completions (``https://api.openai.com/v1``)."""

from ai_gateway.providers.openai.provider import OpenAIProvider

__all__ = ["OpenAIProvider"]
