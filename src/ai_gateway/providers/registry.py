"""The provider registry: name -> adapter class.

Built-in adapters are listed in :data:`DEFAULT_PROVIDERS`, the same way an extension
would add one, so nothing else in the gateway branches on a provider's name: adding a
provider is a folder and a line here.
"""

from __future__ import annotations

from collections.abc import Iterable

import aiohttp

from ai_gateway.providers.anthropic import AnthropicProvider
from ai_gateway.providers.base import Provider
from ai_gateway.providers.google import GoogleProvider
from ai_gateway.providers.groq import GroqProvider
from ai_gateway.providers.openai import OpenAIProvider
from ai_gateway.providers.simulated import SimulatedProvider
from ai_gateway.providers.upstream import UpstreamGatewayProvider

__all__ = ["DEFAULT_PROVIDERS", "PROVIDERS", "build_registry", "create_providers"]

DEFAULT_PROVIDERS: tuple[type[Provider], ...] = (
    OpenAIProvider,
    AnthropicProvider,
    GroqProvider,
    GoogleProvider,
    UpstreamGatewayProvider,
    SimulatedProvider,
)


def build_registry(classes: Iterable[type[Provider]]) -> dict[str, type[Provider]]:
    """Index adapter classes by ``name``; a duplicate name is a programming error."""
    registry: dict[str, type[Provider]] = {}
    for cls in classes:
        if cls.name in registry:
            raise ValueError(f"two providers are named {cls.name!r}")
        registry[cls.name] = cls
    return registry


PROVIDERS: dict[str, type[Provider]] = build_registry(DEFAULT_PROVIDERS)


def create_providers(
    http: aiohttp.ClientSession, registry: dict[str, type[Provider]] | None = None
) -> dict[str, Provider]:
    """One instance per provider, sharing the pooled ``http`` session."""
    return {name: cls(http) for name, cls in (registry or PROVIDERS).items()}
