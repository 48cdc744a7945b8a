"""Reading Meta's webhook notifications (WhatsApp Business Cloud API).

A notification is ``{"object": "whatsapp_business_account", "entry": [{"id", "changes":
[{"field": "messages", "value": {...}}]}]}`` where ``value`` carries
``metadata.phone_number_id`` (the business number that received it), ``contacts``
(``wa_id`` and profile name) and ``messages`` (each with ``id`` = the ``wamid``,
``from``, ``timestamp``, ``type`` and, for text, ``text.body``; for a voice note or an
audio file ``audio.id`` (a Graph API media id) and ``audio.mime_type``; for an image
``image.id``, ``image.mime_type`` and an optional ``image.caption``) — or ``statuses``
(delivery receipts for what we sent), which need no answer. Anything malformed is
skipped, never raised: Meta would only redeliver it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["InboundMessage", "parse_notification"]


@dataclass(frozen=True, slots=True)
class InboundMessage:
    phone_number_id: str
    wamid: str
    contact_wa_id: str
    message_type: str
    text: str | None
    contact_name: str | None = None
    #: The Graph API media id of an audio or image message, and its MIME type.
    media_id: str | None = None
    mime_type: str | None = None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _message(
    phone_number_id: str, raw: dict[str, Any], names: dict[str, str]
) -> InboundMessage | None:
    wamid, sender = raw.get("id"), raw.get("from")
    if not isinstance(wamid, str) or not wamid or not isinstance(sender, str) or not sender:
        return None
    kind = raw.get("type") if isinstance(raw.get("type"), str) else "unknown"
    text = None
    if kind == "text":
        body = (raw.get("text") or {}).get("body") if isinstance(raw.get("text"), dict) else None
        text = body if isinstance(body, str) and body.strip() else None
        if text is None:
            kind = "empty"
    media_id = mime_type = None
    if kind in ("audio", "image"):
        found = raw.get(kind)
        media: dict[str, Any] = found if isinstance(found, dict) else {}
        if isinstance(media.get("id"), str) and media["id"]:
            media_id = media["id"]
            mime_type = media.get("mime_type") if isinstance(media.get("mime_type"), str) else None
        caption = media.get("caption")
        if kind == "image" and isinstance(caption, str) and caption.strip():
            text = caption
    return InboundMessage(
        phone_number_id,
        wamid,
        sender,
        str(kind),
        text,
        names.get(sender),
        media_id=media_id,
        mime_type=mime_type,
    )


def parse_notification(payload: Any) -> list[InboundMessage]:
    """Every inbound message in a notification, in order (statuses are dropped)."""
    found: list[InboundMessage] = []
    if not isinstance(payload, dict):
        return found
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            phone_number_id = metadata.get("phone_number_id") if metadata else None
            if not isinstance(phone_number_id, str) or not phone_number_id:
                continue
            names = {
                str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "")
                for c in _dicts(value.get("contacts"))
            }
            for raw in _dicts(value.get("messages")):
                message = _message(phone_number_id, raw, names)
                if message is not None:
                    found.append(message)
    return found
