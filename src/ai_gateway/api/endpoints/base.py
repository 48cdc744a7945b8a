"""The contract of an endpoint codec: one wire format in front of the one pipeline.

A codec parses its route's body into the pipeline's internal :class:`ChatRequest`
(chat, embedding or transcription) and renders the pipeline's answer — or its stream of
OpenAI chunks — in the route's own wire format. Auth, flags, budget, cache, routing and
fallback, the provider call and metering are the pipeline's, identical for every route;
a codec never calls a provider, so its bad-input errors (400) can never cost a call.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from ai_gateway.errors import GatewayError, InvalidRequest
from ai_gateway.pipeline.outcome import CallResult
from ai_gateway.pipeline.validation import GatewayOptions
from ai_gateway.providers.base import ChatRequest
from ai_gateway.services.auth import bearer_token
from ai_gateway.storage.clients import ClientInfo
from ai_gateway.types import JSON

if TYPE_CHECKING:
    from ai_gateway.gateway import Gateway
    from ai_gateway.pipeline.run import StreamCall

__all__ = ["CallContext", "Codec", "Parsed", "Rendered", "decode_json"]


@dataclass(slots=True)
class CallContext:
    """What a codec may know about the call besides its body."""

    gateway: Gateway
    client: ClientInfo
    headers: dict[str, str]
    request_id: str


@dataclass(slots=True)
class Parsed:
    """The pipeline's request, the gateway options, and what the codec keeps for
    rendering (``state``: the caller's encoding, a stored conversation, ...)."""

    request: ChatRequest
    options: GatewayOptions = field(default_factory=lambda: GatewayOptions(None))
    state: Any = None


@dataclass(slots=True, frozen=True)
class Rendered:
    body: bytes
    content_type: bytes = b"application/json"


def decode_json(body: bytes) -> JSON:
    """The body as a JSON object, or a 400 that says why not."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"the body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(value, dict):
        raise InvalidRequest("the request body must be a JSON object", code="invalid_json")
    return value


class Codec(ABC):
    #: The route, e.g. ``/v1/embeddings``.
    path: ClassVar[str]
    #: The usage row's ``endpoint`` for calls on this route.
    endpoint: ClassVar[str]

    def credentials(self, headers: dict[str, str]) -> str:
        """The client key sent with the call (``Authorization: Bearer`` by default)."""
        return bearer_token(headers.get("authorization"))

    def body_limit(self, default: int) -> int:
        return default

    @abstractmethod
    async def parse(self, ctx: CallContext, body: bytes) -> Parsed:
        """Validate the body (400 for anything wrong) and build the pipeline request."""

    @abstractmethod
    async def render(self, ctx: CallContext, parsed: Parsed, result: CallResult) -> Rendered:
        """The answer in the route's wire format."""

    def stream(self, ctx: CallContext, parsed: Parsed, call: StreamCall) -> AsyncIterator[bytes]:
        """Server-sent events of the route's wire format, from the pipeline's chunks.
        Implementations close ``call``'s iterator when they end (that meters the call)."""
        raise InvalidRequest("this endpoint does not stream", param="stream")

    def error_body(self, exc: GatewayError) -> bytes:
        """An error in the route's error shape (OpenAI's unless the codec says otherwise)."""
        return orjson.dumps(exc.to_body())
