"""Shared base for upstreams that speak the OpenAI chat-completions wire format."""

from ai_gateway.providers._openai_compat.provider import (
    OpenAICompatProvider,
    base_url,
    require_key,
)
from ai_gateway.providers._openai_compat.wire import (
    OpenAIChunkDecoder,
    build_body,
    parse_completion,
    parse_usage,
)

__all__ = [
    "OpenAIChunkDecoder",
    "OpenAICompatProvider",
    "base_url",
    "build_body",
    "parse_completion",
    "parse_usage",
    "require_key",
]
