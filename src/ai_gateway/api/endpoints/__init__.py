"""The model routes, each a codec over the one pipeline and the one runner
(see :mod:`ai_gateway.api.endpoints.base` and :mod:`ai_gateway.api.endpoints.runner`)."""

from __future__ import annotations

from collections.abc import Callable

from ai_gateway.api.endpoints.base import Codec
from ai_gateway.api.endpoints.chat import ChatCodec
from ai_gateway.api.endpoints.embeddings import EmbeddingsCodec
from ai_gateway.api.endpoints.messages import MessagesCodec
from ai_gateway.api.endpoints.responses import ResponsesCodec
from ai_gateway.api.endpoints.runner import CodecEndpoint
from ai_gateway.api.endpoints.transcriptions import TranscriptionsCodec
from ai_gateway.gateway import Gateway

__all__ = ["CODECS", "CodecEndpoint", "codec_endpoints"]

#: One line per route; adding an endpoint is a codec module and a line here.
CODECS: tuple[type[Codec], ...] = (
    ChatCodec,
    EmbeddingsCodec,
    MessagesCodec,
    ResponsesCodec,
    TranscriptionsCodec,
)


def codec_endpoints(gateway: Callable[[], Gateway]) -> dict[str, CodecEndpoint]:
    """``path -> handler`` for every codec route."""
    return {cls.path: CodecEndpoint(gateway, cls()) for cls in CODECS}
