"""``GET /v1/models``: the active registry models, in OpenAI's list shape, each with its
``kind`` (chat, embedding, transcription: which endpoints may call it); ``?kind=`` filters."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from ai_gateway.api.deps import GatewayDep, PrincipalDep

__all__ = ["router"]

router = APIRouter(tags=["openai"])


@router.get("/v1/models", summary="Active models (OpenAI list shape)")
async def list_models(
    gateway: GatewayDep,
    _principal: PrincipalDep,
    kind: Literal["chat", "embedding", "transcription"] | None = None,
) -> dict[str, Any]:
    snapshot = await gateway.config.get()
    data = [
        {
            "id": model.id,
            "object": "model",
            "created": int(model.created_at.timestamp()),
            "owned_by": model.provider,
            "name": model.display_name,
            "kind": model.kind,
            "context_window": model.context_window,
            "capabilities": list(model.capabilities),
            "pricing": {
                "input_per_1m_usd": _money(model.input_price_per_1m),
                "output_per_1m_usd": _money(model.output_price_per_1m),
                "cached_input_per_1m_usd": _money(model.cached_input_price_per_1m),
                "per_minute_usd": _money(model.price_per_minute),
                "cache_write_per_1m_usd": _money(model.cache_write_price_per_1m),
            },
        }
        for model in sorted(snapshot.models.values(), key=lambda m: (m.provider, m.id))
        if model.is_active and (kind is None or model.kind == kind)
    ]
    return {"object": "list", "data": data}


def _money(value: object) -> str | None:
    return None if value is None else str(value)
