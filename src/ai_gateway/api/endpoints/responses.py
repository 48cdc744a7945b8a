"""``POST /v1/responses``: OpenAI's Responses API, for every provider.

``store`` (default true) keeps the answer and the conversation up to it for
``responses_retention_days``; ``previous_response_id`` continues a stored conversation of
the same client (another client's id is a 404, like an unknown one). The row is written
before the answer — or the stream's ``response.completed`` — is sent, so a client can
continue at once. A stream is the real event sequence: ``response.created``,
``response.in_progress``, per output item ``response.output_item.added`` ..
``response.output_item.done`` (with ``response.content_part.*`` and
``response.output_text.delta/done``, or ``response.function_call_arguments.delta/done``),
then ``response.completed`` (``response.incomplete`` when cut by max_output_tokens)
carrying usage.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy.exc import SQLAlchemyError

from ai_gateway.api.endpoints.base import CallContext, Codec, Parsed, Rendered, decode_json
from ai_gateway.api.endpoints.responses_wire import (
    ResponsesCall,
    assistant_message,
    function_call_item,
    message_item,
    new_id,
    parse_responses_request,
    response_object,
)
from ai_gateway.errors import NotFound
from ai_gateway.pipeline.outcome import CallResult
from ai_gateway.pipeline.validation import GatewayOptions
from ai_gateway.providers.base import Usage
from ai_gateway.storage.stored_responses import get_response, save_response
from ai_gateway.types import JSON

if TYPE_CHECKING:
    from ai_gateway.pipeline.run import StreamCall

__all__ = ["ResponsesCodec"]

log = logging.getLogger("ai_gateway.api")


class ResponsesCodec(Codec):
    path = "/v1/responses"
    endpoint = "responses"

    async def parse(self, ctx: CallContext, body: bytes) -> Parsed:
        request, call = parse_responses_request(decode_json(body))
        if call.previous_response_id is not None:
            previous = await _load(ctx, call.previous_response_id)
            call.conversation = previous + call.conversation
        instructions = call.echo["instructions"]
        system = [{"role": "system", "content": instructions}] if instructions else []
        request.messages = system + call.conversation
        return Parsed(request, GatewayOptions(call.fallback_models), state=call)

    async def render(self, ctx: CallContext, parsed: Parsed, result: CallResult) -> Rendered:
        call: ResponsesCall = parsed.state
        choice = (result.body.get("choices") or [{}])[0]
        message = choice.get("message") or {}
        text = message.get("content") if isinstance(message.get("content"), str) else ""
        calls = [
            (
                c.get("id") or new_id("call"),
                (c.get("function") or {}).get("name", ""),
                (c.get("function") or {}).get("arguments") or "",
            )
            for c in message.get("tool_calls") or []
        ]
        output: list[JSON] = [message_item(new_id("msg"), text)] if text else []
        output += [function_call_item(new_id("fc"), cid, n, a) for cid, n, a in calls]
        status = "incomplete" if choice.get("finish_reason") == "length" else "completed"
        answer = response_object(
            call, model=result.model, status=status, output=output, usage=result.usage
        )
        await _store(ctx, call, result.model, answer, assistant_message(text or "", calls))
        return Rendered(orjson.dumps(answer))

    def stream(self, ctx: CallContext, parsed: Parsed, call: StreamCall) -> AsyncIterator[bytes]:
        return _ResponseEvents(ctx, parsed.state, call).events()


async def _load(ctx: CallContext, response_id: str) -> list[JSON]:
    db, client_id = ctx.gateway.db, ctx.client.id

    def read() -> list[JSON] | None:
        with db.tenant_session(client_id) as s:
            stored = get_response(
                s, client_id=client_id, response_id=response_id, now=datetime.now(UTC)
            )
            return stored.conversation if stored is not None else None

    conversation = await db.run(read)
    if conversation is None:
        raise NotFound(
            f"no stored response '{response_id}' (unknown, expired, or not yours)",
            code="response_not_found",
            param="previous_response_id",
        )
    return conversation


async def _store(
    ctx: CallContext, call: ResponsesCall, model: str, answer: JSON, reply: JSON
) -> None:
    """Keep the answer (``answer["store"]`` becomes false if the database refused it: the
    call was made and billed, so the caller still gets its answer, told it is not kept)."""
    if not call.store:
        return
    db, client_id = ctx.gateway.db, ctx.client.id
    retention = timedelta(days=ctx.gateway.settings.responses_retention_days)

    def write() -> None:
        with db.tenant_session(client_id) as s:
            save_response(
                s,
                client_id=client_id,
                response_id=call.response_id,
                model=model,
                conversation=[*call.conversation, reply],
                body=answer,
                now=datetime.now(UTC),
                retention=retention,
            )

    try:
        await db.run(write)
    except SQLAlchemyError:
        log.exception("stored response not written", extra={"request_id": ctx.request_id})
        answer["store"] = False


class _ResponseEvents:
    """OpenAI chunks in, Responses events out (each with its ``sequence_number``)."""

    def __init__(self, ctx: CallContext, state: ResponsesCall, call: StreamCall) -> None:
        self._ctx = ctx
        self._state = state
        self._call = call
        self._sequence = 0
        self._output: list[JSON] = []
        self._text: str | None = None  # the open message's text, None when none is open
        self._text_id = ""
        self._tools: dict[int, JSON] = {}  # OpenAI tool index -> open function_call item
        self._usage = Usage()
        self._finish: str | None = None

    def _event(self, kind: str, **data: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self._sequence, **data}
        self._sequence += 1
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"

    def _response(self, status: str, usage: Usage | None = None) -> JSON:
        return response_object(
            self._state, model=self._call.model, status=status, output=self._output, usage=usage
        )

    def _open_text(self) -> list[bytes]:
        self._text, self._text_id = "", new_id("msg")
        index = len(self._output)
        self._output.append(message_item(self._text_id, "", status="in_progress"))
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        return [
            self._event("response.output_item.added", output_index=index, item=self._output[-1]),
            self._event(
                "response.content_part.added",
                item_id=self._text_id,
                output_index=index,
                content_index=0,
                part=part,
            ),
        ]

    def _close_text(self) -> list[bytes]:
        if self._text is None:
            return []
        text, self._text = self._text, None
        index = next(i for i, item in enumerate(self._output) if item["id"] == self._text_id)
        item = message_item(self._text_id, text)
        self._output[index] = item
        where = {"item_id": self._text_id, "output_index": index, "content_index": 0}
        return [
            self._event("response.output_text.done", **where, text=text, logprobs=[]),
            self._event("response.content_part.done", **where, part=item["content"][0]),
            self._event("response.output_item.done", output_index=index, item=item),
        ]

    def _text_delta(self, delta: str) -> list[bytes]:
        out = self._open_text() if self._text is None else []
        self._text = (self._text or "") + delta
        index = len(self._output) - 1
        out.append(
            self._event(
                "response.output_text.delta",
                item_id=self._text_id,
                output_index=index,
                content_index=0,
                delta=delta,
                logprobs=[],
            )
        )
        return out

    def _tool_delta(self, tool: JSON) -> list[bytes]:
        out: list[bytes] = []
        function = tool.get("function") or {}
        key = int(tool.get("index", 0))
        item = self._tools.get(key)
        if item is None:
            out += self._close_text()
            item = function_call_item(
                new_id("fc"),
                tool.get("id") or new_id("call"),
                function.get("name") or "",
                "",
                status="in_progress",
            )
            self._tools[key] = item
            self._output.append(item)
            out.append(
                self._event(
                    "response.output_item.added", output_index=len(self._output) - 1, item=item
                )
            )
        if function.get("arguments"):
            item["arguments"] += function["arguments"]
            out.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=self._output.index(item),
                    delta=function["arguments"],
                )
            )
        return out

    def _close_tools(self) -> list[bytes]:
        out: list[bytes] = []
        for item in self._tools.values():
            item["status"] = "completed"
            index = self._output.index(item)
            out.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=index,
                    arguments=item["arguments"],
                )
            )
            out.append(self._event("response.output_item.done", output_index=index, item=item))
        return out

    def _translate(self, chunk: JSON) -> list[bytes]:
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            details = usage.get("prompt_tokens_details") or {}
            self._usage = Usage(
                int(usage.get("prompt_tokens") or 0),
                int(usage.get("completion_tokens") or 0),
                int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0,
            )
        out: list[bytes] = []
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                out += self._text_delta(delta["content"])
            for tool in delta.get("tool_calls") or []:
                out += self._tool_delta(tool)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
        return out

    async def events(self) -> AsyncIterator[bytes]:
        chunks = self._call.__aiter__()
        try:
            yield self._event("response.created", response=self._response("in_progress"))
            yield self._event("response.in_progress", response=self._response("in_progress"))
            async for chunk in chunks:
                if "error" in chunk:
                    error = chunk["error"]
                    yield self._event(
                        "error", code=error.get("code"), message=error["message"], param=None
                    )
                    return
                for event in self._translate(chunk):
                    yield event
            for event in [*self._close_text(), *self._close_tools()]:
                yield event
            status = "incomplete" if self._finish == "length" else "completed"
            final = self._response(status, self._usage)
            text = "".join(
                part["text"]
                for item in self._output
                if item["type"] == "message"
                for part in item["content"]
            )
            calls = [
                (i["call_id"], i["name"], i["arguments"])
                for i in self._output
                if i["type"] == "function_call"
            ]
            await _store(
                self._ctx, self._state, self._call.model, final, assistant_message(text, calls)
            )
            yield self._event(f"response.{status}", response=final)
        finally:
            await chunks.aclose()
