"""The Vercel AI Gateway (``https://ai-gateway.vercel.sh/v1``, ``vck_`` key).

Three things differ from plain OpenAI:

* the model is the registry id itself (``openai/gpt-4o``), not the provider's name;
* the operator's shared provider keys travel with each request as request-scoped BYOK,
  ``providerOptions.gateway.byok = {provider: [{"apiKey": key}]}``, and the fallback
  chain as ``providerOptions.gateway.models``, both from ``Upstream.options``
  (``byok``: provider -> key, ``fallback_models``: list of model ids);
* prompt-cache writes come back as ``usage.cache_creation_input_tokens`` (reads in
  ``prompt_tokens_details.cached_tokens``, both within ``prompt_tokens``) and the
  gateway's own bill as ``usage.cost``; which provider answered, the routing attempts
  and the cost also come back in
  ``providerMetadata.gateway`` (``provider_metadata`` in some answers) and in the
  ``x-vercel-ai-provider`` / ``x-vercel-cache`` headers.
"""

from __future__ import annotations

from typing import Any

from ai_gateway.providers._openai_compat import OpenAICompatProvider
from ai_gateway.providers.base import Target, Telemetry, Upstream
from ai_gateway.types import JSON

__all__ = ["UpstreamGatewayProvider", "gateway_options"]


def gateway_options(options: JSON) -> JSON:
    """``providerOptions.gateway`` built from ``Upstream.options``."""
    gateway: JSON = {}
    byok = options.get("byok") or {}
    if byok:
        gateway["byok"] = {provider: [{"apiKey": key}] for provider, key in byok.items() if key}
    models = options.get("fallback_models") or []
    if models:
        gateway["models"] = list(models)
    return gateway


def _gateway_metadata(body: JSON) -> JSON | None:
    """``gateway`` metadata at the top of the body or inside the first choice."""
    holders: list[Any] = [body]
    for choice in body.get("choices") or []:
        if isinstance(choice, dict):
            holders += [choice.get("message"), choice.get("delta")]
    for holder in holders:
        if not isinstance(holder, dict):
            continue
        for key in ("providerMetadata", "provider_metadata"):
            metadata = holder.get(key)
            if isinstance(metadata, dict) and isinstance(metadata.get("gateway"), dict):
                return metadata["gateway"]  # type: ignore[no-any-return]
    return None


class UpstreamGatewayProvider(OpenAICompatProvider):
    name = "gateway"
    default_base_url = "https://ai-gateway.vercel.sh/v1"

    def model_name(self, target: Target) -> str:
        return target.model_id

    def extra_body(self, upstream: Upstream) -> JSON:
        gateway = gateway_options(upstream.options)
        return {"providerOptions": {"gateway": gateway}} if gateway else {}

    def read_body_telemetry(self, body: JSON, telemetry: Telemetry) -> None:
        usage = body.get("usage")
        if isinstance(usage, dict) and usage.get("cost") is not None:
            # The gateway's own bill for the call (``usage.cost``); providerMetadata wins.
            telemetry.upstream_cost = str(usage["cost"])
        gateway = _gateway_metadata(body)
        if gateway is None:
            return
        routing = gateway.get("routing")
        if isinstance(routing, dict):
            provider = routing.get("finalProvider") or routing.get("resolvedProvider")
            if isinstance(provider, str):
                telemetry.upstream_provider = provider
            attempts = routing.get("attempts") or routing.get("modelAttempts")
            if isinstance(attempts, list):
                telemetry.routing_attempts = [a for a in attempts if isinstance(a, dict)]
        if gateway.get("cost") is not None:
            telemetry.upstream_cost = str(gateway["cost"])
        if isinstance(gateway.get("generationId"), str):
            telemetry.generation_id = gateway["generationId"]
