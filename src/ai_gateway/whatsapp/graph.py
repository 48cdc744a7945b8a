"""The Graph API calls the bot makes: send a text message, download a media file.

``POST {base}/{phone_number_id}/messages`` with the number's bearer access token and
``{"messaging_product": "whatsapp", "recipient_type": "individual", "to", "type": "text",
"text": {"body"}}``; the answer names the new message's ``wamid``. A voice note or an
image arrives as a media id: ``GET {base}/{media_id}`` answers its short-lived ``url``
(and ``mime_type``, ``file_size``), which is fetched with the same bearer token.
Transport failures and non-2xx answers become :class:`GraphSendError` here, once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from ai_gateway.errors import UpstreamError

__all__ = ["MAX_TEXT_CHARS", "GraphClient", "GraphSendError", "Media", "MediaTooLarge"]

#: WhatsApp refuses text bodies longer than this.
MAX_TEXT_CHARS = 4096
_RETRY_DELAY_S = 0.5


class GraphSendError(UpstreamError):
    default_code = "whatsapp_send_failed"

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class MediaTooLarge(GraphSendError):
    default_code = "whatsapp_media_too_large"

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


@dataclass(frozen=True, slots=True)
class Media:
    data: bytes = field(repr=False)
    mime_type: str


class GraphClient:
    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")

    async def send_text(
        self, *, phone_number_id: str, token: str, to: str, body: str
    ) -> str | None:
        """Send ``body`` to ``to``; the new message's wamid. One retry on a 5xx or a
        connection failure (a 4xx, like a bad token, will not get better)."""
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"preview_url": False, "body": body[:MAX_TEXT_CHARS]},
        }
        try:
            return await self._post(phone_number_id, token, payload)
        except GraphSendError as exc:
            if not exc.retryable:
                raise
        await asyncio.sleep(_RETRY_DELAY_S)
        return await self._post(phone_number_id, token, payload)

    async def _post(self, phone_number_id: str, token: str, payload: dict[str, Any]) -> str | None:
        url = f"{self._base}/{phone_number_id}/messages"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            async with self._http.post(url, data=orjson.dumps(payload), headers=headers) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GraphSendError(
                f"Graph API unreachable: {type(exc).__name__}", retryable=True
            ) from exc
        if status >= 300:
            raise GraphSendError(
                f"Graph API answered {status}: {raw[:300]!r}", retryable=status >= 500
            )
        try:
            messages = orjson.loads(raw).get("messages") or []
        except (orjson.JSONDecodeError, AttributeError):
            return None
        wamid = messages[0].get("id") if messages and isinstance(messages[0], dict) else None
        return wamid if isinstance(wamid, str) else None

    async def download_media(self, *, media_id: str, token: str, max_bytes: int) -> Media:
        """The bytes of a media file; larger than ``max_bytes`` is :class:`MediaTooLarge`
        (checked on the declared size and again while reading)."""
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with self._http.get(f"{self._base}/{media_id}", headers=headers) as resp:
                raw = await resp.read()
                if resp.status >= 300:
                    raise GraphSendError(
                        f"Graph API answered {resp.status} for media {media_id}",
                        retryable=resp.status >= 500,
                    )
            info = orjson.loads(raw)
            url, size = info.get("url"), info.get("file_size")
            if not isinstance(url, str) or not url:
                raise GraphSendError(f"Graph API gave no URL for media {media_id}", retryable=False)
            if isinstance(size, int) and size > max_bytes:
                raise MediaTooLarge(f"media {media_id} is {size} bytes (limit {max_bytes})")
            async with self._http.get(url, headers=headers) as resp:
                if resp.status >= 300:
                    raise GraphSendError(
                        f"media download answered {resp.status}", retryable=resp.status >= 500
                    )
                chunks: list[bytes] = []
                total = 0
                async for chunk in resp.content.iter_chunked(1 << 16):
                    total += len(chunk)
                    if total > max_bytes:
                        raise MediaTooLarge(f"media {media_id} is larger than {max_bytes} bytes")
                    chunks.append(chunk)
                mime = info.get("mime_type") or resp.headers.get("content-type", "")
        except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError, AttributeError) as exc:
            raise GraphSendError(
                f"media {media_id} could not be downloaded: {type(exc).__name__}", retryable=True
            ) from exc
        return Media(b"".join(chunks), str(mime))
