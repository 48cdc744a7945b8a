"""The one Graph API call the bot makes: send a text message.

``POST {base}/{phone_number_id}/messages`` with the number's bearer access token and
``{"messaging_product": "whatsapp", "recipient_type": "individual", "to", "type": "text",
"text": {"body"}}``; the answer names the new message's ``wamid``. Transport failures
and non-2xx answers become :class:`GraphSendError` here, once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson

from ai_gateway.errors import UpstreamError

__all__ = ["MAX_TEXT_CHARS", "GraphClient", "GraphSendError"]

#: WhatsApp refuses text bodies longer than this.
MAX_TEXT_CHARS = 4096
_RETRY_DELAY_S = 0.5


class GraphSendError(UpstreamError):
    default_code = "whatsapp_send_failed"

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


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
