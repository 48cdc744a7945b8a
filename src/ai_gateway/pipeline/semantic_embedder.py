"""The semantic cache's default embedder: the configured embedding model, called through
the gateway's own pipeline on behalf of the client whose question it is.

So the embedding is an ordinary ``embeddings`` call of that client: priced from the
registry, metered in its usage log (``endpoint = 'embeddings'``, the chat call's
conversation), counted against its budget and rate limits, served by any provider with a
fallback chain, and exactly cached (a question asked twice word for word is embedded
once). A refusal (budget, rate limit, a model that is not configured) or an upstream
failure is logged and makes the semantic lookup a miss; it never fails the chat call.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ai_gateway.cache.semantic import unit
from ai_gateway.cache.semantic_index import Vector
from ai_gateway.errors import GatewayError
from ai_gateway.pipeline.outcome import CallMeta
from ai_gateway.pipeline.validation import GatewayOptions
from ai_gateway.providers.base import ChatRequest
from ai_gateway.storage.clients import ClientInfo

if TYPE_CHECKING:
    from ai_gateway.pipeline.run import ChatPipeline

__all__ = ["PipelineEmbedder"]

_log = logging.getLogger(__name__)


class PipelineEmbedder:
    def __init__(self, pipeline: ChatPipeline, model: str) -> None:
        self._pipeline = pipeline
        self.model = model

    async def embed(
        self, client: ClientInfo, text: str, *, request_id: str, conversation_id: str | None
    ) -> Vector | None:
        request = ChatRequest(
            model=self.model, messages=[], params={"input": [text]}, kind="embedding"
        )
        meta = CallMeta(
            request_id=f"{request_id}-embed"[:64],
            conversation_id=conversation_id,
            endpoint="embeddings",
        )
        try:
            result = await self._pipeline.complete(client, request, GatewayOptions(None), meta)
        except GatewayError as exc:
            _log.warning(
                "semantic cache: embedding with %s failed (%s), serving as a miss",
                self.model,
                exc.code,
            )
            return None
        data = result.body.get("data") or []
        values = data[0].get("embedding") if data and isinstance(data[0], dict) else None
        vector = unit(values) if isinstance(values, list) else None
        if vector is None:
            _log.warning("semantic cache: %s returned no usable embedding", self.model)
        return vector
