"""The generateAIResponse step: conversation in, a reply out — never an error text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ai_gateway.errors import (
    BudgetExceeded,
    ClientPaused,
    GatewayError,
    ModelNotFound,
    UpstreamTimeout,
)
from ai_gateway.pipeline.outcome import CallResult
from ai_gateway.storage.whatsapp import NumberInfo, StoredMessage
from ai_gateway.whatsapp.replies import LANGUAGES
from ai_gateway.whatsapp.responder import generate_ai_response

NOW = datetime.now(UTC)


def number(**changes: Any) -> NumberInfo:
    values: dict[str, Any] = {
        "phone_number_id": "1",
        "client_id": "c1",
        "model": "openai/gpt-4o-mini",
        "system_prompt": "Seja gentil.",
        "history_length": 10,
        "language": "pt-BR",
        "replies": {},
        "is_active": True,
        "created_at": NOW,
    }
    values.update(changes)
    return NumberInfo(**values)


HISTORY = [
    StoredMessage(1, "in", "text", "oi", NOW),
    StoredMessage(2, "out", "text", "olá!", NOW),
    StoredMessage(3, "in", "text", "quanto custa?", NOW),
]


class FakeCall:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, client_id: str, messages: list[dict[str, Any]], **kw: Any) -> Any:
        self.calls.append({"client_id": client_id, "messages": messages, **kw})
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def result(text: str | None) -> CallResult:
    body = {"choices": [{"message": {"role": "assistant", "content": text}}]}
    return CallResult(body, "req-1", "m", "openai", "direct", False, None, 0, 0, 0, 0)  # type: ignore[arg-type]


async def test_answer_is_built_from_the_history() -> None:
    call = FakeCall(result("  R$ 10  "))
    reply = await generate_ai_response(
        call_ai=call, number=number(), contact_wa_id="5511", history=HISTORY
    )
    assert (reply.text, reply.kind, reply.request_id) == ("R$ 10", "text", "req-1")
    [made] = call.calls
    assert made["client_id"] == "c1" and made["model"] == "openai/gpt-4o-mini"
    assert made["conversation_id"] == "whatsapp:5511"
    assert [m["role"] for m in made["messages"]] == ["system", "user", "assistant", "user"]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (BudgetExceeded("budget exhausted: 10 of 10 brl"), "budget"),
        (ClientPaused("client is paused"), "paused"),
        (UpstreamTimeout("timed out"), "apology"),
        (ModelNotFound("no model"), "apology"),
        (GatewayError("boom"), "apology"),
    ],
)
async def test_failures_become_polite_portuguese(error: GatewayError, reason: str) -> None:
    reply = await generate_ai_response(
        call_ai=FakeCall(error), number=number(), contact_wa_id="5511", history=HISTORY
    )
    assert reply.kind == "notice" and reply.reason == reason
    assert reply.text == LANGUAGES["pt-BR"][reason]
    assert error.message not in reply.text


async def test_empty_answer_overrides_and_language() -> None:
    en = await generate_ai_response(
        call_ai=FakeCall(result(None)), number=number(language="en"), contact_wa_id="1", history=[]
    )
    assert en.text == LANGUAGES["en"]["apology"]
    custom = await generate_ai_response(
        call_ai=FakeCall(BudgetExceeded("x")),
        number=number(replies={"budget": "Volte amanhã"}),
        contact_wa_id="1",
        history=[],
    )
    assert custom.text == "Volte amanhã"
