"""Webhook notifications as Meta sends them, and a signed POST of one to a gateway."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from ai_gateway.whatsapp.signature import sign

__all__ = ["APP_SECRET", "VERIFY_TOKEN", "notification", "post_signed", "status_notification"]

APP_SECRET = "test-app-secret-0123456789"
VERIFY_TOKEN = "test-verify-token"


def _envelope(phone_number_id: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "5511999990000",
                                "phone_number_id": phone_number_id,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def notification(
    *,
    phone_number_id: str,
    wamid: str,
    wa_id: str = "5511987654321",
    text: str | None = "Oi, tudo bem?",
    message_type: str = "text",
    media_id: str = "1234",
    mime_type: str | None = None,
    caption: str | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "from": wa_id,
        "id": wamid,
        "timestamp": "1735689600",
        "type": message_type,
    }
    if message_type == "text":
        message["text"] = {"body": text}
    elif message_type == "image":
        message["image"] = {"id": media_id, "mime_type": mime_type or "image/jpeg", "sha256": "abc"}
        if caption is not None:
            message["image"]["caption"] = caption
    elif message_type == "audio":
        message["audio"] = {
            "id": media_id,
            "mime_type": mime_type or "audio/ogg; codecs=opus",
            "sha256": "abc",
            "voice": True,
        }
    elif message_type == "sticker":
        message["sticker"] = {"id": media_id, "mime_type": "image/webp", "animated": False}
    return _envelope(
        phone_number_id,
        {"contacts": [{"profile": {"name": "Maria"}, "wa_id": wa_id}], "messages": [message]},
    )


def status_notification(*, phone_number_id: str, wamid: str) -> dict[str, Any]:
    status = {
        "id": wamid,
        "status": "delivered",
        "timestamp": "1735689601",
        "recipient_id": "5511987654321",
    }
    return _envelope(phone_number_id, {"statuses": [status]})


async def post_signed(
    base_url: str,
    payload: dict[str, Any] | bytes,
    *,
    secret: str | None = APP_SECRET,
    signature: str | None = None,
) -> tuple[int, bytes]:
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret is not None:
        headers["X-Hub-Signature-256"] = sign(body, secret)
    async with (
        aiohttp.ClientSession() as session,
        session.post(base_url + "/webhooks/whatsapp", data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.read()
