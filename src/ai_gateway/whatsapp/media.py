"""Voice notes and images: the steps before the answer.

A voice note is downloaded from the Graph API, its duration read from the file (too long:
a polite reply and no call), transcribed through the gateway — the same pipeline as
``/v1/audio/transcriptions``, metered to the number's client and the contact's
conversation — and its transcript becomes the message the model answers (and the
history's text). An image is downloaded and sent with its caption to a vision-capable
model through ``call_ai``. Every failure is a canned reply, never an error text.
"""

from __future__ import annotations

import base64
import logging
import uuid
from dataclasses import dataclass

from ai_gateway.audio import MAX_AUDIO_BYTES, UnreadableAudio, read_audio_file
from ai_gateway.errors import GatewayError
from ai_gateway.storage.whatsapp import NumberInfo
from ai_gateway.whatsapp.graph import GraphClient, GraphSendError, MediaTooLarge
from ai_gateway.whatsapp.payload import InboundMessage
from ai_gateway.whatsapp.responder import Reply, Transcribe, conversation_id, notice, refusal

__all__ = ["MAX_IMAGE_BYTES", "Heard", "image_data_url", "transcribe_voice_note"]

log = logging.getLogger("ai_gateway.whatsapp")

#: WhatsApp's own limit on images.
MAX_IMAGE_BYTES = 5 * 1024 * 1024
# ISO 639-1 of the number's language, a hint that helps Whisper on short notes.
_LANGUAGE_HINTS = {"pt-BR": "pt", "en": "en", "es": "es"}


@dataclass(frozen=True, slots=True)
class Heard:
    """A voice note's transcript, or the reply to send instead."""

    text: str | None = None
    reply: Reply | None = None


async def transcribe_voice_note(
    *,
    graph: GraphClient,
    token: str,
    transcribe: Transcribe,
    number: NumberInfo,
    message: InboundMessage,
    model: str,
    max_seconds: int,
) -> Heard:
    request_id = uuid.uuid4().hex
    assert message.media_id is not None
    try:
        media = await graph.download_media(
            media_id=message.media_id, token=token, max_bytes=MAX_AUDIO_BYTES
        )
        audio = read_audio_file(
            media.data,
            filename="voice-note." + _extension(message.mime_type or media.mime_type),
            content_type=message.mime_type or media.mime_type or "audio/ogg",
        )
    except MediaTooLarge:
        return Heard(reply=notice(number, "voice_too_long"))
    except (GraphSendError, UnreadableAudio) as exc:
        log.warning("whatsapp voice note unreadable", extra={"error": exc.message})
        return Heard(reply=notice(number, "apology"))
    if audio.duration_seconds > max_seconds:
        return Heard(reply=notice(number, "voice_too_long"))
    try:
        result = await transcribe(
            number.client_id,
            audio,
            model=model,
            conversation_id=conversation_id(message.contact_wa_id),
            request_id=request_id,
            language=_LANGUAGE_HINTS.get(number.language),
        )
    except GatewayError as exc:
        return Heard(reply=refusal(number, exc, request_id))
    text = str(result.body.get("text") or "").strip()
    if not text:
        return Heard(reply=notice(number, "apology", request_id))
    return Heard(text=text)


async def image_data_url(*, graph: GraphClient, token: str, message: InboundMessage) -> str | None:
    """The image as a ``data:`` URL for the model, or None when it cannot be had."""
    assert message.media_id is not None
    try:
        media = await graph.download_media(
            media_id=message.media_id, token=token, max_bytes=MAX_IMAGE_BYTES
        )
    except GraphSendError as exc:
        log.warning("whatsapp image unavailable", extra={"error": exc.message})
        return None
    mime = (message.mime_type or media.mime_type or "image/jpeg").split(";")[0].strip()
    return f"data:{mime};base64,{base64.b64encode(media.data).decode('ascii')}"


def _extension(mime_type: str | None) -> str:
    kind = (mime_type or "").split(";")[0].strip().lower()
    return {
        "audio/ogg": "ogg",
        "audio/mpeg": "mp3",
        "audio/mp4": "m4a",
        "audio/aac": "aac",
        "audio/amr": "amr",
        "audio/wav": "wav",
        "audio/x-wav": "wav",
    }.get(kind, "ogg")
