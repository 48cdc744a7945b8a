"""Provider adapters: one folder per upstream API behind the contract of ``base``."""

from ai_gateway.providers.base import (
    ChatRequest,
    ChunkStream,
    Completion,
    Provider,
    ProviderError,
    Target,
    Telemetry,
    Timeouts,
    Upstream,
    Usage,
)
from ai_gateway.providers.registry import DEFAULT_PROVIDERS, PROVIDERS, create_providers

__all__ = [
    "DEFAULT_PROVIDERS",
    "PROVIDERS",
    "ChatRequest",
    "ChunkStream",
    "Completion",
    "Provider",
    "ProviderError",
    "Target",
    "Telemetry",
    "Timeouts",
    "Upstream",
    "Usage",
    "create_providers",
]
