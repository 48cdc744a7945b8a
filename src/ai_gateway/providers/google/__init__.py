"""Google Gemini (``generateContent``) adapter."""

from ai_gateway.providers.google.provider import GoogleProvider

__all__ = ["GoogleProvider"]
