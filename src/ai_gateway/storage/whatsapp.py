"""WhatsApp numbers (per-client bot settings) and the message log.

A number's Graph API access token lives in the vault as secret
``whatsapp:<phone_number_id>``; these functions seal and open it but never return it in
a listing (only its masked form). Inbound messages are *claimed* with
``INSERT ... ON CONFLICT (wamid) DO NOTHING``: exactly one delivery of a message gets its
row id back, so a redelivered or raced message is processed once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ai_gateway.errors import Conflict, InvalidRequest
from ai_gateway.storage.clients import get_client
from ai_gateway.storage.secrets import get_secret, set_secret
from ai_gateway.storage.tables import AiModel, Secret, WhatsAppMessage, WhatsAppNumber
from ai_gateway.vault import MasterKey

__all__ = [
    "REPLY_KINDS",
    "NumberInfo",
    "StoredMessage",
    "access_token",
    "add_number",
    "claim_inbound",
    "get_number",
    "list_numbers",
    "recent_messages",
    "record_outbound",
    "set_message_status",
    "set_message_text",
    "token_secret_id",
]

#: The canned replies a number may override (see :mod:`ai_gateway.whatsapp.replies`).
REPLY_KINDS = ("budget", "paused", "apology", "text_only", "voice_too_long")
_PHONE_NUMBER_ID = re.compile(r"^[0-9]{1,50}$")


def token_secret_id(phone_number_id: str) -> str:
    return f"whatsapp:{phone_number_id}"


@dataclass(frozen=True, slots=True)
class NumberInfo:
    phone_number_id: str
    client_id: str
    model: str
    system_prompt: str | None
    history_length: int
    language: str
    replies: dict[str, str]
    is_active: bool
    created_at: datetime
    token_masked: str | None = None

    @classmethod
    def of(cls, row: WhatsAppNumber, token_masked: str | None = None) -> NumberInfo:
        return cls(
            row.phone_number_id,
            row.client_id,
            row.model,
            row.system_prompt,
            row.history_length,
            row.language,
            dict(row.replies or {}),
            row.is_active,
            row.created_at,
            token_masked,
        )


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    direction: str
    message_type: str
    text: str | None
    created_at: datetime


def _check_model(session: Session, model: str) -> None:
    known = session.scalars(select(AiModel).where(AiModel.is_active.is_(True))).all()
    if not any(model == m.id or model in (m.aliases or []) for m in known):
        raise InvalidRequest(
            f"unknown model '{model}'; see `ai-gateway models list`", param="model"
        )


def add_number(
    session: Session,
    *,
    master: MasterKey,
    client_id: str,
    phone_number_id: str,
    model: str,
    access_token: str,
    system_prompt: str | None = None,
    history_length: int = 10,
    language: str = "pt-BR",
    replies: dict[str, str] | None = None,
) -> NumberInfo:
    """Register (or re-configure) a client's number and seal its access token. A number
    already owned by another client is a conflict."""
    if not _PHONE_NUMBER_ID.match(phone_number_id):
        raise InvalidRequest(
            "a phone_number_id is the numeric id Meta shows for the number (digits only)",
            param="phone_number_id",
        )
    if not 0 <= history_length <= 100:
        raise InvalidRequest("history must be between 0 and 100 messages", param="history")
    unknown = set(replies or {}) - set(REPLY_KINDS)
    if unknown:
        raise InvalidRequest(f"unknown reply kinds: {', '.join(sorted(unknown))}")
    client = get_client(session, client_id)
    _check_model(session, model)
    row = session.get(WhatsAppNumber, phone_number_id)
    if row is not None and row.client_id != client.id:
        raise Conflict(f"number {phone_number_id} belongs to another client")
    info = set_secret(
        session, master=master, secret_id=token_secret_id(phone_number_id), value=access_token
    )
    values: dict[str, Any] = {
        "client_id": client.id,
        "model": model,
        "system_prompt": system_prompt,
        "history_length": history_length,
        "language": language,
        "replies": dict(replies or {}),
        "is_active": True,
    }
    if row is None:
        row = WhatsAppNumber(phone_number_id=phone_number_id, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    return NumberInfo.of(row, info.masked)


def get_number(session: Session, phone_number_id: str) -> NumberInfo | None:
    row = session.get(WhatsAppNumber, phone_number_id)
    return None if row is None else NumberInfo.of(row)


def list_numbers(session: Session, *, client_id: str | None = None) -> list[NumberInfo]:
    query = (
        select(WhatsAppNumber, Secret.masked)
        .outerjoin(Secret, Secret.id == "whatsapp:" + WhatsAppNumber.phone_number_id)
        .order_by(WhatsAppNumber.created_at, WhatsAppNumber.phone_number_id)
    )
    if client_id is not None:
        query = query.where(WhatsAppNumber.client_id == client_id)
    return [NumberInfo.of(row, masked) for row, masked in session.execute(query)]


def access_token(session: Session, *, master: MasterKey, phone_number_id: str) -> str | None:
    return get_secret(session, master=master, secret_id=token_secret_id(phone_number_id))


def claim_inbound(
    session: Session,
    *,
    number: NumberInfo,
    contact_wa_id: str,
    wamid: str,
    message_type: str,
    text: str | None,
) -> int | None:
    """Store an inbound message; its row id, or ``None`` when the wamid was seen before."""
    dialect = session.get_bind().dialect.name
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    statement = (
        insert(WhatsAppMessage)
        .values(
            client_id=number.client_id,
            phone_number_id=number.phone_number_id,
            contact_wa_id=contact_wa_id,
            direction="in",
            wamid=wamid,
            message_type=message_type,
            text=text,
            status="received",
        )
        .on_conflict_do_nothing(index_elements=["wamid"])
        .returning(WhatsAppMessage.id)
    )
    return session.scalar(statement)


def set_message_status(
    session: Session, *, message_id: int, status: str, error: str | None = None
) -> None:
    session.execute(
        update(WhatsAppMessage)
        .where(WhatsAppMessage.id == message_id)
        .values(status=status, error=error)
    )


def set_message_text(session: Session, *, message_id: int, text: str) -> None:
    """The text of a stored message (a voice note's transcript, an image's stand-in), so
    the contact's history reads as what was said."""
    session.execute(
        update(WhatsAppMessage).where(WhatsAppMessage.id == message_id).values(text=text)
    )


def record_outbound(
    session: Session,
    *,
    number: NumberInfo,
    contact_wa_id: str,
    text: str,
    message_type: str,
    status: str,
    wamid: str | None = None,
    request_id: str | None = None,
    error: str | None = None,
) -> int:
    row = WhatsAppMessage(
        client_id=number.client_id,
        phone_number_id=number.phone_number_id,
        contact_wa_id=contact_wa_id,
        direction="out",
        wamid=wamid,
        message_type=message_type,
        text=text,
        status=status,
        request_id=request_id,
        error=error,
    )
    session.add(row)
    session.flush()
    return row.id


def recent_messages(
    session: Session, *, phone_number_id: str, contact_wa_id: str, limit: int
) -> list[StoredMessage]:
    """The last ``limit`` text messages of a conversation (both directions), oldest first,
    voice notes (their transcript) and images (their caption) included. Canned notices
    (``message_type = 'notice'``) and answers that never reached the contact are left out:
    the model should only see what the contact saw."""
    if limit <= 0:
        return []
    rows = session.scalars(
        select(WhatsAppMessage)
        .where(
            WhatsAppMessage.phone_number_id == phone_number_id,
            WhatsAppMessage.contact_wa_id == contact_wa_id,
            WhatsAppMessage.message_type.in_(("text", "audio", "image")),
            WhatsAppMessage.text.is_not(None),
            or_(WhatsAppMessage.direction == "in", WhatsAppMessage.status == "sent"),
        )
        .order_by(WhatsAppMessage.id.desc())
        .limit(limit)
    ).all()
    return [
        StoredMessage(r.id, r.direction, r.message_type, r.text, r.created_at)
        for r in reversed(rows)
    ]
