"""Groq's OpenAI-compatible endpoint (``https://api.groq.com/openai/v1``)."""

from ai_gateway.providers.groq.provider import GroqProvider

__all__ = ["GroqProvider"]
