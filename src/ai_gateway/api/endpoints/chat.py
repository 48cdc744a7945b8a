"""``POST /v1/chat/completions``: the OpenAI chat wire format, the gateway's own.

The pipeline speaks it natively, so the codec only checks the body
(``pipeline/validation.py``), writes the answer with orjson and frames the pipeline's
chunks as server-sent events (``data: [DONE]`` at the end, unless the stream ended on an
error event, as OpenAI does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import orjson

from ai_gateway.api.endpoints.base import CallContext, Codec, Parsed, Rendered, decode_json
from ai_gateway.pipeline.outcome import CallResult
from ai_gateway.pipeline.validation import parse_chat_request

if TYPE_CHECKING:
    from ai_gateway.pipeline.run import StreamCall

__all__ = ["PATH", "ChatCodec"]

PATH = "/v1/chat/completions"
_DONE = b"data: [DONE]\n\n"


class ChatCodec(Codec):
    path = PATH
    endpoint = "chat.completions"

    async def parse(self, ctx: CallContext, body: bytes) -> Parsed:
        request, options = parse_chat_request(decode_json(body))
        return Parsed(request, options)

    async def render(self, ctx: CallContext, parsed: Parsed, result: CallResult) -> Rendered:
        return Rendered(orjson.dumps(result.body))

    def stream(self, ctx: CallContext, parsed: Parsed, call: StreamCall) -> AsyncIterator[bytes]:
        return _events(call)


async def _events(call: StreamCall) -> AsyncIterator[bytes]:
    chunks = call.__aiter__()
    failed = False
    try:
        async for chunk in chunks:
            failed = failed or "error" in chunk
            yield b"data: " + orjson.dumps(chunk) + b"\n\n"
        if not failed:
            yield _DONE
    finally:
        await chunks.aclose()
