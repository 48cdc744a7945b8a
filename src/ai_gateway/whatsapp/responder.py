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
from ai_gateway.storage.whatsapp import NumberInfo, StoredMessage
from ai_gateway.whatsapp.replies import reply_for

__all__ = ["CallAi", "Reply", "build_messages", "conversation_id", "generate_ai_response"]

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


@dataclass(frozen=True, slots=True)
class Reply:
    """What to send. ``kind`` is ``text`` for the model's answer and ``notice`` for a canned
    reply (``reason`` says which: budget, paused, apology, text_only)."""

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


async def generate_ai_response(
    *,
    call_ai: CallAi,
    number: NumberInfo,
    contact_wa_id: str,
    history: Sequence[StoredMessage],
) -> Reply:
    request_id = uuid.uuid4().hex
    try:
        result = await call_ai(
            number.client_id,
            build_messages(number, history),
            model=number.model,
            conversation_id=conversation_id(contact_wa_id),
            request_id=request_id,
        )
    except BudgetExceeded:
        return notice(number, "budget", request_id)
    except ClientPaused:
        return notice(number, "paused", request_id)
    except (UpstreamError, RateLimited) as exc:
        log.warning(
            "whatsapp answer failed upstream",
            extra={"client_id": number.client_id, "code": exc.code, "request_id": request_id},
        )
        return notice(number, "apology", request_id)
    except GatewayError as exc:
        # Not the contact's fault and not theirs to read (e.g. a model removed from the
        # registry): the operator gets the log line, the contact the apology.
        log.error(
            "whatsapp answer refused",
            extra={"client_id": number.client_id, "code": exc.code, "error": exc.message},
        )
        return notice(number, "apology", request_id)
    text = (result.content or "").strip()
    if not text:
        return notice(number, "apology", result.request_id)
    return Reply(text, "text", None, result.request_id)
