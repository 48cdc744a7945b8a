"""The seed's ``generateAIResponse`` step: from a contact's stored conversation to the
text the bot sends back.

The conversation is the number's system prompt plus the last N stored messages of that
contact (the new one included), sent through ``call_ai`` — the same pipeline as the HTTP
endpoint, so the reply is budgeted, cached, falls back across providers and is metered
under the number's client with ``conversation_id = "whatsapp:<wa_id>"``. Whatever goes
wrong, the contact gets a polite sentence (:mod:`.replies`), never an error text.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ai_gateway.errors import (
    BudgetExceeded,
    ClientPaused,
    GatewayError,
    RateLimited,
    UpstreamError,
)
from ai_gateway.pipeline.outcome import CallResult
from ai_gateway.providers.base import AudioFile
from ai_gateway.storage.whatsapp import NumberInfo, StoredMessage
from ai_gateway.whatsapp.replies import reply_for

__all__ = [
    "CallAi",
    "Reply",
    "Transcribe",
    "build_messages",
    "conversation_id",
    "generate_ai_response",
    "refusal",
]

log = logging.getLogger("ai_gateway.whatsapp")


class CallAi(Protocol):
    """What the responder needs from the gateway (``Gateway.call_ai``)."""

    async def __call__(
        self,
        client_id: str,
        messages: list[dict[str, Any]],
        *,
        model: str | None = None,
        conversation_id: str | None = None,
        request_id: str | None = None,
    ) -> CallResult: ...


class Transcribe(Protocol):
    """What the voice-note step needs from the gateway (``Gateway.transcribe``)."""

    async def __call__(
        self,
        client_id: str,
        audio: AudioFile,
        *,
        model: str,
        conversation_id: str | None = None,
        request_id: str | None = None,
        language: str | None = None,
    ) -> CallResult: ...


@dataclass(frozen=True, slots=True)
class Reply:
    """What to send. ``kind`` is ``text`` for the model's answer and ``notice`` for a canned
    reply (``reason`` says which: budget, paused, apology, text_only, voice_too_long)."""

    text: str
    kind: str
    reason: str | None = None
    request_id: str | None = None


def conversation_id(contact_wa_id: str) -> str:
    return f"whatsapp:{contact_wa_id}"


def build_messages(number: NumberInfo, history: Sequence[StoredMessage]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if number.system_prompt:
        messages.append({"role": "system", "content": number.system_prompt})
    for message in history:
        role = "user" if message.direction == "in" else "assistant"
        messages.append({"role": role, "content": message.text or ""})
    return messages


def notice(number: NumberInfo, reason: str, request_id: str | None = None) -> Reply:
    text = reply_for(reason, language=number.language, overrides=number.replies)
    return Reply(text, "notice", reason, request_id)


def refusal(number: NumberInfo, exc: GatewayError, request_id: str) -> Reply:
    """The canned reply for a call the gateway refused or could not make."""
    if isinstance(exc, BudgetExceeded):
        return notice(number, "budget", request_id)
    if isinstance(exc, ClientPaused):
        return notice(number, "paused", request_id)
    if isinstance(exc, UpstreamError | RateLimited):
        log.warning(
            "whatsapp answer failed upstream",
            extra={"client_id": number.client_id, "code": exc.code, "request_id": request_id},
        )
        return notice(number, "apology", request_id)
    # Not the contact's fault and not theirs to read (e.g. a model removed from the
    # registry): the operator gets the log line, the contact the apology.
    log.error(
        "whatsapp answer refused",
        extra={"client_id": number.client_id, "code": exc.code, "error": exc.message},
    )
    return notice(number, "apology", request_id)


async def generate_ai_response(
    *,
    call_ai: CallAi,
    number: NumberInfo,
    contact_wa_id: str,
    history: Sequence[StoredMessage],
    image_url: str | None = None,
    model: str | None = None,
) -> Reply:
    """The answer to the contact's last message; with ``image_url`` (a data URL) that
    message is sent as text plus the image, to ``model`` (a vision-capable one)."""
    request_id = uuid.uuid4().hex
    messages = build_messages(number, history)
    if image_url is not None and messages and messages[-1]["role"] == "user":
        caption = messages[-1]["content"] or "Descreva esta imagem."
        messages[-1] = {
            "role": "user",
            "content": [
                {"type": "text", "text": caption},
                {"type": "image_url", "image_url": {"url": image_url}},
            ],
        }
    try:
        result = await call_ai(
            number.client_id,
            messages,
            model=model or number.model,
            conversation_id=conversation_id(contact_wa_id),
            request_id=request_id,
        )
    except GatewayError as exc:
        return refusal(number, exc, request_id)
    text = (result.content or "").strip()
    if not text:
        return notice(number, "apology", result.request_id)
    return Reply(text, "text", None, result.request_id)
