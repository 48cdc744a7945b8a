"""Anthropic Messages API adapter."""

from ai_gateway.providers.anthropic.provider import ANTHROPIC_VERSION, AnthropicProvider

__all__ = ["ANTHROPIC_VERSION", "AnthropicProvider"]
