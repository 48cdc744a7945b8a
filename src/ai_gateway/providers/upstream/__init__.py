"""The upstream managed gateway (Vercel AI Gateway), OpenAI-compatible."""

from ai_gateway.providers.upstream.provider import UpstreamGatewayProvider, gateway_options

__all__ = ["UpstreamGatewayProvider", "gateway_options"]
