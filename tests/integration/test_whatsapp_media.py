"""WhatsApp voice notes and images end to end: the media is downloaded from the Graph API
with the number's token, a voice note is transcribed through the gateway and answered as
text (both calls metered to the client and the conversation), an image goes to a vision
model with its caption; a long voice note and an exhausted budget get polite replies."""

from __future__ import annotations

import asyncio
import io
import wave
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from ai_gateway.storage.budgets import increment_budget_usage
from ai_gateway.storage.tables import UsageLog, WhatsAppMessage
from ai_gateway.storage.whatsapp import add_number
from ai_gateway.vault import MasterKey
from ai_gateway.whatsapp.replies import LANGUAGES
from tests.fakes.fake_graph import FakeGraph
from tests.fakes.whatsapp_payloads import APP_SECRET, VERIFY_TOKEN, notification, post_signed
from tests.harness import PROVIDER_KEYS, Harness

NUMBER = "106540352242922"
CONTACT = "5511987654321"
TOKEN = "EAAGtestWHATSAPPtoken000123"
PT = LANGUAGES["pt-BR"]


@pytest.fixture
def settings_overrides(fake_graph: FakeGraph) -> dict[str, Any]:
    return {
        "whatsapp_verify_token": VERIFY_TOKEN,
        "whatsapp_app_secret": APP_SECRET,
        "whatsapp_graph_base_url": fake_graph.base_url,
        "whatsapp_max_voice_seconds": 60,
    }


def wav(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(seconds * rate))
    return buffer.getvalue()


def register(h: Harness) -> None:
    assert h.settings.master_key is not None
    with h.db.write() as s:
        add_number(
            s,
            master=MasterKey.from_base64(h.settings.master_key),
            client_id=h.client.id,
            phone_number_id=NUMBER,
            model="openai/gpt-4o-mini",
            access_token=TOKEN,
            system_prompt="Você é o assistente da Acme.",
        )


async def settle(h: Harness) -> None:
    async with asyncio.timeout(15):
        await h.gateway.whatsapp.drain()
    await h.drain()


def usage(h: Harness) -> list[UsageLog]:
    with h.db.session() as s:
        return list(s.scalars(select(UsageLog).order_by(UsageLog.created_at, UsageLog.id)))


async def test_voice_note_is_transcribed_answered_and_both_calls_metered(
    harness: Harness, fake_graph: FakeGraph
) -> None:
    register(harness)
    audio = wav(6.0)
    fake_graph.add_media("AUDIO1", audio, "audio/wav")
    payload = notification(
        phone_number_id=NUMBER,
        wamid="wamid.V1",
        message_type="audio",
        media_id="AUDIO1",
        mime_type="audio/wav",
    )
    assert (await post_signed(harness.url, payload))[0] == 200
    await settle(harness)

    assert {auth for _, auth in fake_graph.media_requests} == {f"Bearer {TOKEN}"}
    heard = harness.fake.last_request("groq")
    assert heard.path.endswith("/audio/transcriptions")
    assert heard.headers["authorization"] == f"Bearer {PROVIDER_KEYS['groq']}"
    assert heard.body["model"] == "whisper-large-v3-turbo" and heard.body["language"] == "pt"
    transcript = f"Fake groq transcript of voice-note.wav ({len(audio)} bytes)"
    asked = harness.fake.last_request("openai").body["messages"]
    assert asked[-1] == {"role": "user", "content": transcript}
    [sent] = fake_graph.requests
    assert sent.text == f"Fake openai answer to: {transcript[:40]}"

    heard_row, answer_row = usage(harness)
    assert (heard_row.endpoint, answer_row.endpoint) == ("audio.transcriptions", "chat.completions")
    for row in (heard_row, answer_row):
        assert row.client_id == harness.client.id
        assert row.conversation_id == f"whatsapp:{CONTACT}" and row.status == "success"
    # Six seconds of audio at Groq's $0.04 an hour, from the file, not the upstream's claim.
    assert heard_row.cost_usd == (Decimal(6) * Decimal("0.000667") / 60).quantize(Decimal("1e-10"))
    assert harness.budget_usage(harness.client.id) == heard_row.cost_brl + answer_row.cost_brl
    with harness.db.session() as s:
        inbound = s.scalars(select(WhatsAppMessage).where(WhatsAppMessage.direction == "in")).one()
    assert inbound.text == transcript and inbound.status == "answered"


async def test_a_long_voice_note_gets_a_polite_reply_and_no_call(
    harness: Harness, fake_graph: FakeGraph
) -> None:
    register(harness)
    fake_graph.add_media("LONG", wav(61.0), "audio/wav")
    payload = notification(
        phone_number_id=NUMBER, wamid="wamid.V2", message_type="audio", media_id="LONG"
    )
    assert (await post_signed(harness.url, payload))[0] == 200
    await settle(harness)
    [sent] = fake_graph.requests
    assert sent.text == PT["voice_too_long"]
    assert harness.fake.requests == [] and usage(harness) == []


async def test_a_voice_note_with_the_budget_out_gets_the_budget_reply(
    harness: Harness, fake_graph: FakeGraph
) -> None:
    register(harness)
    with harness.db.write() as s:
        increment_budget_usage(s, client_id=harness.client.id, amount=Decimal("100000"))
    harness.gateway.budgets.forget(harness.client.id)
    fake_graph.add_media("AUDIO3", wav(2.0), "audio/wav")
    payload = notification(
        phone_number_id=NUMBER, wamid="wamid.V3", message_type="audio", media_id="AUDIO3"
    )
    assert (await post_signed(harness.url, payload))[0] == 200
    await settle(harness)
    [sent] = fake_graph.requests
    assert sent.text == PT["budget"]
    assert harness.fake.requests == []
    [row] = usage(harness)
    assert row.status == "rejected" and row.endpoint == "audio.transcriptions"


async def test_an_image_goes_to_the_vision_model_with_its_caption(
    harness: Harness, fake_graph: FakeGraph
) -> None:
    register(harness)
    fake_graph.add_media("IMG1", b"\x89PNG fake image bytes", "image/png")
    payload = notification(
        phone_number_id=NUMBER,
        wamid="wamid.I1",
        message_type="image",
        media_id="IMG1",
        mime_type="image/png",
        caption="O que é isto?",
    )
    assert (await post_signed(harness.url, payload))[0] == 200
    await settle(harness)
    asked = harness.fake.last_request("openai").body
    assert asked["model"] == "gpt-4o-mini"
    assert asked["messages"][-1]["content"] == [
        {"type": "text", "text": "O que é isto?"},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64,iVBORyBmYWtlIGltYWdlIGJ5dGVz"},
        },
    ]
    [sent] = fake_graph.requests
    assert sent.text == "Fake openai answer to: O que é isto?"
    [row] = usage(harness)
    assert row.conversation_id == f"whatsapp:{CONTACT}" and row.cost_usd > 0
